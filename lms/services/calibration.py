"""Calibrating a scenario: how every decision path (or a large sample) scores.

Each path is simulated `CALIBRATION_RUNS` times (a seeded Monte Carlo, like grading) and
graded: expected score, rubric and outcome scores, and the probability that one run
passes. Problems are flagged for the author:

- the expert path does not pass reliably;
- a path without any partnership passes;
- two very different paths (different choices at most decision points) score the same.

The work runs as a background job (`lms.tasks`), so the page shows a progress bar that
survives a reload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

import scenarios as engine
from lms import tasks
from lms.extensions import db
from lms.models import BackgroundJob, CalibrationRun, ScenarioRecord, ScenarioVersion, User
from lms.services.scenario_library import parse_source
from lms.services.scoping import NotFound

# A path "passes reliably" when at least this share of its runs pass.
RELIABLE = 0.8
# Two paths "score the same" within this many points ...
SAME_SCORE = 2.0
# ... and are "very different" when they differ at more than this share of decision points.
DIFFERENT = 0.5


def _setting(name: str, default: int, testing: int) -> int:
    value = current_app.config.get(name)
    if value:
        return int(value)
    return testing if current_app.testing else default


def start(actor: User, version: ScenarioVersion) -> CalibrationRun:
    """Queue a calibration of `version`'s YAML (usually the draft); returns it (flushed)."""
    runs = _setting("CALIBRATION_RUNS", 60, 3)
    sample = _setting("CALIBRATION_SAMPLE", 60, 6)
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
    return calibration


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
def calibrate(job: BackgroundJob, calibration_id: int) -> None:
    """The background task: simulate and grade every path, saving progress as it goes."""
    calibration = db.session.get(CalibrationRun, calibration_id)
    version = calibration.scenario_version
    if version.fingerprint != calibration.fingerprint:
        raise RuntimeError("the draft changed before the calibration started; calibrate it again")
    scenario = parse_source(version.source_text)
    result = run(scenario, runs=calibration.runs, sample=calibration.sample, seed=calibration.seed, job=job)
    calibration.results = result
    db.session.flush()


def run(
    scenario: engine.Scenario, *, runs: int, sample: int, seed: int = 1, job: BackgroundJob | None = None
) -> dict[str, Any]:
    """Calibrate `scenario`: rows per path (best first), flags, and how the paths were chosen."""
    found = engine.enumerate_paths(scenario, sample, seed)
    total = len(found.paths) * runs
    if job is not None:
        tasks.report(job, 0, total)
    rows = []
    for i, path in enumerate(found.paths):

        def progress(done: int, _total: int, _base: int = i * runs) -> None:
            if job is not None and (done == _total or done % 20 == 0):
                tasks.report(job, _base + done, total)

        distribution = engine.monte_carlo(scenario, path, runs, seed, progress=progress)
        grade = engine.grade(scenario, path, distribution)
        key = engine.format_choose(scenario, path)
        rows.append(
            {
                "path": key,
                "decisions": path,
                "name": found.labels.get(key, ""),
                "score": round(grade.score, 1),
                "rubric": round(grade.rubric_score, 1),
                "outcome": round(grade.outcome_score, 1),
                "passes": bool(grade.passed),
                "pass_probability": round(engine.pass_rate(scenario, path, distribution), 3),
                "retaliations": round(distribution.metrics["retaliations"].mean, 2),
                "peak_reach": round(distribution.metrics["peak_reach"].mean, 3),
                "partnership": engine.uses_partners(scenario, path),
            }
        )
        if job is not None:
            tasks.report(job, (i + 1) * runs, total)
    rows.sort(key=lambda r: (-r["score"], r["path"]))
    return {
        "note": found.note,
        "total_paths": found.total,
        "runs": runs,
        "pass_mark": scenario.grading.pass_mark,
        "paths": rows,
        "flags": flags(rows, scenario.grading.pass_mark),
    }


def _difference(a: list[list[str]], b: list[list[str]]) -> float:
    differing = sum(1 for x, y in zip(a, b, strict=False) if sorted(x) != sorted(y))
    return differing / max(1, len(a))


def flags(rows: list[dict], pass_mark: float) -> list[dict[str, str]]:
    """The problems a calibration shows, each as {kind, message}."""
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
