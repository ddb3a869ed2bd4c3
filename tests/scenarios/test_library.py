"""The built-in scenarios: valid, distinct in what they teach, and calibrated."""

from __future__ import annotations

import pytest

from scenarios import grade_each_run, list_library, load_scenario, monte_carlo, rubric_max

SEEDS = 60  # runs per path; each run graded on its own

LIBRARY = list_library()
SLUGS = {"crew-shooting-rumour", "use-of-force-video", "store-dispute", "officer-transfer"}


def test_the_library_holds_the_four_scenarios():
    assert {p.stem for p in LIBRARY} == SLUGS


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_scenario_is_well_formed(path):
    s = load_scenario(path)
    assert s.slug == path.stem
    assert s.briefing and s.summary and s.objectives
    assert 3 <= len(s.decisions) <= 5
    assert any(d.kind == "multiple" for d in s.decisions)
    for d in s.decisions:
        assert 3 <= len(d.options) <= 4
        assert all(o.feedback.strip() for o in d.options), d.id
    assert rubric_max(s) > 0
    assert s.late_paths, "a plausible-but-late path is part of the calibration"
    assert 300 <= s.population <= 1500


def test_scenarios_teach_different_objectives():
    objectives = {p.stem: frozenset(load_scenario(p).objectives) for p in LIBRARY}
    assert len(set(objectives.values())) == len(objectives)
    assert set().union(*objectives.values()) >= {1, 2, 3, 4, 5, 6, 7}


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_scenario_is_calibrated(path):
    """Expert passes in >= 95% of seeds, no partnership fails in >= 95%, a late path in between."""
    s = load_scenario(path)
    paths = {
        "expert": s.expert_path,
        "baseline": s.baseline_path,
        **{f"late: {k}": v for k, v in s.late_paths.items()},
    }
    rows = {}
    for name, decisions in paths.items():
        dist = monte_carlo(s, decisions, SEEDS, seed=2024)
        grades = grade_each_run(s, decisions, dist)
        rows[name] = {
            "pass_rate": sum(g.passed for g in grades) / len(grades),
            "score": sum(g.score for g in grades) / len(grades),
            "outcome": sum(g.outcome_score for g in grades) / len(grades),
            "retaliations": dist.metrics["retaliations"].mean,
            "peak_reach": dist.metrics["peak_reach"].mean,
        }
    print(f"\n{s.slug} (pass mark {s.grading.pass_mark:g}, {SEEDS} seeds per path)")
    for name, row in rows.items():
        print(f"  {name:45s} " + "  ".join(f"{k} {v:6.3f}" for k, v in row.items()))
    expert, baseline = rows["expert"], rows["baseline"]
    assert expert["pass_rate"] >= 0.95
    assert baseline["pass_rate"] <= 0.05
    assert expert["outcome"] > baseline["outcome"]
    between = [
        name
        for name, row in rows.items()
        if name.startswith("late")
        and baseline["score"] < row["score"] < expert["score"]
        and baseline["outcome"] < row["outcome"] < expert["outcome"]
    ]
    assert between, "no plausible-but-late path sits between the expert and the baseline"
