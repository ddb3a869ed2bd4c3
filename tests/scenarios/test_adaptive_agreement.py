"""The adaptive grade's verdict agrees with a 2,000-run grade's on the library's calibration paths.

For every library scenario and every path its calibration names (expert, baseline, each contrast
path; see test_library.py), one 2,000-run distribution is simulated on SEED. The adaptive rule
would run the first k of those same runs (the seed family is a prefix), so it is evaluated on
the distribution's prefix: an exact shortcut, checked on a small scenario in test_adaptive.py.

Slow (minutes per scenario). Set RIPPLE_AGREEMENT_CACHE to a folder to keep the 2,000-run
metric values between sessions (keyed by the scenario's fingerprint, the path and the seed).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from scenarios import adaptive, grade, list_library, load_scenario, monte_carlo, references
from scenarios.grading import critical_errors, rubric_score
from scenarios.results import Distribution, MetricSummary

FULL = 2000
SEED = 2024
AGREEMENT = 0.99  # share of a scenario's paths whose adaptive verdict is the 2,000-run verdict
LIBRARY = list_library()


def calibration_paths(scenario) -> dict[str, list[list[str]]]:
    """The paths tests/scenarios/calibration/<slug>.json names, by the same names."""
    paths = {"expert": scenario.expert_path, "baseline": scenario.baseline_path}
    paths.update({name: path for name, (_, path) in scenario.contrast_paths.items()})
    return paths


def full_runs(scenario, name: str, path) -> dict[str, np.ndarray]:
    folder = os.environ.get("RIPPLE_AGREEMENT_CACHE")
    key = hashlib.sha256(f"{scenario.fingerprint}|{name}|{SEED}|{FULL}".encode()).hexdigest()[:20]
    file = Path(folder) / f"{scenario.slug}-{key}.npz" if folder else None
    if file is not None and file.exists():
        with np.load(file) as kept:
            return {m: kept[m] for m in kept.files}
    dist = monte_carlo(scenario, path, FULL, SEED)
    values = {m: np.asarray(v, dtype=float) for m, v in dist.per_run.items()}
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(file, **values)
    return values


def graded(scenario, path, values: dict[str, np.ndarray], refs, runs: int):
    """The grade of the first ``runs`` runs (what a grade of that many runs on SEED gives)."""
    metrics = {}
    for m, v in values.items():
        part = v[:runs]
        metrics[m] = MetricSummary(float(part.mean()), 0.0, 0.0, 0.0, (0.0, 0.0), 0.0)
    dist = Distribution(runs, SEED, path, metrics, [], {}, {m: v[:runs].tolist() for m, v in values.items()})
    return grade(scenario, path, dist, refs)


@pytest.mark.slow
@pytest.mark.parametrize("file", LIBRARY, ids=lambda p: p.stem)
def test_the_adaptive_verdict_is_the_2000_run_verdict(file):
    scenario = load_scenario(file)
    refs = references(scenario)
    rows = []
    for name, path in calibration_paths(scenario).items():
        values = full_runs(scenario, name, path)
        stop = adaptive.stopping_run(
            scenario,
            values,
            refs,
            rubric_score(scenario, path),
            bool(critical_errors(scenario, path)),
        )
        quick = graded(scenario, path, values, refs, stop.runs)
        full = graded(scenario, path, values, refs, FULL)
        rows.append((name, stop, quick, full))
    print(f"\n{scenario.slug} (pass mark {scenario.grading.pass_mark:g})")
    for name, stop, quick, full in rows:
        print(
            f"  {name[:44]:44s} adaptive {quick.score:6.2f} ({stop.low:.1f}-{stop.high:.1f}) "
            f"{stop.runs:4d} runs {stop.reason:7s} | {FULL} runs {full.score:6.2f}"
            + ("" if quick.passed == full.passed else "  VERDICT DIFFERS")
        )
    agree = sum(quick.passed == full.passed for _, _, quick, full in rows) / len(rows)
    assert agree >= AGREEMENT, [name for name, _, quick, full in rows if quick.passed != full.passed]
