"""A calibration sweep split into parts: one Celery task per part with a broker, the parts in
turn without one; each part stores its rows once and the results are stored once, however
often a part is delivered. No real broker: `.delay` is recorded and the test runs the task."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select, update

import scenarios as engine
from lms import tasks, worker
from lms.models import BackgroundJob, CalibrationPart, CalibrationRun
from lms.services import calibration, debrief, scenario_authoring


@pytest.fixture
def broker(app, monkeypatch):
    """Jobs go to Celery workers, except that what would be sent is recorded instead."""
    sent: dict[str, list[int]] = {"jobs": [], "parts": []}
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "memory://")
    monkeypatch.setitem(app.config, "TASKS_EAGER", False)
    monkeypatch.setattr(worker.run_job, "delay", sent["jobs"].append)
    monkeypatch.setattr(worker.calibrate_part, "delay", sent["parts"].append)
    return sent


def _draft(adapted):
    return scenario_authoring.draft_of(adapted)


def _fan_out(db, adapted, instructor, broker) -> CalibrationRun:
    """Start a calibration and run its job as a worker would: it sends its parts."""
    run = calibration.start(instructor, _draft(adapted))
    db.session.commit()
    assert broker["jobs"] == [run.job_id]
    tasks.run_on_worker(run.job_id)  # what ripple.run_job does on a worker
    return run


def _deliver(part_id: int) -> None:
    """Run the part's Celery task body here, as a worker would."""
    worker.calibrate_part.run(part_id)


def _job(db, run) -> BackgroundJob:
    db.session.expire_all()
    return db.session.get(BackgroundJob, run.job_id)


def _results(db, run):
    return db.session.scalar(select(CalibrationRun.results).where(CalibrationRun.id == run.id))


def _unsplit(adapted, run) -> dict:
    scenario = engine.load_scenario(_draft(adapted).source_text)
    return calibration.run(scenario, runs=run.runs, sample=run.sample, seed=run.seed)


@pytest.mark.parametrize("mode", ["in-process", "workers"])
def test_parts_cover_every_path_and_give_the_unsplit_results(
    db, adapted, instructor, request, monkeypatch, mode
):
    ran = []
    real_run_part = calibration.run_part
    monkeypatch.setattr(
        calibration, "run_part", lambda part_id: ran.append(part_id) or real_run_part(part_id)
    )
    if mode == "workers":
        sent = request.getfixturevalue("broker")
        run = _fan_out(db, adapted, instructor, sent)
        assert ran == []  # the job only sent them
        for part_id in sent["parts"]:
            _deliver(part_id)
    else:
        run = calibration.start(instructor, _draft(adapted))
        db.session.commit()

    job = _job(db, run)
    parts = db.session.scalars(select(CalibrationPart).where(CalibrationPart.calibration_id == run.id)).all()
    scenario = engine.load_scenario(_draft(adapted).source_text)
    found = engine.enumerate_paths(scenario, run.sample, run.seed)
    assert len(parts) == math.ceil(len(found.paths) / calibration.PART_PATHS) > 1
    assert [p.index for p in parts] == list(range(len(parts)))
    assert ran == [p.id for p in parts]  # every part ran once, through run_part
    assert [path for p in parts for path in p.paths] == found.paths
    assert all(p.rows is not None and p.finished_at is not None for p in parts)
    assert job.status == "done" and job.percent == 100
    assert job.done == job.total == len(found.paths) * run.runs
    assert _results(db, run) == _unsplit(adapted, run)
    assert scenario_authoring.current_calibration(_draft(adapted)).id == run.id


def test_fan_out_sends_one_task_per_part_and_the_parts_finish_the_job(db, adapted, instructor, broker):
    run = _fan_out(db, adapted, instructor, broker)
    parts = db.session.scalars(select(CalibrationPart).where(CalibrationPart.calibration_id == run.id)).all()
    assert len(parts) > 1
    assert broker["parts"] == [p.id for p in parts]
    job = _job(db, run)
    paths = sum(len(p.paths) for p in parts)
    assert (job.status, job.done, job.total, job.finished_at) == ("running", 0, paths * run.runs, None)
    assert _results(db, run) is None

    for part in parts[:-1]:
        _deliver(part.id)
    job = _job(db, run)
    assert job.status == "running" and _results(db, run) is None
    assert job.done == sum(len(p.paths) for p in parts[:-1]) * run.runs

    _deliver(parts[-1].id)
    job = _job(db, run)
    assert job.status == "done" and job.done == job.total and job.finished_at is not None
    assert _results(db, run) == _unsplit(adapted, run)


