"""The course file format: the built-in courses, validation, round trip, scoring, fuzz.

Pure Python: no app, no database.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import replace
from pathlib import Path

import pytest

from lms.course_format import (
    ITEM_KINDS,
    QUESTION_KINDS,
    ChoiceSpec,
    CourseFormatError,
    CourseSpec,
    ItemSpec,
    ModuleSpec,
    QuestionSpec,
    builtin_course_paths,
    course_from_data,
    course_to_data,
    dump_course,
    load_builtin_courses,
    load_course,
    score_check,
    score_question,
)
from lms.seat_time import estimate

LIBRARY_SCENARIOS = (
    "crew-shooting-rumour",
    "use-of-force-video",
    "store-dispute",
    "officer-transfer",
    "call-in-focused-deterrence",
    "school-rumour-juvenile",
    "language-and-distrust",
    "refresher-night-shift",
)

# A small valid course; tests change one thing and look for the issue it causes.
# Line numbers below are relied on by tests: edit with care.
MINIMAL = """\
ripple_course: 1
slug: tiny
title: Tiny course
summary: A course small enough to read in one go.
category: Community policing
credit_hours: 0.25
certificate_valid_months: 12
renewal: {course: tiny, window_days: 30}
attempt_policy: {max_attempts: 2, counts: latest}
modules:
  - slug: only
    title: Only module
    objectives: [1, 8]
    items:
      - kind: lesson
        slug: read-me
        title: Read me
        body: |
          ## Hello
          Some text.
      - kind: knowledge_check
        slug: check
        title: Check
        pass_mark: 75
        questions:
          - kind: single_choice
            id: q1
            prompt: Pick one
            choices:
              - {text: right, correct: true, feedback: Right.}
              - {text: wrong, correct: false}
          - kind: true_false
            id: q2
            prompt: True?
            answer: true
            explanation: It is.
      - kind: scenario
        slug: play
        title: Play
        scenario: crew-shooting-rumour
