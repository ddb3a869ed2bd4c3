"""Every number in the scenario format has a finite, documented range.

Infinity, NaN and huge values are refused with an issue naming the field and its line,
instead of validating and then hanging the simulation or giving a NaN score; ``1e9``
reads as a number (then range-checked), not as text.
"""

from __future__ import annotations

import math

import pytest

import scenarios as engine
from scenarios import schema

from .conftest import STORE

BASE = STORE  # the store-dispute scenario as first published


def _with(old: str, new: str) -> tuple[str, int]:
    """The store-dispute scenario with one line changed, and that line's number."""
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new), BASE[: BASE.index(old)].count("\n") + 1


def _issues(text: str) -> list[str]:
    with pytest.raises(engine.ScenarioError) as caught:
        engine.load_scenario(text)
    return [str(issue) for issue in caught.value.issues]


HOSTILE = [
    # (the line as it is, the line made hostile, the issue expected)
    ("  baseline_per_day: 0.02\n", "  baseline_per_day: .inf\n",
     "retaliation.baseline_per_day: must be at most 10, got inf"),
    ("  baseline_per_day: 0.02\n", "  baseline_per_day: 1.0e+9\n",
     "retaliation.baseline_per_day: must be at most 10, got 1000000000"),
    ("  baseline_per_day: 0.02\n", "  baseline_per_day: 1e9\n",
     "retaliation.baseline_per_day: must be at most 10, got 1000000000"),
    ("  baseline_per_day: 0.02\n", "  baseline_per_day: .nan\n",
     "retaliation.baseline_per_day: must be a number, got NaN"),
    ("  decay_hours: 30\n", "  decay_hours: .inf\n",
     f"retaliation.decay_hours: must be at most {schema.MAX_DECAY_HOURS}, got inf"),
    ("  decay_hours: 48\n", "  decay_hours: 1e300\n",
     f"tension.decay_hours: must be at most {schema.MAX_DECAY_HOURS}, got 1e+300"),
    ("  start_hours: 0.2\n", "  start_hours: .inf\n",
     f"rumour.start_hours: must be at most {schema.MAX_HOURS}, got inf"),
    ("  escalation: 0.12\n", "  escalation: -.inf\n", "rumour.escalation: must be at least 0, got -inf"),
    ("    at_hours: 20\n", "    at_hours: .inf\n",
     f"decisions[2].at_hours: must be at most {schema.MAX_HOURS}, got inf"),
    ("  delay_hours: 0.5\n  statement_reach", "  delay_hours: .inf\n  statement_reach",
     "police.delay_hours: must be at most 336, got inf"),
    ("  runs: 200\n", "  runs: 1000000\n", f"grading.runs: must be at most {schema.MAX_RUNS}, got 1000000"),
    ("{good: 0.2, bad: 1.5, weight: 2}", "{good: 0.2, bad: 1.5, weight: .inf}",
     "grading.outcomes.retaliations.weight: must be at most 100, got inf"),
    ("{good: 0.2, bad: 1.5, weight: 2}", "{good: -.inf, bad: 1.5, weight: 2}",
     "grading.outcomes.retaliations.good: must be at least 0, got -inf"),
    ("{good: 0.2, bad: 0.6, weight: 1}", "{good: 0.2, bad: 6, weight: 1}",
     "grading.outcomes.peak_reach.bad: must be at most 1, got 6"),
    ("version: 1\n", "version: 1" + "0" * 400 + "\n", "version: must be at most 1000000, got a number of 401 digits"),
    ("version: 1\n", "version: 1" + "0" * 5000 + "\n", "version: cannot be read: a number this long is not allowed"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), HOSTILE, ids=[h[1].strip() for h in HOSTILE])
def test_a_hostile_number_is_an_issue_naming_the_field_and_line(old, new, expected):
    text, line = _with(old, new)
    assert _issues(text) == [f"{expected} (line {line})"]


def test_exponent_numbers_are_numbers():
    text, _ = _with("  escalation: 0.12\n", "  escalation: 12e-2\n")
    assert engine.load_scenario(text).rumour.escalation == pytest.approx(0.12)


def test_every_metric_threshold_range_is_finite():
    assert set(schema.METRIC_RANGES) == set(schema.METRICS)
    assert all(math.isfinite(lo) and math.isfinite(hi) for lo, hi in schema.METRIC_RANGES.values())


@pytest.mark.parametrize(
    ("key", "limit"),
    [("groups", schema.MAX_GROUPS), ("partners", schema.MAX_PARTNERS), ("decisions", schema.MAX_DECISIONS)],
)
def test_lists_the_model_loops_over_are_bounded(key, limit):
    import yaml

    data = yaml.safe_load(BASE)
    items = data["community"]["groups"] if key == "groups" else data[key]
    items.extend(dict(items[-1], id=f"extra{i}") for i in range(limit))
    issues = _issues(yaml.safe_dump(data, sort_keys=False))
    path = "community.groups" if key == "groups" else key
    assert any(i.startswith(f"{path}: allows at most {limit} item(s)") for i in issues), issues


def test_reference_runs_are_capped_at_a_thousand():
    # each grade's references simulate the expert and the baseline path this many times
    text, line = _with("  runs: 200\n", "  runs: 200\n  reference_runs: 1001\n")
    assert _issues(text) == [f"grading.reference_runs: must be at most 1000, got 1001 (line {line + 1})"]
    ok, _ = _with("  runs: 200\n", "  runs: 200\n  reference_runs: 1000\n")
    assert engine.load_scenario(ok).grading.reference_runs == 1000
