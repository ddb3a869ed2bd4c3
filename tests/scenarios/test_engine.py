"""simulate() and monte_carlo(): deterministic, replayable, JSON-friendly."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import scenarios
from scenarios import (
    DecisionError,
    community_layout,
    format_choose,
    monte_carlo,
    parse_choose,
    simulate,
    validate_decisions,
)

ROOT = Path(__file__).resolve().parents[2]


def test_same_inputs_give_the_same_run(crew):
    a = simulate(crew, crew.expert_path, seed=11)
    b = simulate(crew, crew.expert_path, seed=11)
    assert a.to_dict() == b.to_dict()
    assert simulate(crew, crew.expert_path, seed=12).to_dict() != a.to_dict()


def test_run_is_json_friendly(crew):
    run = simulate(crew, crew.expert_path, seed=3)
    text = json.dumps(run.to_dict())
    assert json.loads(text)["metrics"]["incidents"] >= 1


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_stopping_at_a_decision_gives_a_prefix_of_the_full_run(crew, k):
    full = simulate(crew, crew.expert_path, seed=5)
    part = simulate(crew, crew.expert_path[:k], seed=5, stop_at_decision=k)
    assert part.events == full.events[: len(part.events)]
    assert part.spread == full.spread[: len(part.spread)]
    assert part.series.times == full.series.times[: len(part.series.times)]
    assert part.series.reach == full.series.reach[: len(part.series.reach)]
    at = crew.decisions[k].at_hours
    assert all(e.time < at for e in part.events)
    assert part.observation.time == at
    assert part.observation.clock_label == crew.clock_label(at)


def test_events_are_tied_to_the_decision_that_caused_them(crew):
    run = simulate(crew, crew.expert_path, seed=2)
    caused = {e.decision for e in run.events if e.kind in ("partner_action", "correction")}
    assert {0, 1, 2, 3} <= caused
    assert all(e.time >= crew.decisions[e.decision].at_hours for e in run.events if e.decision is not None)
    kinds = {e.kind for e in run.events}
    assert {"incident", "rumour_start", "correction", "partner_action", "warning", "decision"} <= kinds


def test_observation_shows_nothing_from_partners_not_brought_in(crew):
    # nobody contacted before decision 2: no signals and no visible tension
    alone = simulate(crew, [["c"], ["c"]], seed=4, stop_at_decision=2)
    assert alone.observation.signals == []
    assert set(alone.observation.tension_by_group.values()) == {None}
    assert alone.observation.incidents_so_far >= 1  # police always know their own incidents
    # contact outreach only: signals come only from outreach, tension only where outreach reaches
    with_outreach = simulate(crew, [["b"], ["c"]], seed=4, stop_at_decision=2)
    assert with_outreach.observation.signals
    assert {s.source_partner for s in with_outreach.observation.signals} == {"outreach"}
    visible = {g for g, v in with_outreach.observation.tension_by_group.items() if v is not None}
    assert visible == {g for g, r in crew.partner("outreach").reach.items() if r >= 0.1}


def test_bad_decisions_are_rejected_with_reasons(crew):
    problems = validate_decisions(crew, [["a", "b"], ["z"], ["a"]])
    assert problems == [
        "3 decisions given but the scenario has 4 decision points",
        "decision 1: 2 options chosen for a single-choice point",
        'decision 2: unknown option "z"; known: a, b, c, d',
    ]
    assert validate_decisions(crew, [["a"]], partial_ok=True) == []
    with pytest.raises(DecisionError, match="single-choice"):
        simulate(crew, [["a", "b"], ["a"], ["a"], ["a"]], seed=1)
    with pytest.raises(DecisionError):
        simulate(crew, [["a"]], seed=1)


def test_choose_round_trip(crew):
    decisions = parse_choose(crew, "1a,2a+b,3b,4c")
    assert decisions == [["a"], ["a", "b"], ["b"], ["c"]]
    assert format_choose(crew, decisions) == "1a,2a+b,3b,4c"
    with pytest.raises(DecisionError, match="no decision 9"):
        parse_choose(crew, "1a,9b")
    with pytest.raises(DecisionError, match="no choice for decision 2"):
        parse_choose(crew, "1a,3b", partial_ok=True)


def test_serial_and_parallel_monte_carlo_agree(tiny):
    serial = monte_carlo(tiny, tiny.expert_path, runs=12, seed=9)
    parallel = monte_carlo(tiny, tiny.expert_path, runs=12, seed=9, workers=2)
    assert serial.to_dict() == parallel.to_dict()
    m = serial.metrics["peak_reach"]
    assert m.p10 <= m.p50 <= m.p90 and m.ci95[0] <= m.mean <= m.ci95[1]
    assert len(serial.bands["reach"]["p50"]) == len(serial.times)


def test_monte_carlo_reports_progress(tiny):
    seen = []
    monte_carlo(
        tiny, tiny.expert_path, runs=20, seed=1, progress=lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (20, 20)


def test_layout_is_seeded_and_matches_the_population(tiny):
    a = community_layout(tiny, seed=3)
    assert a == community_layout(tiny, seed=3)
    assert len(a) == len(simulate(tiny, tiny.expert_path, seed=3).people_groups)


def test_runs_do_not_depend_on_the_interpreter_hash_seed():
    code = (
        "import scenarios, json, hashlib\n"
        "s = scenarios.load_scenario(scenarios.list_library()[0])\n"
        "run = scenarios.simulate(s, s.expert_path, 3).to_dict()\n"
        "print(hashlib.sha256(json.dumps(run, sort_keys=True).encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_engine_never_imports_flask_or_lms():
    code = (
        "import scenarios, sys\n"
        "s = scenarios.load_scenario(scenarios.list_library()[0])\n"
        "scenarios.grade(s, s.expert_path, scenarios.monte_carlo(s, s.expert_path, 2, 1))\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0].lower().startswith(('flask', 'lms')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("detail", [True, False])
def test_the_regular_looks_cost_no_simpy_events(crew, detail):
    """Samples, the hourly risk and partner reports are taken between events, not as events:
    a run has fewer SimPy events than samples, and still every sample and the risk to the end."""
    from scenarios.model.world import World

    world = World(crew, [list(d) for d in crew.expert_path], 11, detail=detail)
    steps = 0
    step = world.env.step

    def counted() -> None:
        nonlocal steps
        steps += 1
        step()

    world.env.step = counted
    horizon = crew.grading.horizon_hours
    world.env.run(until=horizon + 1e-9)
    samples = int(horizon * 60 / crew.grading.sample_minutes) + 1
    assert len(world.series.times) == samples and world.series.times[-1] == horizon
    assert world.risk_t == horizon
    assert steps < samples


def _random_path(scenario, rng):
    path = []
    for point in scenario.decisions:
        ids = [o.id for o in point.options]
        path.append(rng.sample(ids, rng.randint(1, min(point.max_choices, len(ids)))))
    return path


@pytest.mark.parametrize("slug", sorted(p.stem for p in scenarios.list_library()))
def test_a_stopped_run_carries_each_earlier_observation_exactly(library, slug):
    """The play page shows the change since the previous decision from ``run.earlier``: it must be
    what a run stopped at that decision sees, and taking it must not change the run."""
    scenario = library[slug]
    rng = random.Random(slug)
    paths = [scenario.expert_path, scenario.baseline_path, _random_path(scenario, rng)]
    for path, seed in zip(paths, (3, 17, rng.randrange(2**32)), strict=True):
        full = simulate(scenario, path, seed)
        last = len(scenario.decisions) - 1
        stopped = simulate(scenario, path[:last], seed, stop_at_decision=last)
        assert stopped.events == full.events[: len(stopped.events)]
        assert stopped.spread == full.spread[: len(stopped.spread)]
        assert stopped.series.reach == full.series.reach[: len(stopped.series.reach)]
        assert len(stopped.earlier) == last
        for k in range(last):
            alone = simulate(scenario, path[:k], seed, stop_at_decision=k)
            assert stopped.earlier[k] == alone.observation, (slug, k)
            assert alone.earlier == stopped.earlier[:k]
