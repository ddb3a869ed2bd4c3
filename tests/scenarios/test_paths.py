"""Decision paths for calibration: every path, or exactly K drawn at random plus the named ones."""

from __future__ import annotations

import pytest

from scenarios import enumerate_paths, format_choose, load_scenario, uses_partners
from scenarios.paths import named_paths

from .conftest import MINIMAL

# Four single-choice points of five options: 625 paths; four named ones (expert, baseline,
# one late path and one contrast path).
POINT = """  - at_hours: {at}
    prompt: Point {n}?
    options:
      - {{label: Call the pastor, points: 5, actions: [{{do: contact_partner, partner: pastor}}]}}
      - {{label: Statement, points: 1, actions: [{{do: police_statement, content: unknowns}}]}}
      - {{label: Claim, critical: It says what nobody knows yet., actions: [{{do: police_statement, content: claim}}]}}
      - {{label: Guard the south, actions: [{{do: guardianship, group: south}}]}}
      - {{label: Wait}}
"""
HEAD = MINIMAL.split("decisions:\n", 1)[0]
MANY = (
    HEAD
    + "decisions:\n"
    + "".join(POINT.format(at=at, n=n) for n, at in enumerate((1, 2, 3, 4), 1))
    + """expert_path: "1a,2b,3b,4a"
baseline_path: "1e,2e,3e,4e"
late_paths: {called late: "1e,2e,3a,4a"}
contrast_paths:
  names the suspect: {kind: oversharing, path: "1a,2c,3b,4a"}
"""
)


@pytest.fixture(scope="module")
def many():
    return load_scenario(MANY)


def test_the_many_path_scenario_is_what_the_tests_assume(many):
    assert len(many.decisions) == 4 and all(len(d.options) == 5 for d in many.decisions)
    assert enumerate_paths(many, sample=1000).total == 625


@pytest.mark.parametrize("k", [1, 10, 60, 300, 624])
def test_a_sample_of_k_draws_exactly_k_distinct_paths_then_adds_the_named_ones(many, k):
    found = enumerate_paths(many, sample=k, seed=3)
    keys = [format_choose(many, p) for p in found.paths]
    assert len(set(keys)) == len(keys)  # distinct
    drawn = set(keys[:k])
    named = {format_choose(many, p) for p in named_paths(many).values()}
    assert len(named) == 4
    assert found.sampled and found.drawn == k
    assert len(keys) == k + len(named - drawn)  # the old loop drew about (k - 4) / 2
    assert set(keys[k:]) == named - drawn
    assert f"a random sample of {k} of 625 paths, plus {len(named - drawn)} named path" in found.note


def test_the_sample_is_seeded(many):
    assert enumerate_paths(many, 30, seed=5).paths == enumerate_paths(many, 30, seed=5).paths
    assert enumerate_paths(many, 30, seed=5).paths != enumerate_paths(many, 30, seed=6).paths


@pytest.mark.parametrize("k", [625, 626, 5000])
def test_with_no_more_paths_than_k_every_path_is_taken(many, k):
    found = enumerate_paths(many, sample=k)
    assert not found.sampled and len(found.paths) == 625 and found.note == "all 625 paths"


def test_named_paths_are_labelled_contrast_paths_by_kind(many):
    labels = enumerate_paths(many, sample=10).labels
    assert labels == {
        "1a,2b,3b,4a": "expert",
        "1e,2e,3e,4e": "baseline",
        "1e,2e,3a,4a": "late: called late",
        "1a,2c,3b,4a": "oversharing: names the suspect",
    }


def test_a_police_only_path_does_not_use_partners(many):
    assert uses_partners(many, many.expert_path)
    assert not uses_partners(many, [["b"], ["c"], ["d"], ["e"]])
