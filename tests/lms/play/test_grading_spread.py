"""A worker's grade spreads its runs over the machine's cores only while the machine is idle and
only once it has outrun its rule's floor (lms/services/grading_spread.py), and gives the grade
the serial rule gives, bit for bit; on a busy machine it never starts a pool."""

from __future__ import annotations

import os

import pytest

import scenarios as engine
from lms.extensions import db as database
from lms.models import Attempt
from lms.services import attempts, debrief, grading_spread
from tests.lms import tiny_scenarios

# The tiny scenario with a rule that runs to its cap (60 runs, past its floor of 20).
LONG = tiny_scenarios.TINY.replace(
    "  pass_mark: 70\n",
    "  pass_mark: 70\n  adaptive: {batch: 10, floor: 20, cap: 60, width: 0.05, relative_width: 0.001}\n",
)


@pytest.fixture
def graded_later(app, monkeypatch):
    """Adaptive grades, left waiting in "grading" for the test to grade as a worker would."""
    app.config.update(SCENARIO_GRADING_RUNS=None, GRADE_IN_BACKGROUND=True, GRADING_CORES=2)
    monkeypatch.setattr(attempts, "_enqueue_grading_after_commit", lambda attempt_id: None)
    yield
    app.config.update(SCENARIO_GRADING_RUNS=24, GRADE_IN_BACKGROUND=False, GRADING_CORES=None)


@pytest.fixture
def pools(monkeypatch):
    """Counts the pools grading starts (real billiard pools)."""
    made = []
    real = grading_spread._pool

    def counted(workers):
        made.append(workers)
        return real(workers)

    monkeypatch.setattr(grading_spread, "_pool", counted)
    yield made
    grading_spread.end_pools()


def waiting(user, version, choice="a") -> Attempt:
    attempt = attempts.start_direct(user, version)
    attempts.decide(user, attempt, 0, [choice])
    database.session.commit()
    assert attempt.status == "grading"
    return attempt


def serial_grade(version, attempt):
    scenario = debrief.scenario_of(version)
    refs = debrief.grading_references(scenario, version)
    return engine.adaptive.grade(scenario, attempt.choices, attempt.seed, refs)[0]


@pytest.mark.parametrize("choice", ["a", "b"])
def test_an_idle_machine_spreads_the_grade_and_gets_the_serial_grade(
    db, instructor, graded_later, pools, monkeypatch, choice
):
    monkeypatch.setattr(grading_spread.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    version = tiny_scenarios.publish(LONG)
    attempt = waiting(instructor, version, choice)
    grade = attempts.grade_pending(attempt.id, spread=True)
    want = serial_grade(version, attempt)
    assert pools == [2]
    assert grade.breakdown["runs"] == want.runs == 60
    assert grade.score == round(want.score, 2) and grade.passed == want.passed
    assert list(grade.breakdown["interval"]) == list(want.interval)


def test_a_grade_settled_by_its_floor_starts_no_pool(db, instructor, graded_later, pools, monkeypatch):
    monkeypatch.setattr(grading_spread.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    version = tiny_scenarios.publish()  # settles at its floor of 40 runs
    grade = attempts.grade_pending(waiting(instructor, version).id, spread=True)
    assert grade.breakdown["runs"] == 40 and pools == []


def test_a_loaded_machine_keeps_the_grade_serial(db, instructor, graded_later, pools, monkeypatch):
    monkeypatch.setattr(grading_spread.os, "getloadavg", lambda: (1.7, 1.0, 0.5))
    version = tiny_scenarios.publish(LONG)
    attempt = waiting(instructor, version)
    grade = attempts.grade_pending(attempt.id, spread=True)
    assert pools == [] and grade.breakdown["runs"] == serial_grade(version, attempt).runs


def test_another_attempt_waiting_keeps_the_grade_serial(db, instructor, graded_later, pools, monkeypatch):
    monkeypatch.setattr(grading_spread.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    version = tiny_scenarios.publish(LONG)
    first, second = waiting(instructor, version), waiting(instructor, version)
    attempts.grade_pending(first.id, spread=True)  # the second waits behind it
    assert pools == []
    attempts.grade_pending(second.id, spread=True)  # now nothing else waits
    assert pools == [2]


def test_the_web_process_never_spreads(db, instructor, graded_later, pools, monkeypatch):
    monkeypatch.setattr(grading_spread.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    version = tiny_scenarios.publish(LONG)
    attempts.grade_pending(waiting(instructor, version).id)  # as the in-process grading does
    assert pools == []


def test_one_core_set_keeps_every_grade_serial(app, db, instructor, graded_later, pools, monkeypatch):
    monkeypatch.setattr(grading_spread.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    app.config["GRADING_CORES"] = 1
    version = tiny_scenarios.publish(LONG)
    attempts.grade_pending(waiting(instructor, version).id, spread=True)
    assert pools == []


def _square(x):
    return x * x


def _pool_from_here(results):
    with grading_spread._pool(2) as pool:
        results.put(list(pool.map(_square, range(5))))
    grading_spread.end_pools()


def test_a_celery_worker_process_may_start_the_pool():
    """Celery's prefork children are daemonic; the standard library's pools refuse to start
    there ("daemonic processes are not allowed to have children"), billiard's do not."""
    import billiard

    results = billiard.Queue()
    child = billiard.Process(target=_pool_from_here, args=(results,), daemon=True)
    child.start()
    assert results.get(timeout=30) == [0, 1, 4, 9, 16]
    child.join(timeout=30)
    assert child.exitcode == 0


def _fails(x):
    raise RuntimeError("a pool process failed")


def test_a_failing_pool_is_dropped_and_the_round_is_made_here(monkeypatch):
    with grading_spread._pool(2) as pool:
        assert pool.map(_square, [1, 2, 3]) == [1, 4, 9]
        monkeypatch.setattr(pool.pool, "map_async", lambda fn, items: pool.pool.apply_async(_fails))
        assert pool.map(_square, [1, 2, 3]) == [1, 4, 9]  # made in this process
    assert os.getpid() not in grading_spread._kept
    with grading_spread._pool(2) as again:
        assert again is not pool and again.map(_square, [4]) == [16]
    grading_spread.end_pools()
