"""Assessment fields of the course file: outcomes, question outcomes and cases, draws, the
summative check, and the course-file warnings (weak assessment that does not block import).

Pure Python: no app, no database.
"""

from __future__ import annotations

import pytest
import yaml

from lms.course_format import (
    CourseFormatError,
    course_from_data,
    course_to_data,
    dump_course,
    load_course,
    score_check,
)

# One module with two outcomes, a pool of six questions (three per outcome) with varied answer
# positions and lengths, a draw of four, and a summative check in a second module.
COURSE = {
    "ripple_course": 1,
    "slug": "assessed",
    "title": "Assessed course",
    "summary": "A course whose checks measure outcomes.",
    "category": "Community policing",
    "credit_hours": 0,  # hours are not what these tests are about (lms.seat_time checks them)
    "certificate_valid_months": 12,
    "modules": [
        {
            "slug": "first-hours",
            "title": "The first hours",
            "objectives": [1, 2],
            "outcomes": [
                {
                    "id": "fh-1",
                    "text": "Given a shooting with the scene secured, the officer will name the partners to call.",
                    "teaching": [1],
                },
                {
                    "id": "fh-2",
                    "text": "Given a rumour online, the officer will say who carries the message.",
                    "teaching": [1, 2],
                },
            ],
            "items": [
                {
                    "kind": "knowledge_check",
                    "slug": "check",
                    "title": "Check",
                    "draw": 4,
                    "questions": [
                        {
                            "kind": "single_choice",
                            "id": f"q{n}",
                            "outcome": "fh-1" if n <= 3 else "fh-2",
                            "prompt": f"Question {n}?",
                            "choices": [
                                {"text": f"a choice {n}", "correct": n % 3 == 0},
                                {"text": f"the other {n}", "correct": n % 3 == 1},
                                {"text": f"third {n}", "correct": n % 3 == 2},
                            ],
                        }
                        for n in range(1, 7)
                    ],
                }
            ],
        },
        {
            "slug": "final",
            "title": "Final",
            "items": [
                {
                    "kind": "knowledge_check",
                    "slug": "final-check",
                    "title": "Final check",
                    "summative": True,
                    "questions": [
                        {
                            "kind": "true_false",
                            "id": "t1",
                            "case": "A store owner calls you at 2 a.m.\n\nHe says the crew is back.",
                            "prompt": "You call the case detective first.",
                            "answer": True,
                        },
                        {
                            "kind": "true_false",
                            "id": "t2",
                            "prompt": "You post the footage.",
                            "answer": False,
                        },
                    ],
                }
            ],
        },
    ],
}


def course(**changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(COURSE))
    for path, value in changes.items():
        target = data
        keys = [int(k) if k.isdigit() else k for k in path.split("__")]
        for key in keys[:-1]:
            target = target[key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return data


DELETE = object()
M0 = "modules__0__"
Q0 = M0 + "items__0__questions__0__"


def problems(data: dict) -> list[str]:
    with pytest.raises(CourseFormatError) as info:
        load_course(yaml.safe_dump(data, sort_keys=False))
    return [str(issue) for issue in info.value.issues]


def test_the_assessed_course_loads_with_every_field():
    spec = load_course(yaml.safe_dump(COURSE, sort_keys=False))
    module = spec.modules[0]
    assert [o.id for o in module.outcomes] == ["fh-1", "fh-2"]
    assert module.outcome("fh-2").teaching == (1, 2)
    check = spec.item("check")
    assert check.draw == 4 and check.questions_per_attempt == 4 and not check.summative
    assert [q.outcome for q in check.questions] == ["fh-1"] * 3 + ["fh-2"] * 3
    final = spec.item("final-check")
    assert final.summative and spec.summative_check == final
    assert final.questions[0].case.startswith("A store owner")
    assert final.questions_per_attempt == 2
    assert spec.warnings == ()


def test_new_fields_round_trip():
    spec = load_course(yaml.safe_dump(COURSE, sort_keys=False))
    text = dump_course(spec)
    assert "outcomes:" in text and "draw: 4" in text and "summative: true" in text and "case: |" in text
    assert load_course(text) == spec
    assert course_from_data(course_to_data(spec)) == spec
    again = load_course(text)
    assert again.item("final-check").questions[0].case == spec.item("final-check").questions[0].case


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({Q0 + "outcome": "nope"}, 'unknown outcome of this module "nope"; known: fh-1, fh-2'),
        ({Q0 + "outcome": DELETE}, 'missing required key "outcome": this module has outcomes'),
        ({"modules__1__items__0__questions__0__outcome": "fh-1"}, "but this module has no outcomes"),
        ({M0 + "outcomes__1__id": "fh-1"}, 'outcome id "fh-1" is already used at modules[0].outcomes[0].id'),
        ({M0 + "outcomes__0__id": "FH 1"}, '"FH 1" is not a valid slug'),
        ({M0 + "outcomes__0__teaching": [3]}, "objective 3 is not one of this module's objectives (1, 2)"),
        ({M0 + "outcomes__0__teaching": []}, "lists none"),
        ({M0 + "outcomes__0__teaching": DELETE}, 'missing required key "teaching"'),
        ({M0 + "outcomes__0__text": "Officers know the partners."}, 'start with "Given"'),
        ({M0 + "outcomes__0__text": "Given a shooting, officers know the partners."}, '"will" do'),
        ({M0 + "outcomes__0__extra": 1}, "extra"),
        ({M0 + "items__0__draw": 7}, "draws 7 questions per attempt but the pool has only 6"),
        ({M0 + "items__0__draw": 0}, "modules[0].items[0].draw"),
        ({M0 + "items__0__summative": "yes"}, "modules[0].items[0].summative"),
        (
            {M0 + "items__0__summative": True},
            "at most one final check; modules[0].items[0] is already summative",
        ),
        ({Q0 + "case": 5}, "modules[0].items[0].questions[0].case"),
        ({"modules__1__items__0__required": False}, "the final check (summative: true) is required"),
    ],
)
def test_bad_assessment_fields_are_reported_with_their_path(changes, expected):
    found = problems(course(**changes))
    assert any(expected in p for p in found), found


