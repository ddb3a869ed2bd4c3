"""Periodic work: what Ripple does every minute and every day, with or without Celery.

| job                  | when           | what                                                        |
|----------------------|----------------|-------------------------------------------------------------|
| grade-sweep          | every 30 s     | grade attempts whose grading task was lost (worker killed)  |
| deliveries           | every minute   | send queued LTI scores and xAPI statements that are due     |
| stale-jobs           | every 5 min    | mark background jobs whose worker went away as failed        |
| lti-states           | every 10 min   | delete expired LTI login states and nonces                  |
| package-launches     | every 10 min   | delete SCORM package launch tokens that expired unused      |
| sign-in-records      | every 10 min   | delete ended and expired sessions and spent sign-in counters |
| assignment-rules     | daily          | assign rule courses to joiners and movers                   |
| certificate-renewals | daily          | assign renewal courses when a renewal window opens          |
| reminders            | daily          | due-soon, overdue, escalation and expiry messages           |
| scheduled-reports    | daily          | subscribed reports whose weekly or monthly day has come     |
| team-digests         | daily          | supervisors' weekly digest (once a week, when there is news) |

Daily jobs run at SCHEDULE_DAILY_AT (UTC, "06:00" unless set). `run_due()` runs whatever is
due; it is called every 30 s by Celery beat (`ripple.tick`, with a broker) or by a thread in
each web process (without one, so `make run` needs nothing else). Each job is claimed with
one conditional UPDATE of its `PeriodicRun` row, so however many processes tick, a run
happens once; every job is also safe to run twice (reminders have dedupe keys, grading and
deliveries skip what is done). A failed run is logged, kept on its row and retried in 5 min.
"""

from __future__ import annotations

import logging
import threading
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lms.extensions import db
from lms.models import PeriodicRun
from lms.models.types import utcnow

log = logging.getLogger(__name__)

TICK_SECONDS = 30
RETRY_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Periodic:
    name: str
    run: Callable[[datetime], str]  # does the work (flushes, never commits); returns a summary
    every: timedelta | None = None  # frequent jobs
    daily: bool = False  # daily jobs, at SCHEDULE_DAILY_AT

    def next_due(self, now: datetime) -> datetime:
        if not self.daily:
            return now + self.every
        at = daily_time()
        due = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        return due if due > now else due + timedelta(days=1)


def daily_time() -> time:
    text = current_app.config.get("SCHEDULE_DAILY_AT") or "06:00"
    try:
        return time.fromisoformat(text)
    except ValueError:
        log.warning("SCHEDULE_DAILY_AT=%r is not a time like 06:00; using 06:00", text)
        return time(6, 0)


def _grade_sweep(now: datetime) -> str:
    from lms.services import attempts

    after = timedelta(seconds=int(current_app.config.get("GRADE_SWEEP_AFTER_SECONDS", 60)))
    return f"{attempts.grade_all_pending(waiting_since=now - after)} attempt(s) graded"


def _deliveries(now: datetime) -> str:
    from lms.services.outcomes import deliver_due

    report = deliver_due(now)
    return (
        f"scores {report.grades_delivered} delivered, {report.grades_failed} failed; "
        f"statements {report.statements_delivered} delivered, {report.statements_failed} failed"
    )


def _stale_jobs(now: datetime) -> str:
    from lms import tasks

    return f"{tasks.mark_stale_jobs()} job(s) marked lost"


def _sign_in_records(now: datetime) -> str:
    from lms.services import accounts, sessions

    policy = accounts.SignInPolicy.from_config(current_app.config)
    removed, counters = sessions.purge(now), accounts.purge_throttles(now, policy)
    return f"{removed} session(s), {counters} sign-in counter(s) removed"


def _lti_states(now: datetime) -> str:
    from lms.services.lti import purge_expired_states

    return f"{purge_expired_states(now)} expired LTI state(s) deleted"


def _package_launches(now: datetime) -> str:
    from lms.services.packaging.packages import purge_expired_launches

    return f"{purge_expired_launches(now)} expired package launch(es) deleted"


def _assignment_rules(now: datetime) -> str:
    from lms.models import Agency
    from lms.services import rules

    created = 0
    for agency in db.session.scalars(select(Agency).order_by(Agency.id)):
        created += len(rules.apply_rules(None, agency, now.date()))
    return f"{created} assignment(s) created"


def _certificate_renewals(now: datetime) -> str:
    from lms.services.certificates import renew_due

    return f"{len(renew_due(now.date()))} renewal assignment(s) created"


def _reminders(now: datetime) -> str:
    from lms.services import reminders

    settings = reminders.MailSettings.from_config(current_app.config)
    return f"{len(reminders.send_reminders(now.date(), settings))} message(s)"


def _scheduled_reports(now: datetime) -> str:
    from lms.services import reminders, scheduled_reports

    settings = reminders.MailSettings.from_config(current_app.config)
    return f"{len(scheduled_reports.send_due(now.date(), settings))} report message(s)"


def _team_digests(now: datetime) -> str:
    from lms.services import reminders, team_digest

    settings = reminders.MailSettings.from_config(current_app.config)
    return f"{len(team_digest.send_digests(now.date(), settings))} digest(s)"


