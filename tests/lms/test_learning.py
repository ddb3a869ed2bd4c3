"""Taking a course: progress, locking, lessons, knowledge checks, completion (services, then routes)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import AuditEvent, Certificate, CheckAttempt, Completion, CourseVersion, ItemCompletion
from lms.services import catalog, learning
from tests.lms.learning_fixtures import correct_form, course_data, enrol, pass_course, publish


@pytest.fixture
def course(db):
    return publish()


@pytest.fixture
def assignment(officer, course):
    return enrol(officer, course)


def _check(assignment):
    return learning.item_of(assignment, "basics-check")[1]


def _submit(officer, assignment, **kwargs):
    item = _check(assignment)
    responses = learning.parse_check_form(
        item, correct_form(assignment, **kwargs), key=learning.display_key(assignment, item)
    )
    return learning.submit_check(officer, assignment, "basics-check", responses)


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- catalogue -------------------------------------------------------------------------


def test_builtin_courses_load_as_published_library_courses(db):
    courses = catalog.load_builtin_courses_into_db()
    slugs = {c.slug for c in courses}
    assert {"prevention-partnership", "prevention-refresher"} <= slugs
    assert all(c.agency_id is None for c in courses)
    version = catalog.published_version(courses[0])
    assert version.number == 1 and version.status == "published"


def test_loading_builtin_courses_twice_adds_nothing(db):
    first = [c.id for c in catalog.load_builtin_courses_into_db()]
    assert [c.id for c in catalog.load_builtin_courses_into_db()] == first
    assert _count(db, CourseVersion) == len(first)


def test_builtin_course_keeps_its_renewal_settings(db):
    catalog.load_builtin_courses_into_db()
    course = catalog.course_by_slug("prevention-partnership", None)
    version = catalog.published_version(course)
    assert (version.renewal_course_slug, version.renewal_window_days) == ("prevention-refresher", 90)
    assert version.certificate_valid_months == 24


# --- progress and locking ----------------------------------------------------------------


def test_new_assignment_has_no_progress(assignment):
    p = learning.progress(assignment)
    assert (p.percent, p.required_done, p.required_total) == (0, 0, 3)
    assert p.next_item.item.slug == "intro"


def test_locked_item_opens_when_earlier_required_items_are_done(officer, assignment):
    assert not learning.item_unlocked(assignment, "basics-check")
    learning.mark_lesson_read(officer, assignment, "intro")
    assert learning.item_unlocked(assignment, "basics-check")


def test_reading_a_lesson_advances_course_and_module_progress(officer, assignment):
    learning.mark_lesson_read(officer, assignment, "intro")
    p = learning.progress(assignment)
    assert p.percent == 33
    assert p.modules[0].percent == 50
    assert p.next_item.item.slug == "basics-check"


def test_optional_items_do_not_count_towards_progress(officer, assignment):
    learning.mark_lesson_read(officer, assignment, "extra")
    assert learning.progress(assignment).required_done == 0


def test_marking_a_lesson_twice_records_it_once(db, officer, assignment):
    learning.mark_lesson_read(officer, assignment, "intro")
    learning.mark_lesson_read(officer, assignment, "intro")
    assert _count(db, ItemCompletion) == 1


def test_unknown_item_is_refused(officer, assignment):
    with pytest.raises(learning.UnknownItem):
        learning.mark_lesson_read(officer, assignment, "no-such-item")


def test_only_the_assigned_officer_can_do_items(make_user, agency, assignment):
    other = make_user(agency)
    with pytest.raises(learning.LearningError):
        learning.mark_lesson_read(other, assignment, "intro")


def test_attempts_allowed_follows_the_course_policy(assignment):
    assert learning.attempts_allowed(assignment, "basics-check") == 2


def test_assignment_pins_the_published_version(db, officer, course, assignment):
    publish(course_data(title="Renamed"))
    assert learning.spec_for(assignment).title == "Test Partnership Course"


# --- knowledge checks --------------------------------------------------------------------


@pytest.fixture
def unlocked(officer, assignment):
    learning.mark_lesson_read(officer, assignment, "intro")
    return assignment


def test_all_correct_answers_pass_the_check(officer, unlocked):
    outcome = _submit(officer, unlocked)
    assert outcome.attempt.score == 100 and outcome.attempt.passed and outcome.item_passed


def test_one_wrong_question_of_four_still_passes_at_75(officer, unlocked):
    outcome = _submit(officer, unlocked, wrong=("steps",))
    assert outcome.attempt.score == 75 and outcome.item_passed


def test_two_wrong_questions_fail(officer, unlocked):
    outcome = _submit(officer, unlocked, wrong=("steps", "risk"))
    assert outcome.attempt.score == 50 and not outcome.item_passed


@pytest.mark.parametrize("question", ["when", "gives", "risk", "steps"])
def test_each_question_kind_is_scored_wrong_when_answered_wrong(officer, unlocked, question):
    outcome = _submit(officer, unlocked, wrong=(question,))
    assert outcome.attempt.results[question] is False
    assert sum(outcome.attempt.results.values()) == 3


def test_every_attempt_is_stored(db, officer, unlocked):
    _submit(officer, unlocked, wrong=("steps", "risk"))
    _submit(officer, unlocked)
    assert [a.number for a in learning.check_attempts(unlocked, "basics-check")] == [1, 2]


def test_exceeding_the_attempt_limit_is_refused(db, officer, unlocked):
    for _ in range(2):
        _submit(officer, unlocked, wrong=("steps", "risk"))
    with pytest.raises(learning.NoAttemptsLeft):
        _submit(officer, unlocked)
    assert _count(db, CheckAttempt) == 2


def test_a_passed_check_takes_no_more_attempts(officer, unlocked):
    _submit(officer, unlocked)
    with pytest.raises(learning.LearningError, match="already passed"):
        _submit(officer, unlocked)


def test_locked_check_cannot_be_attempted(officer, assignment):
    with pytest.raises(learning.ItemLocked):
        learning.submit_check(officer, assignment, "basics-check", {})


def test_lesson_cannot_be_submitted_as_a_check(officer, assignment):
    with pytest.raises(learning.LearningError):
        learning.submit_check(officer, assignment, "intro", {})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("q-when", "", "Question 1: choose an answer."),
        ("q-when", "7", "Question 1: that answer is not one of the choices."),
        ("q-when", "abc", "Question 1: that answer is not one of the choices."),
        ("q-when", ["0", "1"], "Question 1: choose only one answer."),
        ("q-gives", [], "Question 2: choose an answer."),
        ("q-gives", ["0", "0"], "Question 2: that answer is not one of the choices."),
        ("q-risk", "maybe", "Question 3: answer true or false."),
        ("q-steps-0", "1", "Question 4: give each item a different position from 1 to 4."),
        ("q-steps-0", "9", "Question 4: give each item a different position from 1 to 4."),
    ],
)
def test_malformed_answers_are_refused_with_a_message_naming_the_question(unlocked, field, value, message):
    form = correct_form(unlocked)
    if field == "q-steps-0":  # give two items the same position
        form["q-steps-1"] = form["q-steps-0"] if value == "1" else form["q-steps-1"]
    form[field] = value if field != "q-steps-0" or value != "1" else form["q-steps-0"]
    item = _check(unlocked)
    with pytest.raises(learning.InvalidAnswers) as caught:
        learning.parse_check_form(item, form, key=learning.display_key(unlocked, item))
    # questions are numbered as this attempt shows them (its own shuffled order)
    assert caught.value.errors[field.split("-")[1]] == _numbered(unlocked, field, message)


def _numbered(assignment, field: str, message: str) -> str:
    """`message` ("Question N: ...") with N the number the next attempt shows the field's question at."""
    qid = field.split("-")[1]
    number = next(
        p.number for p in learning.presented(assignment, _check(assignment)) if p.question.id == qid
    )
    return f"Question {number}: " + message.split(": ", 1)[1]


