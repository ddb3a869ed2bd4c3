"""Grading on a worker (issue 9): the attempt waits in "grading", is graded exactly once,
and nothing is lost when the broker is down."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import Attempt, AttemptGrade
from lms.services import attempts
from lms.services.scenario_library import scenario_of


@pytest.fixture
def in_background(app, monkeypatch):
    app.config["GRADE_IN_BACKGROUND"] = True
    queued = []
    monkeypatch.setattr(attempts, "_enqueue_grading_after_commit", queued.append)
    yield queued
    app.config["GRADE_IN_BACKGROUND"] = False


def finish(user, attempt):
    scenario = scenario_of(attempt.scenario_version)
    for index, choice in enumerate(scenario.expert_path):
        attempts.decide(user, attempt, index, choice)


def test_the_last_decision_queues_the_grading(db, instructor, direct_attempt, in_background):
    finish(instructor, direct_attempt)
    db.session.commit()
    assert direct_attempt.status == "grading"
    assert in_background == [direct_attempt.id]
    assert direct_attempt.grades == []


def test_grading_twice_stores_one_grade(db, instructor, direct_attempt, in_background):
    finish(instructor, direct_attempt)
    db.session.commit()
    first = attempts.grade_pending(direct_attempt.id)
    second = attempts.grade_pending(direct_attempt.id)
    db.session.commit()
    assert first is not None and second is None
    assert db.session.scalar(select(func.count()).select_from(AttemptGrade)) == 1
    assert db.session.get(Attempt, direct_attempt.id).status == "completed"


def test_the_sweeper_grades_what_a_lost_task_left(db, instructor, direct_attempt, in_background):
    finish(instructor, direct_attempt)
    db.session.commit()
    assert attempts.grade_all_pending() == 1
    assert attempts.grade_all_pending() == 0


def test_the_player_shows_a_grading_page_that_refreshes(
    client, sign_in, instructor, direct_attempt, in_background, db
):
    sign_in(instructor)
    finish(instructor, direct_attempt)
    db.session.commit()
    page = client.get(f"/play/attempts/{direct_attempt.id}").get_data(as_text=True)
    assert "Grading your attempt" in page and 'http-equiv="refresh"' in page
    assert client.get(f"/play/attempts/{direct_attempt.id}/debrief").status_code == 302


def test_the_grading_page_says_what_is_happening_in_a_live_region_and_then_what_next(
    client, sign_in, instructor, direct_attempt, in_background, db
):
    sign_in(instructor)
    finish(instructor, direct_attempt)
    db.session.commit()
    page = client.get(f"/play/attempts/{direct_attempt.id}").get_data(as_text=True)
    region = page.split('role="status" aria-live="polite"', 1)[1].split("</div>", 1)[0]
    assert "Grading: simulating your choices" in region
    assert "Back to the scenario library" in page  # a direct play: the way on while it grades
    attempts.grade_pending(direct_attempt.id)
    db.session.commit()
    debrief = client.get(f"/play/attempts/{direct_attempt.id}", follow_redirects=True).get_data(as_text=True)
    assert "What next" in debrief and "Back to the scenario library" in debrief


def test_the_grading_page_polls_a_small_status_and_shows_the_queue(
    client, sign_in, instructor, direct_attempt, in_background, db, store_dispute
):
    ahead = direct_attempt  # finished first, so graded first
    mine = attempts.start_direct(instructor, store_dispute)
    finish(instructor, ahead)
    finish(instructor, mine)
    db.session.commit()
    sign_in(instructor)
    page = client.get(f"/play/attempts/{mine.id}").get_data(as_text=True)
    assert "1 attempt is waiting to be graded before yours." in page
    assert f'data-status-url="/play/attempts/{mine.id}/status" data-poll-ms="1500"' in page
    assert "js/grading.js" in page
    status = client.get(f"/play/attempts/{mine.id}/status").get_json()
    assert status == {"status": "grading", "ahead": 1, "poll_ms": 1500, "url": f"/play/attempts/{mine.id}"}
    attempts.grade_pending(ahead.id)
    db.session.commit()
    nothing_ahead = client.get(f"/play/attempts/{mine.id}/status").get_json()
    assert (nothing_ahead["ahead"], nothing_ahead["poll_ms"]) == (0, 1000)
    attempts.grade_pending(mine.id)
    db.session.commit()
    status = client.get(f"/play/attempts/{mine.id}/status").get_json()
    assert status["status"] == "completed" and status["ahead"] == 0
    assert client.get(status["url"]).headers["Location"].endswith(f"/play/attempts/{mine.id}/debrief")


def test_a_dead_broker_means_grading_in_process(app, db, instructor, direct_attempt, monkeypatch):
    import lms.worker

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(lms.worker.grade_attempt, "apply_async", refuse)
    graded = []
    monkeypatch.setattr(attempts, "_grade_in_thread", lambda app, attempt_id: graded.append(attempt_id))
    monkeypatch.setattr(
        "threading.Thread",
        lambda target, args, daemon: type("T", (), {"start": lambda self: target(*args)})(),
    )
    app.config["GRADE_IN_BACKGROUND"] = True
    try:
        finish(instructor, direct_attempt)
        db.session.commit()
    finally:
        app.config["GRADE_IN_BACKGROUND"] = False
    assert graded == [direct_attempt.id]


def test_cli_grades_pending_attempts(app, db, instructor, direct_attempt, in_background):
    finish(instructor, direct_attempt)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["attempts", "grade-pending"])
    assert "1 attempt graded" in result.output


def test_staff_are_told_when_grades_wait_too_long(
    client, sign_in, db, instructor, coordinator, direct_attempt, in_background
):
    from datetime import timedelta

    from lms.models import AttemptDecision
    from lms.models.types import utcnow

    finish(instructor, direct_attempt)
    db.session.commit()
    sign_in(coordinator)
    assert "waiting more than" not in client.get("/").get_data(as_text=True)
    for decision in db.session.scalars(select(AttemptDecision)):
        decision.made_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "1 scenario attempt is waiting more than 3 minutes for a grade" in page


@pytest.mark.parametrize("ahead, wait", [(0, 1000), (1, 1500), (10, 6000), (18, 10_000), (500, 10_000)])
def test_the_grading_page_polls_later_the_longer_the_queue(ahead, wait):
    assert attempts.poll_after_ms(ahead) == wait
