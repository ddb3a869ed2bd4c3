"""Grades: rubric points plus outcome scores; pure functions.

Formula (documented in scenarios/README.md):

* rubric = 100 x clamp(sum of chosen option points / best achievable points, 0, 1)
  where the best achievable is, per decision point, the best option's points
  (single choice) or the sum of the best ``max_choices`` positive points (multiple).
* each outcome metric with thresholds (good, bad) scores
  100 x clamp((bad - mean) / (bad - good), 0, 1): 100 at or beyond "good",
  0 at or beyond "bad", linear between; works whichever direction is better.
* outcome = weighted mean of the metric scores (weights from the scenario).
* score = (rubric_weight x rubric + outcome_weight x outcome) / (rubric_weight + outcome_weight)
* passed = score >= pass_mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .decisions import DecisionError, validate_decisions
from .results import Distribution
from .schema import Scenario


@dataclass
class MetricScore:
    metric: str
    value: float
    good: float
    bad: float
    weight: float
    score: float


@dataclass
class ChoiceFeedback:
    decision: int
    option: str
    label: str
    points: float
    objectives: list[int]
    feedback: str


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


def metric_score(value: float, good: float, bad: float) -> float:
    return 100.0 * min(1.0, max(0.0, (bad - value) / (bad - good)))


def grade(scenario: Scenario, decisions: Sequence[Sequence[str]], distribution: Distribution) -> Grade:
    """Score decisions: rubric points and outcome metric means against thresholds."""
    problems = validate_decisions(scenario, [list(d) for d in decisions])
    if problems:
        raise DecisionError(problems)
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
        scores.append(
            MetricScore(name, value, th.good, th.bad, th.weight, metric_score(value, th.good, th.bad))
        )
    weight = sum(s.weight for s in scores)
    outcome = sum(s.score * s.weight for s in scores) / weight if weight > 0 else 100.0
    total_w = g.rubric_weight + g.outcome_weight
    score = (g.rubric_weight * rubric + g.outcome_weight * outcome) / total_w
    return Grade(
        score=round(score, 4), passed=score >= g.pass_mark, pass_mark=g.pass_mark,
        rubric_score=round(rubric, 4), rubric_points=points, rubric_max=best,
        outcome_score=round(outcome, 4), rubric_weight=g.rubric_weight,
        outcome_weight=g.outcome_weight, metrics=scores, choices=choices,
        runs=distribution.runs,
    )  # fmt: skip


def grade_attempt(
    scenario: Scenario, decisions: Sequence[Sequence[str]], seed: int, workers: int | None = None
) -> Grade:
    """Run ``scenario.grading.runs`` Monte Carlo runs and grade them."""
    from .engine import monte_carlo

    return grade(
        scenario, decisions, monte_carlo(scenario, decisions, scenario.grading.runs, seed, workers=workers)
    )


def grade_each_run(
    scenario: Scenario, decisions: Sequence[Sequence[str]], distribution: Distribution
) -> list[Grade]:
    """Grade every run of a distribution on its own (for calibration: pass rate across seeds)."""
    from .results import MetricSummary

    grades = []
    for i in range(distribution.runs):
        metrics = {}
        for name, values in distribution.per_run.items():
            v = values[i]
            metrics[name] = MetricSummary(v, v, v, v, (v, v), 0.0)
        single = Distribution(1, distribution.seed, distribution.decisions, metrics, [], {}, {})
        grades.append(grade(scenario, decisions, single))
    return grades


def pass_rate(scenario: Scenario, decisions: Sequence[Sequence[str]], distribution: Distribution) -> float:
    """Share of the distribution's runs that pass when graded one by one."""
    grades = grade_each_run(scenario, decisions, distribution)
    return sum(g.passed for g in grades) / len(grades)
