"""What the engine returns: plain, JSON-friendly dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Event:
    time: float  # hours after the incident
    kind: str  # incident, retaliation, rumour_start, rumour_escalation, correction, ...
    who: str  # group id, partner id, "police" or "community"
    details: dict[str, Any]
    decision: int | None = None  # index of the decision that caused it


@dataclass
class Signal:
    time: float
    source_partner: str
    text: str
    level: int  # 0 calm .. 3 volatile / the rumour level heard


@dataclass
class Observation:
    """What the trainee is shown at a decision point (the observability rule)."""

    time: float
    clock_label: str
    incidents_so_far: int
    signals: list[Signal]
    tension_by_group: dict[str, float | None]  # None: no partner there, so not visible


@dataclass
class Series:
    times: list[float] = field(default_factory=list)
    reach: list[float] = field(default_factory=list)  # share believing the rumour
    reach_by_level: list[list[float]] = field(default_factory=list)  # [level][sample]
    anger_by_group: dict[str, list[float]] = field(default_factory=dict)
    incidents: list[int] = field(default_factory=list)  # cumulative
    police_trust: list[float] = field(default_factory=list)  # population mean


@dataclass
class Run:
    seed: int
    decisions: list[list[str]]
    events: list[Event]
    series: Series
    metrics: dict[str, float]
    observation: Observation | None
    spread: list[tuple[float, int, int, int]]  # (time, from person, to person, level)
    people_groups: list[str]  # person index -> group id
    stopped_at_decision: int | None = None
    # a stopped run's observation at each earlier decision point (what the trainee saw there):
    # the same as ``simulate(..., stop_at_decision=k).observation``, without a second run
    earlier: list[Observation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MetricSummary:
    mean: float
    p10: float
    p50: float
    p90: float
    ci95: tuple[float, float]  # normal-approximation interval for the mean
    std: float


@dataclass
class Distribution:
    runs: int
    seed: int
    decisions: list[list[str]]
    metrics: dict[str, MetricSummary]
    times: list[float]
    bands: dict[str, dict[str, list[float]]]  # series name -> {p10, p50, p90, mean}
    per_run: dict[str, list[float]]  # metric -> value per run, in seed order

    def mean(self, metric: str) -> float:
        return self.metrics[metric].mean

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
