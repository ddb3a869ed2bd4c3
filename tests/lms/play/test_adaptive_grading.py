"""Ripple grades with the adaptive rule (scenarios/adaptive.py) when no fixed number of runs is
configured, and the debrief says the score's interval and its runs in words."""

from __future__ import annotations

import pytest

import scenarios as engine
from lms.extensions import db as database
from lms.models import Attempt
from lms.services import attempts, debrief
from tests.lms import tiny_scenarios


@pytest.fixture
def adaptive_app(app):
    """The test config, except that grades choose their own number of runs, as in production."""
    app.config["SCENARIO_GRADING_RUNS"] = None
    yield app
    app.config["SCENARIO_GRADING_RUNS"] = 24


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


def test_an_attempt_is_graded_by_the_adaptive_rule(adaptive_app, instructor, tiny):
    attempt = finished(instructor, tiny, ["a"])
    scenario = debrief.scenario_of(tiny)
    refs = debrief.grading_references(scenario, tiny)
    want, _ = engine.adaptive.grade(scenario, attempt.choices, attempt.seed, refs)
    breakdown = attempt.grade.breakdown
    assert (breakdown["runs"], breakdown["stopped"]) == (want.runs, want.stopped)
    assert breakdown["interval"] == list(want.interval)
    assert attempt.grade.score == round(want.score, 2)


def test_the_what_if_projects_over_the_runs_the_rule_chose(adaptive_app, instructor, tiny):
    attempt = finished(instructor, tiny, ["a"])
    assert debrief.what_if_runs(attempt) == attempt.grade.breakdown["runs"]
    assert debrief.what_if(attempt, 0, ["b"]).runs == attempt.grade.breakdown["runs"]


def test_the_debrief_gives_the_score_with_its_interval_and_runs(
    adaptive_app, client, sign_in, instructor, tiny
):
    attempt = finished(instructor, tiny, ["a"])
    low, high = attempt.grade.breakdown["interval"]
    sign_in(instructor)
    page = client.get(f"/play/attempts/{attempt.id}/debrief").get_data(as_text=True)
    runs = attempt.grade.breakdown["runs"]
    assert (
        f"Score {attempt.grade.breakdown['score']:.0f} ({low:.0f}–{high:.0f}, 95% interval, from {runs} runs)."
        in page
    )


def test_a_grade_stored_before_intervals_still_shows_its_runs(client, sign_in, instructor, tiny):
    attempt = finished(instructor, tiny, ["a"])
    breakdown = {k: v for k, v in attempt.grade.breakdown.items() if k not in ("interval", "stopped")}
    attempt.grade.breakdown = breakdown
    database.session.commit()
    sign_in(instructor)
    page = client.get(f"/play/attempts/{attempt.id}/debrief").get_data(as_text=True)
    assert f"Score {breakdown['score']:.0f}, from 24 runs." in page
    assert "95% interval" not in page
