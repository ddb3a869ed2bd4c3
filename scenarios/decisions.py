"""A trainee's decisions: ``list[list[str]]``, one list of option ids per point.

The same shape is stored in the database and put in URLs; ``parse_choose`` and
``format_choose`` convert to and from the CLI form ``1a,2c,3b+d``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .schema import DecisionPoint, Scenario


class DecisionError(ValueError):
    """Decisions that do not fit the scenario; ``.problems`` lists them all."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems) or "invalid decisions")


def validate_points(points: Sequence[DecisionPoint], decisions: Any, partial_ok: bool = False) -> list[str]:
    problems: list[str] = []
    if not isinstance(decisions, (list, tuple)):
        return ["decisions must be a list with one list of option ids per decision point"]
    if len(decisions) > len(points) or len(decisions) < len(points) and not partial_ok:
        problems.append(
            f"{len(decisions)} decisions given but the scenario has {len(points)} decision points"
        )
    for i, (point, chosen) in enumerate(zip(points, decisions, strict=False)):
        label = f"decision {i + 1}"
        if not isinstance(chosen, (list, tuple)) or not all(isinstance(x, str) for x in chosen):
            problems.append(f"{label}: expected a list of option ids")
            continue
        if not chosen:
            problems.append(f"{label}: choose at least one option")
        if len(set(chosen)) != len(chosen):
            problems.append(f"{label}: an option is chosen twice")
        if len(chosen) > point.max_choices:
            what = "single-choice point" if point.kind == "single" else f"point allowing {point.max_choices}"
            problems.append(f"{label}: {len(chosen)} options chosen for a {what}")
        known = [o.id for o in point.options]
        for oid in chosen:
            if oid not in known:
                problems.append(f'{label}: unknown option "{oid}"; known: {", ".join(known)}')
    return problems


def validate_decisions(scenario: Scenario, decisions: Any, partial_ok: bool = False) -> list[str]:
    """Human-readable problems with ``decisions`` for ``scenario`` (empty if fine)."""
    return validate_points(scenario.decisions, decisions, partial_ok)


def parse_choose_points(points: Sequence[DecisionPoint], text: str) -> tuple[list[list[str]], list[str]]:
    problems: list[str] = []
    by_number: dict[int, list[str]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        digits = ""
        while digits.__len__() < len(part) and part[len(digits)].isdigit():
            digits += part[len(digits)]
        rest = part[len(digits) :]
        if not digits or not rest:
            problems.append(f'"{part}": expected a decision number then option id(s), e.g. 2b or 3a+c')
            continue
        number = int(digits)
        if not 1 <= number <= len(points):
            problems.append(f'"{part}": there is no decision {number} (1..{len(points)})')
            continue
        if number in by_number:
            problems.append(f'"{part}": decision {number} is given twice')
            continue
        by_number[number] = [x.strip() for x in rest.split("+")]
    count = max(by_number, default=0)
    missing = [n for n in range(1, count + 1) if n not in by_number]
    if missing:
        problems.append("no choice for decision " + ", ".join(str(n) for n in missing))
    return [by_number.get(n, []) for n in range(1, count + 1)], problems


def parse_choose(scenario: Scenario, text: str, partial_ok: bool = False) -> list[list[str]]:
    """``"1a,2c,3b+d"`` -> ``[["a"], ["c"], ["b", "d"]]``; raises ``DecisionError``."""
    decisions, problems = parse_choose_points(scenario.decisions, text)
    problems = problems or validate_points(scenario.decisions, decisions, partial_ok)
    if problems:
        raise DecisionError(problems)
    return decisions


def format_choose(scenario: Scenario | None, decisions: Sequence[Sequence[str]]) -> str:
    """``[["a"], ["c"], ["b", "d"]]`` -> ``"1a,2c,3b+d"``."""
    return ",".join(f"{i + 1}{'+'.join(chosen)}" for i, chosen in enumerate(decisions))
