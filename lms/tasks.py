"""Background jobs behind one narrow API: `submit(name, *args)`.

Task functions are registered by name with `@task("name")` and called as
`fn(job, *args)` inside their own app context; they report progress with
`report(job, done, total)`. Each job's state lives in the database (`BackgroundJob`),
so a progress bar survives a page reload. A running job beats (`heartbeat_at`) each time
it reports progress; `mark_stale_jobs()` (at start-up, and whenever a job is looked at)
marks jobs whose heartbeat stopped, because the server restarted, as failed.

Without a broker the executor is a small in-process thread pool; with `CELERY_BROKER_URL`
the job is sent to a Celery worker (`lms.worker.run_job`, which calls `run_on_worker`).
Callers see the same `submit` either way. With `TASKS_EAGER` (on by default
when testing) a job runs at once in the calling thread, in its own session, which keeps
tests deterministic.

Fanning out: a task that splits its work into pieces for several Celery workers (the
calibration sweep) sends them and returns `FANNED_OUT`; its job then stays "running" when the
task returns, and the pieces finish it: each adds its share with `add_progress` (and keeps the
job alive with `beat` while it works), the last one calls `finish`, and a piece that fails
calls `fail`. These helpers only flush; the piece commits. `uses_broker()` tells a task
whether its job was sent to Celery (else it does all its pieces itself, in turn).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import and_, or_, select, update

from lms.extensions import db
from lms.models import BackgroundJob
from lms.models.types import utcnow

log = logging.getLogger(__name__)

TASKS: dict[str, Callable] = {}
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


class UnknownTask(LookupError):
    """No task is registered under that name."""


# How to send each Celery task, by name: lms.worker.register() fills it in (create_app calls
# it at start). Services hand work to the workers with `enqueue(name, *args)` and never import the
# worker, so imports run one way: routes -> services -> this registry <- worker.
SENDERS: dict[str, Callable[..., None]] = {}


class NoWorker(RuntimeError):
    """The work could not be handed to a worker (nothing registered, or the broker is down)."""


def enqueue(name: str, *args) -> None:
    """Send the worker task `name` with `args`; raises NoWorker when it cannot be sent, so the
    caller does the work in-process or leaves it to a periodic sweep."""
    send = SENDERS.get(name)
    if send is None:
        raise NoWorker(f"no worker task {name!r} is registered")
    try:
        send(*args)
    except Exception as error:  # the broker is unreachable (any transport error)
        raise NoWorker(f"the broker refused {name!r}: {error}") from error


class _FannedOut:
    def __repr__(self) -> str:
        return "tasks.FANNED_OUT"


# What a task returns when it has sent its work to Celery workers as pieces: its job stays
# "running" and the pieces finish it (`add_progress`, `finish`, `fail`; see the module doc).
FANNED_OUT = _FannedOut()


def task(name: str):
    """Register `fn(job, *args)` as the task `name`."""

    def decorate(fn):
        TASKS[name] = fn
        return fn

    return decorate


def submit(name: str, *args) -> BackgroundJob:
    """Queue the task `name` with JSON-serialisable `args`; returns its job (flushed).

    The job starts after the current request commits (the worker reads the job row), or at
    once in eager mode.
    """
    if name not in TASKS:
        raise UnknownTask(name)
    job = BackgroundJob(name=name, args=list(args), status="queued")
    db.session.add(job)
    db.session.flush()
    app = current_app._get_current_object()
    if _eager(app):
        _run_eagerly(app, job.id)
    else:
        _after_commit(app, job.id)
    return job


def _eager(app: Flask) -> bool:
    return bool(app.config.get("TASKS_EAGER", app.testing))


def uses_broker(app: Flask | None = None) -> bool:
    """True when jobs go to Celery workers (a broker is configured and jobs are not eager)."""
    app = app or current_app._get_current_object()
    return bool(app.config.get("CELERY_BROKER_URL")) and not _eager(app)


def _run_eagerly(app: Flask, job_id: int) -> None:
    # Run in a nested session on the caller's connection state: commit the job row first
    # so the task sees it, exactly as a worker would.
    db.session.commit()
    _run(app, job_id, new_context=False)


def _after_commit(app: Flask, job_id: int) -> None:
    from sqlalchemy import event

    session = db.session()

    def start(_session):
        if app.config.get("CELERY_BROKER_URL"):
            enqueue("run_job", job_id)  # Celery workers run it (see lms.worker)
        else:
            _pool(app).submit(_run, app, job_id, True)

    event.listen(session, "after_commit", start, once=True)


def _pool(app: Flask) -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=int(app.config.get("TASK_WORKERS", 2)), thread_name_prefix="ripple-task"
            )
        return _executor


def _run(app: Flask, job_id: int, new_context: bool = True) -> None:
    if new_context:
        with app.app_context():
            _execute(job_id)
            db.session.remove()
    else:
        _execute(job_id)


def _execute(job_id: int) -> None:
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.status != "queued":
        return
    job.status = "running"
    job.started_at = job.heartbeat_at = utcnow()
    db.session.commit()
    try:
        outcome = TASKS[job.name](job, *job.args)
    except Exception as error:  # a failed job is reported on its page, never lost
        log.exception("task %s (job %s) failed", job.name, job_id)
        db.session.rollback()
        job = db.session.get(BackgroundJob, job_id)
        job.status = "failed"
        job.error = error_text(error)
    else:
        if outcome is FANNED_OUT:  # its pieces finish it (they may have already): leave it be
            db.session.commit()
            return
        job.status = "done"
        job.done = job.total or job.done
    job.finished_at = utcnow()
    db.session.commit()


def run_on_worker(job_id: int) -> None:
    """Run a queued job here and now (a Celery worker calls this inside an app context)."""
    _execute(job_id)


def report(job: BackgroundJob, done: int, total: int) -> None:
    """Save a job's progress (committed at once so other requests see it)."""
    job.done, job.total = done, total
    job.heartbeat_at = utcnow()
    db.session.commit()


