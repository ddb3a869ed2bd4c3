"""Adaptive grading (scenarios/adaptive.py): batches from a prefix seed family, a stop rule, and
the same grade for the same inputs, serial or parallel."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from scenarios import (
    AdaptiveRule,
    ScenarioError,
    adaptive,
    grade,
    load_scenario,
    monte_carlo,
    references,
    run_seeds,
)
from scenarios.grading import critical_errors, rubric_score

from .conftest import scenario_text

# The tiny scenario with small batches, so a grade takes a few dozen runs.
RULE = "adaptive: {batch: 5, floor: 10, cap: 40}"
TINY = scenario_text(
    **{'baseline_path: "1b,2c"': f'baseline_path: "1b,2c"\ngrading: {{reference_runs: 20, {RULE}}}'}
)


@pytest.fixture(scope="module")
def small():
    return load_scenario(TINY)


@pytest.mark.parametrize("k", [1, 19, 20, 200])
def test_the_first_k_seeds_of_a_family_are_its_k_run_family(k):
    assert run_seeds(2024, k) == run_seeds(2024, 2000)[:k]


def test_a_scenario_can_set_the_rule(small):
    assert small.grading.adaptive == AdaptiveRule(batch=5, floor=10, cap=40)


def test_without_a_grading_adaptive_block_the_defaults_apply(tiny):
    assert tiny.grading.adaptive == AdaptiveRule()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{floor: 1}", "grading.adaptive.floor: must be at least 2, got 1"),
        ("{floor: 50, cap: 40}", "grading.adaptive.cap: cap (40) must be at least floor (50)"),
        ("{confidence: 1}", "grading.adaptive.confidence: must be at most 0.9999, got 1"),
        ("{width: 0}", "grading.adaptive.width: must be at least 0.01, got 0"),
        ("{runs: 9}", 'grading.adaptive.runs: unknown key "runs"'),
        ("[1, 2]", "grading.adaptive: expected a mapping"),
    ],
)
def test_a_bad_rule_is_refused_with_where_and_what(rule, message):
    text = scenario_text(
        **{'baseline_path: "1b,2c"': f'baseline_path: "1b,2c"\ngrading: {{adaptive: {rule}}}'}
    )
    with pytest.raises(ScenarioError) as error:
        load_scenario(text)
    assert message in str(error.value)


@pytest.mark.parametrize("path", ["1a,2a+b", "1b,2c", "1a,2b"])
def test_an_adaptive_grade_is_the_fixed_grade_of_the_runs_it_stopped_at(small, path):
    decisions = [p.split("+") for p in path.replace("1", "").replace("2", "").split(",")]
    result, dist = adaptive.grade(small, decisions, seed=7)
    fixed = monte_carlo(small, decisions, result.runs, 7)
    assert dist.per_run == fixed.per_run
    again = grade(small, decisions, fixed)
    assert {**again.to_dict(), "stopped": result.stopped} == result.to_dict()


def test_the_same_inputs_stop_at_the_same_run_with_the_same_grade(small):
    first, _ = adaptive.grade(small, small.baseline_path, seed=11)
    second, _ = adaptive.grade(small, small.baseline_path, seed=11)
    assert first.to_dict() == second.to_dict()


def test_parallel_batches_give_the_serial_grade(small):
    serial, _ = adaptive.grade(small, small.expert_path, seed=5)
    parallel, _ = adaptive.grade(small, small.expert_path, seed=5, workers=2)
    assert parallel.to_dict() == serial.to_dict()


class _Pools:
    """Spread's make_pool, counting the pools it starts."""

    def __init__(self):
        self.made = 0

    def __call__(self, workers):
        self.made += 1
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("after, workers", [(10, 2), (0, 3)])
def test_a_grade_that_goes_parallel_part_way_is_the_serial_grade(small, seed, after, workers):
    """Path a, b runs 25 to 40 runs on these seeds: past the floor, in rounds of a batch per
    process, so the runs of a round past the stop are dropped."""
    path = [["a"], ["b"]]
    serial, serial_runs = adaptive.grade(small, path, seed=seed)
    assert serial.runs > 10
    pools = _Pools()
    spread = adaptive.Spread(workers=workers, after=after, make_pool=pools)
    parallel, parallel_runs = adaptive.grade(small, path, seed=seed, spread=spread)
    assert parallel.to_dict() == serial.to_dict()
    assert parallel_runs.per_run == serial_runs.per_run and pools.made == 1


def test_a_grade_settled_before_it_may_spread_starts_no_pool(small):
    pools = _Pools()
    result, _ = adaptive.grade(
        small, small.baseline_path, seed=1, spread=adaptive.Spread(2, after=10, make_pool=pools)
    )
    assert result.runs == 10 and pools.made == 0


