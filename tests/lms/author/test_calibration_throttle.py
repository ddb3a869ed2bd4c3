"""Calibrating is expensive: one calibration per draft at a time, and a few per agency at once."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import func, select

from lms import worker
from lms.models import BackgroundJob, CalibrationRun
from lms.services import calibration, scenario_authoring
from tests.conftest import running_on_postgres


@pytest.fixture
def queued_only(app, monkeypatch):
    """Jobs are sent to a (pretend) broker and stay queued, as they do while workers are busy."""
    sent: list[int] = []
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "memory://")
    monkeypatch.setitem(app.config, "TASKS_EAGER", False)
    monkeypatch.setattr(worker.run_job, "delay", sent.append)
    return sent


def _count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _calibrate(client, record):
    return client.post(f"/author/scenarios/{record.id}/calibrate")


def test_five_posts_make_one_calibration_and_each_goes_to_it(
    client, sign_in, instructor, adapted, db, queued_only
):
    sign_in(instructor)
    responses = [_calibrate(client, adapted) for _ in range(5)]
    assert {r.status_code for r in responses} == {302}
    assert {r.headers["Location"] for r in responses} == {f"/author/scenarios/{adapted.id}/calibration"}
    assert _count(db, CalibrationRun) == _count(db, BackgroundJob) == len(queued_only) == 1
    page = client.get(responses[-1].headers["Location"]).get_data(as_text=True)
    assert "already being calibrated" in page


@pytest.mark.parametrize("then", ["the draft changes", "the calibration finished", "the calibration failed"])
def test_a_new_calibration_starts_once_the_last_one_no_longer_applies(
    client, sign_in, instructor, adapted, db, queued_only, then
):
    sign_in(instructor)
    _calibrate(client, adapted)
    first = db.session.scalars(select(CalibrationRun)).one()
    if then == "the draft changes":
        text = scenario_authoring.draft_of(adapted).source_text.replace("pass_mark: 65", "pass_mark: 66")
        scenario_authoring.save_text(instructor, adapted, text)
    else:
        first.job.status = "done" if then == "the calibration finished" else "failed"
    db.session.commit()
    _calibrate(client, adapted)
    assert _count(db, CalibrationRun) == 2


def test_an_agency_has_at_most_its_share_of_calibrations_in_flight(
    app, client, sign_in, instructor, adapted, db, store_dispute, queued_only, monkeypatch
):
    monkeypatch.setitem(app.config, "CALIBRATION_MAX_PER_AGENCY", 1)
    other = scenario_authoring.duplicate(instructor, store_dispute.id, slug="store-dispute-night")
    db.session.commit()
    sign_in(instructor)
    _calibrate(client, adapted)
    refused = _calibrate(client, other)
    assert refused.status_code == 302
    assert _count(db, CalibrationRun) == 1
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "at most 1 at once" in page


@pytest.mark.skipif(not running_on_postgres(), reason="two connections racing need PostgreSQL")
def test_two_requests_racing_make_one_calibration(app, db, instructor, adapted, queued_only, monkeypatch):
    """Each thread checks for a calibration in flight, then both would insert: unless the
    check and the insert are serialised by the lock, both find none (the barrier makes sure
    they check at the same moment if they can)."""
    from lms import tasks
    from lms.models import ScenarioVersion, User

    version_id, user_id = scenario_authoring.draft_of(adapted).id, instructor.id
    barrier = threading.Barrier(2, timeout=3)
    real_mark = tasks.mark_stale_jobs

    def mark_then_meet():
        found = real_mark()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # with the lock held, the other thread cannot get here: it times out
        return found

    monkeypatch.setattr(tasks, "mark_stale_jobs", mark_then_meet)
    outcomes, errors = [], []

    def post():
        with app.app_context():
            try:
                actor, version = db.session.get(User, user_id), db.session.get(ScenarioVersion, version_id)
                run, started = calibration.start_or_join(actor, version)
                db.session.commit()
                outcomes.append((run.id, started))
            except Exception as error:  # reported below, not lost in the thread
                errors.append(error)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(started for _, started in outcomes) == [False, True]
    assert len({run_id for run_id, _ in outcomes}) == 1
    assert _count(db, CalibrationRun) == _count(db, BackgroundJob) == 1