def test_ordering_is_never_shown_in_the_correct_order(unlocked):
    question = _check(unlocked).question("steps")
    for key in range(30):
        assert learning.ordering_display(question, str(key)) != list(question.sequence)


def test_feedback_names_chosen_choice_and_hides_answers_until_passed(officer, unlocked):
    outcome = _submit(officer, unlocked, wrong=("when", "risk"))
    feedback = learning.attempt_feedback(_check(unlocked), outcome.attempt, reveal=False)
    first = next(f for f in feedback if f.question.id == "when")
    assert not first.correct and first.feedback == ["Too late: the rumour wins."]
    assert first.correct_answer is None and first.explanation is None


def test_feedback_reveals_answers_when_asked(officer, unlocked):
    outcome = _submit(officer, unlocked, wrong=("when",))
    feedback = learning.attempt_feedback(_check(unlocked), outcome.attempt, reveal=True)
    first = next(f for f in feedback if f.question.id == "when")
    assert first.correct_answer == "Now" and first.explanation == "Early calls beat rumours."


def test_latest_policy_counts_the_latest_attempt(db, officer):
    course = publish(
        course_data(slug="latest-course", attempt_policy={"max_attempts": 3, "counts": "latest"})
    )
    assignment = enrol(officer, course)
    learning.mark_lesson_read(officer, assignment, "intro")
    _submit(officer, assignment, wrong=("steps", "risk"))
    outcome = _submit(officer, assignment, wrong=("steps",))
    completion = db.session.scalar(select(ItemCompletion).where(ItemCompletion.item_slug == "basics-check"))
    assert outcome.item_passed and completion.score == 75


