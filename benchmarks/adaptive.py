"""Adaptive grading on the library: time, runs and agreement.  ``python -m benchmarks.adaptive``

For every library scenario and every calibration path (expert, baseline, each contrast path),
graded as an attempt on SEED, on one core:

1. the time of the adaptive grade (scenarios/adaptive.py) and the runs it used, beside the time
   of the old fixed 200-run grade in the same run (the baseline the ratio is taken against);
2. whether its verdict is that of a 2,000-run grade of the same seed family (the rule applied to
   the 2,000 runs' prefix, which is the adaptive grade's own runs: the family is a prefix);
3. the grades that outrun their rule's floor, spread over every core as a worker spreads them on
   an idle machine (lms/services/grading_spread.py: its kept pool once the floor is passed),
   against the same grades serially; the grade must be the same.

The references are worked out first, once per scenario (as Ripple keeps them on the version),
and not counted. Set RIPPLE_AGREEMENT_CACHE to a folder to reuse the 2,000-run values between
runs (tests/scenarios/test_adaptive_agreement.py keeps the same files).
"""

from __future__ import annotations

import os
import time

import numpy as np

import scenarios
from scenarios import adaptive

SEED = 2024
FIXED = 200  # runs of a grade before the adaptive rule
FULL = 2000


def main() -> None:
    cache = os.environ.get("RIPPLE_AGREEMENT_CACHE")
    times, fixed_times, runs = [], [], []
    long: list[tuple] = []  # grades past their floor
    for path in scenarios.list_library():
        s = scenarios.load_scenario(path)
        refs = scenarios.references(s)
        agree = 0
        named = adaptive.calibration_paths(s)
        for name, decisions in named.items():
            start = time.perf_counter()
            g, _ = adaptive.grade(s, decisions, SEED, refs)
            times.append(time.perf_counter() - start)
            runs.append(g.runs)
            if g.runs > s.grading.adaptive.floor:
                long.append((s, decisions, refs, times[-1], g))
            start = time.perf_counter()
            scenarios.grade(s, decisions, scenarios.monte_carlo(s, decisions, FIXED, SEED), refs)
            fixed_times.append(time.perf_counter() - start)
            agree += adaptive.agreement(s, name, decisions, SEED, FULL, refs, cache).agrees
        print(
            f"{s.slug}: adaptive verdict = {FULL}-run verdict on {agree} of {len(named)} calibration paths "
            f"({agree / len(named):.0%}); runs used {', '.join(str(n) for n in runs[-len(named) :])}"
        )
    median, fixed = float(np.median(times)), float(np.median(fixed_times))
    print(
        f"median time to grade one attempt on the library (adaptive, one core): {median:.3f} s, "
        f"median {np.median(runs):.0f} runs (mean {np.mean(runs):.0f}, most {max(runs)})"
    )
    print(
        f"the old fixed {FIXED}-run grade, same paths, same run: {fixed:.3f} s median; "
        f"adaptive / fixed = {median / fixed:.2f}"
    )
    _spread(long)


def _spread(long: list[tuple]) -> None:
    from lms.services.grading_spread import _pool, end_pools

    cores = os.cpu_count() or 1
    if not long or cores < 2:
        print("no grade outran its floor (or one core): nothing to spread")
        return
    serial, spread = [], []
    for s, decisions, refs, took, g in long:
        how = adaptive.Spread(workers=cores, after=s.grading.adaptive.floor, make_pool=_pool)
        start = time.perf_counter()
        again, _ = adaptive.grade(s, decisions, SEED, refs, spread=how)
        spread.append(time.perf_counter() - start)
        serial.append(took)
        assert again.to_dict() == g.to_dict(), f"{s.slug}: the spread grade differs from the serial one"
    end_pools()
    print(
        f"grades past their floor ({len(long)} of the library's calibration paths), idle machine: "
        f"serial {np.median(serial):.3f} s median, spread over {cores} cores {np.median(spread):.3f} s; "
        f"serial / spread = {np.median(serial) / np.median(spread):.2f} (the same grades)"
    )
