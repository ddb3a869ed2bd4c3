"""Grades led by the outcome: pure functions of (scenario, decisions, runs).

Formula (documented in scenarios/README.md, "Grading"):

* The scenario's own **reference distributions**: ``reference_runs`` runs of its expert path
  and of its no-partnership (baseline) path, on a fixed seed family. Per graded metric,
  ``expert`` and ``baseline`` are their means.
* For a value ``v`` of a metric (an attempt's mean, or one run's value), its **position** is
  ``p = (baseline - v) / (baseline - expert)``: 0 at the no-partnership mean, 1 at the
  expert's, above 1 beyond it; this works whichever direction is better.
* Its **metric score** is the logistic ``100 / (1 + exp(-K (p - C)))`` with K and C set so
  that the baseline mean scores 20 and the expert mean 90. It is continuous and strictly
  monotone: a worse outcome always costs points, and no score reaches 0 or 100.
  Where the two references differ by less than the metric's ``SCALE`` (for example both
  have no case damage), the gap is taken as ``SCALE`` in the metric's better direction
  (``HIGHER_IS_BETTER`` or lower), anchored at the expert's mean, so a worse outcome still
  costs points (``separated: false`` says so).
* outcome = weighted mean of the scored metrics' scores (weights from the scenario).
* rubric = 100 x clamp(sum of chosen option points / best achievable points, 0, 1).
* score = (rubric_weight x rubric + outcome_weight x outcome) / (rubric_weight + outcome_weight);
  by default the outcome carries 60%.
* **Critical errors**: an option the scenario marks ``critical`` fails the attempt whatever
  its score. ``passed = score >= pass_mark and no critical error``;
  ``outcome_passed = outcome >= pass_mark and no critical error``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .decisions import DecisionError, validate_decisions
from .results import Distribution, MetricSummary
from .schema import Scenario

EXPERT_ANCHOR = 90.0  # the score of an outcome equal to the expert path's mean
BASELINE_ANCHOR = 20.0  # the score of an outcome equal to the no-partnership path's mean
_K = math.log(EXPERT_ANCHOR / (100 - EXPERT_ANCHOR)) + math.log((100 - BASELINE_ANCHOR) / BASELINE_ANCHOR)
_C = math.log((100 - BASELINE_ANCHOR) / BASELINE_ANCHOR) / _K
REFERENCE_SEED = 314159  # the reference runs' seed family: fixed, so a version's grades are too
# The least gap between the references a metric is scored over, in its unit: smaller gaps
# (references that do not separate, or only by noise) are widened to this, in the better direction.
SCALE = {
    "incidents": 0.25, "retaliations": 0.25, "retaliation_risk": 0.25, "leaks": 1.0,
    "case_damage": 1.0, "contradicted_claims": 1.0, "time_to_first_retaliation": 6.0,
    "peak_severity": 0.5, "peak_reach": 0.05, "final_reach": 0.05, "corrected_fraction": 0.05,
    "police_trust_end": 0.03, "mean_anger_end": 0.03, "peak_mean_anger": 0.03,
}  # fmt: skip
DEFAULT_SCALE = 0.05
HIGHER_IS_BETTER = frozenset({"time_to_first_retaliation", "corrected_fraction", "police_trust_end"})


@dataclass
class References:
    """Per metric, the means of the expert and no-partnership reference runs."""

    runs: int
    seed: int
    expert: dict[str, float]
    baseline: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> References:
        return cls(int(data["runs"]), int(data["seed"]), dict(data["expert"]), dict(data["baseline"]))


@dataclass
class MetricScore:
    metric: str
    value: float
    baseline: float  # the no-partnership mean
    expert: float  # the expert's mean
    position: float  # 0 at the baseline mean (or one SCALE worse than the expert's), 1 at the expert's
    weight: float
    score: float
    scored: bool = True  # every metric counts (False only in grades stored before SCALE)
    separated: bool = True  # False: the references are closer than SCALE, so the gap is SCALE


@dataclass
class ChoiceFeedback:
    decision: int
    option: str
    label: str
    points: float
    objectives: list[int]
    feedback: str


@dataclass
class CriticalError:
    decision: int
    option: str
    label: str
    reason: str


@dataclass
class Grade:
    score: float
    passed: bool
    pass_mark: float
    rubric_score: float
    rubric_points: float
    rubric_max: float
    outcome_score: float
    rubric_weight: float
    outcome_weight: float
    metrics: list[MetricScore]
    choices: list[ChoiceFeedback]
    runs: int
    outcome_passed: bool = False
    critical_errors: list[CriticalError] = field(default_factory=list)
    reference_runs: int = 0
    # The score's 95% interval over its runs (delta method, scenarios/adaptive.py); None for
    # one run. ``stopped``: how an adaptive grade ended: "settled" (the rule was met) or
    # "cap" (the most runs allowed, the score being close to the pass mark); "" for a fixed count.
    interval: tuple[float, float] | None = None
    stopped: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rubric_max(scenario: Scenario) -> float:
    total = 0.0
    for point in scenario.decisions:
        pts = sorted((o.points for o in point.options), reverse=True)
        if point.kind == "single":
            total += max(0.0, pts[0])
        else:
            total += sum(p for p in pts[: point.max_choices] if p > 0)
    return total


def rubric_score(scenario: Scenario, decisions: Sequence[Sequence[str]]) -> float:
    """100 x the chosen options' points over the best achievable, clamped to 0..100."""
    points = sum(scenario.decisions[i].option(o).points for i, chosen in enumerate(decisions) for o in chosen)
    best = rubric_max(scenario)
    return 100.0 * min(1.0, max(0.0, points / best)) if best > 0 else 100.0


