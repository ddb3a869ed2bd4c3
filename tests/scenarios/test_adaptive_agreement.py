"""The adaptive grade's verdict agrees with a 2,000-run grade's on the library's calibration paths.

For every library scenario and every path its calibration names (expert, baseline, each contrast
path; see test_library.py), one 2,000-run distribution is simulated on SEED. The adaptive rule
would run the first k of those same runs (the seed family is a prefix), so it is evaluated on
the distribution's prefix (``adaptive.agreement``): an exact shortcut, checked on a small
scenario in test_adaptive.py.

Slow (minutes per scenario). Set RIPPLE_AGREEMENT_CACHE to a folder to keep the 2,000-run
metric values between sessions (keyed by the scenario's fingerprint, the path and the seed).
"""

from __future__ import annotations

import os

import pytest

from scenarios import adaptive, list_library, load_scenario, references

FULL = 2000
SEED = 2024
AGREEMENT = 0.99  # share of a scenario's paths whose adaptive verdict is the 2,000-run verdict


@pytest.mark.slow
@pytest.mark.parametrize("file", list_library(), ids=lambda p: p.stem)
def test_the_adaptive_verdict_is_the_2000_run_verdict(file):
    scenario = load_scenario(file)
    refs = references(scenario)
    cache = os.environ.get("RIPPLE_AGREEMENT_CACHE")
    rows = [
        adaptive.agreement(scenario, name, path, SEED, FULL, refs, cache)
        for name, path in adaptive.calibration_paths(scenario).items()
    ]
    print(f"\n{scenario.slug} (pass mark {scenario.grading.pass_mark:g})")
    for r in rows:
        print(
            f"  {r.name[:44]:44s} adaptive {r.adaptive.score:6.2f} ({r.stop.low:.1f}-{r.stop.high:.1f}) "
            f"{r.stop.runs:4d} runs {r.stop.reason:7s} | {FULL} runs {r.full.score:6.2f}"
            + ("" if r.agrees else "  VERDICT DIFFERS")
        )
    agree = sum(r.agrees for r in rows) / len(rows)
    assert agree >= AGREEMENT, [r.name for r in rows if not r.agrees]
