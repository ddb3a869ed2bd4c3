"""What the library's grades rest on: prints figures, asserts nothing.  ``python -m benchmarks.library``

For each library scenario:

1. the cost of its reference distributions (the expert and no-partnership runs every grade is
   scored against; computed once per scenario version) and of a 200-run grade once they are known;
2. over RUNS seeds, per named path (expert, baseline, each contrast path): the mean outcome score,
   the pass rate on the outcome alone and in total, and the paired drop in outcome score against
   the expert's runs (what a late contact, the wrong messenger, over-sharing or a false statement
   costs; a critical path fails whatever its score).

The same figures, over 400 seeds, are checked by tests/scenarios/test_library.py.
"""

from __future__ import annotations

import time

import numpy as np

import scenarios
from scenarios.grading import critical_errors

RUNS = 200
SEED = 2024


def main() -> None:
    for path in scenarios.list_library():
        s = scenarios.load_scenario(path)
        start = time.perf_counter()
        refs = scenarios.references(s)
        t_refs = time.perf_counter() - start
        start = time.perf_counter()
        scenarios.grade_attempt(s, s.expert_path, seed=7, runs=s.grading.runs)
        t_grade = time.perf_counter() - start
        print(
            f"{s.slug} v{s.version}: references ({refs.runs} runs x 2 paths) {t_refs:.2f} s, once per version;"
        )
        print(f"   a {s.grading.runs}-run grade with them known: {t_grade:.2f} s")
        named = {"expert": ("expert", s.expert_path), "baseline": ("baseline", s.baseline_path)}
        named.update(s.contrast_paths)
        expert_outcomes = None
        print(
            f"   {'kind':16s} {'path':44s} {'outcome':>7s} {'pass on outcome':>15s} {'pass':>5s} {'drop':>6s}"
        )
        for name, (kind, decisions) in named.items():
            dist = scenarios.monte_carlo(s, decisions, RUNS, SEED)
            grades = scenarios.grade_each_run(s, decisions, dist, refs)
            outcomes = np.asarray([g.outcome_score for g in grades])
            if expert_outcomes is None:
                expert_outcomes = outcomes
            drop = float(np.mean(expert_outcomes - outcomes))
            mark = " critical" if critical_errors(s, decisions) else ""
            print(
                f"   {kind:16s} {name[:44]:44s} {outcomes.mean():7.1f} "
                f"{np.mean([g.outcome_passed for g in grades]):15.0%} {np.mean([g.passed for g in grades]):5.0%} "
                f"{drop:6.1f}{mark}"
            )
        print()