def error_text(error: BaseException) -> str:
    """How a job's error is shown on its page."""
    return f"{type(error).__name__}: {error}"[:2000]


# Pieces of a fanned-out job (see the module doc). Each is a single UPDATE, safe to run from
# several workers at once, and only flushes: the caller commits.


def beat(job_id: int) -> None:
    """Keep a running job from looking lost (`mark_stale_jobs`) while a piece works on it."""
    db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.status == "running")
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def add_progress(job_id: int, done: int) -> None:
    """Add `done` to a job's progress atomically (pieces finishing at once all count) and beat."""
    db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id)
        .values(done=BackgroundJob.done + done, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def finish(job_id: int) -> bool:
    """Mark a running job done; False if it was not running (already done, failed or lost)."""
    result = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.status == "running")
        .values(status="done", done=BackgroundJob.total, finished_at=utcnow(), heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def fail(job_id: int, error: BaseException | str) -> bool:
    """Mark an unfinished job failed with `error`; False if it had already finished."""
    result = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.status.in_(("queued", "running")))
        .values(
            status="failed",
            error=error if isinstance(error, str) else error_text(error),
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def wait(timeout: float | None = None) -> None:
    """Wait for every queued job of this process (tests and shutdown)."""
    global _executor
    with _lock:
        pool, _executor = _executor, None
    if pool is not None:
        pool.shutdown(wait=True)


LOST = "The server restarted before this job finished; run it again."


# Redis hands a task whose worker died to another worker after this long (lms.worker sets it).
# So with a broker, and because a fanned-out job's parts may wait in the queue behind a class's
# gradings, a silent job is not lost until that timeout (and a margin) has passed.
BROKER_VISIBILITY_SECONDS = 3600


def _running_stale_seconds() -> int:
    seconds = int(current_app.config.get("TASK_STALE_SECONDS", 300))
    return max(seconds, BROKER_VISIBILITY_SECONDS + 300) if uses_broker() else seconds


def _stale_clause():
    now = utcnow()
    running_limit = now - timedelta(seconds=_running_stale_seconds())
    queued_limit = now - timedelta(seconds=int(current_app.config.get("TASK_QUEUED_STALE_SECONDS", 3600)))
    return or_(
        and_(BackgroundJob.status == "running", BackgroundJob.heartbeat_at < running_limit),
        and_(BackgroundJob.status == "queued", BackgroundJob.created_at < queued_limit),
    )


def mark_stale_jobs() -> int:
    """Mark jobs whose worker went away (no heartbeat for a while) as failed; returns how many.

    Flushes only: the caller's request or command commits.
    """
    result = db.session.execute(
        update(BackgroundJob)
        .where(_stale_clause())
        .values(status="failed", error=LOST, finished_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def refresh(job: BackgroundJob) -> BackgroundJob:
    """The job as it stands now, marked failed if its worker was lost."""
    db.session.refresh(job)
    if not job.finished and db.session.scalar(
        select(BackgroundJob.id).where(BackgroundJob.id == job.id, _stale_clause())
    ):
        job.status, job.error, job.finished_at = "failed", LOST, utcnow()
        db.session.flush()
    return job


def init_app(app: Flask) -> None:
    """At start-up, mark jobs a previous server process lost as failed."""
    if _eager(app):
        return
    with app.app_context():
        try:
            mark_stale_jobs()
            db.session.commit()
        except Exception:  # no tables yet (before `flask db upgrade`): nothing to mark
            db.session.rollback()
