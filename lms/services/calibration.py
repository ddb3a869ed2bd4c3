"""Calibrating a scenario: how every decision path (or a large sample) scores.

Each path is simulated `CALIBRATION_RUNS` times (a seeded Monte Carlo, like grading) and
graded: expected score, rubric and outcome scores, and the probability that one run
passes. Problems are flagged for the author:

- the expert path does not pass reliably, or its outcome alone does not;
- a path without any partnership passes, or the no-partnership path passes on its outcome;
- two very different paths (different choices at most decision points) score the same;
- the outcome carries less than 60% of the grade;
- a graded metric the reference runs (expert, no partnership) do not separate.

Every row is graded against the version's reference distributions (`debrief.grading_references`),
worked out once: the calibration job stores them on the version before its parts run.

The work runs as a background job (`lms.tasks`), so the page shows a progress bar that
survives a reload. The job enumerates the paths and splits them into `CalibrationPart`s of
`PART_PATHS` paths. With a Celery broker it sends one `ripple.calibrate_part` task per part,
so every worker takes parts of the sweep, and returns `tasks.FANNED_OUT`; without one it runs
the parts itself, in turn. Either way a part (`run_part`) stores its rows once and adds its runs
to the job's progress; the part that finds none left unfinished stores the results and marks
the job done, once. A part may run twice (a worker died mid-part and the task was redelivered)
or alongside a finaliser on another worker: every write is a conditional UPDATE.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

import scenarios as engine
from lms import tasks
from lms.extensions import db
from lms.models import (
    Agency,
    BackgroundJob,
    CalibrationPart,
    CalibrationRun,
    ScenarioRecord,
    ScenarioVersion,
    User,
)
from lms.models.types import utcnow
from lms.services.debrief import grading_references, store_grading_references
from lms.services.scenario_library import parse_source
from lms.services.scoping import NotFound
from scenarios import grading as engine_grading

# A path "passes reliably" when at least this share of its runs pass.
RELIABLE = 0.8
# The least share of the grade the outcome should carry (the engine's default is 60%).
OUTCOME_SHARE = 0.6
# Two paths "score the same" within this many points ...
SAME_SCORE = 2.0
# ... and are "very different" when they differ at more than this share of decision points.
DIFFERENT = 0.5

# Paths per part. A 60-path sweep makes 30 parts (a 32-path one 16), so two or four workers
# share it evenly: each takes the next part when it finishes one, and the last worker to finish
# runs at most one part after the others. A part (2 paths x 40-60 runs) takes about half a second
# to a second, against a few milliseconds of overhead (loading the scenario, five queries).
PART_PATHS = 2
# While a part simulates, it beats its job at most this often (a job beats when it reports).
HEARTBEAT_SECONDS = 15

# A calibration is in flight while its job is one of these.
IN_FLIGHT = ("queued", "running")

STALE_AT_START = "the draft changed before the calibration started; calibrate it again"
STALE_DURING = "the draft changed while it was being calibrated; calibrate it again"


def _setting(name: str, default: int, testing: int) -> int:
    value = current_app.config.get(name) or os.environ.get(name)
    if value:
        return int(value)
    return testing if current_app.testing else default


class CalibrationBusy(Exception):
    """The agency already has as many calibrations queued or running as it may."""


def start(actor: User, version: ScenarioVersion) -> CalibrationRun:
    """Queue a calibration of `version`'s YAML (usually the draft), or join the one already
    queued or running for that same YAML; returns it (flushed). See `start_or_join`."""
    return start_or_join(actor, version)[0]


def start_or_join(actor: User, version: ScenarioVersion) -> tuple[CalibrationRun, bool]:
    """The calibration of `version`'s current YAML: the one already queued or running (and
    False), else a new one, queued (and True). Flushes; raises CalibrationBusy when the
    scenario's agency already has CALIBRATION_MAX_PER_AGENCY calibrations in flight.

    Race-safe: the check and the insert happen under a lock on the agency (one lock for the
    whole platform library) held until the caller commits, so two requests at once make one
    calibration, and the cap holds.
    """
    runs = _setting("CALIBRATION_RUNS", 60, 3)
    sample = _setting("CALIBRATION_SAMPLE", 60, 6)
    agency_id = version.scenario.agency_id
    _lock_for_calibrating(agency_id, version.scenario_id)
    tasks.mark_stale_jobs()  # a job whose worker went away neither blocks nor counts
    running = db.session.scalar(
        _in_flight()
        .where(
            CalibrationRun.scenario_version_id == version.id,
            CalibrationRun.fingerprint == version.fingerprint,
            CalibrationRun.runs == runs,
            CalibrationRun.sample == sample,
        )
        .order_by(CalibrationRun.id.desc())
        .limit(1)
    )
    if running is not None:
        return running, False
    limit = int(current_app.config.get("CALIBRATION_MAX_PER_AGENCY") or 3)
    busy = db.session.scalar(
        select(func.count()).select_from(_in_flight().where(_same_agency(agency_id)).subquery())
    )
    if busy >= limit:
        raise CalibrationBusy(
            f"{busy} calibrations of your agency's scenarios are already queued or running "
            f"(at most {limit} at once). Try again when one of them has finished."
        )
    calibration = CalibrationRun(
        agency_id=version.scenario.agency_id,
        scenario_version_id=version.id,
        fingerprint=version.fingerprint,
        runs=runs,
        sample=sample,
        seed=1,
        created_by_id=actor.id,
    )
    db.session.add(calibration)
    db.session.flush()
    calibration.job = tasks.submit("calibrate", calibration.id)
    db.session.flush()
    return calibration, True


# The advisory lock (any fixed 64-bit number no other code uses) held while a library
# calibration is checked against the cap and inserted.
LIBRARY_CALIBRATION_LOCK = 0x52495050_4C43414C  # "RIPPLCAL"


def _in_flight():
    return (
        select(CalibrationRun)
        .join(BackgroundJob, BackgroundJob.id == CalibrationRun.job_id)
        .where(BackgroundJob.status.in_(IN_FLIGHT))
    )


def _same_agency(agency_id: int | None):
    if agency_id is None:
        return CalibrationRun.agency_id.is_(None)
    return CalibrationRun.agency_id == agency_id


def _lock_for_calibrating(agency_id: int | None, scenario_id: int) -> None:
    """Take the lock that serialises starting calibrations in one agency, until commit.

    An agency's: a no-op UPDATE of its row rather than SELECT ... FOR UPDATE: it locks the row
    on PostgreSQL and takes SQLite's write lock, so the check that follows sees any calibration
    committed before it. The platform library's (agency NULL) is one fixed lock for the whole
    library, since its cap counts every library calibration: PostgreSQL's transaction-scoped
    advisory lock LIBRARY_CALIBRATION_LOCK (locking each scenario's own row let two different
    library scenarios pass the count at once); SQLite's write lock is database-wide already.
    """
    if agency_id is not None:
        # A column no foreign key refers to, so rows that point at the agency are not held up.
        statement = update(Agency).where(Agency.id == agency_id).values(name=Agency.name)
    elif db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(LIBRARY_CALIBRATION_LOCK)))
        return
    else:
        statement = (
            update(ScenarioRecord).where(ScenarioRecord.id == scenario_id).values(title=ScenarioRecord.title)
        )
    db.session.execute(statement.execution_options(synchronize_session=False))


def get_calibration(actor: User, calibration_id: int) -> CalibrationRun:
    """A calibration of a scenario the actor may edit, else NotFound."""
    from lms.services.scenario_authoring import get_record

    calibration = db.session.get(CalibrationRun, calibration_id)
    if calibration is None:
        raise NotFound(f"CalibrationRun {calibration_id}")
    get_record(actor, calibration.scenario_version.scenario_id)  # raises NotFound if not theirs
    if calibration.job is not None:
        tasks.refresh(calibration.job)
    return calibration


def latest_for(record: ScenarioRecord) -> CalibrationRun | None:
    """The newest calibration of any version of the scenario."""
    calibration = db.session.scalar(
        select(CalibrationRun)
        .join(ScenarioVersion, ScenarioVersion.id == CalibrationRun.scenario_version_id)
        .where(ScenarioVersion.scenario_id == record.id)
        .order_by(CalibrationRun.id.desc())
        .limit(1)
    )
    if calibration is not None and calibration.job is not None:
        tasks.refresh(calibration.job)
    return calibration


def status_data(calibration: CalibrationRun) -> dict[str, Any]:
    """What the progress bar needs, as JSON."""
    job: BackgroundJob | None = calibration.job
    return {
        "id": calibration.id,
        "status": calibration.status,
        "done": job.done if job else 0,
        "total": job.total if job else 0,
        "percent": job.percent if job else 0,
        "error": job.error if job else None,
    }


@tasks.task("calibrate")
def calibrate(job: BackgroundJob, calibration_id: int) -> object:
    """The background task: split the sweep into parts, then send them to the workers (with a
    broker: returns `tasks.FANNED_OUT`, the parts finish the job) or run them in turn."""
    calibration = db.session.get(CalibrationRun, calibration_id)
    scenario = _scenario_of(calibration, STALE_AT_START)
    # Once, here: every part (on any worker) then reads them from the version.
    store_grading_references(calibration.scenario_version, scenario)
    found = engine.enumerate_paths(scenario, calibration.sample, calibration.seed)
    calibration.job_id = job.id  # an eager job runs before `start` links it
    parts = [
        CalibrationPart(calibration_id=calibration.id, index=index, paths=found.paths[i : i + PART_PATHS])
        for index, i in enumerate(range(0, len(found.paths), PART_PATHS))
    ]
    db.session.add_all(parts)
    db.session.flush()
    part_ids = [part.id for part in parts]
    tasks.report(job, 0, len(found.paths) * calibration.runs)  # commits the parts with the total
    if tasks.uses_broker():
        for part_id in part_ids:
            tasks.enqueue("calibrate_part", part_id)
        return tasks.FANNED_OUT
    for part_id in part_ids:
        run_part(part_id)
    if db.session.scalar(select(CalibrationRun.results).where(CalibrationRun.id == calibration_id)) is None:
        raise RuntimeError("the calibration's parts finished without storing its results")
    return None


def run_part(part_id: int) -> None:
    """Simulate one part's paths, store its rows once, and finalise the calibration if no part is
    left unfinished. Commits. Does nothing if its job has failed (or finished); raises if the
    draft changed since the calibration started (the caller fails the job).

    Safe to run twice, or on two workers at once: only the run whose conditional UPDATE stores
    the rows adds them to the job's progress, and the results are stored once (`_finalise`).
    """
    part = db.session.get(CalibrationPart, part_id)
    if part is None:
        return
    calibration = part.calibration
    calibration_id, job_id = calibration.id, calibration.job_id
    if part.rows is None:  # else stored already: a redelivery, which may still have to finalise
        if not _job_running(job_id):
            return
        scenario = _scenario_of(calibration, STALE_DURING)
        labels = engine.enumerate_paths(scenario, calibration.sample, calibration.seed).labels
        paths, runs, seed = part.paths, calibration.runs, calibration.seed
        refs = grading_references(scenario, calibration.scenario_version)
        tasks.beat(job_id)
        db.session.commit()
        beat = _beater(job_id)
        rows = [_row(scenario, path, labels, runs, seed, refs, progress=beat) for path in paths]
        _store(part_id, job_id, rows, len(paths) * runs)
    _finalise(calibration_id)


def run_part_on_worker(part_id: int) -> None:
    """What the Celery task `ripple.calibrate_part` runs: `run_part`, failing the calibration's
    job with the error if it raises (the other parts then do nothing); re-raises for Celery."""
    try:
        run_part(part_id)
    except Exception as error:
        db.session.rollback()
        job_id = db.session.scalar(
            select(CalibrationRun.job_id)
            .join(CalibrationPart, CalibrationPart.calibration_id == CalibrationRun.id)
            .where(CalibrationPart.id == part_id)
        )
        if job_id is not None:
            tasks.fail(job_id, error)
            db.session.commit()
        raise


def _job_running(job_id: int | None) -> bool:
    if job_id is None:
        return False
    return db.session.scalar(select(BackgroundJob.status).where(BackgroundJob.id == job_id)) == "running"


def _scenario_of(calibration: CalibrationRun, stale: str) -> engine.Scenario:
    """The calibrated YAML, parsed; raises if the draft has changed since."""
    version = calibration.scenario_version
    if version.fingerprint != calibration.fingerprint:
        raise RuntimeError(stale)
    return parse_source(version.source_text)


def _beater(job_id: int) -> Callable[[int, int], None]:
    """A Monte Carlo progress callback that beats the job every HEARTBEAT_SECONDS."""
    last = time.monotonic()

    def beat(_done: int, _total: int) -> None:
        nonlocal last
        if time.monotonic() - last >= HEARTBEAT_SECONDS:
            tasks.beat(job_id)
            db.session.commit()
            last = time.monotonic()

    return beat


def _store(part_id: int, job_id: int, rows: list[dict[str, Any]], runs_done: int) -> bool:
    """Store a part's rows unless they are stored already, and only then add its runs to the
    job's progress, in one transaction. Commits; True if this call stored them."""
    stored = (
        db.session.execute(
            update(CalibrationPart)
            .where(CalibrationPart.id == part_id, CalibrationPart.rows.is_(None))
            .values(rows=rows, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if stored:
        tasks.add_progress(job_id, runs_done)
        db.session.commit()
    else:
        db.session.rollback()
    return stored


def _finalise(calibration_id: int) -> bool:
    """If every part has its rows: store the results (once) and mark the job done, in one
    transaction. Commits; True if this call stored them.

    Called after a part commits its rows, so under READ COMMITTED the last part to commit
    always sees every other part's rows; two parts finishing together may both get here, and
    the conditional UPDATEs let only one of them store anything.
    """
    unfinished = db.session.scalar(
        select(func.count())
        .select_from(CalibrationPart)
        .where(CalibrationPart.calibration_id == calibration_id, CalibrationPart.rows.is_(None))
    )
    if unfinished:
        return False
    calibration = db.session.get(CalibrationRun, calibration_id, populate_existing=True)
    if calibration.results is not None or not _job_running(calibration.job_id):
        return False
    scenario = _scenario_of(calibration, STALE_DURING)
    found = engine.enumerate_paths(scenario, calibration.sample, calibration.seed)
    parts = db.session.scalars(
        select(CalibrationPart.rows)
        .where(CalibrationPart.calibration_id == calibration_id)
        .order_by(CalibrationPart.index)
    ).all()
    rows = [row for part_rows in parts for row in part_rows]
    if sorted(row["path"] for row in rows) != sorted(engine.format_choose(scenario, p) for p in found.paths):
        raise RuntimeError("the calibration's parts do not cover the paths it calibrates")
    refs = grading_references(scenario, calibration.scenario_version)
    results = _results(scenario, found, rows, calibration.runs, refs)
    stored = (
        db.session.execute(
            update(CalibrationRun)
            .where(CalibrationRun.id == calibration_id, CalibrationRun.results.is_(None))
            .values(results=results)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if stored and tasks.finish(calibration.job_id):
        db.session.commit()
        return True
    db.session.rollback()  # another part stored them, or the job failed meanwhile
    return False


def run(
    scenario: engine.Scenario, *, runs: int, sample: int, seed: int = 1, job: BackgroundJob | None = None
) -> dict[str, Any]:
    """Calibrate `scenario` here, in one go: rows per path (best first), flags, and how the paths
    were chosen. The same results as a calibration job's (which splits the paths into parts)."""
    found = engine.enumerate_paths(scenario, sample, seed)
    total = len(found.paths) * runs
    refs = grading_references(scenario)
    if job is not None:
        tasks.report(job, 0, total)
    rows = []
    for i, path in enumerate(found.paths):

        def progress(done: int, _total: int, _base: int = i * runs) -> None:
            if job is not None and (done == _total or done % 20 == 0):
                tasks.report(job, _base + done, total)

        rows.append(_row(scenario, path, found.labels, runs, seed, refs, progress=progress))
        if job is not None:
            tasks.report(job, (i + 1) * runs, total)
    return _results(scenario, found, rows, runs, refs)


def _row(
    scenario: engine.Scenario,
    path: list[list[str]],
    labels: dict[str, str],
    runs: int,
    seed: int,
    refs: engine.References,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Simulate and grade one path against the version's references: its calibration row."""
    distribution = engine.monte_carlo(scenario, path, runs, seed, progress=progress)
    grade = engine.grade(scenario, path, distribution, refs)
    key = engine.format_choose(scenario, path)
    passing, outcome_passing = engine_grading.pass_rates(scenario, path, distribution, refs)
    return {
        "path": key,
        "decisions": path,
        "name": labels.get(key, ""),
        "score": round(grade.score, 1),
        "rubric": round(grade.rubric_score, 1),
        "outcome": round(grade.outcome_score, 1),
        "passes": bool(grade.passed),
        "pass_probability": round(passing, 3),
        "outcome_pass_probability": round(outcome_passing, 3),
        "critical": [f"{e.decision + 1}{e.option}" for e in grade.critical_errors],
        "retaliations": round(distribution.metrics["retaliations"].mean, 2),
        "peak_reach": round(distribution.metrics["peak_reach"].mean, 3),
        "partnership": engine.uses_partners(scenario, path),
    }


def unseparated(scenario: engine.Scenario, refs: engine.References) -> list[str]:
    """The graded metrics on which the two references are too close to tell good from bad."""
    return [
        name
        for name in scenario.grading.outcomes
        if not engine_grading.scored(name, refs.baseline[name], refs.expert[name])
    ]


def outcome_share(scenario: engine.Scenario) -> float:
    g = scenario.grading
    total = g.rubric_weight + g.outcome_weight
    return g.outcome_weight / total if total > 0 else 0.0


def _results(
    scenario: engine.Scenario,
    found: engine.PathSet,
    rows: list[dict[str, Any]],
    runs: int,
    refs: engine.References,
) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: (-r["score"], r["path"]))
    share = outcome_share(scenario)
    unscored = unseparated(scenario, refs)
    return {
        "note": found.note,
        "total_paths": found.total,
        "runs": runs,
        "reference_runs": refs.runs,
        "pass_mark": scenario.grading.pass_mark,
        "outcome_share": share,
        "unseparated": unscored,
        "paths": rows,
        "flags": flags(rows, scenario.grading.pass_mark, outcome_share=share, unseparated=unscored),
    }


def _difference(a: list[list[str]], b: list[list[str]]) -> float:
    differing = sum(1 for x, y in zip(a, b, strict=False) if sorted(x) != sorted(y))
    return differing / max(1, len(a))


def flags(
    rows: list[dict],
    pass_mark: float,
    *,
    outcome_share: float | None = None,
    unseparated: list[str] | tuple[str, ...] = (),
) -> list[dict[str, str]]:
    """The problems a calibration shows, each as {kind, message}. Rows stored before the
    outcome-led grade (no outcome-only pass probability) get the older checks only."""
    found: list[dict[str, str]] = []
    for row in rows:
        if row["name"] == "expert" and row["pass_probability"] < RELIABLE:
            found.append(
                {
                    "kind": "expert_unreliable",
                    "message": f"The expert path {row['path']} passes only {row['pass_probability']:.0%} "
                    f"of runs (expected score {row['score']:g}, pass mark {pass_mark:g}): "
                    "raise its rubric points or lower the pass mark.",
                }
            )
    for row in rows:
        probability = row.get("outcome_pass_probability")
        if row["name"] == "expert" and probability is not None and probability < RELIABLE:
            found.append(
                {
                    "kind": "expert_outcome_unreliable",
                    "message": f"The expert path's outcome alone reaches the pass mark in only "
                    f"{probability:.0%} of runs (outcome score {row['outcome']:g}, pass mark "
                    f"{pass_mark:g}): the expert's own runs do not reliably do well enough, so check "
                    "the expert path, the graded metrics or the pass mark.",
                }
            )
        if (
            row["name"] == "baseline"
            and probability is not None
            and (row["outcome"] >= pass_mark or probability >= 0.5)
        ):
            found.append(
                {
                    "kind": "baseline_outcome_passes",
                    "message": f"The no-partnership path {row['path']} passes on its outcome alone "
                    f"(outcome score {row['outcome']:g}, {probability:.0%} of runs): "
                    "the graded metrics do not reward partnership.",
                }
            )
    for row in rows:
        if not row["partnership"] and (row["passes"] or row["pass_probability"] >= 0.5):
            found.append(
                {
                    "kind": "no_partnership_passes",
                    "message": f"Path {row['path']}{' (' + row['name'] + ')' if row['name'] else ''} "
                    f"involves no partner yet passes (expected score {row['score']:g}, "
                    f"{row['pass_probability']:.0%} of runs).",
                }
            )
    pairs = 0
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if pairs >= 5:
                break
            if abs(a["score"] - b["score"]) > SAME_SCORE:
                continue
            if _difference(a["decisions"], b["decisions"]) <= DIFFERENT:
                continue
            if a["partnership"] == b["partnership"] and abs(a["rubric"] - b["rubric"]) < 25:
                continue  # similar in spirit: not a problem worth showing
            pairs += 1
            found.append(
                {
                    "kind": "different_paths_same_score",
                    "message": f"Paths {a['path']} and {b['path']} differ at most decisions but score "
                    f"the same ({a['score']:g} and {b['score']:g}): the grade cannot tell them apart.",
                }
            )
    if outcome_share is not None and outcome_share < OUTCOME_SHARE:
        found.append(
            {
                "kind": "outcome_weight_low",
                "message": f"The outcome carries only {outcome_share:.0%} of the grade (at least "
                f"{OUTCOME_SHARE:.0%} expected): a path can pass on its choices while the community "
                "does badly. Raise grading.outcome_weight or lower grading.rubric_weight.",
            }
        )
    for name in unseparated:
        found.append(
            {
                "kind": "metric_not_separated",
                "message": f"The graded metric {name.replace('_', ' ')} comes out about the same on the "
                "expert path and with no partnership, so the references cannot say what a poor "
                "result is: it is scored from the expert's mean over the metric's usual range instead. "
                "Check that a poor response really moves it, or give its weight to a metric that differs.",
            }
        )
    return found


@dataclass
class ChartRow:
    path: str
    name: str
    score: float
    probability: float
    y: float
    score_width: float
    probability_width: float


@dataclass
class CalibrationChart:
    rows: list[ChartRow]
    height: int
    pass_x: float
    left: int = 170
    width: int = 640
    bar: int = 230  # the width of each bar area (score, then pass probability)


def chart(results: dict[str, Any], limit: int = 40) -> CalibrationChart:
    """Bars of expected score (with the pass mark) and pass probability per path."""
    rows = results.get("paths", [])[:limit]
    named = [r for r in results.get("paths", []) if r["name"] and r not in rows]
    rows = rows + named
    out = []
    layout = CalibrationChart([], 30 + 22 * len(rows), 0)
    for i, row in enumerate(rows):
        out.append(
            ChartRow(
                row["path"],
                row["name"],
                row["score"],
                row["pass_probability"],
                24 + i * 22,
                layout.bar * max(0.0, min(row["score"], 100)) / 100,
                layout.bar * row["pass_probability"],
            )
        )
    layout.rows = out
    layout.pass_x = layout.left + layout.bar * float(results.get("pass_mark", 70)) / 100
    return layout
