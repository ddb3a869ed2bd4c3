"""What next after an attempt: try again, the next item, the course, the certificate, the library."""

from __future__ import annotations

import pytest

from lms.extensions import db as database
from lms.services import attempts, learning, next_steps
from lms.services.scenario_library import scenario_of, sync_library
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish


@pytest.fixture
def assignment(db, officer):
    sync_library()
    data = course_data(slug="next-steps-course")
    practice = data["modules"][1]["items"]
    practice[1].update(required=True, scenario="store-dispute")
    practice.append(
        {"kind": "lesson", "slug": "after", "title": "After the scenario", "required": False, "body": "More."}
    )
    return enrol(officer, publish(data))


def play(officer, assignment, path: str):
    attempt = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    scenario = scenario_of(attempt.scenario_version)
    for index, choice in enumerate(getattr(scenario, path)):
        attempts.decide(officer, attempt, index, choice)
    database.session.commit()
    return attempt


def test_a_failed_attempt_with_attempts_left_offers_try_again_and_the_next_item(officer, assignment):
    attempt = play(officer, assignment, "baseline_path")
    assert not attempt.grade.passed
    steps = next_steps.for_attempt(officer, attempt)
    assert steps.try_again and steps.attempts_left == 1
    assert (steps.assignment_id, steps.item_slug) == (assignment.id, "practice-scenario")
    assert (steps.next_item_slug, steps.next_item_title) == ("after", "After the scenario")
    assert steps.course_title == "Test Partnership Course"
    assert steps.certificate is None and not steps.library


def test_no_try_again_once_every_attempt_is_used(officer, assignment):
    play(officer, assignment, "baseline_path")
    last = play(officer, assignment, "baseline_path")
    steps = next_steps.for_attempt(officer, last)
    assert not steps.try_again and steps.attempts_left == 0
    assert steps.assignment_id == assignment.id  # the course is still there to go back to


def test_the_attempt_that_completes_the_course_links_to_its_certificate(officer, assignment):
    pass_course(officer, assignment)
    attempt = play(officer, assignment, "expert_path")
    assert attempt.grade.passed
    progress = learning.progress(assignment)
    assert progress.complete and progress.certificate is not None
    steps = next_steps.for_attempt(officer, attempt)
    assert steps.certificate == progress.certificate
    assert not steps.try_again  # passed: nothing to try again for


def test_an_instructors_direct_play_leads_back_to_the_library(db, instructor, store_dispute):
    attempt = attempts.start_direct(instructor, store_dispute)
    for index, choice in enumerate(scenario_of(store_dispute).expert_path):
        attempts.decide(instructor, attempt, index, choice)
    db.session.commit()
    steps = next_steps.for_attempt(instructor, attempt)
    assert steps.library and steps.assignment_id is None and not steps.try_again


def test_someone_elses_course_attempt_offers_the_viewer_no_way_on(officer, coordinator, assignment):
    attempt = play(officer, assignment, "baseline_path")
    steps = next_steps.for_attempt(coordinator, attempt)
    assert not steps.try_again and steps.assignment_id is None and not steps.library


def test_the_debrief_shows_try_again_and_it_starts_a_new_attempt(client, sign_in, officer, assignment):
    attempt = play(officer, assignment, "baseline_path")
    sign_in(officer)
    page = client.get(f"/play/attempts/{attempt.id}/debrief").get_data(as_text=True)
    start = f"/play/assignments/{assignment.id}/items/practice-scenario/start"
    assert f'action="{start}"' in page and "Try again" in page
    assert "Back to the course" in page and "Next item: After the scenario" in page
    response = client.post(start, data={})
    assert response.status_code == 302
    assert attempts.start_for_item(officer, assignment.id, "practice-scenario").number == 2
