"""Decision paths of a scenario: every one, or a seeded sample plus the named ones.

Used by ``python -m scenarios paths`` and by the web app's calibration, so both rank
the same paths.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from .decisions import format_choose
from .model.actions import ACTIONS
from .schema import Scenario

# Actions that always act through a partner (a required partner or partners parameter): a path
# without any of them, and without an optional partner named (a guardianship with a place
# manager), is a "no partnership" path. Built from the registry, so a new action is counted.
PARTNER_ACTIONS = frozenset(
    a.name
    for a in ACTIONS.values()
    if any(p.kind in ("partner", "partners") and p.required for p in a.params.values())
)


def _names_a_partner(action) -> bool:
    spec = ACTIONS.get(action.type)
    if spec is None:
        return False
    return any(p.kind in ("partner", "partners") and action.args.get(k) for k, p in spec.params.items())


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
    """The paths to calibrate, the named ones among them, and how they were chosen.

    ``paths`` holds, when the scenario has more paths than the sample size K, the K distinct
    paths drawn at random (in the order drawn) followed by the named paths that were not
    drawn; otherwise every path, in order, with any named path that is not among them (none,
    for a valid scenario) at the end.
    """

    paths: list[list[list[str]]]
    # format_choose key -> "expert", "baseline", "late: <name>" or "<kind>: <name>" (a contrast path)
    labels: dict[str, str]
    total: int  # how many paths the scenario has
    sampled: bool
    drawn: int = 0  # how many of ``paths`` were drawn at random (0 when not sampled)

    @property
    def added(self) -> int:
        """How many named paths were added after the random draw (they were not drawn)."""
        return len(self.paths) - self.drawn if self.sampled else 0

    @property
    def note(self) -> str:
        if not self.sampled:
            return f"all {self.total} paths"
        return (
            f"a random sample of {self.drawn} of {self.total:,} paths, plus {self.added} named "
            f"path{'s' if self.added != 1 else ''} not drawn ({len(self.labels)} named in all)"
        )


def named_paths(s: Scenario) -> dict[str, list[list[str]]]:
    """The scenario's named paths by label: expert, baseline, ``late: <name>`` and, for each
    contrast path, ``<kind>: <name>`` (e.g. ``oversharing: names the suspect``)."""
    named = {"expert": s.expert_path, "baseline": s.baseline_path}
    named.update({f"late: {k}": v for k, v in s.late_paths.items()})
    for name, (kind, path) in s.contrast_paths.items():
        named.setdefault(f"{kind}: {name}", path)
    return named


def enumerate_paths(s: Scenario, sample: int = 60, seed: int = 1) -> PathSet:
    """The paths to calibrate, with ``sample`` = K:

    * when the scenario has at most K paths: every one of them;
    * otherwise: K distinct paths drawn at random (seeded by ``seed``; a named path may be
      among them), then every named path (expert, baseline, late and contrast paths) that was
      not drawn. So there are between K and K + (number of named paths) in all.

    Each path is labelled by the first name it has, in the order expert, baseline, late,
    contrast."""
    per_point = all_paths(s)
    total = 1
    for p in per_point:
        total *= len(p)
    named = named_paths(s)
    sample = max(0, int(sample))
    if total <= sample:
        chosen = [list(map(list, p)) for p in itertools.product(*per_point)]
        sampled = False
    else:
        rng = random.Random(seed)
        seen: set[str] = set()
        chosen = []
        while len(chosen) < sample:  # total > sample, so this ends
            path = [list(rng.choice(options)) for options in per_point]
            key = format_choose(s, path)
            if key not in seen:
                seen.add(key)
                chosen.append(path)
        sampled = True
    drawn = len(chosen)
    labels: dict[str, str] = {}
    for label, v in named.items():
        labels.setdefault(format_choose(s, v), label)
    keys = {format_choose(s, c) for c in chosen}
    for v in named.values():
        key = format_choose(s, v)
        if key not in keys:
            keys.add(key)
            chosen.append([list(x) for x in v])
    return PathSet(chosen, labels, total, sampled, drawn if sampled else 0)


def uses_partners(s: Scenario, path: list[list[str]]) -> bool:
    """True if any chosen option acts through a partner (any action naming one: a guardianship
    with a place manager counts)."""
    for point, chosen in zip(s.decisions, path, strict=False):
        for option_id in chosen:
            option = point.option(option_id)
            if option is None:
                continue
            for action in option.actions:
                if action.type in PARTNER_ACTIONS or _names_a_partner(action):
                    return True
    return False
