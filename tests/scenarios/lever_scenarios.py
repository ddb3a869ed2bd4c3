"""Small inline scenarios for the lever tests (tests/scenarios/test_levers.py).

One community (two armed crews and the families around them, 200 people) and every kind of
partner; each test builds the decision points it needs with ``build`` and compares paths on
paired seeds with ``paired``. The first incident is north against south, so the retaliation
the model expects is south's: levers aimed at the hazard name south.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence

import numpy as np

import scenarios
from scenarios import simulate
from scenarios.engine import run_seeds

GROUPS = [
    {"id": "north", "size": 50, "role": "crew", "anger": 0.3},
    {"id": "south", "size": 50, "role": "crew", "anger": 0.3},
    {"id": "homes", "size": 100, "role": "family"},
]


def partner(pid: str, ptype: str, groups: dict[str, tuple[float, float]], **extra) -> dict:
    return {
        "id": pid,
        "type": ptype,
        "groups": {g: {"reach": r, "credibility": c} for g, (r, c) in groups.items()},
        **extra,
    }


# every partner type a lever needs; delays are short so that a 48-hour run sees them act
PARTNERS = [
    partner("pastor", "faith_leader", {"homes": (0.8, 0.9), "south": (0.6, 0.8), "north": (0.4, 0.6)},
             delay_hours=1.0, discretion=1.0),
    # the same reach, told things a partner with no discretion repeats
    partner("talker", "block_captain", {"homes": (0.8, 0.9), "south": (0.6, 0.8), "north": (0.4, 0.6)},
             delay_hours=1.0, discretion=0.0),
    partner("outreach", "interrupter", {"south": (0.7, 0.6), "north": (0.7, 0.6)},
             delay_hours=1.0, discretion=1.0),
    # the interrupter's reach and credibility, so that keeping busy and mediating compare like for like
    partner("mentor", "youth_mentor", {"south": (0.7, 0.6), "north": (0.7, 0.6)},
             delay_hours=1.0, discretion=1.0),
    partner("analyst", "crime_analyst", {}, delay_hours=2.0),
    partner("services", "social_services", {"south": (0.7, 0.8), "homes": (0.5, 0.8)}, delay_hours=1.0),
    partner("probation", "probation_parole", {"south": (0.5, 0.5)}, delay_hours=1.0),
    partner("prosecutor", "prosecutor", {}, delay_hours=3.0),
    partner("researcher", "researcher", {}, delay_hours=4.0),
]  # fmt: skip

BASE = {
    "ripple_scenario": 1,
    "slug": "levers",
    "title": "Levers",
    "community": {"groups": GROUPS},
    "partners": PARTNERS,
    "incident": {"by": "north", "against": "south", "facts_emerge_hours": 12},
    "rumour": {"contact_rate": 0.7},
    "tension": {"anger_per_level": 0.1},
    "retaliation": {"groups": ["north", "south"], "branching": 0.3, "baseline_per_day": 0.05},
    "grading": {"horizon_hours": 36, "sample_minutes": 60},
}


# For levers on the hazard: a steady background of incidents, little self-excitation and no
# anger from incidents, so that retaliation_risk follows the hazard, not the few runs whose
# retaliations cascade (the paired gaps are then several times their noise).
HAZARD = {
    "retaliation": {"branching": 0.1, "baseline_per_day": 0.5},
    "tension": {"anger_per_incident": 0.0},
}


def _merge(into: dict, over: dict) -> None:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def build(*points: tuple[float, dict[str, list[dict]]], **over) -> scenarios.Scenario:
    """A scenario with one decision point per ``(at_hours, {option id: [actions]})``.

    Every point is a multiple choice and also has option ``z``, doing nothing; ``over``
    is merged into the document (``incident={"facts_emerge_hours": 6}``)."""
    doc = copy.deepcopy(BASE)
    _merge(doc, over)
    doc["decisions"] = [
        {
            "at_hours": at,
            "prompt": "What now?",
            "kind": "multiple",
            "options": [{"id": oid, "label": oid, "actions": acts} for oid, acts in options.items()]
            + [{"id": "z", "label": "Nothing"}],
        }
        for at, options in points
    ]
    nothing = ",".join(f"{i + 1}z" for i in range(len(points)))
    doc["expert_path"] = doc["baseline_path"] = nothing
    return scenarios.load_scenario(json.dumps(doc, indent=1))


def nothing(s: scenarios.Scenario) -> list[list[str]]:
    return [["z"] for _ in s.decisions]


def path(*choices: str) -> list[list[str]]:
    """``path("a+b", "z")`` -> [["a", "b"], ["z"]]."""
    return [c.split("+") for c in choices]


def runs(s: scenarios.Scenario, decisions: Sequence[Sequence[str]], n: int, seed: int = 1) -> list:
    return [simulate(s, decisions, sd) for sd in run_seeds(seed, n)]


def paired(s: scenarios.Scenario, paths: dict[str, list[list[str]]], n: int, seed: int = 1) -> dict:
    """{path name: {metric: array over the same n seeds}}."""
    out = {}
    for name, decisions in paths.items():
        ms = [r.metrics for r in runs(s, decisions, n, seed)]
        out[name] = {m: np.array([x[m] for x in ms]) for m in ms[0]}
    return out


def gap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of a - b over paired seeds, and its standard error."""
    d = np.asarray(a, float) - np.asarray(b, float)
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0


def above(a: np.ndarray, b: np.ndarray, margin: float = 0.0, z: float = 4.0) -> bool:
    """a's mean is above b's by more than ``margin`` and by ``z`` standard errors of the paired gap."""
    m, se = gap(a, b)
    return m > margin and m > z * se
