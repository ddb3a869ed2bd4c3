"""Celery, when CELERY_BROKER_URL is set: `celery -A lms.worker worker` (or `make worker`).

Tasks are acknowledged late and re-queued if a worker dies, so each task must be safe to
run twice; the ones here store their result once (see each task). Without a broker nothing
here is used: the same work runs in-process (see lms.tasks and lms.services.attempts).
"""

from __future__ import annotations

import logging
import os
import sys
import time

from celery import Celery, Task, signals

from lms.observability import TASK_SECONDS, TASKS
from lms.tasks import BROKER_VISIBILITY_SECONDS

log = logging.getLogger(__name__)
celery = Celery("ripple")
celery.conf.update(
    broker_url=os.environ.get("CELERY_BROKER_URL", "memory://"),
    task_acks_late=True,  # a task is removed from the queue only when it has finished
    task_reject_on_worker_lost=True,  # ... and goes back to the queue if its worker dies
    worker_prefetch_multiplier=1,  # long simulation tasks: take one at a time
    task_default_queue="ripple",
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": BROKER_VISIBILITY_SECONDS},
    # Our log handlers write to stderr; Celery's redirection of stderr into its logger would loop.
    worker_redirect_stdouts=False,
)


@signals.worker_init.connect
def refuse_to_start_without_settings(**_) -> None:
    """`celery worker` checks SECRET_KEY and PUBLIC_BASE_URL as it starts, as the app would on
    its first task, and stops with one line saying what is missing rather than starting and
    failing every task. Only a starting worker checks: `import lms.worker` (tests) does not."""
    from flask import Config as FlaskConfig

    from lms.config import (
        Config,
        PublicBaseUrlError,
        SecretKeyError,
        settle_public_base_url,
        settle_secret_key,
    )

    config = FlaskConfig(os.getcwd())
    config.from_object(Config)  # what create_app() reads on the first task
    try:
        settle_secret_key(config)
        settle_public_base_url(config)
    except (SecretKeyError, PublicBaseUrlError) as error:
        print(f"Ripple worker not started: {error}", file=sys.stderr)
        raise SystemExit(1) from None


@signals.worker_process_shutdown.connect
def end_grading_pool(**_) -> None:
    """A worker process's kept grading pool (lms.services.grading_spread) ends with it."""
    from lms.services.grading_spread import end_pools

    end_pools()


class AppTask(Task):
    """Runs each task inside the Flask app's context, timed for /metrics."""

    _flask_app = None

    def __call__(self, *args, **kwargs):
        if AppTask._flask_app is None:
            from lms import create_app

            AppTask._flask_app = create_app()
        started, outcome = time.perf_counter(), "ok"
        with AppTask._flask_app.app_context():
            try:
                return self.run(*args, **kwargs)
            except Exception:
                outcome = "error"
                raise
            finally:
                from lms.extensions import db

                db.session.remove()
                TASK_SECONDS.labels(self.name, outcome).observe(time.perf_counter() - started)
                TASKS.labels(self.name, outcome).inc()


@celery.task(base=AppTask, name="ripple.grade_attempt", bind=True, max_retries=5)
def grade_attempt(self, attempt_id: int) -> None:
    """Grade a finished attempt; does nothing if it already has its automatic grade."""
    import scenarios as engine
    from lms.extensions import db
    from lms.services import attempts

    try:
        attempts.grade_pending(attempt_id, spread=True)  # over idle cores (grading_spread)
        db.session.commit()
    except engine.EventBudgetExceeded:
        db.session.rollback()  # deterministic: the same runs explode again; no retries
        log.warning("attempt %s cannot be graded: its scenario's runs exceed the event budget", attempt_id)
    except Exception as error:
        db.session.rollback()
        raise self.retry(exc=error, countdown=min(60, 2**self.request.retries)) from error


@celery.task(base=AppTask, name="ripple.run_job")
def run_job(job_id: int) -> None:
    """Run a background job of lms.tasks (calibration sweeps ...) on a worker."""
    from lms import tasks

    tasks.run_on_worker(job_id)


@celery.task(base=AppTask, name="ripple.calibrate_part")
def calibrate_part(part_id: int) -> None:
    """Simulate one part of a calibration sweep (a few paths); the `calibrate` job sends one per
    part so every worker shares the sweep. Stores its rows once and the results once, so a
    redelivered part does nothing twice; an error fails the calibration's job."""
    from lms.services import calibration

    calibration.run_part_on_worker(part_id)


@celery.task(base=AppTask, name="ripple.deliver_rows")
def deliver_rows(grade_ids: list[int], statement_ids: list[int]) -> None:
    """Send just-queued LTI scores and xAPI statements. A row already sent (a re-delivered
    task, or the periodic job got there first) is skipped; a failure is retried by the
    periodic "deliveries" job with back-off."""
    from lms.extensions import db
    from lms.services.outcomes import deliver_rows_now

    deliver_rows_now(grade_ids, statement_ids)
    db.session.commit()


@celery.task(base=AppTask, name="ripple.warm_references")
def warm_references() -> None:
    """Keep the references of every published version that lacks them (lms.services.debrief)."""
    from lms.services.debrief import warm_references as warm

    warm()


@signals.worker_ready.connect
def warm_up(**_) -> None:
    """A starting worker queues the references' warm-up (it runs before later tasks)."""
    try:
        warm_references.apply_async(retry=False)
    except Exception:  # the broker is unreachable: the first grade of each version works them out
        log.warning("could not queue the references' warm-up", exc_info=True)


@celery.task(base=AppTask, name="ripple.tick")
def tick() -> None:
    """Every 30 s (with `worker -B`): run the periodic jobs that are due (see lms.schedule):
    the grade sweep for lost tasks, deliveries, daily assignment rules, renewals, reminders."""
    from lms import schedule

    schedule.run_due()


celery.conf.beat_schedule = {"periodic-jobs": {"task": "ripple.tick", "schedule": 30.0}}


def register() -> None:
    """Tell lms.tasks how to send each task that services hand to the workers (create_app calls
    this): services never import this module, so the imports run one way."""
    from lms import tasks

    tasks.SENDERS.update(
        {
            "grade_attempt": lambda attempt_id: grade_attempt.apply_async((attempt_id,), retry=False),
            "run_job": lambda job_id: run_job.delay(job_id),
            "calibrate_part": lambda part_id: calibrate_part.delay(part_id),
            "deliver_rows": lambda grade_ids, statement_ids: deliver_rows.apply_async(
                (grade_ids, statement_ids), retry=False
            ),
        }
    )


def broker_configured() -> bool:
    return bool(os.environ.get("CELERY_BROKER_URL"))
