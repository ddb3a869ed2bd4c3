"""Every run has an event budget: a scenario that validates but explodes is stopped.

Retaliation can pass criticality with finite, valid numbers (a branching close to 1
times an anger multiplier of up to 1 / anger_reference), and then incidents multiply
without end. The run stops with ``EventBudgetExceeded`` once its work passes
``event_budget(scenario)``, which the library's runs never come near.
"""

from __future__ import annotations

import pickle

import pytest

import scenarios as engine
from scenarios.model.world import World

from .conftest import STORE

BASE = STORE  # the store-dispute scenario as first published
CALM = "  branching: 0.4\n  decay_hours: 30\n"
EXPLOSIVE = "  branching: 0.99\n  decay_hours: 0.5\n"  # x an anger multiplier of up to 20
EXPLODING = BASE.replace(CALM, EXPLOSIVE).replace("  anger_reference: 0.4\n", "  anger_reference: 0.05\n")


@pytest.fixture(scope="module")
def exploding():
    assert EXPLODING != BASE
    return engine.load_scenario(EXPLODING)  # it is a valid scenario


def test_an_exploding_run_is_stopped_by_the_budget(exploding):
    with pytest.raises(engine.EventBudgetExceeded) as caught:
        engine.simulate(exploding, exploding.expert_path, seed=1)
    error = caught.value
    assert error.budget == engine.event_budget(exploding)
    assert error.budget < error.used <= error.budget + max(g.size for g in exploding.groups)
    assert "more than the" in str(error) and "retaliation" in str(error)


def test_a_replay_to_a_decision_point_is_stopped_too(exploding):
    with pytest.raises(engine.EventBudgetExceeded):
        engine.simulate(exploding, exploding.expert_path, seed=1, stop_at_decision=2)


@pytest.mark.parametrize("workers", [None, 2])
def test_monte_carlo_stops_with_the_same_error(exploding, workers):
    with pytest.raises(engine.EventBudgetExceeded):
        engine.monte_carlo(exploding, exploding.expert_path, runs=4, seed=1, workers=workers)


def test_the_error_crosses_process_boundaries():
    error = pickle.loads(pickle.dumps(engine.EventBudgetExceeded(10, 11, 2.5)))
    assert (error.budget, error.used, error.at_hours) == (10, 11, 2.5)
    assert str(error).startswith("the simulation was stopped at hour 2.5 after 11 model events")


def test_the_budget_grows_with_population_and_horizon():
    small = engine.load_scenario(BASE)
    larger = engine.load_scenario(BASE.replace("size: 140", "size: 14000"))
    longer = engine.load_scenario(BASE.replace("  horizon_hours: 72\n", "  horizon_hours: 240\n"))
    assert engine.event_budget(larger) > engine.event_budget(small)
    assert engine.event_budget(longer) > engine.event_budget(small)


@pytest.mark.parametrize("path", engine.list_library(), ids=lambda p: p.stem)
def test_library_runs_use_a_small_part_of_their_budget(path):
    scenario = engine.load_scenario(path)
    budget = engine.event_budget(scenario)
    paths = [scenario.expert_path, scenario.baseline_path, *scenario.late_paths.values()]
    for decisions in paths:
        for seed in engine.run_seeds(3, 8):
            world = World(scenario, [list(d) for d in decisions], seed)
            world.env.run(until=scenario.grading.horizon_hours + 1e-9)
            # measured over every path and 60 seeds: at most 13 units per person, 1/30 of the budget
            assert world.model_events * 10 < budget


@pytest.mark.parametrize("command", ["run", "paths"])
def test_the_cli_reports_the_budget_and_exits_1(tmp_path, capsys, command):
    from scenarios.__main__ import main

    hostile = tmp_path / "exploding.yaml"
    hostile.write_text(EXPLODING, encoding="utf-8")
    assert main([command, str(hostile), "--runs", "2", "--quiet"]) == 1
    assert "the simulation was stopped at hour" in capsys.readouterr().err


@pytest.mark.parametrize("path", engine.list_library(), ids=lambda p: p.stem)
def test_a_run_without_detail_is_the_same_run_and_spends_the_same(path):
    """A Monte Carlo's runs (detail=False) skip the event log and the partner reports, which
    change nothing in the community: same metrics, same summary series, same work counted, so
    the budget stops both at the same point."""
    s = engine.load_scenario(path)
    for decisions in (s.baseline_path, s.expert_path):
        full, light = (World(s, [list(d) for d in decisions], 11, detail=d) for d in (True, False))
        for world in (full, light):
            world.env.run(until=s.grading.horizon_hours + 1e-9)
        assert light.metrics() == full.metrics()
        assert light.model_events == full.model_events
        for name in ("times", "reach", "incidents", "police_trust"):
            assert getattr(light.series, name) == getattr(full.series, name), name
        assert light.events == [] and full.events
    assert any(e.kind == "warning" for e in full.events)  # the expert's partners reported
