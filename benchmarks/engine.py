"""Engine benchmark: prints figures, asserts nothing.  ``python -m benchmarks.engine``

1. events per second beside SimPy's own floor (bare timeouts, same number of live processes);
2. the time of one run of each library scenario (expert and baseline paths; mean over 20 seeds,
   best of 5 rounds) at its size,
   in ms and in machine-independent units (the run's time x bare SimPy's events per second,
   both measured in this bench run: how many bare SimPy events the run costs), beside
   BASELINE, the same figures at the start of issue 18, and the ratio baseline / now;
3. a 200-run Monte Carlo, serial and with 2 workers;
4. one run's time as the population goes 500, 1k, 2k, 4k, 8k, with a fitted growth exponent.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from dataclasses import replace

import simpy

import scenarios
from scenarios.model.world import World

REPEATS = 15
# Sections 1 and 2 time this process's CPU (time.process_time): on a quiet machine it is the
# wall time, and on the shared one it leaves out the waits for a core that other work causes.
ROUNDS = 5
FLOOR_PROCESSES = 10  # live processes of the SimPy floor that section 2's units are taken against

# One run of each library scenario at the start of issue 18 (before "less work per run"), in
# units of bare SimPy events: (expert, baseline, expert with detail), as section 2 prints them.
# Measured with section 2 on the code of 3 December 2026 (commit 6bc811f), load average 0.5 on
# the shared 2-core machine: the lower of two bench runs (SimPy floor 1.10M and 1.11M events/s).
BASELINE = {
    "call-in-focused-deterrence": (6779, 4649, 8881),
    "crew-shooting-rumour": (3502, 2778, 4090),
    "language-and-distrust": (3370, 2637, 3860),
    "officer-transfer": (3641, 3530, 4271),
    "refresher-night-shift": (2179, 2126, 2536),
    "school-rumour-juvenile": (4068, 3511, 4955),
    "store-dispute": (2478, 2061, 2960),
    "use-of-force-video": (3277, 3216, 3639),
}


def _median_time(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def simpy_floor(processes: int, events: int, seed: int = 1) -> float:
    """Events per second of bare SimPy: `processes` processes doing random timeouts."""
    env = simpy.Environment()
    rng = random.Random(seed)
    per = max(1, events // processes)

    def ticker():
        for _ in range(per):
            yield env.timeout(rng.expovariate(1.0))

    for _ in range(processes):
        env.process(ticker())
    start = time.process_time()
    env.run()
    return processes * per / (time.process_time() - start)


def engine_rate(scenario, decisions, seeds: tuple[int, ...] = tuple(range(10))) -> tuple[float, int, int]:
    """Model events (tellings, hazard checks, hearers reached, ...) per second, and live processes."""
    total_events = 0
    total_time = 0.0
    live = 0
    for seed in seeds:
        start = time.process_time()
        world = World(scenario, decisions, seed)
        world.env.run(until=scenario.grading.horizon_hours + 1e-9)
        total_time += time.process_time() - start
        total_events += world.model_events
        live = max(
            live,
            5
            + sum(len(scenario.decisions[i].option(o).actions) for i, ch in enumerate(decisions) for o in ch),
        )
    return total_events / total_time, total_events // len(seeds), live


def mean_run_time(s, path, detail: bool, seeds: range = range(20)) -> float:
    """Mean time of one run of ``path`` over ``seeds``."""
    start = time.process_time()
    for seed in seeds:
        scenarios.simulate(s, path, seed, detail=detail)
    return (time.process_time() - start) / len(seeds)


def scaled(scenario, population: int):
    """The same community at another size (group shares kept)."""
    factor = population / scenario.population
    groups = tuple(replace(g, size=max(2, round(g.size * factor))) for g in scenario.groups)
    return replace(scenario, groups=groups)


def main() -> int:
    lib = {p.stem: scenarios.load_scenario(p) for p in scenarios.list_library()}
    crew = lib["crew-shooting-rumour"]
    print(f"Ripple engine benchmark (python {sys.version.split()[0]}, simpy {simpy.__version__})\n")

    # 1. events per second vs the SimPy floor, measured in alternation so machine load hits both
    rates, floors = [], []
    for r in range(5):
        rate, per_run, live = engine_rate(crew, crew.expert_path, seeds=tuple(range(10 * r, 10 * r + 10)))
        rates.append(rate)
        floors.append(simpy_floor(live, 100_000, seed=r))
    rate, floor = statistics.median(rates), statistics.median(floors)
    print("1. events per second (crew-shooting-rumour, expert path; median of 5 rounds of 10 seeds)")
    print(f"   engine: {rate:,.0f} model events/s ({per_run:,} per run, about {live} live processes)")
    print(f"   SimPy floor, bare timeouts with {live} processes: {floor:,.0f} events/s")
    print(f"   ratio engine / floor: {rate / floor:.2f}  (target >= 0.5)")
    print("   (model events: tellings, hazard checks, people reached by corrections or calming,")
    print("    anger updates from incidents, group samples and partner checks)\n")

    # 2. one run of each library scenario, in bare SimPy events. The machine is shared, so each
    # figure is the best of ROUNDS rounds (the same seeds each round, so the same work), with
    # the SimPy floor measured in every round and also taken at its best
    print("2. one run of each library scenario: mean over seeds 0-19, best of 5 rounds")
    print("   grading runs (detail=False, as a Monte Carlo's) of the expert | baseline path, and")
    print("   a run with detail (the event log, as the debrief's) of the expert path;")
    print(f"   units = the run's time x bare SimPy's events/s ({FLOOR_PROCESSES} processes), this bench run")
    best: dict[str, list[float]] = {slug: [math.inf] * 3 for slug in lib}
    floor2 = 0.0
    for r in range(ROUNDS):
        floor2 = max(floor2, simpy_floor(FLOOR_PROCESSES, 100_000, seed=r))
        for slug, s in lib.items():
            for c, (path, detail) in enumerate(
                ((s.expert_path, False), (s.baseline_path, False), (s.expert_path, True))
            ):
                best[slug][c] = min(best[slug][c], mean_run_time(s, path, detail))
        floor2 = max(floor2, simpy_floor(FLOOR_PROCESSES, 100_000, seed=ROUNDS + r))
    print(f"   SimPy floor: {floor2:,.0f} events/s")
    print(
        f"   {'':50s} {'ms: expert | baseline | detail':29s} {'units now':21s} "
        f"{'units at issue 18':21s} baseline / now"
    )
    ratios = []
    for slug, s in lib.items():
        ms = best[slug]
        units = [t * floor2 for t in ms]
        line = (
            f"   {slug:27s} {s.population:4d} people, {s.grading.horizon_hours:4g} h: "
            f"{ms[0] * 1000:5.2f} | {ms[1] * 1000:5.2f} | {ms[2] * 1000:5.2f}  "
            + " | ".join(f"{u:5,.0f}" for u in units)
        )
        if slug in BASELINE:
            base = BASELINE[slug]
            r = [b / u for b, u in zip(base, units, strict=True)]
            ratios.extend(r[:2])
            line += "  " + " | ".join(f"{b:5,.0f}" for b in base) + "  " + " | ".join(f"x{x:.2f}" for x in r)
        print(line)
    if ratios:
        print(
            f"   grading runs, baseline / now: least x{min(ratios):.2f}, "
            f"median x{statistics.median(ratios):.2f}  (target >= 1.5)"
        )
    print()

    # 3. Monte Carlo, serial and 2 workers
    print("3. 200-run Monte Carlo (crew-shooting-rumour, expert path)")
    start = time.perf_counter()
    serial = scenarios.monte_carlo(crew, crew.expert_path, 200, seed=1)
    t_serial = time.perf_counter() - start
    start = time.perf_counter()
    parallel = scenarios.monte_carlo(crew, crew.expert_path, 200, seed=1, workers=2)
    t_parallel = time.perf_counter() - start
    same = serial.to_dict() == parallel.to_dict()
    print(
        f"   serial: {t_serial:.2f} s   2 workers: {t_parallel:.2f} s   speed-up {t_serial / t_parallel:.2f}x   identical: {same}\n"
    )

    # 4. scaling
    print("4. one 72-hour run as the population grows (crew-shooting-rumour's community, expert path)")
    sizes = [500, 1000, 2000, 4000, 8000]
    times = []
    for n in sizes:
        s = scaled(crew, n)
        seeds = iter(range(10_000))
        t = _median_time(
            lambda s=s, seeds=seeds: scenarios.simulate(s, s.expert_path, next(seeds)), repeats=9
        )
        times.append(t)
        print(f"   N = {s.population:5d}: {t * 1000:7.1f} ms   ({t / s.population * 1e6:5.2f} us per person)")
    xs = [math.log(n) for n in sizes]
    ys = [math.log(t) for t in times]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    print(f"   fitted growth exponent: time ~ N^{slope:.2f}  (N log N over this range fits about N^1.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