# --- completion --------------------------------------------------------------------------


def test_completing_every_required_item_records_the_completion(db, officer, assignment):
    pass_course(officer, assignment)
    completion = learning.completion_of(assignment)
    assert completion is not None and assignment.status == "completed"
    assert completion.credit_hours == 4 and completion.category == "Community policing"


def test_completion_rests_on_the_attempts(db, officer, assignment):
    pass_course(officer, assignment)
    evidence = learning.completion_of(assignment).evidence
    check = next(e for e in evidence["items"] if e["item"] == "basics-check")
    attempt = db.session.scalar(select(CheckAttempt))
    assert check["check_attempt"] == attempt.id and check["attempts"] == [attempt.id]


def test_completion_is_recorded_once(db, officer, assignment):
    pass_course(officer, assignment)
    learning.mark_lesson_read(officer, assignment, "extra")
    learning.record_item_passed(
        officer, assignment, "practice-scenario", kind="scenario", score=90, evidence={"attempt": 1}
    )
    assert _count(db, Completion) == 1 and _count(db, Certificate) == 1


def test_completion_issues_a_certificate_and_audits_it(db, officer, assignment):
    pass_course(officer, assignment)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"course.completed", "certificate.issued"} <= actions


def test_course_is_not_complete_while_a_required_item_is_open(officer, assignment):
    learning.mark_lesson_read(officer, assignment, "intro")
    learning.mark_lesson_read(officer, assignment, "wrap-up")
    assert learning.completion_of(assignment) is None


def test_record_item_passed_is_idempotent(db, officer, assignment):
    for _ in range(2):
        learning.record_item_passed(
            officer, assignment, "practice-scenario", kind="scenario", score=80, evidence={"attempt": 3}
        )
    assert _count(db, ItemCompletion) == 1


def test_record_item_passed_refuses_the_wrong_kind(officer, assignment):
    with pytest.raises(learning.LearningError):
        learning.record_item_passed(officer, assignment, "intro", kind="scenario", score=1, evidence=None)


def test_required_scenario_passed_by_the_grader_completes_the_course(db, officer):
    data = course_data(slug="scenario-course")
    data["modules"][1]["items"][1]["required"] = True
    assignment = enrol(officer, publish(data))
    pass_course(officer, assignment)
    assert learning.completion_of(assignment) is None
    completion = learning.record_item_passed(
        officer, assignment, "practice-scenario", kind="scenario", score=88, evidence={"attempt": 5}
    )
    assert completion is not None and completion == learning.completion_of(assignment)


def test_assign_refuses_another_agencys_course(make_agency, officer):
    other = make_agency()
    course = publish(course_data(slug="theirs"), agency_id=other.id)
    with pytest.raises(learning.LearningError):
        learning.assign_course(None, officer, course)


# --- lesson rendering --------------------------------------------------------------------


def test_lesson_markdown_is_sanitised(app):
    from lms.rendering import render_markdown
    from tests.lms.learning_fixtures import LESSON_BODY

    with app.test_request_context():
        html = str(render_markdown(LESSON_BODY))
    assert "<strong>hear</strong>" in html
    assert "<script" not in html and "javascript:" not in html


