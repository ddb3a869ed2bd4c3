"""simulate(), monte_carlo(), replay to a decision point, and the debrief layout."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .decisions import DecisionError, validate_decisions
from .model.world import EventBudgetExceeded, event_budget
from .results import Distribution, MetricSummary, Run
from .schema import Scenario

__all__ = [
    "METRIC_DOCS", "EventBudgetExceeded", "community_layout", "event_budget", "monte_carlo",
    "run_seeds", "simulate", "summarise",
]  # fmt: skip

METRIC_DOCS = {
    "incidents": "violent incidents in the horizon, the first one included",
    "retaliations": "incidents after the first one (retaliations)",
    "time_to_first_retaliation": "hours from the first incident to the first retaliation (horizon if none)",
    "peak_reach": "largest share of the community believing the rumour at one time",
    "final_reach": "share believing the rumour at the horizon",
    "peak_severity": "highest rumour level anyone held (1 = the first version)",
    "corrected_fraction": "share of the community a correction reached and convinced",
    "heard_fraction": "share who ever heard the rumour",
    "never_heard_fraction": "share who never heard it (Maki-Thompson: about 0.203)",
    "mean_anger_end": "mean anger (0..1) over everyone at the horizon",
    "peak_mean_anger": "highest mean anger over everyone, sampled",
    "police_trust_end": "mean trust in police (0..1) at the horizon",
    "retaliation_risk": "retaliations expected from the run's hazard, integrated over the horizon (smoother than the count)",
    "leaks": "pieces of sensitive information that travelled beyond the partner told",
    "case_damage": "1 if investigative detail or an operational plan got out, else 0",
    "contradicted_claims": "public police claims the facts later contradicted",
}

SERIES_BANDS = ("reach", "incidents", "police_trust")


def simulate(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    seed: int,
    stop_at_decision: int | None = None,
    detail: bool = True,
) -> Run:
    """One run: a pure function of (scenario, decisions, seed).

    With ``stop_at_decision=k`` (0-based) the run stops just before decision
    point k is taken and ``run.observation`` is what the trainee sees there;
    only ``decisions[:k]`` are needed. The stopped run's events are a prefix of
    the full run's. Raises ``DecisionError`` for decisions that do not fit, and
    ``EventBudgetExceeded`` if the run needs more work than ``event_budget(scenario)``
    (a scenario whose retaliation explodes), so no run can hang its process.
    ``detail=False`` keeps only the metrics and the series a Monte Carlo summary reads
    (no events, no per-group or per-level series); those are the same as with detail.
    """
    from .model.world import World

    decisions = [list(d) for d in decisions]
    if stop_at_decision is not None:
        if not 0 <= stop_at_decision < len(scenario.decisions):
            raise DecisionError(
                [f"stop_at_decision must be 0..{len(scenario.decisions) - 1}, got {stop_at_decision}"]
            )
        decisions = decisions[:stop_at_decision]
        problems = validate_decisions(scenario, decisions, partial_ok=True)
        if len(decisions) < stop_at_decision:
            problems.append(
                f"decisions for the first {stop_at_decision} points are needed, got {len(decisions)}"
            )
    else:
        problems = validate_decisions(scenario, decisions)
    if problems:
        raise DecisionError(problems)
    world = World(scenario, decisions, int(seed), detail=detail)
    earlier: list = []
    if stop_at_decision is not None:
        for point in scenario.decisions[:stop_at_decision]:
            world.observe_at(point.at_hours, earlier)
        at = scenario.decisions[stop_at_decision].at_hours
        # SimPy needs a stop time after "now"; at 0 this still lets the incident happen
        world.env.run(until=max(at, 1e-9))
        observation = world.observation(at)
    else:
        world.env.run(until=scenario.grading.horizon_hours + 1e-9)
        observation = None
    return Run(
        seed=int(seed),
        decisions=decisions,
        events=world.events,
        series=world.series,
        metrics=world.metrics(),
        observation=observation,
        spread=world.spread,
        people_groups=world.people_groups(),
        stopped_at_decision=stop_at_decision,
        earlier=earlier,
    )


def run_seeds(seed: int, runs: int) -> list[int]:
    """The seed family of a Monte Carlo: deterministic, independent of workers."""
    return [int(x) for x in np.random.SeedSequence(int(seed)).generate_state(runs, dtype=np.uint32)]


def _one(args: tuple) -> tuple[dict[str, float], dict[str, list[float]]]:
    scenario, decisions, seed = args
    run = simulate(scenario, decisions, seed, detail=False)
    s = run.series
    return run.metrics, {
        "reach": s.reach,
        "incidents": [float(x) for x in s.incidents],
        "police_trust": s.police_trust,
    }


def _chunk(args: tuple) -> list:
    scenario, decisions, seeds = args
    return [_one((scenario, decisions, s)) for s in seeds]


def monte_carlo(
    scenario: Scenario,
    decisions: Sequence[Sequence[str]],
    runs: int,
    seed: int,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Distribution:
    """Many runs with a seed family derived from ``seed``; serial and parallel agree exactly.

    ``workers > 1`` spreads runs over processes. ``progress(done, total)`` is
    called as runs complete.
    """
    decisions = [list(d) for d in decisions]
    problems = validate_decisions(scenario, decisions)
    if problems:
        raise DecisionError(problems)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    seeds = run_seeds(seed, runs)
    results: list = []
    if workers and workers > 1 and runs > 1:
        workers = min(workers, runs, os.cpu_count() or 1) or 1
        size = max(1, math.ceil(runs / (workers * 4)))
        chunks = [seeds[i : i + size] for i in range(0, runs, size)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for part in pool.map(_chunk, [(scenario, decisions, c) for c in chunks]):
                results.extend(part)
                if progress:
                    progress(len(results), runs)
    else:
        for s in seeds:
            results.append(_one((scenario, decisions, s)))
            if progress and (len(results) % 10 == 0 or len(results) == runs):
                progress(len(results), runs)
    return summarise(scenario, decisions, seed, results)


def summarise(scenario: Scenario, decisions: list[list[str]], seed: int, results: list) -> Distribution:
    names = list(results[0][0])
    per_run = {m: [r[0][m] for r in results] for m in names}
    metrics = {}
    for m, values in per_run.items():
        arr = np.asarray(values, dtype=float)
        mean = float(arr.mean())
        std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
        half = 1.96 * std / math.sqrt(len(arr))
        p10, p50, p90 = (float(x) for x in np.quantile(arr, [0.1, 0.5, 0.9]))
        metrics[m] = MetricSummary(mean, p10, p50, p90, (mean - half, mean + half), std)
    length = min(len(r[1]["reach"]) for r in results)
    step = scenario.grading.sample_minutes / 60.0
    times = [round(i * step, 6) for i in range(length)]
    bands = {}
    for name in SERIES_BANDS:
        arr = np.asarray([r[1][name][:length] for r in results], dtype=float)
        q = np.quantile(arr, [0.1, 0.5, 0.9], axis=0)
        bands[name] = {
            "p10": q[0].tolist(),
            "p50": q[1].tolist(),
            "p90": q[2].tolist(),
            "mean": arr.mean(axis=0).tolist(),
        }
    return Distribution(len(results), int(seed), decisions, metrics, times, bands, per_run)


def community_layout(scenario: Scenario, seed: int) -> list[tuple[float, float]]:
    """Positions per person (index order) for drawing the network, seeded.

    Uses the same network as ``simulate(scenario, ..., seed)``.
    """
    import networkx as nx

    from .model.community import build_population

    pop = build_population(scenario, np.random.default_rng(int(seed)))
    graph = nx.Graph()
    graph.add_nodes_from(range(len(pop.group_of)))
    if pop.adjacency is not None:
        graph.add_edges_from((i, j) for i, nb in enumerate(pop.adjacency) for j in nb if i < j)
    pos = nx.spring_layout(graph, seed=int(seed) % (2**32), iterations=50)
    return [(float(pos[i][0]), float(pos[i][1])) for i in range(len(pop.group_of))]
