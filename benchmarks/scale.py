"""Calibration sweep throughput with 1 and 2 worker processes (issue 9; target >= 1.7x on 2 cores).

A sweep is every decision path of a library scenario (or a 60-path sample) times RUNS
Monte Carlo runs; paths are split across worker processes the way Celery splits them across
workers. The 1-worker sweep, measured in the same run, is the baseline. Prints; asserts nothing.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

RUNS = 40


def _sweep_part(args) -> int:
    import scenarios

    text, keys = args
    scenario = scenarios.load_scenario(text)
    for key in keys:
        scenarios.monte_carlo(scenario, scenarios.parse_choose(scenario, key), RUNS, seed=1)
    return len(keys) * RUNS


def sweep(text: str, keys: list[str], workers: int) -> tuple[float, int]:
    chunks = [keys[i::workers] for i in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        runs = sum(pool.map(_sweep_part, [(text, chunk) for chunk in chunks]))
    return time.perf_counter() - started, runs


def main() -> None:
    import scenarios
    from scenarios.paths import enumerate_paths

    print(f"cores: {os.cpu_count()}; {RUNS} runs per path")
    for path in scenarios.list_library()[:2]:
        text = path.read_text()
        scenario = scenarios.load_scenario(text)
        keys = [scenarios.format_choose(scenario, p) for p in enumerate_paths(scenario, sample=60).paths]
        one, runs = sweep(text, keys, 1)
        two, _ = sweep(text, keys, 2)
        print(
            f"{scenario.slug:<24} {len(keys):>3} paths x {RUNS} runs: 1 worker {runs / one:7.0f} runs/s, "
            f"2 workers {runs / two:7.0f} runs/s, speed-up {one / two:4.2f}x"
        )
    print("target: speed-up >= 1.7x on 2 cores")


if __name__ == "__main__":
    main()
