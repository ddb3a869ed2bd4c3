"""The platform library (agency NULL) has one CALIBRATION_MAX_PER_AGENCY cap across all of its
scenarios, so starting calibrations of two *different* library scenarios at once must be
serialised by one lock, not each scenario's own."""

from __future__ import annotations

import contextlib
import threading

import pytest

from lms.models import BackgroundJob, CalibrationRun
from lms.services import calibration
from tests.conftest import running_on_postgres
from tests.lms.author.test_calibration_throttle import _count, queued_only  # noqa: F401 (fixture)


def _two_library_versions(library) -> tuple[int, int]:
    first, second = sorted(library)[:2]
    return library[first].id, library[second].id


def test_the_library_cap_counts_every_library_scenario(app, db, admin, library, queued_only, monkeypatch):  # noqa: F811
    from lms.models import ScenarioVersion

    monkeypatch.setitem(app.config, "CALIBRATION_MAX_PER_AGENCY", 1)
    first, second = (db.session.get(ScenarioVersion, i) for i in _two_library_versions(library))
    calibration.start_or_join(admin, first)
    db.session.commit()
    with pytest.raises(calibration.CalibrationBusy, match="at most 1 at once"):
        calibration.start_or_join(admin, second)


@pytest.mark.skipif(not running_on_postgres(), reason="two connections racing need PostgreSQL")
def test_two_library_scenarios_racing_start_one_calibration_under_a_cap_of_one(
    app,
    db,
    admin,
    library,
    queued_only,  # noqa: F811
    monkeypatch,
):
    """Both threads count the library's calibrations in flight, then both would insert: unless
    one lock serialises them, both count none (the barrier makes them count at the same moment
    if they can; while the other holds the lock a thread cannot reach it, and it times out)."""
    from lms import tasks
    from lms.models import ScenarioVersion, User

    monkeypatch.setitem(app.config, "CALIBRATION_MAX_PER_AGENCY", 1)
    version_ids, user_id = _two_library_versions(library), admin.id
    barrier = threading.Barrier(2, timeout=3)
    real_mark = tasks.mark_stale_jobs

    def mark_then_meet():
        found = real_mark()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return found

    monkeypatch.setattr(tasks, "mark_stale_jobs", mark_then_meet)
    started, refused, errors = [], [], []

    def post(version_id: int):
        with app.app_context():
            try:
                actor, version = db.session.get(User, user_id), db.session.get(ScenarioVersion, version_id)
                started.append(calibration.start_or_join(actor, version)[0].id)
                db.session.commit()
            except calibration.CalibrationBusy as busy:
                db.session.rollback()
                refused.append(str(busy))
            except Exception as error:  # reported below, not lost in the thread
                errors.append(error)

    threads = [threading.Thread(target=post, args=(version_id,)) for version_id in version_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(started) == 1 and len(refused) == 1
    assert _count(db, CalibrationRun) == _count(db, BackgroundJob) == 1