def test_a_question_outcome_must_be_in_its_own_module():
    data = course()
    data["modules"][1]["objectives"] = [3]
    data["modules"][1]["outcomes"] = [
        {"id": "fin-1", "text": "Given a video, the officer will wait for the chief.", "teaching": [3]}
    ]
    for question in data["modules"][1]["items"][0]["questions"]:
        question["outcome"] = "fin-1"
    data["modules"][1]["items"][0]["questions"][0]["outcome"] = "fh-1"
    found = problems(data)
    assert any('unknown outcome of this module "fh-1"; known: fin-1' in p for p in found), found


def test_scoring_a_draw_counts_only_the_presented_questions():
    spec = load_course(yaml.safe_dump(COURSE, sort_keys=False))
    check = spec.item("check")
    right = {q.id: next(iter(q.correct_choices)) for q in check.questions}
    percent, results = score_check(check, {"q1": right["q1"], "q4": right["q4"]}, ["q1", "q4"])
    assert percent == 100.0 and set(results) == {"q1", "q4"}
    percent, _ = score_check(check, {"q1": right["q1"]})
    assert percent == pytest.approx(100 / 6)


# --- warnings ------------------------------------------------------------------------


def warnings_of(data: dict) -> list[str]:
    return [str(w) for w in load_course(yaml.safe_dump(data, sort_keys=False)).warnings]


def test_an_outcome_with_fewer_than_three_questions_warns_with_its_line():
    data = course()
    data["modules"][0]["items"][0]["questions"][2]["outcome"] = "fh-2"
    data["modules"][0]["items"][0]["draw"] = None
    found = warnings_of(data)
    assert len(found) == 1, found
    assert found[0].startswith('modules[0].outcomes[0]: outcome "fh-1" is assessed by 2 questions')
    assert "(line " in found[0]


def _single(n: int, correct: int, texts=None) -> dict:
    texts = texts or [f"choice {n}-{i}" for i in range(3)]
    return {
        "kind": "single_choice",
        "id": f"s{n}",
        "prompt": f"Q{n}",
        "choices": [{"text": t, "correct": i == correct} for i, t in enumerate(texts)],
    }


def _patterned(questions: list[dict]) -> dict:
    data = course()
    data["modules"] = data["modules"][1:]  # only these questions in the course
    data["modules"][0]["items"][0]["questions"] = questions
    return data


def test_the_correct_choice_in_one_position_warns():
    # 3 of 4 at position 2: more than half
    found = warnings_of(_patterned([_single(1, 1), _single(2, 1), _single(3, 1), _single(4, 0)]))
    assert any("the correct choice is choice 2 in 3 of 4 (75%) single_choice" in w for w in found), found
    # 2 of 4: not more than half
    assert not warnings_of(_patterned([_single(1, 1), _single(2, 1), _single(3, 0), _single(4, 2)]))
    # fewer than 4 single-choice questions: no pattern to speak of
    assert not warnings_of(_patterned([_single(1, 1), _single(2, 1), _single(3, 1)]))