def test_a_busy_machine_keeps_the_grade_serial(small):
    def no_pool(workers):
        raise AssertionError("a busy machine must not start a pool")

    asked = []
    spread = adaptive.Spread(workers=2, idle=lambda: asked.append(1) or False, make_pool=no_pool)
    result, _ = adaptive.grade(small, small.baseline_path, seed=3, spread=spread)
    serial, _ = adaptive.grade(small, small.baseline_path, seed=3)
    assert result.to_dict() == serial.to_dict() and asked == [1]  # asked once, not every batch


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_grade_stops_after_a_whole_batch_between_the_floor_and_the_cap(small, seed):
    result, _ = adaptive.grade(small, small.baseline_path, seed=seed)
    assert 10 <= result.runs <= 40 and result.runs % 5 == 0
    assert result.stopped in {"settled", "cap"}
    assert (result.stopped == "cap") == (result.runs == 40)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rule_on_a_longer_runs_prefix_stops_where_the_grade_does(small, seed):
    """What the agreement test and the bench rely on: no need to run the grade again."""
    refs = references(small)
    path = small.expert_path
    longer = monte_carlo(small, path, 60, seed)
    stop = adaptive.stopping_run(
        small, longer.per_run, refs, rubric_score(small, path), bool(critical_errors(small, path))
    )
    result, _ = adaptive.grade(small, path, seed, refs)
    assert (stop.runs, stop.reason) == (result.runs, result.stopped)


def test_the_grade_carries_a_95_percent_interval_around_its_score(small):
    result, _ = adaptive.grade(small, small.baseline_path, seed=3)
    low, high = result.interval
    assert low < result.score < high
    assert result.score - low == pytest.approx(high - result.score, abs=1e-3)


def test_the_delta_method_gives_no_spread_when_every_run_is_alike(small):
    refs = references(small)
    same = {m: np.full(30, refs.expert[m]) for m in small.grading.outcomes}
    _, se = adaptive.score_and_se(small, same, refs, rubric=100.0)
    assert se == pytest.approx(0.0, abs=1e-9)


def test_the_delta_method_se_matches_the_spread_of_scores_over_fresh_seeds(small):
    """Over many independent 40-run grades the score's spread is about the SE the rule uses, on
    average (one grade's SE is itself noisy: the runs' metrics are skewed)."""
    refs = references(small)
    path = small.baseline_path
    rubric = rubric_score(small, path)
    scores, ses = [], []
    long = monte_carlo(small, path, 40 * 25, 99).per_run
    for i in range(25):
        part = {m: np.asarray(long[m][i * 40 : (i + 1) * 40]) for m in small.grading.outcomes}
        score, se = adaptive.score_and_se(small, part, refs, rubric)
        scores.append(score)
        ses.append(se)
    assert np.std(scores, ddof=1) == pytest.approx(np.mean(ses), rel=0.3)


# The rule itself, with the score and its SE given (pass mark 70, the default AdaptiveRule:
# floor 40, cap 1000, width 1, relative width 0.25, verdict at 99%, z = 2.58).
@pytest.mark.parametrize(
    ("runs", "score", "se", "critical", "reason"),
    [
        (20, 90.0, 0.1, False, ""),  # below the floor, however settled
        (40, 90.0, 0.1, False, "settled"),  # far, narrow, settled
        (40, 90.0, 2.0, False, "settled"),  # far: ±3.9 is within a quarter of the 20 points away
        (40, 90.0, 3.0, False, ""),  # ±5.9 is not
        (40, 72.0, 0.4, False, "settled"),  # near: ±0.8 is within ±1 and 2 points clear of the mark
        (40, 72.0, 0.6, False, ""),  # ±1.2 is too wide near the mark
        (40, 70.5, 0.4, False, ""),  # narrow, but 70 lies within 70.5 ± 2.58 x 0.4
        (40, 70.5, 0.4, True, "settled"),  # a critical error settles the verdict by itself
        (1000, 70.5, 0.4, False, "cap"),  # at the cap it stops anyway
    ],
)
def test_the_stop_rule(tiny, monkeypatch, runs, score, se, critical, reason):
    monkeypatch.setattr(adaptive, "score_and_se", lambda *args: (score, se))
    per_run = {m: np.zeros(runs) for m in tiny.grading.outcomes}
    found = adaptive.check(tiny, per_run, references(tiny), 0.0, critical, AdaptiveRule())
    assert (found.reason, found.stop) == (reason, bool(reason))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_agreement_shortcut_grades_what_the_adaptive_grade_grades(small, seed, tmp_path):
    result, _ = adaptive.grade(small, small.baseline_path, seed)
    for cache in (None, tmp_path, tmp_path):  # simulated, then kept, then read back
        found = adaptive.agreement(small, "baseline", small.baseline_path, seed, full=60, cache=cache)
        assert {**found.adaptive.to_dict(), "stopped": result.stopped} == result.to_dict()
        assert (
            found.full.to_dict()
            == grade(small, small.baseline_path, monte_carlo(small, small.baseline_path, 60, seed)).to_dict()
        )
