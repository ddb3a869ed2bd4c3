"""Adaptive Monte Carlo grading: as many runs as the verdict needs, reproducibly.

A grade's runs are taken in batches (``AdaptiveRule.batch``), in order, from the attempt's seed
family ``run_seeds(seed, n)``; the first k seeds of a family are the same whatever n is
(numpy's ``SeedSequence.generate_state`` is a prefix), so stopping after k runs grades exactly
the first k runs of any longer grade with the same seed. After each batch the score's standard
error is estimated by the delta method (below) and the grade stops when the rule in
``scenario.grading.adaptive`` says it may, or at its cap. The decision depends only on the runs,
which depend only on (scenario, decisions, seed): the same inputs stop at the same run and give
the same grade, bit for bit, serial or parallel.

**Standard error by the delta method.** The score is ``rubric part + sum_m c_m * s_m(mean_m)``
(scenarios/grading.py), with ``s_m`` the logistic metric score and ``c_m`` the metric's share of
the score. Linearised at the means, each run ``i`` contributes
``L_i = sum_m c_m * s_m'(mean_m) * v_{m,i}``, and ``SE(score) = sd(L) / sqrt(n)``. The rubric
part is the same in every run and adds nothing.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from .decisions import DecisionError, validate_decisions

if TYPE_CHECKING:
    from .grading import Grade, References
    from .results import Distribution
    from .schema import AdaptiveRule, Scenario

Z95 = NormalDist().inv_cdf(0.975)  # the reported interval is always a 95% one


@dataclass(frozen=True)
class Check:
    """Where a grade stands after ``runs`` runs, and whether the rule lets it stop."""

    runs: int
    score: float
    se: float
    low: float  # score - 1.96 SE
    high: float
    narrow: bool  # the 95% half-width is within the target width
    settled: bool  # the verdict cannot plausibly flip (or a critical error decides it)
    stop: bool  # at the floor or past it, narrow and settled, or at the cap
    reason: str  # "settled" | "cap" | "" (runs on)


def target_width(rule: AdaptiveRule, score: float, pass_mark: float) -> float:
    """The 95% half-width a grade must reach: ``width`` near the pass mark, looser far from it."""
    return max(rule.width, rule.relative_width * abs(score - pass_mark))


def verdict_z(rule: AdaptiveRule) -> float:
    """z of the verdict's confidence (two-sided): 2.58 at 0.99."""
    return NormalDist().inv_cdf(0.5 + rule.confidence / 2)