def test_lesson_images_are_served_from_the_content_directory(app):
    from lms.rendering import render_markdown

    with app.test_request_context():
        html = str(render_markdown("![x](images/rumour-race.svg) ![y](https://evil.test/a.png)"))
    assert 'src="/learn/images/rumour-race.svg"' in html
    assert "evil.test" not in html


def test_checklists_render_as_checklist_items(app):
    from lms.rendering import render_markdown

    with app.test_request_context():
        html = str(render_markdown("- [ ] Call a partner\n- [x] Read"))
    assert html.count('class="task-item"') == 2 and "[ ]" not in html


# --- routes ------------------------------------------------------------------------------


def test_my_training_lists_the_assignment_with_due_date_and_progress(client, sign_in, officer, course):
    from datetime import date

    enrol(officer, course, due_on=date(2030, 5, 1))
    page = sign_in(officer).get("/learn/").get_data(as_text=True)
    assert "Test Partnership Course" in page and "May 1, 2030" in page and "<progress" in page


def test_overdue_assignments_say_so(client, sign_in, officer, course):
    from datetime import date

    enrol(officer, course, due_on=date(2020, 1, 1))
    assert "Overdue" in sign_in(officer).get("/learn/").get_data(as_text=True)


def test_course_page_shows_modules_items_and_progress_bars(client, sign_in, officer, assignment):
    page = sign_in(officer).get(f"/learn/assignments/{assignment.id}").get_data(as_text=True)
    assert page.count("<progress") == 3  # the course and its two modules
    assert "Intro lesson" in page and "Locked" in page and "Optional" in page


def test_resume_goes_to_the_next_open_item(client, sign_in, officer, assignment):
    learning.mark_lesson_read(officer, assignment, "intro")
    from lms.extensions import db

    db.session.commit()
    response = sign_in(officer).get(f"/learn/assignments/{assignment.id}/resume")
    assert response.headers["Location"].endswith("/items/basics-check")


def test_lesson_page_renders_markdown(client, sign_in, officer, assignment):
    page = sign_in(officer).get(f"/learn/assignments/{assignment.id}/items/intro").get_data(as_text=True)
    assert "<h2>Why partners matter</h2>" in page and "Mark as read" in page


def test_marking_a_lesson_read_over_http_moves_on(db, client, sign_in, officer, assignment):
    response = sign_in(officer).post(f"/learn/assignments/{assignment.id}/items/intro/done")
    assert response.status_code == 302
    assert _count(db, ItemCompletion) == 1


def test_unknown_item_slug_is_404(client, sign_in, officer, assignment):
    assert sign_in(officer).get(f"/learn/assignments/{assignment.id}/items/nope").status_code == 404


def test_locked_item_page_says_it_is_locked(client, sign_in, officer, assignment):
    page = (
        sign_in(officer).get(f"/learn/assignments/{assignment.id}/items/basics-check").get_data(as_text=True)
    )
    assert "This item is locked" in page and "Submit answers" not in page


def test_answers_to_a_locked_check_are_refused_with_a_message(db, client, sign_in, officer, assignment):
    response = sign_in(officer).post(
        f"/learn/assignments/{assignment.id}/items/basics-check/check",
        data=correct_form(assignment),
        follow_redirects=True,
    )
    assert "opens when you have finished" in response.get_data(as_text=True)
    assert _count(db, CheckAttempt) == 0


