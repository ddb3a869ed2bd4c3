"""Work that depends only on a scenario, done once per scenario object and shared by its runs."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

KEPT = 64  # scenarios remembered per cached function; past that the oldest is dropped


def per_scenario(build: Callable[[object], T]) -> Callable[[object], T]:
    """``build(scenario)``, worked out once per scenario object (by identity, so a scenario
    built again, or changed with ``dataclasses.replace``, is worked out anew; the scenario is
    kept beside its value, so a reused ``id`` is told apart). The value is shared by every
    run of the scenario: it must be treated as read-only."""
    kept: dict[int, tuple[object, T]] = {}
    lock = threading.Lock()  # a miss's insert and eviction (a hit only reads)

    @functools.wraps(build)
    def cached(scenario):
        entry = kept.get(id(scenario))
        if entry is not None and entry[0] is scenario:
            return entry[1]
        value = build(scenario)
        with lock:
            while len(kept) >= KEPT:
                del kept[next(iter(kept))]
            kept[id(scenario)] = (scenario, value)
        return value

    cached.cache = kept  # for tests
    return cached
