"""Periodic work (issue 9): every job runs when due, once however many processes tick, keeps
its failures on record and is retried; without a broker the web process ticks itself."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms import schedule
from lms.models import Attempt, AttemptGrade, OutboxMessage, PeriodicRun
from lms.services import attempts
from lms.services.scenario_library import scenario_of
from tests.lms.learning_fixtures import course_data, enrol, publish

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def calls(log: list, name: str, every=None, daily=False) -> schedule.Periodic:
    def run(now):
        log.append((name, now))
        return f"{name} ran"

    return schedule.Periodic(name, run, every=every, daily=daily)


def test_a_due_job_runs_once_and_then_waits_its_interval(db):
    log: list = []
    jobs = (calls(log, "minutely", every=timedelta(minutes=1)),)
    assert schedule.run_due(NOW, jobs) == {"minutely": "minutely ran"}
    assert schedule.run_due(NOW + timedelta(seconds=30), jobs) == {}
    assert schedule.run_due(NOW + timedelta(seconds=61), jobs) == {"minutely": "minutely ran"}
    row = db.session.get(PeriodicRun, "minutely")
    assert (row.runs, row.failures, row.last_summary) == (2, 0, "minutely ran")
    assert row.due_at == NOW + timedelta(seconds=121)


def test_a_run_is_claimed_by_one_process_only(db):
    job = calls([], "once", every=timedelta(minutes=1))
    assert schedule.claim(job, NOW) is True
    # A second process (or a second Celery beat) looking at the same moment gets nothing.
    assert schedule.claim(job, NOW) is False
    assert db.session.get(PeriodicRun, "once").runs == 1


def test_daily_jobs_run_at_the_configured_time(app, db):
    app.config["SCHEDULE_DAILY_AT"] = "06:00"
    job = calls([], "daily", daily=True)
    assert job.next_due(NOW) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 09:30 is past today's 06:00
    assert job.next_due(NOW.replace(hour=5)) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    app.config["SCHEDULE_DAILY_AT"] = "half past six"
    assert job.next_due(NOW.replace(hour=5)).hour == 6  # an unreadable setting falls back to 06:00


def test_a_failed_job_is_recorded_retried_and_does_not_stop_the_others(db):
    log: list = []

    def broken(now):
        raise RuntimeError("LRS unreachable")

    jobs = (schedule.Periodic("broken", broken, daily=True), calls(log, "after", every=timedelta(minutes=1)))
    ran = schedule.run_due(NOW, jobs)
    assert ran["broken"] == "failed: RuntimeError: LRS unreachable"
    assert ran["after"] == "after ran"
    row = db.session.get(PeriodicRun, "broken")
    assert row.failures == 1 and "LRS unreachable" in row.last_error and row.succeeded_at is None
    # Retried after RETRY_AFTER, not tomorrow.
    assert row.due_at <= datetime.now(UTC) + schedule.RETRY_AFTER


def test_admins_see_a_job_that_keeps_failing_on_their_home_page(client, sign_in, admin, db):
    db.session.add(
        PeriodicRun(name="reminders", due_at=NOW, failures=3, last_error="SMTPConnectError: refused")
    )
    db.session.commit()
    sign_in(admin)
    page = html.unescape(client.get("/").get_data(as_text=True))
    assert 'The periodic job "reminders" has failed 3 times in a row' in page
    assert "SMTPConnectError: refused" in page


def test_agency_staff_do_not_see_platform_job_failures(db, coordinator, instructor):
    from lms.services.dashboards import background_warnings

    db.session.add(
        PeriodicRun(name="reminders", due_at=NOW, failures=3, last_error="SMTPConnectError: refused")
    )
    db.session.commit()
    assert background_warnings(coordinator) == background_warnings(instructor) == []


def test_status_lists_every_job_even_before_its_first_run(db):
    names = [s.name for s in schedule.status()]
    assert names == [job.name for job in schedule.JOBS]
    assert all(s.succeeded_at is None for s in schedule.status())


def test_the_real_jobs_all_run_on_an_empty_installation(db):
    ran = schedule.run_due(NOW)
    assert set(ran) == {job.name for job in schedule.JOBS}
    assert not [summary for summary in ran.values() if summary.startswith("failed")]


def test_the_daily_reminders_job_queues_reminders(db, officer):
    enrol(officer, publish(course_data(slug="schedule-course")), due_on=NOW.date() - timedelta(days=2))
    ran = schedule.run_due(NOW)
    assert ran["reminders"] == "1 message(s)"
    assert db.session.scalars(select(OutboxMessage.kind)).all() == ["overdue"]


@pytest.fixture
def waiting(app, db, instructor, store_dispute, monkeypatch):
    """An attempt finished on a worker set-up whose grading task never ran (lost)."""
    app.config["GRADE_IN_BACKGROUND"] = True
    monkeypatch.setattr(attempts, "_enqueue_grading_after_commit", lambda attempt_id: None)
    attempt = attempts.start_direct(instructor, store_dispute)
    for index, choice in enumerate(scenario_of(store_dispute).expert_path):
        attempts.decide(instructor, attempt, index, choice)
    db.session.commit()
    yield attempt
    app.config["GRADE_IN_BACKGROUND"] = False


def test_the_sweep_leaves_fresh_attempts_to_their_task_and_grades_lost_ones(db, waiting):
    finished = waiting.decisions[-1].made_at
    assert schedule.run_due(finished + timedelta(seconds=10))["grade-sweep"] == "0 attempt(s) graded"
    assert db.session.get(Attempt, waiting.id).status == "grading"
    assert schedule.run_due(finished + timedelta(minutes=2))["grade-sweep"] == "1 attempt(s) graded"
    assert db.session.get(Attempt, waiting.id).status == "completed"
    assert db.session.scalar(select(func.count()).select_from(AttemptGrade)) == 1


def test_without_a_broker_the_web_process_ticks(app):
    app.config["SCHEDULE_IN_PROCESS"] = None
    assert schedule.in_process(app) is False  # testing
    app.testing = False
    try:
        assert schedule.in_process(app) is True
        app.config["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/0"
        assert schedule.in_process(app) is False  # Celery beat ticks instead
        app.config["SCHEDULE_IN_PROCESS"] = True
        assert schedule.in_process(app) is True  # unless asked explicitly
    finally:
        app.testing = True
        app.config["CELERY_BROKER_URL"] = None
        app.config["SCHEDULE_IN_PROCESS"] = None


def test_the_celery_beat_schedule_ticks_the_periodic_jobs():
    from lms import worker

    entry = worker.celery.conf.beat_schedule["periodic-jobs"]
    assert entry["task"] == "ripple.tick" and entry["schedule"] <= 60
    assert "ripple.tick" in worker.celery.tasks
