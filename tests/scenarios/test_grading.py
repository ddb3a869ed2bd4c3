"""Grades: rubric over the best achievable, outcomes against thresholds, combined by weight."""

from __future__ import annotations

import json

import pytest

from scenarios import grade, grade_attempt, monte_carlo, rubric_max
from scenarios.grading import metric_score


def test_metric_score_is_linear_between_good_and_bad():
    assert metric_score(0.2, good=0.2, bad=0.6) == 100
    assert metric_score(0.4, good=0.2, bad=0.6) == pytest.approx(50)
    assert metric_score(0.9, good=0.2, bad=0.6) == 0
    assert metric_score(0.45, good=0.5, bad=0.3) == pytest.approx(75)  # higher is better


def test_rubric_max_counts_best_single_and_best_multiple(tiny):
    assert rubric_max(tiny) == 5 + (5 + 2)


def test_grade_combines_rubric_and_outcome(tiny):
    dist = monte_carlo(tiny, tiny.expert_path, 20, seed=1)
    g = grade(tiny, tiny.expert_path, dist)
    assert g.rubric_score == 100
    assert g.score == pytest.approx(0.5 * g.rubric_score + 0.5 * g.outcome_score, abs=1e-3)
    assert g.passed == (g.score >= g.pass_mark)
    assert [c.option for c in g.choices] == ["a", "a", "b"]
    assert {m.metric for m in g.metrics} == {"retaliations", "peak_reach"}
    json.dumps(g.to_dict())


def test_grade_is_pure(tiny):
    dist = monte_carlo(tiny, tiny.baseline_path, 10, seed=2)
    assert grade(tiny, tiny.baseline_path, dist) == grade(tiny, tiny.baseline_path, dist)


def test_feedback_comes_with_each_choice(crew):
    g = grade_attempt(
        crew.__class__(
            **{**crew.__dict__, "grading": crew.grading.__class__(**{**crew.grading.__dict__, "runs": 5})}
        ),
        crew.expert_path,
        seed=1,
    )
    assert all(c.feedback for c in g.choices)
    assert g.runs == 5
