"""The debrief's grade block: how the score is made, each graded measure against the two
references, whether the outcome alone passes, critical errors said before the numbers, and
grades stored before the outcome-led grade still shown."""

from __future__ import annotations

import pytest
from markupsafe import escape

from lms.extensions import db as database
from lms.models import Attempt
from lms.services import attempts, debrief
from tests.lms import tiny_scenarios


@pytest.fixture
def tiny(db):
    version = tiny_scenarios.publish()
    database.session.commit()
    return version


def finished(user, version, choice):
    attempt = attempts.start_direct(user, version)
    attempts.decide(user, attempt, 0, choice)
    database.session.commit()
    return database.session.get(Attempt, attempt.id)


def page_of(client, sign_in, user, attempt) -> str:
    sign_in(user)
    response = client.get(f"/play/attempts/{attempt.id}/debrief")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_grade_block_says_how_the_score_is_made_and_shows_each_measure(client, sign_in, instructor, tiny):
    attempt = finished(instructor, tiny, ["a"])
    summary = debrief.grade_summary(debrief.scenario_of(tiny), attempt.grade.breakdown)
    assert (summary.outcome_share, summary.rubric_share) == pytest.approx((0.6, 0.4))
    assert summary.outcome_passed and not summary.critical_errors and summary.references
    reach, damage = summary.metrics
    assert reach.name == "peak_reach" and reach.scored and reach.expert < reach.baseline
    # Both references leave it at 0: it still counts, over its scale from the expert's mean.
    assert damage.name == "case_damage" and damage.scored and not damage.separated
    page = page_of(client, sign_in, instructor, attempt)
    assert (
        "How the score is made: 60% comes from what the community did (the outcome) and 40% from your choices"
        in page
    )
    assert "runs each of the expert path and of a response with no partnership" in page
    assert (
        '<th scope="col" class="num">No partnership</th><th scope="col" class="num">Expert path</th>' in page
    )
    assert '<th scope="row">Most people believing the rumor at once' in page
    assert f'<td class="num">{reach.baseline:.2f}</td><td class="num">{reach.expert:.2f}</td>' in page
    assert "references alike</span>" in page and "“References alike”" in page  # case damage
    assert "not scored" not in page
    assert "The outcome alone</dt><dd>passes" in page
    assert "Critical error" not in page


def test_a_critical_choice_fails_the_attempt_whatever_its_score_and_says_why_first(
    client, sign_in, instructor, tiny
):
    attempt = finished(instructor, tiny, ["c"])
    grade = attempt.grade
    # It does what the expert path does, so it scores above the pass mark, and still fails.
    assert grade.score >= grade.breakdown["pass_mark"] and not grade.passed
    assert grade.breakdown["critical_errors"] == [
        {
            "decision": 0,
            "option": "c",
            "label": tiny_scenarios.CRITICAL_LABEL,
            "reason": tiny_scenarios.CRITICAL_REASON,
        }
    ]
    page = page_of(client, sign_in, instructor, attempt)
    heading = '<h3 id="critical-heading">Critical error: this attempt does not pass, whatever its score</h3>'
    assert heading in page
    assert (
        f"Decision 1:</strong> “{escape(tiny_scenarios.CRITICAL_LABEL)}”. {escape(tiny_scenarios.CRITICAL_REASON)}"
        in page
    )
    # Said before any of the numbers.
    assert page.index(heading) < page.index("How the score is made") < page.index("outcome-table")
    assert "The outcome alone</dt><dd>does not pass: a critical error fails it too" in page


def test_a_grade_stored_before_the_outcome_led_grade_still_renders(
    client, sign_in, instructor, direct_attempt
):
    from lms.services.scenario_library import scenario_of

    for index, choice in enumerate(scenario_of(direct_attempt.scenario_version).expert_path):
        attempts.decide(instructor, direct_attempt, index, choice)
    database.session.commit()
    grade = direct_attempt.grade
    breakdown = dict(grade.breakdown)
    for key in ("critical_errors", "outcome_passed", "reference_runs"):
        breakdown.pop(key)
    breakdown.update(rubric_weight=0.5, outcome_weight=0.5, outcome_score=62.4, pass_mark=65)
    breakdown["metrics"] = [  # the old shape: good/bad targets, no references
        {"metric": "retaliations", "value": 0.4, "good": 0.2, "bad": 1.5, "weight": 2, "score": 84.6},
        {"metric": "peak_reach", "value": 0.3, "good": 0.2, "bad": 0.6, "weight": 1, "score": 75.0},
    ]
    grade.breakdown = breakdown
    database.session.commit()
    page = page_of(client, sign_in, instructor, direct_attempt)
    assert "Full marks at" in page and "No marks at" in page
    assert (
        '<td class="num">0.40</td><td class="num">0.2</td><td class="num">1.5</td><td class="num">85</td>'
        in page
    )
    assert "How the score is made: 50% comes from what the community did" in page
    assert "The outcome alone</dt><dd>does not pass: 62 is under the pass mark of 65" in page
    assert "Critical error" not in page