def score_and_se(
    scenario: Scenario, per_run: dict[str, np.ndarray], refs: References, rubric: float
) -> tuple[float, float]:
    """The score over the given runs (as ``grading.grade`` works it out) and its delta-method SE.

    ``per_run`` holds one array per graded metric, one value per run (all the same length)."""
    from .grading import _K, anchor, metric_score

    g = scenario.grading
    total_w = g.rubric_weight + g.outcome_weight
    weight = sum(th.weight for th in g.outcomes.values())
    n = len(next(iter(per_run.values()))) if per_run else 0
    if weight <= 0 or not g.outcomes:
        return (g.rubric_weight * rubric + g.outcome_weight * 50.0) / total_w, 0.0
    outcome = 0.0
    linear = np.zeros(n)
    for name, th in g.outcomes.items():
        values = per_run[name]
        mean = float(values.mean())
        b, e = refs.baseline[name], refs.expert[name]
        s = metric_score(mean, b, e, name)
        outcome += s * th.weight / weight
        base = anchor(name, b, e)
        p = (base - mean) / (base - e)
        if abs(p) >= 50.0:  # metric_score clamps the position there: no slope
            continue
        slope = _K * s * (1 - s / 100) / (e - base)  # d score / d value
        linear += (g.outcome_weight / total_w) * (th.weight / weight) * slope * values
    score = (g.rubric_weight * rubric + g.outcome_weight * outcome) / total_w
    se = float(linear.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return score, se


def check(
    scenario: Scenario,
    per_run: dict[str, np.ndarray],
    refs: References,
    rubric: float,
    critical: bool,
    rule: AdaptiveRule | None = None,
) -> Check:
    """Apply the stopping rule to the runs so far (``per_run``: graded metric -> values)."""
    rule = rule or scenario.grading.adaptive
    cap = max(rule.cap, rule.floor)
    n = len(next(iter(per_run.values()))) if per_run else 0
    score, se = score_and_se(scenario, per_run, refs, rubric)
    pass_mark = scenario.grading.pass_mark
    half = Z95 * se
    narrow = half <= target_width(rule, score, pass_mark)
    settled = critical or abs(score - pass_mark) > verdict_z(rule) * se
    if n >= rule.floor and narrow and settled:
        reason = "settled"
    elif n >= cap:
        reason = "cap"
    else:
        reason = ""
    return Check(n, score, se, score - half, score + half, narrow, settled, bool(reason), reason)


def stopping_run(
    scenario: Scenario,
    per_run: dict[str, Sequence[float]],
    refs: References,
    rubric: float,
    critical: bool,
    rule: AdaptiveRule | None = None,
) -> Check:
    """Where the rule stops on a longer distribution's runs (its first k runs are what an
    adaptive grade with the same seed runs): the check at the stopping batch, or at the last
    whole batch the runs hold if the rule would go on."""
    rule = rule or scenario.grading.adaptive
    arrays = {m: np.asarray(per_run[m], dtype=float) for m in scenario.grading.outcomes}
    available = len(next(iter(arrays.values())))
    found = None
    for n in _batch_ends(rule):
        if n > available:
            break
        found = check(scenario, {m: a[:n] for m, a in arrays.items()}, refs, rubric, critical, rule)
        if found.stop:
            return found
    if found is None:
        raise ValueError(f"the rule's first batch needs {min(rule.batch, _cap(rule))} runs, got {available}")
    return found


def _cap(rule: AdaptiveRule) -> int:
    return max(rule.cap, rule.floor)


def _batch_ends(rule: AdaptiveRule) -> list[int]:
    """The run counts after which the rule is checked: every batch, never past the cap."""
    cap = _cap(rule)
    ends = list(range(rule.batch, cap, rule.batch))
    return [*ends, cap]


@dataclass(frozen=True)
class Spread:
    """How a grade spreads its runs over processes, when it pays.

    A grade that has made ``after`` runs without settling (one near the pass mark, which may run
    to the cap) asks ``idle()`` once; if it answers yes, the rest goes ``workers`` batches at a
    time over a pool from ``make_pool(workers)`` (a context manager with an ordered ``map``: a
    ``concurrent.futures`` executor or a billiard pool). The rule is still checked after each
    batch in order, and runs past the stopping batch are dropped, so the grade is the serial
    one bit for bit. Short grades never start a pool: its start-up costs more than it saves."""

    workers: int
    after: int = 0
    idle: Callable[[], bool] = lambda: True
    make_pool: Callable[[int], Any] = lambda workers: ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("fork")
    )


def monte_carlo(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    seed: int,
    refs: References | None = None,
    rule: AdaptiveRule | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    spread: Spread | None = None,
) -> tuple[Distribution, Check]:
    """Run ``decisions`` batch by batch until the rule stops; the distribution of the runs made
    (exactly ``engine.monte_carlo(scenario, decisions, check.runs, seed)``) and the last check.

    ``workers > 1`` spreads every batch over that many processes (``Spread(workers)``); ``spread``
    says when and how otherwise. Either way the runs and the stop are the serial ones."""
    from . import engine
    from .grading import critical_errors, references, rubric_score

    decisions = [list(d) for d in decisions]
    problems = validate_decisions(scenario, decisions)
    if problems:
        raise DecisionError(problems)
    refs = refs or references(scenario)
    rule = rule or scenario.grading.adaptive
    if spread is None and workers and workers > 1:
        spread = Spread(min(workers, os.cpu_count() or 1))
    rubric = rubric_score(scenario, decisions)
    critical = bool(critical_errors(scenario, decisions))
    cap = _cap(rule)
    seeds = engine.run_seeds(seed, cap)  # a prefix family: the first n are run_seeds(seed, n)
    results: list = []
    ends = _batch_ends(rule)
    found: Check | None = None
    with ExitStack() as stack:
        pool, width = None, 1
        while ends:
            if spread is not None and len(results) >= spread.after:
                if spread.workers > 1 and spread.idle():
                    pool, width = stack.enter_context(spread.make_pool(spread.workers)), spread.workers
                spread = None  # asked once
            # serially one batch at a time; with a pool, one batch per process at a time
            ahead = ends[:width]
            made = _run(scenario, decisions, seeds[len(results) : ahead[-1]], pool, width)
            start = len(results)
            for end in ahead:  # the rule after each batch, in order; runs past the stop are dropped
                results.extend(made[len(results) - start : end - start])
                ends.pop(0)
                if progress:
                    progress(len(results), cap)
                per_run = {
                    m: np.asarray([r[0][m] for r in results], dtype=float) for m in scenario.grading.outcomes
                }
                found = check(scenario, per_run, refs, rubric, critical, rule)
                if found.stop:
                    ends.clear()
                    break
    return engine.summarise(scenario, decisions, seed, results), found