def test_a_part_run_twice_stores_once_and_counts_progress_once(db, adapted, instructor, broker, monkeypatch):
    run = _fan_out(db, adapted, instructor, broker)
    first, second = broker["parts"][:2]
    _deliver(first)
    part = db.session.get(CalibrationPart, first)
    rows, finished_at = part.rows, part.finished_at
    once = _job(db, run).done
    assert once == len(part.paths) * run.runs

    with monkeypatch.context() as patch:  # redelivered after it finished: nothing is simulated again
        patch.setattr(engine, "monte_carlo", lambda *a, **k: pytest.fail("simulated a stored part again"))
        _deliver(first)
    part = db.session.get(CalibrationPart, first)
    assert (part.rows, part.finished_at) == (rows, finished_at)
    assert _job(db, run).done == once

    # Two deliveries simulating at once: only the first to store counts.
    assert calibration._store(second, run.job_id, [{"path": "first"}], 7) is True
    assert calibration._store(second, run.job_id, [{"path": "second"}], 7) is False
    assert db.session.get(CalibrationPart, second).rows == [{"path": "first"}]
    assert _job(db, run).done == once + 7


def test_finalisation_happens_once_even_if_the_last_part_is_redelivered(db, adapted, instructor, broker):
    run = _fan_out(db, adapted, instructor, broker)
    for part_id in broker["parts"]:
        _deliver(part_id)
    job = _job(db, run)
    assert job.status == "done"
    done, finished_at = job.done, job.finished_at
    # Mark the stored results: a second finalisation would overwrite them.
    marked = {**_results(db, run), "marker": "stored once"}
    db.session.execute(update(CalibrationRun).where(CalibrationRun.id == run.id).values(results=marked))
    db.session.commit()

    _deliver(broker["parts"][-1])
    assert calibration._finalise(run.id) is False
    assert _results(db, run)["marker"] == "stored once"
    job = _job(db, run)
    assert (job.status, job.done, job.finished_at) == ("done", done, finished_at)


def test_a_part_redelivered_after_storing_its_rows_finalises(db, adapted, instructor, broker):
    """The worker of the last part died after committing its rows, before finalising."""
    run = _fan_out(db, adapted, instructor, broker)
    *others, last = broker["parts"]
    for part_id in others:
        _deliver(part_id)
    part = db.session.get(CalibrationPart, last)
    scenario = engine.load_scenario(_draft(adapted).source_text)
    labels = engine.enumerate_paths(scenario, run.sample, run.seed).labels
    refs = debrief.grading_references(scenario, _draft(adapted))  # what the job stored
    rows = [calibration._row(scenario, path, labels, run.runs, run.seed, refs) for path in part.paths]
    assert calibration._store(last, run.job_id, rows, len(rows) * run.runs)
    assert _job(db, run).status == "running" and _results(db, run) is None

    _deliver(last)
    job = _job(db, run)
    assert job.status == "done" and job.done == job.total
    assert _results(db, run) == _unsplit(adapted, run)


def test_two_parts_finishing_together_finalise_once(db, adapted, instructor, broker, monkeypatch):
    run = _fan_out(db, adapted, instructor, broker)
    scenario = engine.load_scenario(_draft(adapted).source_text)
    labels = engine.enumerate_paths(scenario, run.sample, run.seed).labels
    for part_id in broker["parts"]:  # every part stores its rows; none has finalised yet
        part = db.session.get(CalibrationPart, part_id)
        refs = debrief.grading_references(scenario, _draft(adapted))  # what the job stored
        rows = [calibration._row(scenario, path, labels, run.runs, run.seed, refs) for path in part.paths]
        assert calibration._store(part_id, run.job_id, rows, len(rows) * run.runs)
    assert _job(db, run).status == "running"

    # Both finalisers see every part done; the other one stores the results between this
    # one's checks and its own UPDATE.
    real_results, finished = calibration._results, {}

    def other_finaliser_first(*args):
        monkeypatch.setattr(calibration, "_results", real_results)
        assert calibration._finalise(run.id) is True
        stored = {**_results(db, run), "marker": "stored once"}
        db.session.execute(update(CalibrationRun).where(CalibrationRun.id == run.id).values(results=stored))
        db.session.commit()
        finished["at"] = _job(db, run).finished_at
        return real_results(*args)

    monkeypatch.setattr(calibration, "_results", other_finaliser_first)
    assert calibration._finalise(run.id) is False
    assert _results(db, run)["marker"] == "stored once"
    job = _job(db, run)
    assert (job.status, job.finished_at) == ("done", finished["at"])
    assert {k: v for k, v in _results(db, run).items() if k != "marker"} == _unsplit(adapted, run)


