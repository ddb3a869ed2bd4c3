"""Decision paths of a scenario: every one, or a seeded sample plus the named ones.

Used by ``python -m scenarios paths`` and by the web app's calibration, so both rank
the same paths.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from .decisions import format_choose
from .schema import Scenario

# Actions that involve a partner: a path without any of them is a "no partnership" path.
PARTNER_ACTIONS = frozenset(
    {
        "contact_partner",
        "follow_up",
        "ask_correction",
        "joint_message",
        "mediation",
        "hand_over",
        "acknowledge",
    }
)


def all_paths(s: Scenario) -> list[list[list[str]]]:
    """Per decision point, its choices: each option of a single-choice point, each allowed
    set of a multiple one."""
    per_point = []
    for d in s.decisions:
        ids = [o.id for o in d.options]
        if d.kind == "single":
            per_point.append([[i] for i in ids])
        else:
            combos = []
            for k in range(1, d.max_choices + 1):
                combos.extend([list(c) for c in itertools.combinations(ids, k)])
            per_point.append(combos)
    return per_point


def count_paths(s: Scenario) -> int:
    """How many distinct decision paths the scenario has."""
    total = 1
    for choices in all_paths(s):
        total *= len(choices)
    return total


@dataclass
class PathSet:
    """The paths to calibrate, the named ones among them, and how they were chosen."""

    paths: list[list[list[str]]]
    labels: dict[str, str]  # format_choose key -> "expert", "baseline", "late: <name>"
    total: int  # how many paths the scenario has
    sampled: bool

    @property
    def note(self) -> str:
        if not self.sampled:
            return f"all {self.total} paths"
        return f"a sample of {len(self.paths) - len(self.labels)} of {self.total} paths plus the named ones"


def enumerate_paths(s: Scenario, sample: int = 60, seed: int = 1) -> PathSet:
    """Every path when there are at most ``sample``, else a seeded random sample of distinct
    paths; the expert, baseline and late paths are always included (at the end if not drawn)."""
    per_point = all_paths(s)
    total = 1
    for p in per_point:
        total *= len(p)
    named = {
        "expert": s.expert_path,
        "baseline": s.baseline_path,
        **{f"late: {k}": v for k, v in s.late_paths.items()},
    }
    if total <= sample:
        chosen = [list(map(list, p)) for p in itertools.product(*per_point)]
        sampled = False
    else:
        rng = random.Random(seed)
        seen = {format_choose(s, v) for v in named.values()}
        chosen = []
        while len(chosen) < sample - len(seen):
            path = [list(rng.choice(options)) for options in per_point]
            key = format_choose(s, path)
            if key not in seen:
                seen.add(key)
                chosen.append(path)
        sampled = True
    labels = {format_choose(s, v): k for k, v in named.items()}
    keys = {format_choose(s, c) for c in chosen}
    for v in named.values():
        key = format_choose(s, v)
        if key not in keys:
            keys.add(key)
            chosen.append([list(x) for x in v])
    return PathSet(chosen, labels, total, sampled)


def uses_partners(s: Scenario, path: list[list[str]]) -> bool:
    """True if any chosen option acts through a partner (a guardianship with a place manager counts)."""
    for point, chosen in zip(s.decisions, path, strict=False):
        for option_id in chosen:
            option = point.option(option_id)
            if option is None:
                continue
            for action in option.actions:
                if action.type in PARTNER_ACTIONS or (
                    action.type == "guardianship" and action.args.get("partner")
                ):
                    return True
    return False
