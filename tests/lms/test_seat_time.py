"""Seat time: the estimate from a course's content, and the refusal of hours it does not support.

Pure Python (no app), except the last tests, which import through the authoring service.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

import scenarios as engine
from lms import seat_time as st
from lms.course_format import CourseFormatError, course_from_data, course_to_data, load_course

WORDS_400 = " ".join(["word"] * 400)  # two minutes at 200 words a minute


def course(
    *,
    credit_hours=0.05,
    seat_time=None,
    lesson_minutes=None,
    body=WORDS_400,
    questions=3,
    draw=None,
    scenario=None,
):
    lesson = {"kind": "lesson", "slug": "read", "title": "Read", "body": body}
    if lesson_minutes is not None:
        lesson["minutes"] = lesson_minutes
    check = {
        "kind": "knowledge_check",
        "slug": "check",
        "title": "Check",
        "questions": [
            {"kind": "true_false", "id": f"q{i}", "prompt": f"Claim {i}?", "answer": i % 2 == 0}
            for i in range(questions)
        ],
    }
    if draw is not None:
        check["draw"] = draw
    items = [lesson, check]
    if scenario:
        items.append({"kind": "scenario", "slug": "play", "title": "Play", "scenario": scenario})
    data = {
        "ripple_course": 1,
        "slug": "timed",
        "title": "Timed",
        "summary": "S",
        "category": "C",
        "credit_hours": credit_hours,
        "certificate_valid_months": None,
        "modules": [{"slug": "m", "title": "M", "items": items}],
    }
    if seat_time is not None:
        data["seat_time"] = seat_time
    return data


def spec(**kwargs):
    return course_from_data(course(**kwargs))  # stored data: no hours check, just the spec


# --- counting -------------------------------------------------------------------------------------


def test_words_skip_link_targets_and_tags():
    assert st.word_count("Call [the pastor](https://example.test/a-b-c) <b>now</b>, don't wait.") == 6


def test_a_lesson_is_its_words_at_the_reading_speed_rounded_up():
    est = st.estimate(spec(body=" ".join(["w"] * 401)))
    assert est.items[0].minutes == 3  # 401 / 200 = 2.005 -> 3


def test_the_reading_speed_comes_from_the_course():
    est = st.estimate(spec(seat_time={"reading_wpm": 100}))
    assert est.items[0].minutes == 4 and est.policy.reading_wpm == 100


def test_a_knowledge_check_is_its_questions_times_the_minutes_per_question():
    assert st.estimate(spec(questions=3)).items[1].minutes == 3
    assert st.estimate(spec(questions=3, seat_time={"question_minutes": 2})).items[1].minutes == 6


def test_a_knowledge_check_that_draws_counts_only_the_questions_drawn():
    item = next(item for _, item in spec(questions=6).items() if item.kind == "knowledge_check")

    drawn = dataclasses.replace(item, draw=2)
    assert drawn.questions_per_attempt == 2 and item.questions_per_attempt == 6
    assert st._item_estimate(drawn, st.DEFAULT_SEAT_TIME, {}).minutes == 2
    assert st._item_estimate(item, st.DEFAULT_SEAT_TIME, {}).minutes == 6


def test_a_library_scenario_is_estimated_from_its_content():
    scenario = engine.load_scenario(engine.library_path() / "store-dispute.yaml")
    words = st.scenario_words(scenario)
    expected = words / 200 + 1.5 * len(scenario.decisions) + 5
    time = st.library_scenario_time("store-dispute")
    assert (time.basis, time.minutes) == ("content", pytest.approx(expected))
    assert words > 100


def test_a_scenario_with_ten_measured_attempts_uses_their_median():
    scenario = engine.load_scenario(engine.library_path() / "store-dispute.yaml")
    measured = [10, 11, 12, 13, 14, 15, 16, 17, 18, 40]  # play minutes, up to completion
    time = st.scenario_time(scenario, st.DEFAULT_SEAT_TIME, measured)
    assert (time.basis, time.minutes, time.attempts) == ("measured", 14.5 + st.DEBRIEF_MINUTES, 10)
    assert "plus 5 minutes for the debrief" in time.explanation
    nine = st.scenario_time(scenario, st.DEFAULT_SEAT_TIME, measured[:9])
    assert nine.basis == "content"


def test_each_measured_attempt_counts_at_most_a_multiple_of_the_content_estimate():
    """Pages left open (or scripted beats) cannot push the median past what the content supports."""
    scenario = engine.load_scenario(engine.library_path() / "store-dispute.yaml")
    content = st.scenario_time(scenario).minutes
    time = st.scenario_time(scenario, st.DEFAULT_SEAT_TIME, [600.0] * 10)
    assert (time.basis, time.minutes) == ("measured", pytest.approx(st.MEASURED_CAP_FACTOR * content))
    unknown = st.scenario_time(None, st.DEFAULT_SEAT_TIME, [600.0] * 10)  # no content to cap by
    assert unknown.minutes == 600.0 + st.DEBRIEF_MINUTES


def test_an_unknown_scenario_counts_the_documented_default_and_says_so():
    est = st.estimate(spec(scenario="not-written-yet"))
    item = est.items[2]
    assert (item.basis, item.minutes) == ("default", st.DEFAULT_SCENARIO_MINUTES)
    assert "not found" in item.detail and est.assumed_scenarios == ("play",)


def test_given_scenario_times_win_over_the_library_and_follow_the_course_speed():
    content = st.ScenarioTime(minutes=999, basis="content", words=400, decisions=2)
    est = st.estimate(
        spec(scenario="store-dispute", seat_time={"reading_wpm": 100}), {"store-dispute": content}
    )
    assert est.items[2].minutes == 400 / 100 + 3 + 5
    measured = st.ScenarioTime(minutes=7, basis="measured", attempts=12)
    assert st.estimate(spec(scenario="store-dispute"), {"store-dispute": measured}).items[2].minutes == 7


def test_the_total_and_its_parts():
    est = st.estimate(spec(questions=3, scenario="not-written-yet"))
    assert est.minutes_by_kind() == {"lesson": 2, "knowledge_check": 3, "scenario": 20}
    assert est.total_minutes == 25 and est.max_hours == pytest.approx(25 / 60 * 1.1)


# --- the seat_time block -------------------------------------------------------------------------


def test_the_seat_time_block_round_trips():
    data = course(seat_time={"reading_wpm": 150, "question_minutes": 1.5, "margin": 0.2})
    parsed = course_from_data(data)
    assert parsed.seat_time == st.SeatTimePolicy(150, 1.5, 0.2)
    assert course_from_data(course_to_data(parsed)) == parsed
    assert "seat_time" not in course_to_data(course_from_data(course()))  # defaults are left out


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"reading_wpm": 1000}, "seat_time.reading_wpm: must be at most 400, got 1000"),
        ({"reading_wpm": 50}, "seat_time.reading_wpm: must be at least 100, got 50"),
        ({"question_minutes": 0.1}, "seat_time.question_minutes: must be at least 0.25, got 0.1"),
        ({"margin": 0.9}, "seat_time.margin: must be at most 0.5, got 0.9"),
        ({"speed": 3}, "seat_time"),
        ("fast", "seat_time"),
    ],
)
def test_a_bad_seat_time_block_is_refused_with_its_place(block, message):
    with pytest.raises(CourseFormatError) as raised:
        course_from_data(course(seat_time=block))
    assert any(str(issue).startswith(message) for issue in raised.value.issues), raised.value.issues


# --- refusing over-claims ---------------------------------------------------------------------------


def _text(data) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)


def test_padded_lesson_minutes_are_refused_naming_the_lesson_and_both_figures():
    with pytest.raises(CourseFormatError) as raised:
        load_course(_text(course(lesson_minutes=6)))
    (issue,) = raised.value.issues
    assert issue.path == "modules[0].items[0].minutes" and issue.line
    assert issue.message.startswith('lesson "read" declares 6 minutes but its content supports 2 (400 words')
    assert "at most 3 with the 10% margin" in issue.message


@pytest.mark.parametrize("minutes", [1, 2, 3])
def test_lesson_minutes_within_a_minute_or_the_margin_pass(minutes):
    assert load_course(_text(course(lesson_minutes=minutes))).modules[0].items[0].minutes == minutes


def test_a_wider_margin_lets_more_through():
    load_course(_text(course(lesson_minutes=4, body=" ".join(["w"] * 600), seat_time={"margin": 0.34})))
    with pytest.raises(CourseFormatError):
        load_course(_text(course(lesson_minutes=5, body=" ".join(["w"] * 600), seat_time={"margin": 0.34})))


def test_credit_hours_above_the_estimate_are_refused_with_the_estimate():
    # 2 min lesson + 3 questions + a 20 min default scenario = 25 min; 1.1 x 25 / 60 = 0.458 h
    with pytest.raises(CourseFormatError) as raised:
        load_course(_text(course(credit_hours=8, scenario="not-written-yet")))
    (issue,) = raised.value.issues
    assert issue.path == "credit_hours" and issue.line == 6
    assert issue.message == (
        "8 credit hours declared, but the content supports about 0.42 hours (25 minutes: lessons 2, "
        "knowledge checks 3, scenarios 20); at most 0.45 hours with the 10% margin; items play name a "
        "scenario that could not be found and count 20 minutes each"
    )


def test_credit_hours_up_to_the_margin_pass():
    limit = math.floor(25 / 60 * 1.1 * 100) / 100
    assert load_course(_text(course(credit_hours=limit, scenario="not-written-yet"))).credit_hours == limit
    with pytest.raises(CourseFormatError):
        load_course(_text(course(credit_hours=0.46, scenario="not-written-yet")))


def test_stored_versions_are_not_rechecked_when_read_back():
    assert course_from_data(course(credit_hours=8)).credit_hours == 8


def test_authoring_data_is_checked():
    with pytest.raises(CourseFormatError):
        course_from_data(course(credit_hours=8), known_scenarios=())


def test_the_built_in_courses_declare_what_their_content_supports():
    from lms.course_format import load_builtin_courses

    for built_in in load_builtin_courses().values():  # load_course refuses over-claims itself
        est = st.estimate(built_in)
        assert 0 < built_in.credit_hours <= est.max_hours
        for item in est.items:
            if item.kind == "lesson" and item.declared_minutes:
                assert item.declared_minutes <= max(item.minutes * 1.1, item.minutes + 1)