def test_a_failed_part_fails_the_job_with_its_error_and_the_rest_do_nothing(
    db, adapted, instructor, broker, monkeypatch
):
    run = _fan_out(db, adapted, instructor, broker)

    def crash(*args, **kwargs):
        raise RuntimeError("the simulation crashed")

    with monkeypatch.context() as patch:
        patch.setattr(engine, "monte_carlo", crash)
        with pytest.raises(RuntimeError, match="crashed"):
            _deliver(broker["parts"][0])
    job = _job(db, run)
    assert job.status == "failed" and job.finished_at is not None
    assert job.error == "RuntimeError: the simulation crashed"

    for part_id in broker["parts"]:
        _deliver(part_id)  # the job failed: nothing to do
    parts = db.session.scalars(select(CalibrationPart).where(CalibrationPart.calibration_id == run.id)).all()
    assert all(p.rows is None for p in parts)
    job = _job(db, run)
    assert (job.status, job.done, job.error) == ("failed", 0, "RuntimeError: the simulation crashed")
    assert _results(db, run) is None
    assert calibration.status_data(db.session.get(CalibrationRun, run.id))["error"] == job.error


def test_a_draft_edited_mid_sweep_fails_the_job_clearly(db, adapted, instructor, broker):
    run = _fan_out(db, adapted, instructor, broker)
    _deliver(broker["parts"][0])
    text = _draft(adapted).source_text.replace("pass_mark: 65", "pass_mark: 71")
    scenario_authoring.save_text(instructor, adapted, text)
    db.session.commit()
    with pytest.raises(RuntimeError, match="draft changed"):
        _deliver(broker["parts"][1])
    job = _job(db, run)
    assert job.status == "failed" and "draft changed while it was being calibrated" in job.error
    assert _results(db, run) is None


def test_a_part_beats_its_job(db, adapted, instructor, broker, monkeypatch):
    from datetime import timedelta

    from lms.models.types import utcnow

    run = _fan_out(db, adapted, instructor, broker)
    long_ago = utcnow() - timedelta(hours=1)
    db.session.execute(
        update(BackgroundJob).where(BackgroundJob.id == run.job_id).values(heartbeat_at=long_ago)
    )
    db.session.commit()
    beats = []
    real_beat = tasks.beat
    monkeypatch.setattr(tasks, "beat", lambda job_id: beats.append(job_id) or real_beat(job_id))
    monkeypatch.setattr(calibration, "HEARTBEAT_SECONDS", 0)
    _deliver(broker["parts"][0])
    assert len(beats) > 1  # on starting, and while simulating
    assert tasks.mark_stale_jobs() == 0
    assert _job(db, run).heartbeat_at > long_ago + timedelta(minutes=59)


def test_a_job_that_fans_out_stays_running(db, app):
    @tasks.task("test-fan-out")
    def fan_out(job):
        tasks.report(job, 0, 4)
        return tasks.FANNED_OUT

    try:
        job = tasks.submit("test-fan-out")
    finally:
        tasks.TASKS.pop("test-fan-out")
    job = db.session.get(BackgroundJob, job.id)
    assert (job.status, job.finished_at) == ("running", None)
    tasks.add_progress(job.id, 4)
    assert tasks.finish(job.id) is True
    assert tasks.finish(job.id) is False
    db.session.commit()
    db.session.refresh(job)
    assert (job.status, job.done, job.percent) == ("done", 4, 100)
