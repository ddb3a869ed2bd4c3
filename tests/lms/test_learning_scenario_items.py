"""Scenario items on the learn side: the item page and its hand-over to the scenario player."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.services import learning
from tests.lms.learning_fixtures import course_data, enrol, publish


@pytest.fixture
def assignment(db, officer):
    data = course_data(slug="scenario-items")
    data["modules"][1]["items"][1]["locked_until_previous"] = True
    return enrol(officer, publish(data))


def _url(assignment):
    return f"/learn/assignments/{assignment.id}/items/practice-scenario"


def test_scenario_item_is_locked_until_the_lesson_before_it_is_read(officer, assignment):
    assert not learning.item_unlocked(assignment, "practice-scenario")
    learning.mark_lesson_read(officer, assignment, "wrap-up")
    assert learning.item_unlocked(assignment, "practice-scenario")


def test_scenario_item_page_shows_intro_and_a_start_form(db, client, sign_in, officer, assignment):
    learning.mark_lesson_read(officer, assignment, "wrap-up")
    db.session.commit()
    page = sign_in(officer).get(_url(assignment)).get_data(as_text=True)
    assert "Decide whom to call." in page and "Start attempt" in page
    assert f'action="/play/assignments/{assignment.id}/items/practice-scenario/start"' in page


def test_locked_scenario_item_has_no_start_form(client, sign_in, officer, assignment):
    page = sign_in(officer).get(_url(assignment)).get_data(as_text=True)
    assert "This item is locked" in page and "Start attempt" not in page


def test_coordinator_sees_the_scenario_item_without_a_start_form(
    db, client, sign_in, officer, coordinator, assignment
):
    learning.mark_lesson_read(officer, assignment, "wrap-up")
    db.session.commit()
    page = sign_in(coordinator).get(_url(assignment)).get_data(as_text=True)
    assert "Decide whom to call." in page and "Start attempt" not in page


def test_passed_scenario_item_shows_passed(db, client, sign_in, officer, assignment):
    learning.record_item_passed(
        officer, assignment, "practice-scenario", kind="scenario", score=90, evidence={"attempt": 1}
    )
    db.session.commit()
    page = sign_in(officer).get(_url(assignment)).get_data(as_text=True)
    assert "Passed" in page
    # Passed without an attempt here (a record carried over): the page does not also say "not attempted".
    assert "not attempted" not in page and "without an attempt in Ripple" in page


def test_scenario_attempt_limit_comes_from_the_course_policy(assignment):
    assert learning.attempts_allowed(assignment, "practice-scenario") == 2


def test_passing_the_scenario_in_the_player_completes_the_course(db, client, sign_in, officer):
    """The contract with the scenario player: a passing attempt records the item and completes."""
    from lms.models import Certificate
    from lms.services import attempts
    from lms.services.scenario_library import scenario_of, sync_library
    from tests.lms.learning_fixtures import pass_course

    sync_library()
    data = course_data(slug="player-course")
    data["modules"][1]["items"][1].update(required=True, scenario="store-dispute")
    assignment = enrol(officer, publish(data))
    pass_course(officer, assignment)
    attempt = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    for index, choice in enumerate(scenario_of(attempt.scenario_version).expert_path):
        attempts.decide(officer, attempt, index, choice)
    db.session.commit()
    assert attempt.grade.passed
    completion = learning.completion_of(assignment)
    assert completion is not None
    scenario = next(e for e in completion.evidence["items"] if e["item"] == "practice-scenario")
    assert scenario["attempt"] == attempt.id
    assert db.session.scalar(select(Certificate).where(Certificate.completion_id == completion.id))
    page = sign_in(officer).get(_url(assignment)).get_data(as_text=True)
    assert f'href="/play/attempts/{attempt.id}/debrief">Attempt 1</a>' in page and "Passed" in page
