"""The model reproduces published results when its extras are switched off."""

from __future__ import annotations

import math

import pytest

from scenarios import load_scenario, simulate

MAKI_THOMPSON = """
ripple_scenario: 1
slug: maki-thompson
title: Maki-Thompson reference
community:
  mixing: well_mixed
  groups: [{id: everyone, size: 5000}]
rumour: {start_hours: 0, seeds: 1, escalation: 0, contact_rate: 1}
tension: {anger_per_level: 0}
decisions:
  - {at_hours: 0, prompt: Nothing to decide, options: [{label: wait}, {label: wait}]}
grading: {horizon_hours: 1000, sample_minutes: 600}
expert_path: "1a"
baseline_path: "1b"
"""

HAWKES = """
ripple_scenario: 1
slug: hawkes
title: Hawkes reference
community:
  mixing: well_mixed
  groups: [{id: a, size: 1}, {id: b, size: 1}]
incident: {by: a, against: b}
rumour: {seeds: 0}
retaliation: {groups: [a, b], branching: 0.5, decay_hours: 1, baseline_per_day: 0, anger_weight: 0}
decisions:
  - {at_hours: 0, prompt: Nothing to decide, options: [{label: wait}, {label: wait}]}
grading: {horizon_hours: 200, sample_minutes: 1440}
expert_path: "1a"
baseline_path: "1b"
"""


def test_maki_thompson_final_ignorant_fraction():
    """Well mixed (N = 5,000), no escalation, corrections or groups: the never-heard share is ~0.2032."""
    theory = 0.2032  # root of x = exp(-2(1 - x))
    assert abs(theory - math.exp(-2 * (1 - theory))) < 1e-3
    scenario = load_scenario(MAKI_THOMPSON)
    assert scenario.population == 5000
    values = [simulate(scenario, [["a"]], seed).metrics["never_heard_fraction"] for seed in range(30)]
    mean = sum(values) / len(values)
    print(f"Maki-Thompson never-heard fraction over {len(values)} runs: {mean:.4f} (theory {theory})")
    assert mean == pytest.approx(theory, abs=0.01)


@pytest.mark.slow  # about 30 s of CPU per branching ratio
@pytest.mark.parametrize("n", [0.3, 0.5, 0.7])
def test_hawkes_offspring_of_one_incident(n):
    """Interventions off: one incident triggers n/(1-n) further incidents on average.

    The total progeny of one incident has variance n/(1-n)^3, so over 12,000 runs the standard
    error of the mean is about 2% of n/(1-n) at each of these branching ratios, and 5% is about
    2.5 of them."""
    scenario = load_scenario(HAWKES.replace("branching: 0.5,", f"branching: {n},"))
    assert scenario.retaliation.branching == n
    runs = 12_000
    metrics = [simulate(scenario, [["a"]], seed).metrics for seed in range(runs)]
    mean = sum(m["retaliations"] for m in metrics) / runs
    risk = sum(m["retaliation_risk"] for m in metrics) / runs
    print(
        f"Hawkes n={n}: mean further incidents {mean:.4f}, mean retaliation_risk {risk:.4f}, "
        f"vs n/(1-n) = {n / (1 - n):.4f} over {runs} runs"
    )
    assert mean == pytest.approx(n / (1 - n), rel=0.05)
    # retaliation_risk is the process's compensator: the same expectation, with less spread
    assert risk == pytest.approx(n / (1 - n), rel=0.05)
