"""Assessment integrity on the learning side: per-attempt draws and shuffles of knowledge
checks, seeded option order in scenario play, the final check, and when the answer key and
the expert path are revealed (services first, then what the pages and JSON show)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.models import CheckAttempt
from lms.services import attempts, debrief, learning, presentation
from lms.services.scenario_library import scenario_of
from tests.lms.learning_fixtures import course_data, enrol, publish

OUTCOMES = [
    {
        "id": "call-early",
        "text": "Given a shooting, the officer will call partners in the first hour.",
        "teaching": [1],
    },
    {
        "id": "who-speaks",
        "text": "Given a rumour, the officer will choose who carries the message.",
        "teaching": [1],
    },
]


def _question(n: int, outcome: str, correct: int) -> dict:
    return {
        "kind": "single_choice",
        "id": f"p{n}",
        "outcome": outcome,
        "prompt": f"Pool question {n}?",
        "choices": [{"text": f"Answer {n}.{i}", "correct": i == correct} for i in range(4)],
        "explanation": f"Why {n}.",
    }


def pool_check() -> dict:
    return {
        "kind": "knowledge_check",
        "slug": "pool-check",
        "title": "Drawn check",
        "pass_mark": 75,
        "max_attempts": 3,
        "draw": 4,
        "questions": [_question(n, OUTCOMES[n % 2]["id"], n % 4) for n in range(1, 9)],
    }


def final_check() -> dict:
    return {
        "kind": "knowledge_check",
        "slug": "final",
        "title": "Final check",
        "summative": True,
        "pass_mark": 100,
        "questions": [
            {
                "kind": "true_false",
                "id": "f1",
                "case": "At 2 a.m. a store owner texts you that **the crew is back**.",
                "prompt": "You tell him to call 911 if anyone is in danger.",
                "answer": True,
            }
        ],
    }


def assessed_course(**changes) -> dict:
    data = course_data(**{"slug": "assessed-course", "credit_hours": 0.25, **changes})
    basics = data["modules"][0]
    basics["objectives"] = [1]
    basics["outcomes"] = OUTCOMES
    basics["items"][1]["questions"] = [  # the small check assesses the outcomes too
        {**q, "outcome": OUTCOMES[0]["id"]} for q in basics["items"][1]["questions"]
    ]
    basics["items"].append(pool_check())
    scenario = data["modules"][1]["items"][1]
    scenario.update(required=True, scenario="store-dispute")
    data["modules"][1]["items"].append(final_check())
    return data


@pytest.fixture
def assignment(db, officer, library):
    assignment = enrol(officer, publish(assessed_course()))
    learning.mark_lesson_read(officer, assignment, "intro")
    db.session.commit()
    return assignment


def _pool(assignment):
    return learning.item_of(assignment, "pool-check")[1]


def _answers(shown, *, right: bool = True) -> dict:
    """Form fields for presented questions, by shown position."""
    form = {}
    for p in shown:
        correct = next(iter(p.question.correct_choices))
        index = correct if right else (correct + 1) % len(p.question.choices)
        form[f"q-{p.question.id}"] = str(p.choice_order.index(index))
    return form


# --- draws and shuffles (pure) --------------------------------------------------------


def test_a_draw_is_fixed_by_its_key_and_stratified_by_outcome(assignment):
    item = _pool(assignment)
    first = presentation.draw_questions(item, "k:1")
    assert presentation.draw_questions(item, "k:1") == first  # replays exactly
    assert len(first) == 4 and len({q.id for q in first}) == 4
    for key in range(40):
        drawn = presentation.draw_questions(item, f"k:{key}")
        per_outcome = {o["id"]: sum(q.outcome == o["id"] for q in drawn) for o in OUTCOMES}
        assert per_outcome == {"call-early": 2, "who-speaks": 2}, per_outcome
    draws = {tuple(q.id for q in presentation.draw_questions(item, f"k:{key}")) for key in range(40)}
    assert len(draws) > 20  # different attempts see different questions and orders


def test_a_draw_smaller_than_the_outcomes_still_spreads(assignment):
    from dataclasses import replace

    item = replace(_pool(assignment), draw=1)
    seen = {presentation.draw_questions(item, f"k:{key}")[0].outcome for key in range(30)}
    assert seen == {"call-early", "who-speaks"}


def test_choices_are_shuffled_per_attempt_and_replay(assignment):
    question = _pool(assignment).questions[0]
    order = presentation.choice_order(question, "a:1")
    assert sorted(order) == [0, 1, 2, 3] and presentation.choice_order(question, "a:1") == order
    orders = {tuple(presentation.choice_order(question, f"a:{n}")) for n in range(30)}
    assert len(orders) > 5
    # the correct choice sits in every position across attempts, not where the file put it
    positions = {presentation.choice_order(question, f"a:{n}").index(1) for n in range(30)}
    assert positions == {0, 1, 2, 3}


def test_scenario_options_are_shuffled_by_the_attempt_seed(store_dispute):
    point = scenario_of(store_dispute).decisions[0]
    first = presentation.option_order(point.options, 12345, 0)
    assert presentation.option_order(point.options, 12345, 0) == first
    assert sorted(o.id for o in first) == sorted(o.id for o in point.options)
    orders = {tuple(o.id for o in presentation.option_order(point.options, seed, 0)) for seed in range(30)}
    assert len(orders) > 3


# --- knowledge checks: draws stored and scored as shown ---------------------------------


def test_an_attempt_scores_and_reviews_exactly_the_questions_it_showed(db, officer, assignment):
    learning.submit_check(officer, assignment, "basics-check", _basics_right(assignment))
    item = _pool(assignment)
    shown = learning.presented(assignment, item)
    assert learning.presented(assignment, item) == shown  # the page replays: same draw, same order
    assert [p.number for p in shown] == [1, 2, 3, 4]
    outcome = learning.submit_check(officer, assignment, "pool-check", _parse(assignment, _answers(shown)))
    attempt = outcome.attempt
    assert outcome.item_passed and attempt.score == 100
    assert set(attempt.results) == {p.question.id for p in shown}
    assert set(attempt.responses) == set(attempt.results)
    # responses are stored against the file's indexes (stable ids), not the shown positions
    for p in shown:
        assert attempt.responses[p.question.id] == next(iter(p.question.correct_choices))
    review = learning.attempt_feedback(item, attempt, reveal=True)
    assert [f.question.id for f in review] == [p.question.id for p in shown]


def _basics_right(assignment):
    from tests.lms.learning_fixtures import correct_form

    item = learning.item_of(assignment, "basics-check")[1]
    return learning.parse_check_form(
        item, correct_form(assignment), key=learning.display_key(assignment, item)
    )


def _parse(assignment, form, number=None):
    item = _pool(assignment)
    return learning.parse_check_form(item, form, key=learning.display_key(assignment, item, number))


def test_each_attempt_draws_anew_and_a_stale_submission_stores_nothing(db, officer, assignment):
    learning.submit_check(officer, assignment, "basics-check", _basics_right(assignment))
    item = _pool(assignment)
    first = learning.presented(assignment, item, 1)
    learning.submit_check(
        officer, assignment, "pool-check", _parse(assignment, _answers(first, right=False)), number=1
    )
    second = learning.presented(assignment, item)
    assert second == learning.presented(assignment, item, 2)
    shows = [tuple(p.question.id for p in learning.presented(assignment, item, n)) for n in (1, 2, 3)]
    assert len(set(shows)) > 1
    with pytest.raises(learning.StaleCheck, match="already submitted"):
        learning.submit_check(
            officer, assignment, "pool-check", _parse(assignment, _answers(first), 1), number=1
        )
    assert (
        db.session.scalar(
            select(func.count()).select_from(CheckAttempt).where(CheckAttempt.item_slug == "pool-check")
        )
        == 1
    )


def test_answers_for_questions_not_drawn_are_ignored(db, officer, assignment):
    item = _pool(assignment)
    shown_ids = {p.question.id for p in learning.presented(assignment, item)}
    everything = {q.id: next(iter(q.correct_choices)) for q in item.questions}
    outcome = learning.submit_check(officer, assignment, "pool-check", everything)
    assert set(outcome.attempt.results) == shown_ids and set(outcome.attempt.responses) == shown_ids


def test_answer_key_is_revealed_only_when_passed_or_out_of_attempts(db, officer, assignment):
    item = _pool(assignment)
    for n in (1, 2):
        learning.submit_check(
            officer,
            assignment,
            "pool-check",
            _parse(assignment, _answers(learning.presented(assignment, item), right=False)),
        )
        assert not learning.progress(assignment).items["pool-check"].reveals_answers, n
    learning.submit_check(
        officer,
        assignment,
        "pool-check",
        _parse(assignment, _answers(learning.presented(assignment, item), right=False)),
    )
    assert learning.progress(assignment).items["pool-check"].reveals_answers  # out of attempts


def test_the_final_check_is_labelled_and_required_for_the_certificate(db, officer, assignment):
    entry = learning.progress(assignment).items["final"]
    assert entry.kind_label == "Final check" and entry.item.required
    learning.submit_check(officer, assignment, "basics-check", _basics_right(assignment))
    learning.submit_check(
        officer,
        assignment,
        "pool-check",
        _parse(assignment, _answers(learning.presented(assignment, _pool(assignment)))),
    )
    learning.mark_lesson_read(officer, assignment, "wrap-up")
    learning.record_item_passed(
        officer, assignment, "practice-scenario", kind="scenario", score=90, evidence={}
    )
    assert learning.completion_of(assignment) is None  # the final check is still to pass
    outcome = learning.submit_check(officer, assignment, "final", {"f1": False})
    assert not outcome.item_passed and outcome.completion is None
    outcome = learning.submit_check(officer, assignment, "final", {"f1": True})
    assert outcome.item_passed and outcome.completion is not None


# --- scenarios: the expert path -----------------------------------------------------------


def _play(officer, assignment, path: str = "baseline_path"):
    attempt = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    for index, choice in enumerate(getattr(scenario_of(attempt.scenario_version), path)):
        attempts.decide(officer, attempt, index, choice)
    return attempt


def test_the_expert_path_is_withheld_until_passed_or_out_of_attempts(db, officer, instructor, assignment):
    first = _play(officer, assignment)
    db.session.commit()
    assert not first.grade.passed
    assert not attempts.reveals_answers(officer, first)
    assert attempts.reveals_answers(instructor, first)  # staff see everything
    withheld = debrief.build(first, reveal=False)
    assert not withheld.reveal and all(review.best == [] for review in withheld.decisions)
    assert all(review.chosen for review in withheld.decisions)  # feedback on the choices stays
    assert all(review.points is None for review in withheld.decisions)  # points would rank options
    second = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    assert not attempts.reveals_answers(officer, first)  # the last attempt is still open
    for index, choice in enumerate(scenario_of(second.scenario_version).baseline_path):
        attempts.decide(officer, second, index, choice)
    db.session.commit()
    assert attempts.reveals_answers(officer, first) and attempts.reveals_answers(officer, second)
    shown = debrief.build(first, reveal=True)
    assert shown.reveal and all(review.best for review in shown.decisions)


def test_passing_the_scenario_reveals_the_expert_path(db, officer, assignment):
    attempt = _play(officer, assignment, "expert_path")
    db.session.commit()
    assert attempt.grade.passed and attempts.reveals_answers(officer, attempt)


def test_shown_options_replay_for_the_same_attempt(db, officer, assignment):
    attempt = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    point = scenario_of(attempt.scenario_version).decisions[0]
    shown = attempts.shown_options(attempt, point)
    assert attempts.shown_options(attempt, point) == shown
    assert shown == presentation.option_order(point.options, attempt.seed, 0)


# --- pages ---------------------------------------------------------------------------------


def _check_url(assignment, slug="pool-check", **query):
    tail = "".join(f"?{k}={v}" for k, v in query.items())
    return f"/learn/assignments/{assignment.id}/items/{slug}{tail}"


def test_the_check_page_shows_the_draw_in_its_shuffled_order(db, client, sign_in, officer, assignment):
    db.session.commit()
    page = sign_in(officer).get(_check_url(assignment)).get_data(as_text=True)
    shown = learning.presented(assignment, _pool(assignment))
    ids = re.findall(r'<fieldset id="q-(p\d+)"', page)
    assert ids == [p.question.id for p in shown]
    for p in shown:
        texts = re.findall(rf'name="q-{p.question.id}" value="(\d)"> <span>([^<]+)</span>', page)
        assert [int(v) for v, _ in texts] == [0, 1, 2, 3]  # values are positions, not file indexes
        assert [t for _, t in texts] == [p.question.choices[i].text for i in p.choice_order]
    assert 'name="attempt" value="1"' in page and "Each attempt draws 4 of 8 questions" in page


def test_officer_does_not_see_the_key_before_passing_or_running_out(
    db, client, sign_in, officer, coordinator, assignment
):
    db.session.commit()
    browser = sign_in(officer)
    shown = learning.presented(assignment, _pool(assignment))
    form = {"attempt": "1", **_answers(shown, right=False)}
    response = browser.post(f"/learn/assignments/{assignment.id}/items/pool-check/check", data=form)
    assert response.status_code == 302
    page = browser.get(_check_url(assignment, attempt=1)).get_data(as_text=True)
    assert "Not correct" in page and "Correct answer:" not in page and "Why " not in page
    assert "shown once you pass or have used all attempts" in page
    staff = sign_in(coordinator).get(_check_url(assignment, attempt=1)).get_data(as_text=True)
    assert "Correct answer:" in staff and "Why " in staff  # staff see everything


def test_a_stale_form_from_another_tab_stores_nothing(db, client, sign_in, officer, assignment):
    db.session.commit()
    browser = sign_in(officer)
    shown = learning.presented(assignment, _pool(assignment))
    url = f"/learn/assignments/{assignment.id}/items/pool-check/check"
    assert browser.post(url, data={"attempt": "1", **_answers(shown, right=False)}).status_code == 302
    page = browser.post(url, data={"attempt": "1", **_answers(shown)}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "already submitted" in page
    assert db.session.scalar(select(func.count()).select_from(CheckAttempt)) == 1


def test_the_final_check_page_shows_its_case(db, client, sign_in, officer, assignment):
    db.session.commit()
    page = sign_in(officer).get(_check_url(assignment, "final")).get_data(as_text=True)
    assert "Final check" in page and "<strong>the crew is back</strong>" in page


def test_debrief_and_what_if_withhold_the_expert_path_from_the_officer(
    db, client, sign_in, officer, instructor, assignment
):
    learning.mark_lesson_read(officer, assignment, "wrap-up")
    attempt = _play(officer, assignment)
    db.session.commit()
    browser = sign_in(officer)
    page = browser.get(f"/play/attempts/{attempt.id}/debrief").get_data(as_text=True)
    assert "The expert path here" not in page and 'id="expert-withheld"' in page
    assert not re.search(
        r"(Earned|Cost) (\d+|no) points?</span>", page
    )  # no option's points before the reveal
    assert f"/play/attempts/{attempt.id}/what-if" not in page
    alternative = scenario_of(attempt.scenario_version).expert_path[0]
    query = "&".join(f"options={o}" for o in alternative)
    response = browser.get(f"/play/attempts/{attempt.id}/what-if?decision=1&{query}")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert 'id="what-if-withheld"' in body and "Projection:" not in body
    status = browser.get(f"/play/attempts/{attempt.id}/status", headers={"Accept": "application/json"})
    assert set(status.get_json()) == {"status", "ahead", "poll_ms", "url"}  # the JSON carries no key
    staff = sign_in(instructor).get(f"/play/attempts/{attempt.id}/debrief").get_data(as_text=True)
    assert "The expert path here" in staff
    assert re.search(r"(Earned|Cost) (\d+|no) points?</span>", staff)  # instructors see each choice's points


def test_the_play_page_shows_options_in_the_attempts_order(db, client, sign_in, officer, assignment):
    learning.mark_lesson_read(officer, assignment, "wrap-up")
    attempt = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    db.session.commit()
    browser = sign_in(officer)
    point = scenario_of(attempt.scenario_version).decisions[0]
    expected = [o.id for o in attempts.shown_options(attempt, point)]
    for _ in range(2):  # a reload shows the same order
        page = browser.get(f"/play/attempts/{attempt.id}").get_data(as_text=True)
        assert re.findall(r'name="options"[^>]*value="([^"]+)"', page) == expected


def test_officers_cannot_reach_course_or_scenario_sources(
    db, client, sign_in, officer, assignment, store_dispute
):
    db.session.commit()
    browser = sign_in(officer)
    course_id = assignment.course_id
    for url in (f"/author/courses/{course_id}/export", f"/author/courses/{course_id}", "/play/scenarios/"):
        assert browser.get(url).status_code in (403, 404), url


# --- authors: warnings shown, new fields kept by the form editor ------------------------------


def test_import_shows_course_file_warnings_without_blocking(db, client, sign_in, instructor, library):
    import io

    from lms import course_format as cf

    data = assessed_course(slug="warned-course")
    final = data["modules"][1]["items"][-1]
    final["questions"] = [
        {"kind": "true_false", "id": f"t{n}", "prompt": f"Statement {n}.", "answer": True} for n in range(5)
    ]
    text = cf.dump_course(cf.course_from_data(data))
    response = sign_in(instructor).post(
        "/author/courses/import",
        data={"course_file": (io.BytesIO(text.encode()), "warned.yaml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Imported" in page  # not blocked
    assert 'id="warnings"' in page and "5 of 6 (83%) true_false questions have the answer true" in page


def test_the_form_editor_keeps_outcomes_and_cases(db, instructor, library):
    from lms import course_format as cf
    from lms.services import authoring

    text = cf.dump_course(cf.course_from_data(assessed_course(slug="edited-course")))
    course, _ = authoring.import_text(instructor, text)
    form = {
        "title": "Final check",
        "required": "y",
        "pass_mark": "100",
        "q0-prompt": "You tell him to call 911.",
        "q0-answer": "true",
    }
    authoring.edit_course(instructor, course, authoring.item_change("final", form))
    form = {"title": "Drawn", "required": "y", "pass_mark": "75", "q0-prompt": "Edited?"}
    form |= {f"q0-c{i}-text": f"Answer 1.{i}" for i in range(4)} | {"q0-correct": "1"}
    authoring.edit_course(instructor, course, authoring.item_change("pool-check", form))
    spec = cf.course_from_data(authoring.working_version(course).content)
    assert spec.item("final").questions[0].case.startswith("At 2 a.m.")
    assert spec.item("pool-check").questions[0].outcome == "who-speaks" and spec.item("pool-check").draw == 4
    assert spec.item("final").summative


def test_a_review_follows_the_stored_results_when_they_name_other_questions(db, officer, assignment):
    """An attempt stored before draws were read scored the whole pool: its review shows it all."""
    item = _pool(assignment)
    legacy = CheckAttempt(
        agency_id=assignment.agency_id,
        user_id=officer.id,
        assignment_id=assignment.id,
        item_slug="pool-check",
        number=1,
        responses={q.id: 0 for q in item.questions},
        results={q.id: False for q in item.questions},
        score=0,
        passed=False,
    )
    db.session.add(legacy)
    db.session.flush()
    review = learning.attempt_feedback(item, legacy, reveal=False)
    assert sorted(f.question.id for f in review) == sorted(q.id for q in item.questions)
    assert [f.number for f in review] == list(range(1, 9))


def test_the_stale_attempt_message_is_the_same_from_the_form_and_the_service(db, officer, assignment):
    item = _pool(assignment)
    first = learning.presented(assignment, item, 1)
    form = {"attempt": "1", **_answers(first, right=False)}
    learning.submit_check_form(officer, assignment, "pool-check", form)
    with pytest.raises(learning.StaleCheck) as from_form:
        learning.submit_check_form(officer, assignment, "pool-check", form)
    with pytest.raises(learning.StaleCheck) as from_service:
        learning.submit_check(
            officer, assignment, "pool-check", _parse(assignment, _answers(first), 1), number=1
        )
    assert str(from_form.value) == str(from_service.value)
    assert "attempt 1, which was already submitted" in str(from_form.value)
    with pytest.raises(learning.StaleCheck):  # a form without its attempt number is not current
        learning.submit_check_form(officer, assignment, "pool-check", {**form, "attempt": "²"})


def test_a_concurrent_double_submit_answers_stale_not_500(
    db, client, sign_in, officer, assignment, monkeypatch
):
    """Two requests for attempt 1 both read "no attempts yet"; the second meets the unique
    (assignment, item, number) row the first stored and is told its attempt is stale."""
    db.session.commit()
    browser = sign_in(officer)
    shown = learning.presented(assignment, _pool(assignment))
    url = f"/learn/assignments/{assignment.id}/items/pool-check/check"
    form = {"attempt": "1", **_answers(shown, right=False)}
    assert browser.post(url, data=form).status_code == 302
    monkeypatch.setattr(learning, "check_attempts", lambda assignment, item_slug: [])  # read before it
    response = browser.post(url, data=form)
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Here is attempt 2" in page
    monkeypatch.undo()
    assert db.session.scalar(select(func.count()).select_from(CheckAttempt)) == 1
