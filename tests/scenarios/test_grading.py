"""Grades: the outcome against the scenario's reference distributions, rubric points, critical errors.

The documented formula (scenarios/grading.py): position p = (baseline - v) / (baseline - expert),
metric score = a logistic in p with the baseline mean -> 20 and the expert mean -> 90.
"""

from __future__ import annotations

import json

import pytest

from scenarios import grade, grade_attempt, grade_each_run, grading, load_scenario, monte_carlo, rubric_max
from scenarios.grading import SCALE, References, metric_score, position, references
from scenarios.results import Distribution, MetricSummary

from .conftest import scenario_text

# The tiny scenario with a critical option at point 2, feedback on every option, few reference
# runs, and the default grading (no grading.outcomes: retaliation_risk x2, peak_reach, trust).
GRADED = scenario_text(
    **{
        "{label: Call the pastor, points: 5,": "{label: Call the pastor, points: 5, feedback: Early and right.,",
        "      - {label: Wait}": "      - {label: Wait, feedback: Too late.}",
        "      - {label: Nothing}\n": (
            "      - {label: Nothing}\n"
            "      - {label: Name the suspect on air, critical: It endangers the witness.,"
            " actions: [{do: police_statement, content: claim}]}\n"
        ),
        'baseline_path: "1b,2c"': 'baseline_path: "1b,2c"\ngrading: {reference_runs: 20, runs: 5}',
    }
)
DEFAULT_OUTCOMES = ["retaliation_risk", "peak_reach", "police_trust_end"]


@pytest.fixture(scope="module")
def graded():
    return load_scenario(GRADED)


def _dist(values: dict[str, float], runs: int = 1) -> Distribution:
    """A distribution whose every run has these metric values (grading reads only the means)."""
    metrics = {m: MetricSummary(v, v, v, v, (v, v), 0.0) for m, v in values.items()}
    return Distribution(runs, 1, [], metrics, [], {}, {m: [v] * runs for m, v in values.items()})


# Lower is better for retaliation risk and reach, higher for trust.
REFS = References(
    20,
    grading.REFERENCE_SEED,
    expert={"retaliation_risk": 0.5, "peak_reach": 0.2, "police_trust_end": 0.6},
    baseline={"retaliation_risk": 2.0, "peak_reach": 0.6, "police_trust_end": 0.4},
)


def _at(p: float) -> dict[str, float]:
    """Metric values at position p on every default outcome."""
    return {m: REFS.baseline[m] - p * (REFS.baseline[m] - REFS.expert[m]) for m in DEFAULT_OUTCOMES}


@pytest.mark.parametrize(("baseline", "expert"), [(2.0, 0.5), (0.3, 0.6), (0.6, 0.2), (10.0, 40.0)])
def test_the_baseline_mean_scores_20_and_the_expert_mean_90(baseline, expert):
    assert position(baseline, baseline, expert) == 0 and position(expert, baseline, expert) == 1
    assert metric_score(baseline, baseline, expert) == pytest.approx(20)
    assert metric_score(expert, baseline, expert) == pytest.approx(90)


@pytest.mark.parametrize(("baseline", "expert"), [(2.0, 0.5), (0.3, 0.6)])  # lower / higher is better
def test_the_score_is_strictly_monotone_and_never_0_or_100(baseline, expert):
    positions = [i / 10 for i in range(-200, 81)]  # far worse than the baseline to far beyond the expert
    scores = [metric_score(baseline - p * (baseline - expert), baseline, expert) for p in positions]
    assert all(a < b for a, b in zip(scores, scores[1:], strict=False))
    assert all(0 < s < 100 for s in scores)
    # a worse outcome always costs points, even past the expert and below the baseline
    assert metric_score(baseline - 3 * (baseline - expert), baseline, expert) < metric_score(
        baseline - 3.5 * (baseline - expert), baseline, expert
    )


def test_the_score_depends_only_on_the_position_whichever_direction_is_better():
    for p in (-1.0, 0.0, 0.3, 0.5, 1.0, 1.7):
        lower = metric_score(2.0 - p * 1.5, baseline=2.0, expert=0.5)  # e.g. retaliations
        higher = metric_score(0.3 + p * 0.3, baseline=0.3, expert=0.6)  # e.g. police trust
        assert lower == pytest.approx(higher)
    # half way between the references is above the middle of 20 and 90 (the curve is a logistic)
    assert 20 < metric_score(1.25, 2.0, 0.5) < 90