def scored(metric: str, baseline: float, expert: float) -> bool:
    """True when the references are at least the metric's SCALE apart (they separate)."""
    return abs(baseline - expert) >= SCALE.get(metric, DEFAULT_SCALE)


def anchor(metric: str, baseline: float, expert: float) -> float:
    """The baseline value positions are measured from: the baseline mean when the references
    separate, else one SCALE worse than the expert's mean."""
    if scored(metric, baseline, expert):
        return baseline
    scale = SCALE.get(metric, DEFAULT_SCALE)
    return expert - scale if metric in HIGHER_IS_BETTER else expert + scale


def position(value: float, baseline: float, expert: float, metric: str | None = None) -> float:
    if metric is not None:
        baseline = anchor(metric, baseline, expert)
    return (baseline - value) / (baseline - expert)


def metric_score(value: float, baseline: float, expert: float, metric: str | None = None) -> float:
    """The logistic score of ``value`` between the two references (see the module doc); with
    ``metric``, references closer than its SCALE are widened to it."""
    p = max(-50.0, min(50.0, position(value, baseline, expert, metric)))
    return 100.0 / (1.0 + math.exp(-_K * (p - _C)))


_CACHE: dict[tuple[str, int], References] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def references(scenario: Scenario, runs: int | None = None) -> References:
    """The scenario's reference distributions (cached per scenario version in this process)."""
    from .engine import monte_carlo

    runs = int(runs or scenario.grading.reference_runs)
    key = (scenario.fingerprint, runs)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found
    means = {}
    for name, path in (("expert", scenario.expert_path), ("baseline", scenario.baseline_path)):
        dist = monte_carlo(scenario, path, runs, REFERENCE_SEED)
        means[name] = {m: s.mean for m, s in dist.metrics.items()}
    found = References(runs, REFERENCE_SEED, means["expert"], means["baseline"])
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = found
    return found


def critical_errors(scenario: Scenario, decisions: Sequence[Sequence[str]]) -> list[CriticalError]:
    found = []
    for i, chosen in enumerate(decisions):
        for oid in chosen:
            o = scenario.decisions[i].option(oid)
            if o is not None and o.critical:
                found.append(CriticalError(i, o.id, o.label, o.critical))
    return found