def _run(scenario: Scenario, decisions: list[list[str]], seeds: list, pool, width: int) -> list:
    """The runs of ``seeds``, in order: here, or split evenly over the pool's processes."""
    from . import engine

    if pool is None:
        return [engine._one((scenario, decisions, s)) for s in seeds]
    size = math.ceil(len(seeds) / width)
    chunks = [(scenario, decisions, seeds[i : i + size]) for i in range(0, len(seeds), size)]
    return [run for part in pool.map(engine._chunk, chunks) for run in part]


def grade(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    seed: int,
    refs: References | None = None,
    rule: AdaptiveRule | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    spread: Spread | None = None,
) -> tuple[Grade, Distribution]:
    """Grade ``decisions`` with the adaptive rule: the grade (with its runs, 95% interval and
    how it stopped) and the distribution of its runs."""
    from .grading import grade as grade_runs
    from .grading import references

    refs = refs or references(scenario)
    dist, found = monte_carlo(scenario, decisions, seed, refs, rule, workers, progress, spread)
    result = grade_runs(scenario, decisions, dist, refs)
    result.stopped = found.reason
    return result, dist


def prefix_grade(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    per_run: dict[str, Sequence[float]],
    runs: int,
    seed: int,
    refs: References | None = None,
) -> Grade:
    """The grade of a distribution's first ``runs`` runs: what a ``runs``-run grade on the same
    seed gives (its means are worked out as ``engine.summarise`` does)."""
    from .grading import grade as grade_runs
    from .results import Distribution, MetricSummary

    arrays = {m: np.asarray(v, dtype=float)[:runs] for m, v in per_run.items()}
    metrics = {m: MetricSummary(float(a.mean()), 0.0, 0.0, 0.0, (0.0, 0.0), 0.0) for m, a in arrays.items()}
    dist = Distribution(
        runs,
        int(seed),
        [list(d) for d in decisions],
        metrics,
        [],
        {},
        {m: a.tolist() for m, a in arrays.items()},
    )
    return grade_runs(scenario, decisions, dist, refs)


@dataclass
class Agreement:
    """One path's adaptive grade beside its grade over many more runs of the same seed family."""

    name: str
    stop: Check
    adaptive: Grade
    full: Grade

    @property
    def agrees(self) -> bool:
        return self.adaptive.passed == self.full.passed


def agreement(
    scenario: Scenario,
    name: str,
    decisions: Sequence[Sequence[str]],
    seed: int,
    full: int = 2000,
    refs: References | None = None,
    cache: str | os.PathLike | None = None,
) -> Agreement:
    """Compare the adaptive verdict with a ``full``-run verdict: ``full`` runs are simulated once
    and the rule is applied to their prefix (the adaptive grade's own runs, the family being a
    prefix). With ``cache``, a folder, the runs' metric values are kept there between sessions,
    keyed by the scenario's fingerprint, ``name``, the seed and ``full``."""
    import hashlib
    from pathlib import Path

    from .engine import monte_carlo as fixed_runs
    from .grading import critical_errors, references, rubric_score

    refs = refs or references(scenario)
    key = hashlib.sha256(f"{scenario.fingerprint}|{name}|{seed}|{full}".encode()).hexdigest()[:20]
    file = Path(cache) / f"{scenario.slug}-{key}.npz" if cache else None
    if file is not None and file.exists():
        with np.load(file) as kept:
            values = {m: kept[m] for m in kept.files}
    else:
        dist = fixed_runs(scenario, decisions, full, seed)
        values = {m: np.asarray(v, dtype=float) for m, v in dist.per_run.items()}
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            np.savez(file, **values)
    critical = bool(critical_errors(scenario, decisions))
    stop = stopping_run(scenario, values, refs, rubric_score(scenario, decisions), critical)
    return Agreement(
        name,
        stop,
        prefix_grade(scenario, decisions, values, stop.runs, seed, refs),
        prefix_grade(scenario, decisions, values, full, seed, refs),
    )


def calibration_paths(scenario: Scenario) -> dict[str, list[list[str]]]:
    """The paths a library scenario's calibration names (tests/scenarios/calibration/<slug>.json):
    expert, baseline and each contrast path."""
    paths = {"expert": scenario.expert_path, "baseline": scenario.baseline_path}
    paths.update({name: path for name, (_, path) in scenario.contrast_paths.items()})
    return paths