def test_the_correct_choice_being_the_longest_warns():
    long = ["short", "a much longer answer", "tiny"]
    questions = [_single(n, 1, [f"{t} {n}" for t in long]) for n in range(1, 4)]
    questions.append(_single(4, 0, ["longest answer of all 4", "b 4", "c 4"]))
    found = warnings_of(_patterned(questions))
    assert any("the correct choice is the longest in 4 of 4 (100%)" in w for w in found), found
    questions[3] = _single(4, 0, ["a 4", "the long one 4", "c 4"])
    questions[2] = _single(3, 2, ["a 3", "the long one 3", "c 3"])
    found = warnings_of(_patterned(questions))
    assert not any("longest" in w for w in found), found


def _multiple(n: int, correct: set[int]) -> dict:
    return {
        "kind": "multiple_choice",
        "id": f"m{n}",
        "prompt": f"M{n}",
        "choices": [{"text": f"m {n}-{i}", "correct": i in correct} for i in range(4)],
    }


def test_correct_multiple_choice_answers_listed_first_warn():
    found = warnings_of(
        _patterned([_multiple(1, {0, 1}), _multiple(2, {0}), _multiple(3, {0, 1, 2}), _multiple(4, {1, 3})])
    )
    assert any("the correct choices are listed first in 3 of 4 (75%) multiple_choice" in w for w in found), (
        found
    )
    assert not warnings_of(
        _patterned([_multiple(1, {0, 1}), _multiple(2, {1}), _multiple(3, {0, 2}), _multiple(4, {1, 3})])
    )


def _tf(n: int, answer: bool) -> dict:
    return {"kind": "true_false", "id": f"t{n}", "prompt": f"T{n}", "answer": answer}


def test_true_false_answers_mostly_one_way_warn():
    # 4 of 5 true is 80% > 70%
    found = warnings_of(_patterned([_tf(1, True), _tf(2, True), _tf(3, True), _tf(4, True), _tf(5, False)]))
    assert any("4 of 5 (80%) true_false questions have the answer true" in w for w in found), found
    # 7 of 10 false is exactly 70%: not more
    seven = [_tf(n, n > 7) for n in range(1, 11)]
    assert not warnings_of(_patterned(seven))


def test_warnings_do_not_block_and_are_not_part_of_the_course_value():
    data = _patterned([_tf(n, True) for n in range(1, 6)])
    spec = load_course(yaml.safe_dump(data, sort_keys=False))
    assert spec.warnings
    assert course_from_data(course_to_data(spec)).warnings  # data loads warn too (paths, no lines)
    assert course_from_data(course_to_data(spec)) == spec


def _wide(n: int, correct: int, size: int = 4) -> dict:
    return _single(n, correct, [f"option {n}-{i}" for i in range(size)])


def test_correct_choices_among_the_last_two_of_four_warn():
    # alternating between choices 3 and 4: no single position has more than half, the end does
    questions = [_wide(n, 2 + n % 2) for n in range(10)]
    found = warnings_of(_patterned(questions))
    assert not any("the correct choice is choice" in w for w in found), found
    assert any(
        "the correct choice is among the last two choices in 10 of 10 (100%) single_choice questions" in w
        for w in found
    ), found


def test_correct_choices_among_the_first_two_of_four_warn():
    questions = [_wide(n, n % 2) for n in range(8)]
    found = warnings_of(_patterned(questions))
    assert any("among the first two choices in 8 of 8 (100%)" in w for w in found), found


def test_the_last_two_of_any_number_of_choices_count():
    # five-choice questions with the answer in choice 4 or 5, mixed with four-choice ones in 3 or 4
    questions = [_wide(n, 3 + n % 2, size=5) for n in range(5)] + [_wide(n, 2 + n % 2) for n in range(5, 10)]
    assert any("among the last two choices in 10 of 10" in w for w in warnings_of(_patterned(questions)))


@pytest.mark.parametrize(
    "questions",
    [
        [_wide(n, n % 4) for n in range(12)],  # spread over every position
        [_wide(n, 2 + n % 2) for n in range(7)],  # fewer than 8 questions
        [_wide(n, 2 + n % 2) for n in range(7)]
        + [_wide(n, 0) for n in range(7, 10)],  # 7 of 10: not more than 70%
        [_single(n, 1 + n % 2) for n in range(10)],  # three choices: two of them are no lean to one end
    ],
    ids=["spread", "too-few", "seventy-percent", "three-choices"],
)
def test_no_end_warning_without_a_lean(questions):
    assert not any("among the" in w for w in warnings_of(_patterned(questions)))