def test_references_closer_than_the_scale_are_widened_to_it_in_the_better_direction(graded):
    """Both references alike (say no case damage in either): a worse value still costs points."""
    scale = SCALE["retaliation_risk"]
    close = References(
        20,
        1,
        {**REFS.expert, "retaliation_risk": 1.0},
        {**REFS.baseline, "retaliation_risk": 1.0 + scale / 2},
    )
    worse = {**_at(1.0), "retaliation_risk": 1.0 + scale}  # one scale worse than the expert
    g = grade(graded, graded.expert_path, _dist(worse), close)
    risk = next(m for m in g.metrics if m.metric == "retaliation_risk")
    assert not risk.separated and risk.scored
    assert risk.position == pytest.approx(0.0) and risk.score == pytest.approx(20)
    at_expert = grade(graded, graded.expert_path, _dist({**_at(1.0), "retaliation_risk": 1.0}), close)
    assert next(m for m in at_expert.metrics if m.metric == "retaliation_risk").score == pytest.approx(90)
    assert at_expert.outcome_score > g.outcome_score
    # higher-is-better metrics are widened the other way: trust below the expert's costs points
    same_trust = References(
        20, 1, REFS.expert, {**REFS.baseline, "police_trust_end": REFS.expert["police_trust_end"]}
    )
    low = grade(graded, graded.expert_path, _dist({**_at(1.0), "police_trust_end": 0.5}), same_trust)
    trust = next(m for m in low.metrics if m.metric == "police_trust_end")
    assert not trust.separated and trust.score < 20
    # references far enough apart are used as they are
    far = References(
        20,
        1,
        {**REFS.expert, "retaliation_risk": 1.0},
        {**REFS.baseline, "retaliation_risk": 1.0 + scale * 2},
    )
    g = grade(graded, graded.expert_path, _dist({**_at(1.0), "retaliation_risk": 1.0 + scale * 2}), far)
    risk = next(m for m in g.metrics if m.metric == "retaliation_risk")
    assert risk.separated and risk.score == pytest.approx(20)


def test_by_default_the_rubric_weighs_0_4_and_the_outcome_0_6(graded):
    assert (graded.grading.rubric_weight, graded.grading.outcome_weight) == (0.4, 0.6)
    assert [m for m in graded.grading.outcomes] == DEFAULT_OUTCOMES
    g = grade(graded, [["a"], ["a"]], _dist(_at(0.5)), REFS)  # 10 of 12 points
    assert g.rubric_score == pytest.approx(100 * 10 / 12, abs=1e-3)
    assert g.score == pytest.approx(0.4 * g.rubric_score + 0.6 * g.outcome_score, abs=1e-3)
    weights = {m.metric: m.weight for m in g.metrics}
    assert weights == {"retaliation_risk": 2.0, "peak_reach": 1.0, "police_trust_end": 1.0}


def test_a_critical_error_fails_a_high_score(graded):
    decisions = [["a"], ["a", "b", "d"]]  # every point there is, and the outcome of the expert
    g = grade(graded, decisions, _dist(_at(1.2)), REFS)
    assert g.rubric_score == 100 and g.outcome_score > 90 and g.score >= g.pass_mark
    assert not g.passed and not g.outcome_passed
    assert [(e.decision, e.option, e.label, e.reason) for e in g.critical_errors] == [
        (1, "d", "Name the suspect on air", "It endangers the witness.")
    ]
    clean = grade(graded, [["a"], ["a", "b"]], _dist(_at(1.2)), REFS)
    assert clean.passed and clean.outcome_passed and clean.critical_errors == []


def test_outcome_passed_is_the_outcome_alone_against_the_pass_mark(graded):
    g = grade(graded, [["b"], ["c"]], _dist(_at(1.0)), REFS)  # no points, the expert's outcome
    assert g.rubric_score == 0 and g.outcome_score == pytest.approx(90)
    assert not g.passed and g.outcome_passed
    g = grade(graded, [["a"], ["a", "b"]], _dist(_at(0.0)), REFS)  # every point, the baseline's outcome
    assert g.rubric_score == 100 and g.outcome_score == pytest.approx(20)
    assert not g.outcome_passed and g.score == pytest.approx(0.4 * 100 + 0.6 * 20, abs=1e-3)


