"""Whether a grade spreads its runs over the worker's cores (``scenarios.adaptive.Spread``).

Only on a Celery worker (its grading task asks for it), only for a grade still unsettled after
its rule's floor (a near-pass-mark grade that may run to the cap: shorter ones finish before a
pool would have started), and only while the machine is idle: no other attempt waits to be
graded and the load average leaves all but one core free. Under load every grade stays in its
worker's one process, so a class finishing at once is graded by the workers side by side, each
at full speed. The runs, the stop and the grade are the serial ones bit for bit either way.

``GRADING_CORES`` caps the processes (1 keeps every grade serial); unset means every core.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal

from flask import current_app
from sqlalchemy import func, select

import scenarios as engine
from lms.extensions import db
from lms.models import Attempt

log = logging.getLogger(__name__)


def spread_for(attempt_id: int, rule: engine.AdaptiveRule) -> engine.adaptive.Spread | None:
    """How the grade of ``attempt_id`` may spread its runs, or None for serial."""
    cores = current_app.config.get("GRADING_CORES") or os.cpu_count() or 1
    if cores < 2:
        return None
    return engine.adaptive.Spread(
        workers=cores, after=rule.floor, idle=lambda: machine_idle(attempt_id), make_pool=_pool
    )


def machine_idle(attempt_id: int) -> bool:
    """No other attempt is waiting to be graded, and the last minute's load average (this grade
    included) is at most one core's worth: every other core is free."""
    if os.getloadavg()[0] > 1.0:
        return False
    others = db.session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.status == "grading", Attempt.id != attempt_id)
    )
    return others == 0


class _KeptPool:
    """A billiard pool (Celery's own multiprocessing, which a Celery worker's daemonic process
    may start, unlike the standard library's) kept for the process's later grades: starting
    one costs about 50 ms and ending one a second. Its processes end if this one dies. If it
    fails or stalls, the pool is dropped and that round's runs are made here, serially: the
    same runs, so the same grade."""

    def __init__(self, workers: int):
        import billiard

        self.workers = workers
        self.pool = billiard.Pool(workers, initializer=_end_with_parent)

    def map(self, fn, items: list) -> list:
        try:
            return self.pool.map_async(fn, items).get(timeout=STALLED_AFTER)
        except Exception:
            log.exception("the grading pool failed; this grade goes on in one process")
            _kept.pop(os.getpid(), None)
            self.pool.terminate()
            return [fn(item) for item in items]

    def end(self) -> None:
        self.pool.terminate()


STALLED_AFTER = 120  # seconds for a round of runs (about 0.1 s each) before the pool is given up
_kept: dict[int, _KeptPool] = {}  # by process id: a forked child never uses its parent's pool


def _pool(workers: int) -> contextlib.AbstractContextManager:
    """The process's kept pool of ``workers`` processes, started on first use."""
    pool = _kept.get(os.getpid())
    if pool is None or pool.workers != workers:
        if pool is not None:
            pool.end()
        pool = _kept[os.getpid()] = _KeptPool(workers)
    return contextlib.nullcontext(pool)


def end_pools() -> None:
    """End this process's kept pool (a Celery worker process shutting down)."""
    pool = _kept.pop(os.getpid(), None)
    if pool is not None:
        pool.end()


def _end_with_parent() -> None:
    from billiard.util import set_pdeathsig

    set_pdeathsig(signal.SIGTERM)
