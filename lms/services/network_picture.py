"""The community as a picture: people placed by group, who heard the rumour when, and from whom.

Pure functions over an engine run. The debrief draws the whole run; the play page draws the run
so far, and there only for the groups the officer can see (`visible`): elsewhere nobody knows.
"""

from __future__ import annotations

import functools
import math
import random

from markupsafe import Markup

import scenarios as engine
from lms.wording import join_words, quantity


def cluster_layout(people_groups: list[str], seed: int) -> list[tuple[float, float]]:
    """Positions in [0, 1]: each group a disc around its own centre, people scattered inside.

    Cheap and readable at a thousand people (a force layout takes seconds there), and it
    shows what matters in the debrief: the rumour crossing from one group into another.
    An attempt's every page draws the same layout: it is kept for the last few attempts.
    """
    return list(_layout(tuple(people_groups), seed))


@functools.lru_cache(maxsize=64)
def _layout(people_groups: tuple[str, ...], seed: int) -> tuple[tuple[float, float], ...]:
    order = list(dict.fromkeys(people_groups))
    sizes = {g: people_groups.count(g) for g in order}
    total = len(people_groups) or 1
    rng = random.Random(seed)
    centres = {}
    for i, group in enumerate(order):
        angle = 2 * math.pi * i / max(1, len(order))
        centres[group] = (
            (0.5 + 0.32 * math.cos(angle), 0.5 + 0.32 * math.sin(angle)) if len(order) > 1 else (0.5, 0.5)
        )
    positions = []
    for group in people_groups:
        radius = 0.05 + 0.17 * math.sqrt(sizes[group] / total)
        r, a = radius * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        cx, cy = centres[group]
        positions.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return tuple(positions)


def who_names(scenario: engine.Scenario, who: str) -> str:
    """ "police+pastor+block_captain" -> "Police, Pastor Denise Hall (Greater Hope) and ..." """
    names = {p.id: p.name for p in scenario.partners} | {"police": "police"}
    parts = [names.get(part, part.replace("_", " ")) for part in who.split("+")]
    parts[0] = parts[0][:1].upper() + parts[0][1:]
    return join_words(parts)


def network_picture(
    scenario: engine.Scenario,
    run: engine.Run,
    size: int = 420,
    visible: set[str] | None = None,
    known: dict[str, tuple[float, int]] | None = None,
) -> dict:
    """People placed by group (scaled to an SVG box) and the tellings of the rumour between them.

    Each person is (x, y, group index, level held by the end, first heard at or None, first
    level or 0, shown); each telling (x1, y1, x2, y2, level, time). `visible` (group ids) keeps
    what is drawn to the people of those groups: the others are placed but shown as unknown.
    Corrections are per group: (time, who, group index, people corrected).

    `known` (group id -> (time of the latest report, worst version reported)) draws only what
    partners have passed on: tellings in a group up to its latest report, no version worse
    than the one reported; a group with no report shows no one as having heard.
    """
    positions = cluster_layout(run.people_groups, run.seed)
    shown = [visible is None or g in visible for g in run.people_groups]

    def scale(x, y):
        return (10 + (size - 20) * x, 10 + (size - 20) * y)

    first: dict[int, tuple[float, int]] = {}
    held: dict[int, int] = {}

    def passed_on(time: float, person: int, level: int) -> int:
        """The version drawn for `person` hearing at `time` (0: not drawn)."""
        if not shown[person]:
            return 0
        if known is None:
            return level
        until, worst = known.get(run.people_groups[person], (-1.0, 0))
        return min(level, worst) if time <= until else 0

    spread = [(time, a, b, passed_on(time, b, level)) for time, a, b, level in run.spread]
    spread = [entry for entry in spread if entry[3]]
    for time, _, to, level in spread:
        first.setdefault(to, (time, level))
        held[to] = max(level, held.get(to, 0))
    group_index = {g.id: i for i, g in enumerate(scenario.groups)}
    people = []
    for i, (x, y) in enumerate(positions):
        heard_at, heard_level = first.get(i, (None, 0))
        people.append(
            (*scale(x, y), group_index[run.people_groups[i]], held.get(i, 0), heard_at, heard_level, shown[i])
        )
    tellings = [
        (*scale(*positions[a]), *scale(*positions[b]), level, time)
        for time, a, b, level in spread
        if a >= 0 and shown[a]
    ]
    corrections = [
        (event.time, who_names(scenario, event.who), group_index[g], count)
        for event in run.events
        if event.kind == "correction"
        for g, count in event.details.get("by_group", {}).items()
        if count and g in group_index and (visible is None or g in visible)
    ]
    groups = []
    for i, g in enumerate(scenario.groups):
        members = [p for p in people if p[2] == i]
        if visible is not None and g.id not in visible:
            groups.append({"name": g.name, "people": len(members), "shown": False})
            continue
        levels = [p[3] for p in members if p[3]]
        groups.append(
            {
                "name": g.name,
                "people": len(members),
                "shown": True,
                "heard": len(levels),
                "level": max(levels) if levels else 0,
                "corrected": sum(c[3] for c in corrections if c[2] == i),
            }
        )
    heard = len(first)
    among = "people" if visible is None else "people in the groups your partners can see"
    summary = (
        f"{heard} of {sum(1 for s in shown if s)} {among} heard the rumor"
        f"{' in your run' if visible is None else ' so far'}; "
        f"{quantity(len(tellings), 'telling is', 'tellings are')} drawn as lines, thicker for more severe versions."
    )
    if visible is not None and not visible:
        summary = "None of your partners can see any group yet: bring one in to hear what people are saying."
    return {
        "size": size,
        "people": people,
        "tellings": tellings,
        "corrections": corrections,
        "groups": groups,
        "levels": scenario.rumour.levels,
        "partial": not all(shown),  # some groups are out of view
        "summary": summary,
        "clock": _clock(scenario),
    }


def _clock(scenario: engine.Scenario) -> dict:
    """What a script needs to turn hours into the scenario's clock ("Sunday 02:30")."""
    from scenarios.schema import WEEKDAYS

    h, m = (int(x) for x in scenario.start_clock.time.split(":"))
    return {
        "weekdays": list(WEEKDAYS),
        "weekday": WEEKDAYS.index(scenario.start_clock.weekday),
        "minutes": h * 60 + m,
        "event": scenario.start_clock.event,
    }


def svg_marks(pic: dict, start: float, end: float) -> Markup:
    """The picture's lines (tellings) and dots (people) as SVG, for `play/_network.html`.

    Built here rather than in a Jinja loop: a thousand people and their tellings are a few
    thousand elements, and the loop's escaping of each number was most of a play page's
    rendering time. Every value is a number or a fixed class name, so nothing needs escaping."""
    parts = []
    for x1, y1, x2, y2, level, t in pic["tellings"]:
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" data-t="{t:.2f}" '
            f'class="telling level-{int(level)}{" recent" if t > start else ""}{" later" if t > end else ""}"/>'
        )
    for x, y, group, held, at, _first, shown in pic["people"]:
        radius = 3.2 if at is not None and at <= end else 2.2
        if not shown:
            mark = ' class="person unknown"'
        elif at is not None:
            mark = (
                f' data-t="{at:.2f}" class="person group-{int(group) % 6} heard level-{int(held)}'
                f'{" recent" if at > start else ""}{" later" if at > end else ""}"'
            )
        else:
            mark = f' class="person group-{int(group) % 6}"'
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}"{mark}/>')
    return Markup("".join(parts))