def test_passing_a_check_over_http_shows_feedback(db, client, sign_in, officer, unlocked):
    db.session.commit()
    response = sign_in(officer).post(
        f"/learn/assignments/{unlocked.id}/items/basics-check/check",
        data=correct_form(unlocked),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "You passed with 100%" in page and "Attempt 1: 100%" in page


def test_incomplete_answers_rerender_with_errors_and_store_nothing(db, client, sign_in, officer, unlocked):
    db.session.commit()
    form = correct_form(unlocked)
    del form["q-risk"]
    response = sign_in(officer).post(f"/learn/assignments/{unlocked.id}/items/basics-check/check", data=form)
    assert response.status_code == 400
    message = _numbered(unlocked, "q-risk", "Question 3: choose true or false.")
    assert message in response.get_data(as_text=True)
    assert _count(db, CheckAttempt) == 0


def test_exceeding_attempts_over_http_is_a_clear_message(db, client, sign_in, officer, unlocked):
    db.session.commit()
    sign_in(officer)
    url = f"/learn/assignments/{unlocked.id}/items/basics-check/check"
    for _ in range(2):
        client.post(url, data=correct_form(unlocked, wrong=("risk", "steps")))
    response = client.post(url, data=correct_form(unlocked), follow_redirects=True)
    assert "used all 2 attempts" in response.get_data(as_text=True)
    assert _count(db, CheckAttempt) == 2


def test_another_officer_gets_404_for_my_assignment(client, sign_in, make_user, agency, assignment):
    other = make_user(agency)
    sign_in(other)
    assert client.get(f"/learn/assignments/{assignment.id}").status_code == 404
    assert client.post(f"/learn/assignments/{assignment.id}/items/intro/done").status_code == 404


def test_coordinator_sees_an_officers_progress_read_only(client, sign_in, coordinator, assignment):
    page = sign_in(coordinator).get(f"/learn/assignments/{assignment.id}/items/intro").get_data(as_text=True)
    assert "You are viewing the progress of Olive Officer" in page and "Mark as read" not in page
    assert client.post(f"/learn/assignments/{assignment.id}/items/intro/done").status_code == 404


def test_other_agency_coordinator_gets_404(client, sign_in, make_agency, make_user, assignment):
    from lms.models import Role

    outsider = make_user(make_agency(), (Role.COORDINATOR,))
    assert sign_in(outsider).get(f"/learn/assignments/{assignment.id}").status_code == 404


def test_course_image_is_served(client, sign_in, officer):
    response = sign_in(officer).get("/learn/images/rumour-race.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_image_path_cannot_escape_the_content_directory(client, sign_in, officer):
    assert sign_in(officer).get("/learn/images/../prevention-partnership.yaml").status_code == 404


def test_nav_has_my_training_and_transcript(client, sign_in, officer):
    page = sign_in(officer).get("/").get_data(as_text=True)
    assert "My training" in page and "Transcript" in page


def test_home_shows_my_training_with_progress(client, sign_in, officer, assignment):
    page = sign_in(officer).get("/").get_data(as_text=True)
    assert "Test Partnership Course" in page and "<progress" in page


def test_demo_data_gives_officers_training_records_once(db):
    from lms.models import Assignment
    from lms.services.demo import seed_demo

    seed_demo()
    db.session.commit()
    counts = _count(db, Assignment), _count(db, Certificate), _count(db, CheckAttempt)
    seed_demo()
    db.session.commit()
    assert (_count(db, Assignment), _count(db, Certificate), _count(db, CheckAttempt)) == counts
    assert counts[1] >= 1 and counts[2] >= 1  # Riverside officers hold refresher certificates too
    renewal = db.session.scalar(select(Assignment).where(Assignment.source == "renewal"))
    assert renewal is not None and renewal.course.slug == "prevention-refresher"


@pytest.mark.parametrize("with_token", [True, False])
def test_check_form_needs_its_csrf_token(app, db, client, sign_in, officer, unlocked, with_token):
    import re

    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        sign_in(officer)
        url = f"/learn/assignments/{unlocked.id}/items/basics-check"
        page = client.get(url).get_data(as_text=True)
        form = correct_form(unlocked)
        if with_token:
            form["csrf_token"] = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(url + "/check", data=form)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == (302 if with_token else 400)
    assert _count(db, CheckAttempt) == (1 if with_token else 0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("q-when", "99", "Question 1: that answer is not one of the choices."),
        ("q-steps-2", "abc", "Question 4: give each item a different position from 1 to 4."),
    ],
)
def test_tampered_answers_over_http_get_a_message_and_store_nothing(
    db, client, sign_in, officer, unlocked, field, value, message
):
    db.session.commit()
    form = correct_form(unlocked)
    form[field] = value
    message = _numbered(unlocked, field, message)
    response = sign_in(officer).post(f"/learn/assignments/{unlocked.id}/items/basics-check/check", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _count(db, CheckAttempt) == 0


def test_answers_posted_to_a_lesson_are_refused_with_a_message(client, sign_in, officer, assignment):
    response = sign_in(officer).post(
        f"/learn/assignments/{assignment.id}/items/intro/check", data={}, follow_redirects=True
    )
    assert "is not a knowledge check" in response.get_data(as_text=True)