# In order: a day's rules and renewals come before the reminders about them.
JOBS: tuple[Periodic, ...] = (
    Periodic("grade-sweep", _grade_sweep, every=timedelta(seconds=TICK_SECONDS)),
    Periodic("deliveries", _deliveries, every=timedelta(minutes=1)),
    Periodic("stale-jobs", _stale_jobs, every=timedelta(minutes=5)),
    Periodic("lti-states", _lti_states, every=timedelta(minutes=10)),
    Periodic("package-launches", _package_launches, every=timedelta(minutes=10)),
    Periodic("sign-in-records", _sign_in_records, every=timedelta(minutes=10)),
    Periodic("assignment-rules", _assignment_rules, daily=True),
    Periodic("certificate-renewals", _certificate_renewals, daily=True),
    Periodic("reminders", _reminders, daily=True),
    Periodic("scheduled-reports", _scheduled_reports, daily=True),
    Periodic("team-digests", _team_digests, daily=True),
)


def _row(job: Periodic, now: datetime) -> None:
    """Make sure the job has its row (due now, so a new installation runs everything once)."""
    if db.session.get(PeriodicRun, job.name) is not None:
        return
    db.session.add(PeriodicRun(name=job.name, due_at=now))
    try:
        db.session.commit()
    except IntegrityError:  # another process added it first
        db.session.rollback()


def claim(job: Periodic, now: datetime) -> bool:
    """Take this run of `job` if it is due and nobody else took it; commits."""
    _row(job, now)
    taken = db.session.execute(
        update(PeriodicRun)
        .where(PeriodicRun.name == job.name, PeriodicRun.due_at <= now)
        .values(due_at=job.next_due(now), started_at=now, runs=PeriodicRun.runs + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return taken == 1


def run_due(now: datetime | None = None, jobs: tuple[Periodic, ...] = JOBS) -> dict[str, str]:
    """Run every job that is due; returns {job: summary or error} for those that ran."""
    now = now or utcnow()
    ran: dict[str, str] = {}
    for job in jobs:
        if not claim(job, now):
            continue
        started = clock.perf_counter()
        try:
            summary = job.run(now)
            db.session.commit()
        except Exception as error:  # a failed job must not stop the others
            db.session.rollback()
            log.exception("periodic job %s failed", job.name)
            ran[job.name], outcome = f"failed: {type(error).__name__}: {error}", "error"
            _finished(job, error=ran[job.name])
        else:
            ran[job.name], outcome = summary, "ok"
            _finished(job, summary=summary)
        _observe(job.name, outcome, started)
    return ran


def _finished(job: Periodic, *, summary: str | None = None, error: str | None = None) -> None:
    """Record how the run went; a failed one is due again after RETRY_AFTER. Commits."""
    row = db.session.get(PeriodicRun, job.name)
    row.finished_at = utcnow()
    if error is None:
        row.succeeded_at = row.finished_at
        row.failures = 0
        row.last_summary = summary[:500]
        row.last_error = None
    else:
        row.failures += 1
        row.last_error = error[:2000]
        row.due_at = min(row.due_at, row.finished_at + RETRY_AFTER)
    db.session.commit()


def _observe(name: str, outcome: str, started: float) -> None:
    from lms.observability import TASK_SECONDS, TASKS

    TASK_SECONDS.labels(f"periodic:{name}", outcome).observe(clock.perf_counter() - started)
    TASKS.labels(f"periodic:{name}", outcome).inc()


def status() -> list[PeriodicRun]:
    """Each job's row, in JOBS order (an unsaved blank one for a job that has not run yet)."""
    rows = {row.name: row for row in db.session.scalars(select(PeriodicRun))}
    return [rows.get(job.name) or PeriodicRun(name=job.name, runs=0, failures=0) for job in JOBS]


# -- without a broker: a ticking thread in each serving process ------------------------------

_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def in_process(app: Flask) -> bool:
    """Whether this process should tick: serving, no broker, not testing, not switched off."""
    setting = app.config.get("SCHEDULE_IN_PROCESS")
    if setting is not None:
        return bool(setting)
    return not app.config.get("CELERY_BROKER_URL") and not app.testing


def _tick_forever(app: Flask) -> None:
    while True:
        clock.sleep(TICK_SECONDS)
        with app.app_context():
            try:
                run_due()
            except Exception:  # the database is away: try again next tick
                db.session.rollback()
                log.warning("periodic jobs could not run this tick", exc_info=True)
            finally:
                db.session.remove()


def start_ticking(app: Flask) -> bool:
    """Start this process's ticking thread once (the first request calls it)."""
    global _thread
    with _thread_lock:
        if _thread is not None:
            return False
        _thread = threading.Thread(target=_tick_forever, args=(app,), name="ripple-schedule", daemon=True)
        _thread.start()
        return True


def init_app(app: Flask) -> None:
    """Without a broker, tick in-process once the app serves its first request (CLI commands
    build the app too, and must not start a thread)."""
    if not in_process(app):
        return
    started = {"done": False}

    @app.before_request
    def _start_schedule():
        if not started["done"]:
            started["done"] = True
            start_ticking(app)