"""


def issues_of(text: str, **kwargs) -> list[str]:
    with pytest.raises(CourseFormatError) as info:
        load_course(text, **kwargs)
    return [str(issue) for issue in info.value.issues]


@pytest.fixture(scope="module")
def builtin() -> dict[str, CourseSpec]:
    return load_builtin_courses(known_scenarios=LIBRARY_SCENARIOS)


@pytest.fixture(scope="module")
def main_course(builtin) -> CourseSpec:
    return builtin["prevention-partnership"]


@pytest.fixture(scope="module")
def refresher(builtin) -> CourseSpec:
    return builtin["prevention-refresher"]


@pytest.fixture
def tiny() -> CourseSpec:
    return load_course(MINIMAL)


# --- the built-in courses -------------------------------------------------------------


def test_builtin_course_files_are_the_two_courses():
    assert [p.name for p in builtin_course_paths()] == [
        "prevention-partnership.yaml",
        "prevention-refresher.yaml",
    ]


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_builtin_course_covers_all_eight_objectives(builtin, slug):
    assert builtin[slug].objectives == frozenset(range(1, 9))


def test_main_course_settings(main_course):
    assert main_course.title == "Prevention-Focused Community Partnership"
    assert main_course.category == "Community policing"
    # honest hours: within the seat-time estimate (lms.seat_time), never the old 8
    assert 0 < main_course.credit_hours <= estimate(main_course).max_hours
    assert main_course.certificate_valid_months == 24
    assert (main_course.renewal.course, main_course.renewal.window_days) == ("prevention-refresher", 90)
    assert main_course.attempt_policy.counts == "best"


def test_main_course_has_at_least_six_modules_each_with_lessons_and_a_check(main_course):
    assert len(main_course.modules) >= 6
    for module in main_course.modules:
        kinds = [item.kind for item in module.items]
        assert module.objectives, module.slug
        assert kinds.count("knowledge_check") == 1, module.slug
        if any(item.summative for item in module.items):
            continue  # the final check is a module of its own, with no lesson
        assert 1 <= kinds.count("lesson") <= 3, module.slug


def test_main_course_lessons_are_substantial(main_course):
    for _, item in main_course.items():
        if item.kind == "lesson":
            words = len(item.body.split())
            assert 350 <= words <= 750, (item.slug, words)
            assert "## " in item.body, item.slug


def test_main_course_checks_teach(main_course):
    for _, item in main_course.items():
        if item.kind == "knowledge_check":
            presented = item.draw or len(item.questions)
            assert 4 <= presented <= 12, item.slug
            assert item.draw is None or item.draw < len(item.questions), item.slug
            assert item.pass_mark == 80
            assert all(q.explanation for q in item.questions), item.slug


def test_builtin_courses_load_with_no_warnings(builtin):
    for slug, course in builtin.items():
        assert [f"{w.path}: {w.message}" for w in course.warnings] == [], slug


def test_main_course_modules_have_measured_outcomes(main_course):
    for module in main_course.modules:
        assert 2 <= len(module.outcomes) <= 3, module.slug
        tagged = [q.outcome for _, item in main_course.items() for q in item.questions]
        for outcome in module.outcomes:
            assert outcome.text.startswith("Given "), outcome.id
            assert set(outcome.teaching) <= set(module.objectives), outcome.id
            assert tagged.count(outcome.id) >= 3, outcome.id
        for item in module.items:
            if item.kind == "knowledge_check" and item.draw:
                assert item.draw >= len({q.outcome for q in item.questions}), item.slug


def test_main_course_has_the_disclosure_module(main_course):
    module = main_course.module("what-to-share")
    assert module is not None and module.title == "What Can I Share, With Whom, and When?"
    slugs = [m.slug for m in main_course.modules]
    assert slugs.index("what-to-share") == slugs.index("one-message") + 1
    matrix = main_course.item("disclosure-matrix").body
    assert "| --- |" in matrix
    for phrase in (
        "share",
        "ask the case detective first",
        "never",
        "after the scene is secure, in words the case detective and the supervisor cleared",
        "The case detective",
        "The PIO",
    ):
        assert phrase in matrix, phrase


def test_main_course_uses_every_question_kind(main_course):
    used = {q.kind for _, item in main_course.items() for q in item.questions}
    assert used == set(QUESTION_KINDS)


def test_main_course_grades_each_library_scenario_once(main_course):
    slugs = main_course.scenario_slugs
    assert len(slugs) == len(set(slugs))
    assert set(slugs) <= set(LIBRARY_SCENARIOS)
    revised = {"crew-shooting-rumour", "use-of-force-video", "store-dispute", "officer-transfer"}
    assert revised | {"call-in-focused-deterrence"} <= set(slugs)


def test_refresher_is_short_and_renews_itself(refresher):
    assert refresher.title == "Prevention Partnership Refresher"
    assert len(refresher.modules) == 3  # two recaps, then the final check
    assert 0 < refresher.credit_hours <= estimate(refresher).max_hours
    assert refresher.certificate_valid_months == 24
    assert refresher.renewal.course == "prevention-refresher"
    kinds = {item.kind for _, item in refresher.items()}
    assert kinds == {"lesson", "knowledge_check", "scenario"}
    assert len(refresher.scenario_slugs) == 2


def test_refresher_scenarios_are_not_the_ones_already_played(main_course, refresher):
    assert set(refresher.scenario_slugs) == {"language-and-distrust", "refresher-night-shift"}
    assert not set(refresher.scenario_slugs) & set(main_course.scenario_slugs)


def test_main_course_ends_with_a_summative_scenario_based_final_check(main_course):
    final = main_course.modules[-1]
    (check,) = final.items
    assert check.kind == "knowledge_check" and check.summative
    assert all(q.case for q in check.questions)
    assert {q.outcome for q in check.questions} == {o.id for o in final.outcomes}
    assert 2 <= len(final.outcomes) <= 3


def test_refresher_ends_with_a_summative_case_based_final_check(refresher):
    final = refresher.modules[-1]
    (check,) = final.items
    assert check.kind == "knowledge_check" and check.summative and check.required
    assert refresher.summative_check == check
    assert all(q.case for q in check.questions)
    assert {q.outcome for q in check.questions} == {o.id for o in final.outcomes}
    assert check.draw is not None and len(final.outcomes) <= check.draw < len(check.questions)
    # the final check spans the refresher: every teaching objective, first hours to handover
    assert set(final.objectives) == set(range(1, 9))
    assert {t for o in final.outcomes for t in o.teaching} == set(range(1, 9))


def test_every_module_has_measurable_outcomes_each_asked_three_times(builtin):
    for course in builtin.values():
        for module in course.modules:
            assert 2 <= len(module.outcomes) <= 3, module.slug
            for outcome in module.outcomes:
                asked = [q for item in module.items for q in item.questions if q.outcome == outcome.id]
                assert len(asked) >= 3, (module.slug, outcome.id)


def test_main_course_cites_its_sources_and_credits_the_framework(main_course):
    assert len(main_course.sources) >= 8
    assert all(source.note for source in main_course.sources)
    cited = " ".join(source.cite for source in main_course.sources)
    for author in ("Tyler", "Goldstein", "Eck", "Braga", "Mazerolle"):
        assert author in cited
    for seed in ("Burgess", "American Crime Prevention Institute", "Partnerships for Prevention"):
        assert seed in main_course.credits
    assert "own words" in main_course.credits


def test_the_hours_after_claim_is_cited_to_the_self_exciting_model(main_course, refresher):
    for course, lesson in ((main_course, "second-incident"), (refresher, "recap-first-hours")):
        (mohler,) = [s for s in course.sources if s.cite.startswith("Mohler, G. O.")]
        assert "Self-exciting point process modeling of crime" in mohler.cite
        assert "Journal of the American Statistical Association, 106(493), 100-108" in mohler.cite
        assert "Mohler and colleagues, 2011" in " ".join(course.item(lesson).body.split())
    # worded no stronger than the evidence: a raised risk, not "the most dangerous period"
    assert "most dangerous period" not in main_course.item("second-incident").body


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_credits_name_the_three_seeds_in_a_citable_form(builtin, slug):
    credits = builtin[slug].credits
    assert credits is not None and "own words" in credits
    assert 'M. Burgess, "PPS Reflection: Proactive Prevention Requires Community' in credits
    assert "practitioner essay" in credits
    assert "American Crime Prevention Institute, for its training" in credits
    assert '"Partnerships for Prevention", a police playbook' in credits


def test_refresher_cites_what_it_teaches(refresher, main_course):
    assert all(source.note for source in refresher.sources)
    cited = " ".join(source.cite for source in refresher.sources)
    for author in ("Tyler", "Eck, J. E., & Spelman", "Braga", "Goldstein", "Mohler"):
        assert author in cited, author
    # the same real references as the main course, not new ones
    assert {s.cite for s in refresher.sources} <= {s.cite for s in main_course.sources}


def test_refresher_keeps_the_law_s_exceptions_qualifier(refresher):
    body = refresher.item("recap-first-hours").body
    assert "**Not at all, outside the law's exceptions:** a juvenile's" in body


def test_a_victim_s_condition_waits_for_the_family_everywhere(main_course, refresher):
    matrix = main_course.item("disclosure-matrix").body
    row = next(line for line in matrix.splitlines() if line.startswith("| A victim's general condition"))
    assert "| share once the family has agreed |" in row
    basics = next(line for line in matrix.splitlines() if line.startswith("| Confirmed basics"))
    assert "condition" not in basics
    check = main_course.item("what-to-share-check")
    assert check.question("confirmed-basics-shareable").answer is False
    assert "waits until the family has agreed" in refresher.item("recap-first-hours").body


def _flat(text: str | None) -> str:
    return " ".join((text or "").split())


def _teaching_texts(course: CourseSpec) -> list[str]:
    """What a course teaches as right: lessons, outcomes, right choices, feedback, explanations."""
    texts = [outcome.text for module in course.modules for outcome in module.outcomes]
    for _, item in course.items():
        texts += [item.body or "", item.intro or ""]
        for q in item.questions:
            texts += [q.case or "", q.explanation or ""]
            texts += [c.text for c in q.choices if c.correct]
            texts += [c.feedback or "" for c in q.choices]
    return [_flat(text) for text in texts if text]


def _sentences(texts: list[str]) -> list[str]:
    return [s for text in texts for s in re.split(r"(?<=[.;:!?])\s+", text)]


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_an_operation_is_explained_in_words_the_detective_and_the_supervisor_cleared(builtin, slug):
    approval = re.compile(r"supervisor(?:'s)? approv|supervisor approves", re.IGNORECASE)
    alone = [
        s for s in _sentences(_teaching_texts(builtin[slug])) if approval.search(s) and "detective" not in s
    ]
    assert alone == []


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_a_victim_s_condition_is_shared_only_where_the_family_agreed(builtin, slug):
    condition = re.compile(r"expected to live|stable", re.IGNORECASE)
    for _, item in builtin[slug].items():
        for paragraph in (item.body or "").split("\n\n"):
            if condition.search(paragraph):
                assert "family" in paragraph, (item.slug, paragraph)
        for q in item.questions:
            text = _flat(" ".join([q.case or "", q.prompt] + [c.text for c in q.choices]))
            if condition.search(text):
                context = _flat(f"{q.case or ''} {q.prompt} {q.explanation or ''}")
                assert "family" in context and "agree" in context, q.id


def test_a_changed_condition_goes_to_partners_once_the_family_agrees(main_course):
    question = main_course.item("one-message-check").question("facts-changed")
    assert "the family agrees" in _flat(question.case)
    (right,) = [c for c in question.choices if c.correct]
    assert "family" in right.text


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_feedback_never_calls_partnerships_personal(builtin, slug):
    # The handover lessons teach that partners belong to the beat and the agency.
    said = [
        _flat(text).lower()
        for _, item in builtin[slug].items()
        for q in item.questions
        for text in [q.explanation or ""] + [c.feedback or "" for c in q.choices]
    ]
    assert not [text for text in said if "relationships are personal" in text]


def test_the_retaliation_claim_says_the_paper_s_data_are_burglary(main_course, refresher):
    for course, lesson in ((main_course, "second-incident"), (refresher, "recap-first-hours")):
        body = _flat(course.item(lesson).body)
        assert "burglar" in body, lesson
        assert "describe gang retaliation as following the same pattern" in body, lesson
        assert "can set off retaliation" not in body, lesson


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_a_warning_alone_backfiring_is_the_simulation_s_assumption(builtin, slug):
    # The focused-deterrence reviews test the package, not its parts one at a time.
    backfire = [s for s in _sentences(_teaching_texts(builtin[slug])) if "backfire" in s]
    assert all("simulation" in s for s in backfire), backfire


@pytest.mark.parametrize(
    ("lesson", "citation"),
    [
        ("second-incident", "(Green, Horel and Papachristos, 2017)"),
        ("choosing-the-messenger", "(Butts, Roman, Bostwick and Porter, 2015)"),
    ],
)
def test_sources_are_cited_in_the_lessons_their_notes_name(main_course, lesson, citation):
    assert citation in _flat(main_course.item(lesson).body)


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_the_longest_choice_is_the_right_one_in_at_most_a_third_of_questions(builtin, slug):
    longest = []
    for _, item in builtin[slug].items():
        for q in item.questions:
            if q.kind == "single_choice":
                lengths = [len(_flat(c.text)) for c in q.choices]
                (right,) = q.correct_choices
                longest.append(lengths[right] == max(lengths))
    assert sum(longest) <= len(longest) / 3, (sum(longest), len(longest))


# Words that make a wrong choice easy to spot without knowing the answer.
ABSOLUTES = re.compile(
    r"\b(always|never|every|everyone|everybody|everything|all|nothing|nobody|none|no one|"
    r"completely|entirely|ever|anyone|anything)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_absolute_words_do_not_give_away_wrong_choices(builtin, slug):
    wrong = [
        choice.text
        for _, item in builtin[slug].items()
        for question in item.questions
        for choice in question.choices
        if not choice.correct
    ]
    absolute = [text for text in wrong if ABSOLUTES.search(text)]
    assert len(absolute) < 0.15 * len(wrong), absolute


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_four_choice_answers_are_spread_over_the_positions(builtin, slug):
    positions = [
        next(iter(q.correct_choices))
        for _, item in builtin[slug].items()
        for q in item.questions
        if q.kind == "single_choice" and len(q.choices) == 4
    ]
    late = sum(1 for p in positions if p >= 2)
    assert late <= 0.6 * len(positions), positions
    assert all(positions.count(p) <= max(2, len(positions) / 3) for p in range(4)), positions


def test_builtin_scenarios_exist_in_the_engine_library(builtin):
    from scenarios import list_library

    library = {path.stem for path in list_library()}
    wanted = {slug for course in builtin.values() for slug in course.scenario_slugs}
    missing = wanted - library
    if missing:
        pytest.skip(f"engine library does not have these yet: {sorted(missing)}")
    assert wanted <= library


def test_lesson_images_exist(builtin):
    images = Path(builtin_course_paths()[0]).parent
    for course in builtin.values():
        for _, item in course.items():
            for part in (item.body or "").split("](")[1:]:
                target = part.split(")")[0]
                if not target.startswith(("http:", "https:", "#")):
                    assert (images / target).is_file(), (item.slug, target)


# --- validation: each problem named with its path and line ------------------------------


def test_minimal_course_loads(tiny):
    assert tiny.slug == "tiny"
    assert tiny.attempt_policy.max_attempts == 2
    assert tiny.modules[0].items[1].pass_mark == 75
    assert [item.kind for _, item in tiny.items()] == ["lesson", "knowledge_check", "scenario"]


def test_defaults_are_filled_in(tiny):
    lesson, check, scenario = tiny.modules[0].items
    assert lesson.required is True and lesson.locked_until_previous is False
    assert check.max_attempts is None
    assert tiny.max_attempts_for(check) == 2


def test_load_from_path_and_bytes(tmp_path, tiny):
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_course(path) == tiny
    assert load_course(str(path)) == tiny
    assert load_course(MINIMAL.encode()) == tiny


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "ripple_course: 1\n",
            "ripple_course: one\n",
            "ripple_course: expected a whole number, got text (line 1)",
        ),
        ("slug: tiny\n", "slug: Tiny Course\n", 'slug: "Tiny Course" is not a valid slug'),
        ("credit_hours: 0.25\n", "credit_hours: -1\n", "credit_hours: must be at least 0, got -1 (line 6)"),
        (
            "certificate_valid_months: 12\n",
            "certificate_valid_months: null\n",
            "renewal: a renewal needs a certificate that expires",
        ),
        (
            "counts: latest",
            "counts: worst",
            'attempt_policy.counts: unknown value "worst"; known: best, latest (line 9)',
        ),
        (
            "objectives: [1, 8]",
            "objectives: [1, 9]",
            "modules[0].objectives[1]: unknown teaching objective 9",
        ),
        ("objectives: [1, 8]", "objectives: [1, 1]", "modules[0].objectives[1]: objective 1 is listed twice"),
        (
            "      - kind: lesson\n",
            "      - kind: video\n",
            'modules[0].items[0].kind: unknown item kind "video"',
        ),
        (
            "        body: |\n",
            "        text: |\n",
            'modules[0].items[0]: missing required key "body" (line 15)',
        ),
        ("        body: |\n", "        text: |\n", 'modules[0].items[0].text: unknown key "text"'),
        (
            "pass_mark: 75",
            "pass_mark: 101",
            "modules[0].items[1].pass_mark: must be at most 100, got 101 (line 24)",
        ),
        (
            "pass_mark: 75",
            "pass_mark: -5",
            "modules[0].items[1].pass_mark: must be at least 0, got -5 (line 24)",
        ),
        (
            "{text: wrong, correct: false}",
            "{text: wrong, correct: true}",
            "modules[0].items[1].questions[0].choices: a single_choice question needs exactly one correct choice, "
            "has 2 (line 29)",
        ),
        (
            "{text: right, correct: true, feedback: Right.}",
            "{text: right, correct: false}",
            "modules[0].items[1].questions[0].choices: a single_choice question needs exactly one correct choice, "
            "has 0 (line 29)",
        ),
        (
            "              - {text: wrong, correct: false}\n",
            "",
            "modules[0].items[1].questions[0].choices: a single_choice question needs at least 2 choices, has 1",
        ),
        (
            "{text: wrong, correct: false}",
            "{text: right, correct: false}",
            "modules[0].items[1].questions[0].choices[1].text: the same choice text is also used by choice 0 (line 31)",
        ),
        (
            "answer: true",
            "answer: maybe",
            "modules[0].items[1].questions[1].answer: expected true or false, got text",
        ),
        (
            "            answer: true\n",
            "",
            'modules[0].items[1].questions[1]: missing required key "answer" (line 32)',
        ),
        (
            "            id: q2\n",
            "            id: q1\n",
            'questions[1].id: question id "q1" is also used by questions[0]',
        ),
        (
            "kind: true_false",
            "kind: essay",
            'modules[0].items[1].questions[1].kind: unknown question kind "essay"',
        ),
        (
            "            answer: true\n",
            "            answer: true\n            choices: []\n",
            'modules[0].items[1].questions[1].choices: unknown key "choices"',
        ),
        (
            "        slug: play\n",
            "        slug: check\n",
            'item slug "check" is already used at modules[0].items[1].slug',
        ),
        (
            "scenario: crew-shooting-rumour",
            "scenario: 42",
            "modules[0].items[2].scenario: expected text, got a whole",
        ),
        ("title: Tiny course\n", "", 'missing required key "title"'),
        ("modules:\n", "modulez:\n", 'modulez: unknown key "modulez"'),
    ],
)
def test_each_problem_is_reported_with_path_and_line(old, new, expected):
    assert old in MINIMAL
    found = issues_of(MINIMAL.replace(old, new, 1))
    assert any(expected in issue for issue in found), found


def test_unknown_scenario_is_reported_when_the_library_is_given():
    found = issues_of(MINIMAL, known_scenarios=["store-dispute"])
    assert found == [
        'modules[0].items[2].scenario: unknown scenario "crew-shooting-rumour"; known: store-dispute (line 40)'
    ]


def test_unknown_scenarios_pass_without_a_library():
    assert load_course(MINIMAL.replace("crew-shooting-rumour", "not-yet-written")).scenario_slugs == (
        "not-yet-written",
    )


def test_every_problem_is_reported_at_once_in_line_order():
    text = (
        MINIMAL.replace("credit_hours: 0.25", "credit_hours: lots")
        .replace("pass_mark: 75", "pass_mark: 900")
        .replace("answer: true", "answer: 3")
        .replace("slug: play", "slug: Play!")
    )
    found = issues_of(text)
    assert len(found) == 4, found
    assert [issue.split(" (line ")[1] for issue in found] == ["6)", "24)", "35)", "38)"]


def test_duplicate_module_slugs_are_reported():
    module = MINIMAL[MINIMAL.index("  - slug: only") :]
    module = module.replace("slug: read-me", "slug: read-me-2").replace("slug: check", "slug: check-2")
    found = issues_of(MINIMAL + module.replace("slug: play", "slug: play-2"))
    assert found == [
        'modules[1].slug: module slug "only" is already used at modules[0].slug; module slugs must be unique in a '
        "course (line 41)"
    ]


def test_a_multiple_choice_question_needs_a_correct_choice():
    text = MINIMAL.replace("kind: single_choice", "kind: multiple_choice").replace(
        "correct: true", "correct: false"
    )
    assert issues_of(text) == [
        "modules[0].items[1].questions[0].choices: a multiple_choice question needs at least one correct choice, "
        "has 0 (line 29)"
    ]


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ("[only]", "an ordering question needs at least 2 items, has 1"),
        ("[a, b, a]", "sequence[2]: repeats item 0"),
        ("[a, '']", "sequence[1]: must not be empty"),
        ("[a, [b]]", "sequence[1]: expected text, got a list"),
        ("nope", "sequence: expected a list, got text"),
    ],
)
def test_ordering_rules(sequence, expected):
    text = MINIMAL.replace("kind: true_false", "kind: ordering").replace(
        "answer: true", f"sequence: {sequence}"
    )
    found = issues_of(text)
    assert any(expected in issue for issue in found), found


def test_a_newer_format_version_is_refused_alone():
    assert issues_of(
        MINIMAL.replace("ripple_course: 1", "ripple_course: 2").replace("slug: tiny", "slug: X")
    ) == ["ripple_course: unsupported course format version 2; this version of Ripple reads 1 (line 1)"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "just text", "- a\n- b\n", "42"])
def test_a_document_that_is_not_a_course(text):
    assert len(issues_of(text)) == 1


def test_syntax_errors_name_their_line():
    found = issues_of(MINIMAL.replace("    title: Only module", "    title: [Only module"))
    assert len(found) == 1 and "YAML syntax" in found[0] and "(line 1" in found[0]


def test_course_from_data_reports_paths_without_lines(tiny):
    data = course_to_data(tiny)
    data["modules"][0]["items"][1]["pass_mark"] = 200
    with pytest.raises(CourseFormatError) as info:
        course_from_data(data)
    assert [str(i) for i in info.value.issues] == [
        "modules[0].items[1].pass_mark: must be at most 100, got 200"
    ]


def test_registries_list_the_kinds():
    assert set(ITEM_KINDS) == {"lesson", "knowledge_check", "scenario"}
    assert set(QUESTION_KINDS) == {"single_choice", "multiple_choice", "true_false", "ordering"}
    assert [k for k, kind in ITEM_KINDS.items() if kind.graded] == ["knowledge_check", "scenario"]


# --- round trip -------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["prevention-partnership", "prevention-refresher"])
def test_builtin_courses_round_trip(builtin, slug):
    course = builtin[slug]
    assert load_course(dump_course(course)) == course
    assert course_from_data(course_to_data(course)) == course


AWKWARD_TEXT = [
    "null",
    "yes",
    "1.5",
    "- a list?",
    "key: value",
    "# not a comment",
    "  leading and trailing spaces  ",
    "quotes ' and \" both",
    "multi\nline\n\n  indented\n",
    "no final newline\nsecond",
    "tab\tinside",
    "unicode: café — “quotes” 🚓",
    "*not an alias",
    "&not an anchor",
]


@pytest.mark.parametrize("awkward", AWKWARD_TEXT)
def test_awkward_text_round_trips(tiny, awkward):
    lesson, check, scenario = tiny.modules[0].items
    question = replace(
        check.questions[0],
        prompt=awkward,
        explanation=awkward,
        choices=(ChoiceSpec(awkward, True, awkward), ChoiceSpec("other", False)),
    )
    ordering = QuestionSpec(kind="ordering", id="q3", prompt="Order", sequence=(awkward, "after"))
    one_line = awkward if "\n" not in awkward else awkward.replace("\n", " ")  # titles are one line
    changed = replace(
        tiny,
        title=one_line,
        summary=awkward,
        credit_hours=0.3,
        certificate_valid_months=None,
        renewal=None,
        modules=(
            ModuleSpec(
                slug="only",
                title=one_line,
                summary=awkward,
                objectives=(2,),
                items=(
                    replace(
                        lesson,
                        body=awkward,
                        title=one_line,
                        required=False,
                        locked_until_previous=True,
                        minutes=2,
                    ),
                    replace(check, questions=(question, check.questions[1], ordering), max_attempts=4),
                    replace(scenario, intro=awkward),
                ),
            ),
        ),
    )
    assert load_course(dump_course(changed)) == changed


# --- scoring ----------------------------------------------------------------------------

SINGLE = QuestionSpec(
    "single_choice", "s", "?", choices=(ChoiceSpec("a"), ChoiceSpec("b", True), ChoiceSpec("c"))
)
MULTI = QuestionSpec(
    "multiple_choice", "m", "?", choices=(ChoiceSpec("a", True), ChoiceSpec("b"), ChoiceSpec("c", True))
)
TRUE_FALSE = QuestionSpec("true_false", "t", "?", answer=False)
ORDERING = QuestionSpec("ordering", "o", "?", sequence=("first", "second", "third"))


@pytest.mark.parametrize(
    ("question", "response", "correct"),
    [
        (SINGLE, 1, True),
        (SINGLE, 0, False),
        (SINGLE, 3, False),
        (SINGLE, -2, False),
        (SINGLE, True, False),
        (SINGLE, "1", False),
        (SINGLE, None, False),
        (MULTI, [0, 2], True),
        (MULTI, {2, 0}, True),
        (MULTI, (2, 0, 0), True),
        (MULTI, [0], False),
        (MULTI, [0, 1, 2], False),
        (MULTI, [], False),
        (MULTI, "02", False),
        (MULTI, [0, "2"], False),
        (MULTI, 0, False),
        (TRUE_FALSE, False, True),
        (TRUE_FALSE, True, False),
        (TRUE_FALSE, 0, False),
        (TRUE_FALSE, "false", False),
        (ORDERING, ["first", "second", "third"], True),
        (ORDERING, ("first", "second", "third"), True),
        (ORDERING, ["second", "first", "third"], False),
        (ORDERING, ["first", "second"], False),
        (ORDERING, "first", False),
        (ORDERING, None, False),
    ],
)
def test_score_question(question, response, correct):
    assert score_question(question, response) is correct


def test_score_check_counts_unanswered_as_wrong():
    item = ItemSpec(
        "knowledge_check", "k", "K", pass_mark=80, questions=(SINGLE, MULTI, TRUE_FALSE, ORDERING)
    )
    percent, results = score_check(item, {"s": 1, "m": [0, 2], "t": True})
    assert percent == 50.0
    assert results == {"s": True, "m": True, "t": False, "o": False}


def test_score_check_full_marks_on_a_builtin_check(main_course):
    check = next(item for _, item in main_course.items() if item.kind == "knowledge_check")
    answers = {}
    for q in check.questions:
        if q.kind == "single_choice":
            answers[q.id] = next(iter(q.correct_choices))
        elif q.kind == "multiple_choice":
            answers[q.id] = sorted(q.correct_choices)
        elif q.kind == "true_false":
            answers[q.id] = q.answer
        else:
            answers[q.id] = list(q.sequence)
    assert score_check(check, answers)[0] == 100.0
    first = check.questions[0].id
    wrong = dict(answers, **{first: None})
    percent, results = score_check(check, wrong)
    assert results[first] is False and percent == 100.0 * (len(answers) - 1) / len(answers)
    assert percent >= check.pass_mark  # one slip out of five still passes at 80


def test_score_check_tolerates_garbage_responses(tiny):
    check = tiny.modules[0].items[1]
    assert score_check(check, "not a mapping") == (0.0, {"q1": False, "q2": False})


# --- fuzz: nothing but CourseFormatError ------------------------------------------------


def assert_only_course_format_error(text) -> None:
    try:
        load_course(text, known_scenarios=LIBRARY_SCENARIOS)
    except CourseFormatError as exc:
        assert exc.issues, "an error must name at least one issue"
        for issue in exc.issues:
            assert issue.path and issue.message


@pytest.mark.parametrize("seed", range(300))
def test_fuzz_random_garbage(seed):
    rng = random.Random(seed)
    alphabet = string.printable + "{}[]:-#&*!|>'\"%@`\u00e9\u2014\x00\ufeff"
    assert_only_course_format_error("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200))))


@pytest.mark.parametrize("seed", range(150))
def test_fuzz_truncated_and_mutated_courses(seed):
    rng = random.Random(seed)
    text = MINIMAL if seed % 3 else builtin_course_paths()[1].read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    mutation = seed % 5
    if mutation == 0:  # cut anywhere
        text = text[: rng.randrange(len(text))]
    elif mutation == 1:  # drop lines
        text = "".join(line for line in lines if rng.random() > 0.1)
    elif mutation == 2:  # shuffle a few lines
        for _ in range(3):
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        text = "".join(lines)
    elif mutation == 3:  # replace values with values of other types
        values = [
            "null",
            "[]",
            "{}",
            "-1",
            "1e309",
            ".nan",
            "true",
            "'x'",
            "2024-01-01",
            "[1, [2]]",
            "{a: 1}",
        ]
        text = "".join(
            line.split(":", 1)[0] + ": " + rng.choice(values) + "\n"
            if ":" in line and rng.random() < 0.2
            else line
            for line in lines
        )
    else:  # flip characters
        chars = list(text)
        for _ in range(10):
            chars[rng.randrange(len(chars))] = rng.choice("-: \n\t[]{}#'\"x1")
        text = "".join(chars)
    assert_only_course_format_error(text)


@pytest.mark.parametrize(
    "data",
    [
        None,
        0,
        "text",
        [],
        {"modules": "x"},
        {"ripple_course": 1, "modules": [None, 1, [], {"items": [None]}]},
    ],
)
def test_fuzz_course_from_data(data):
    with pytest.raises(CourseFormatError):
        course_from_data(data)


def test_alias_bombs_are_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(6)
    )
    assert_only_course_format_error(bomb)
    with pytest.raises(CourseFormatError):
        load_course(bomb)


@pytest.mark.parametrize("module", ["lms.course_format", "lms.seat_time"])
def test_the_format_module_imports_no_web_or_database_code(module):
    import ast
    import importlib

    # the seat-time estimate is part of the format: pure too, and the only lms module it uses
    tree = ast.parse(Path(importlib.import_module(module).__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {
        name
        for name in imported - {"lms.seat_time", "lms.course_format"}
        if name.split(".")[0] in {"flask", "flask_sqlalchemy", "sqlalchemy", "lms"}
    }