def grade(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    distribution: Distribution,
    refs: References | None = None,
) -> Grade:
    """Score decisions: the outcome against the reference distributions, plus rubric points."""
    problems = validate_decisions(scenario, [list(d) for d in decisions])
    if problems:
        raise DecisionError(problems)
    refs = refs or references(scenario)
    g = scenario.grading
    choices = []
    points = 0.0
    for i, chosen in enumerate(decisions):
        point = scenario.decisions[i]
        for oid in chosen:
            o = point.option(oid)
            points += o.points
            choices.append(ChoiceFeedback(i, o.id, o.label, o.points, list(o.objectives), o.feedback))
    best = rubric_max(scenario)
    rubric = 100.0 * min(1.0, max(0.0, points / best)) if best > 0 else 100.0
    scores = []
    for name, th in g.outcomes.items():
        value = distribution.metrics[name].mean
        b, e = refs.baseline[name], refs.expert[name]
        scores.append(
            MetricScore(
                name, value, b, e, position(value, b, e, name), th.weight, metric_score(value, b, e, name),
                separated=scored(name, b, e),
            )
        )  # fmt: skip
    weight = sum(s.weight for s in scores)
    outcome = sum(s.score * s.weight for s in scores) / weight if weight > 0 else 50.0
    total_w = g.rubric_weight + g.outcome_weight
    score = (g.rubric_weight * rubric + g.outcome_weight * outcome) / total_w
    errors = critical_errors(scenario, decisions)
    interval = None
    if distribution.runs > 1 and all(name in distribution.per_run for name in g.outcomes):
        from .adaptive import Z95, score_and_se

        per_run = {name: np.asarray(distribution.per_run[name], dtype=float) for name in g.outcomes}
        half = Z95 * score_and_se(scenario, per_run, refs, rubric)[1]
        interval = (round(score - half, 4), round(score + half, 4))
    return Grade(
        score=round(score, 4), passed=score >= g.pass_mark and not errors, pass_mark=g.pass_mark,
        rubric_score=round(rubric, 4), rubric_points=points, rubric_max=best,
        outcome_score=round(outcome, 4), rubric_weight=g.rubric_weight,
        outcome_weight=g.outcome_weight, metrics=scores, choices=choices,
        runs=distribution.runs, outcome_passed=outcome >= g.pass_mark and not errors,
        critical_errors=errors, reference_runs=refs.runs, interval=interval,
    )  # fmt: skip


def grade_attempt(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    seed: int,
    workers: int | None = None,
    runs: int | None = None,
) -> Grade:
    """Grade an attempt as Ripple does: the adaptive rule (``scenario.grading.adaptive``,
    scenarios/adaptive.py) decides how many runs; with ``runs``, exactly that many."""
    from . import adaptive
    from .engine import monte_carlo

    if runs is None:
        return adaptive.grade(scenario, decisions, seed, workers=workers)[0]
    return grade(scenario, decisions, monte_carlo(scenario, decisions, runs, seed, workers=workers))


def grade_each_run(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    distribution: Distribution,
    refs: References | None = None,
) -> list[Grade]:
    """Grade every run of a distribution on its own (for calibration: pass rate across seeds)."""
    refs = refs or references(scenario)
    grades = []
    for i in range(distribution.runs):
        metrics = {}
        for name, values in distribution.per_run.items():
            v = values[i]
            metrics[name] = MetricSummary(v, v, v, v, (v, v), 0.0)
        single = Distribution(1, distribution.seed, distribution.decisions, metrics, [], {}, {})
        grades.append(grade(scenario, decisions, single, refs))
    return grades


def pass_rates(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    distribution: Distribution,
    refs: References | None = None,
) -> tuple[float, float]:
    """(share of the runs that pass, share whose outcome alone reaches the pass mark), from one
    grading of each run."""
    grades = grade_each_run(scenario, decisions, distribution, refs)
    n = len(grades)
    return sum(g.passed for g in grades) / n, sum(g.outcome_passed for g in grades) / n


def pass_rate(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    distribution: Distribution,
    refs: References | None = None,
) -> float:
    """Share of the distribution's runs that pass when graded one by one."""
    return pass_rates(scenario, decisions, distribution, refs)[0]


def outcome_pass_rate(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    distribution: Distribution,
    refs: References | None = None,
) -> float:
    """Share of the runs whose outcome alone reaches the pass mark (no critical error)."""
    return pass_rates(scenario, decisions, distribution, refs)[1]