def test_older_good_and_bad_keys_still_load_and_score_against_the_references():
    text = GRADED.replace(
        "grading: {reference_runs: 20, runs: 5}",
        "grading:\n  reference_runs: 20\n  outcomes:\n"
        "    retaliations: {good: 0, bad: 2, weight: 2}\n    peak_reach: {good: 0.1, bad: 0.6}\n",
    )
    s = load_scenario(text)
    assert s.grading.outcomes["retaliations"].good == 0 and s.grading.outcomes["retaliations"].bad == 2
    assert s.grading.outcomes["peak_reach"].weight == 1
    refs = References(
        20, 1, {"retaliations": 0.5, "peak_reach": 0.3}, {"retaliations": 1.5, "peak_reach": 0.4}
    )
    g = grade(s, s.expert_path, _dist({"retaliations": 0.0, "peak_reach": 0.4}), refs)
    scores = {m.metric: m.score for m in g.metrics}
    # at "good" but not 100 (the old line gave 100); at the baseline mean, 20 (the old line gave 40)
    assert (
        scores["retaliations"] == pytest.approx(metric_score(0.0, 1.5, 0.5)) and scores["retaliations"] < 100
    )
    assert scores["peak_reach"] == pytest.approx(20)


def test_older_thresholds_do_not_change_the_score():
    plain = load_scenario(
        GRADED.replace(
            "grading: {reference_runs: 20, runs: 5}",
            "grading:\n  reference_runs: 20\n  outcomes: {peak_reach: {weight: 1}}\n",
        )
    )
    old = load_scenario(
        GRADED.replace(
            "grading: {reference_runs: 20, runs: 5}",
            "grading:\n  reference_runs: 20\n  outcomes: {peak_reach: {good: 0.1, bad: 0.2}}\n",
        )
    )
    refs = References(20, 1, {"peak_reach": 0.2}, {"peak_reach": 0.6})
    dist = _dist({"peak_reach": 0.4})
    assert (
        grade(plain, plain.expert_path, dist, refs).outcome_score
        == grade(old, old.expert_path, dist, refs).outcome_score
    )


def test_references_are_cached_per_fingerprint_and_a_pure_function(graded):
    grading._CACHE.clear()
    first = references(graded)
    assert first.runs == 20 and first.seed == grading.REFERENCE_SEED
    assert set(first.expert) == set(first.baseline) and "retaliation_risk" in first.expert
    assert references(graded) is first  # cached
    assert (graded.fingerprint, 20) in grading._CACHE
    retitled = load_scenario(GRADED.replace("title: A tiny scenario", "title: Another title"))
    assert retitled.fingerprint != graded.fingerprint
    other = references(retitled)
    assert other is not first and other == first  # its own entry; the same dynamics, the same numbers
    grading._CACHE.clear()
    again = references(graded)
    assert again is not first and again == first  # recomputed: the same numbers
    assert json.loads(json.dumps(again.to_dict())) == first.to_dict()
    assert References.from_dict(first.to_dict()) == first


def test_grade_uses_the_cached_references_when_none_are_given(graded):
    dist = monte_carlo(graded, graded.expert_path, 6, seed=2)
    assert grade(graded, graded.expert_path, dist) == grade(
        graded, graded.expert_path, dist, references(graded)
    )
    assert grade(graded, graded.expert_path, dist).reference_runs == 20


def test_rubric_max_counts_best_single_and_best_multiple(tiny):
    assert rubric_max(tiny) == 5 + (5 + 2)


def test_grade_is_pure_and_json_friendly(graded):
    dist = monte_carlo(graded, graded.baseline_path, 10, seed=2)
    a = grade(graded, graded.baseline_path, dist)
    assert a == grade(graded, graded.baseline_path, dist)
    assert [c.option for c in a.choices] == ["b", "c"]
    json.dumps(a.to_dict())


def test_each_run_is_graded_on_its_own(graded):
    dist = monte_carlo(graded, graded.expert_path, 6, seed=3)
    each = grade_each_run(graded, graded.expert_path, dist)
    assert len(each) == 6
    for i, g in enumerate(each):
        risk = next(m for m in g.metrics if m.metric == "retaliation_risk")
        assert risk.value == dist.per_run["retaliation_risk"][i]


def test_feedback_comes_with_each_choice(graded):
    g = grade_attempt(graded, [["a"], ["a"]], seed=1, runs=5)
    assert [c.feedback for c in g.choices] == ["Early and right.", ""]
    assert g.runs == 5
    g = grade_attempt(graded, [["b"], ["c"]], seed=1)
    assert g.choices[0].feedback == "Too late."


def test_pass_rates_grade_each_run_once_and_give_both_rates(graded, monkeypatch):
    dist = monte_carlo(graded, graded.expert_path, 6, seed=3)
    want = (
        grading.pass_rate(graded, graded.expert_path, dist),
        grading.outcome_pass_rate(graded, graded.expert_path, dist),
    )
    calls = []
    real = grading.grade
    monkeypatch.setattr(grading, "grade", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert grading.pass_rates(graded, graded.expert_path, dist) == want
    assert len(calls) == 6
