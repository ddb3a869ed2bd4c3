"""Seat time: how long a course takes, estimated from its content, as pure Python.

A standards body credits hours, so the hours a course declares must be ones its content can
support. The estimate, per item:

- a lesson: its words at the course's ``seat_time.reading_wpm`` (default 200), rounded up to
  a whole minute;
- a knowledge check: the questions presented per attempt (its ``draw``, else all of them)
  times ``seat_time.question_minutes`` (default 1.0); one attempt is counted;
- a scenario: when at least ``MEASURED_MIN_ATTEMPTS`` officers have recorded play time, the
  median of their measured minutes: each officer's first completed course attempt, its active
  time up to completion, plus ``DEBRIEF_MINUTES`` for the debrief (reading it again later is
  credited to the officer's transcript but never raises the median), each capped at
  ``MEASURED_CAP_FACTOR`` x the content estimate; else the estimate from its content: the
  words of its briefing, decision prompts and option labels at the reading speed, plus
  ``MINUTES_PER_DECISION`` per decision and ``DEBRIEF_MINUTES`` for the debrief.
  A scenario that cannot be found when the course is checked counts
  ``DEFAULT_SCENARIO_MINUTES``, and the estimate says so.

``over_claims`` lists what a course declares beyond its estimate: a lesson's ``minutes``
more than ``seat_time.margin`` (default 10%) and more than one minute above its estimate, and
``credit_hours`` above the total estimate x (1 + margin). The course format refuses both.

Nothing here imports Flask or the database: measured play times come in as numbers.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scenarios as engine

if TYPE_CHECKING:  # the course format imports this module, never the other way at run time
    from lms.course_format import CourseSpec, ItemSpec

__all__ = [
    "DEBRIEF_MINUTES",
    "DEFAULT_SCENARIO_MINUTES",
    "DEFAULT_SEAT_TIME",
    "MEASURED_CAP_FACTOR",
    "MEASURED_MIN_ATTEMPTS",
    "MINUTES_PER_DECISION",
    "CourseEstimate",
    "ItemEstimate",
    "HoursShortfall",
    "OverClaim",
    "ScenarioTime",
    "SeatTimePolicy",
    "estimate",
    "hours_shortfall",
    "library_scenario_time",
    "over_claims",
    "scenario_time",
    "word_count",
]

MEASURED_MIN_ATTEMPTS = 10  # completed attempts with recorded time before the median is trusted
MEASURED_CAP_FACTOR = 3.0  # one attempt counts at most this many times the content estimate
MINUTES_PER_DECISION = 1.5  # weighing the options of one decision point
DEBRIEF_MINUTES = 5.0  # reading the grade, the expert path and the feedback
DEFAULT_SCENARIO_MINUTES = 20.0  # a scenario not found when the course is checked

# What the course file's `seat_time:` block may set: (lowest, highest, default).
READING_WPM = (100, 400, 200)
QUESTION_MINUTES = (0.25, 10.0, 1.0)
MARGIN = (0.0, 0.5, 0.10)


@dataclass(frozen=True)
class SeatTimePolicy:
    """A course's reading speed, minutes per question, and the margin its claims may exceed."""

    reading_wpm: int = READING_WPM[2]
    question_minutes: float = QUESTION_MINUTES[2]
    margin: float = MARGIN[2]


DEFAULT_SEAT_TIME = SeatTimePolicy()


@dataclass(frozen=True)
class ScenarioTime:
    """A scenario's minutes and where they come from: measured, content or default."""

    minutes: float
    basis: str  # "measured" | "content" | "default"
    attempts: int = 0  # completed attempts with recorded time behind a measured median
    words: int = 0  # content: words of the briefing, prompts and options
    decisions: int = 0  # content: decision points

    def at(self, policy: SeatTimePolicy) -> ScenarioTime:
        """The same scenario read at another course's reading speed (content estimates only)."""
        if self.basis != "content":
            return self
        return replace(self, minutes=_content_minutes(self.words, self.decisions, policy))

    @property
    def explanation(self) -> str:
        if self.basis == "measured":
            return (
                f"median active play time of {self.attempts} officers' first completed attempts, "
                f"plus {DEBRIEF_MINUTES:g} minutes for the debrief"
            )
        if self.basis == "content":
            return "estimated from its content (not enough measured attempts yet)"
        return f"scenario not found; counted as {DEFAULT_SCENARIO_MINUTES:g} minutes"


@dataclass(frozen=True)
class ItemEstimate:
    slug: str
    title: str
    kind: str
    minutes: float
    declared_minutes: int | None
    basis: str  # "words", "questions", or a ScenarioTime basis
    detail: str  # how the figure was reached, in words


@dataclass(frozen=True)
class CourseEstimate:
    """Every item's estimate, the total, and what the course declares."""

    items: tuple[ItemEstimate, ...]
    declared_hours: float
    policy: SeatTimePolicy

    @property
    def total_minutes(self) -> float:
        return sum(item.minutes for item in self.items)

    @property
    def hours(self) -> float:
        return self.total_minutes / 60

    @property
    def max_hours(self) -> float:
        """The most ``credit_hours`` the course may declare."""
        return self.hours * (1 + self.policy.margin)

    def minutes_by_kind(self) -> dict[str, float]:
        """Total minutes per item kind, in course order of first appearance."""
        out: dict[str, float] = {}
        for item in self.items:
            out[item.kind] = out.get(item.kind, 0.0) + item.minutes
        return out

    @property
    def assumed_scenarios(self) -> tuple[str, ...]:
        """Items whose scenario could not be found and counted the default."""
        return tuple(item.slug for item in self.items if item.basis == "default")


@dataclass(frozen=True)
class OverClaim:
    """A declared figure above the estimate; ``item`` is None for the course's credit hours."""

    item: str | None
    message: str


# --- counting ---------------------------------------------------------------------------

_LINK_TARGET = re.compile(r"\]\([^)]*\)")  # [text](target): the target is not read
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def word_count(text: str | None) -> int:
    """Words a reader reads in Markdown text: link targets and HTML tags are not counted."""
    if not text:
        return 0
    return len(_WORD.findall(_TAG.sub(" ", _LINK_TARGET.sub("]", text))))


def _reading_minutes(words: int, policy: SeatTimePolicy) -> float:
    return words / policy.reading_wpm


def lesson_minutes(item: ItemSpec, policy: SeatTimePolicy) -> int:
    """A lesson's words at the reading speed, rounded up (at least one minute)."""
    return max(1, math.ceil(_reading_minutes(word_count(item.body), policy)))


def scenario_words(scenario: engine.Scenario) -> int:
    """Words of the briefing, the decision prompts and the option labels."""
    return word_count(scenario.briefing) + sum(
        word_count(point.prompt) + sum(word_count(option.label) for option in point.options)
        for point in scenario.decisions
    )


def _content_minutes(words: int, decisions: int, policy: SeatTimePolicy) -> float:
    return _reading_minutes(words, policy) + MINUTES_PER_DECISION * decisions + DEBRIEF_MINUTES


def scenario_content_minutes(scenario: engine.Scenario, policy: SeatTimePolicy) -> float:
    """Reading the briefing, prompts and options, deciding, and the debrief."""
    return _content_minutes(scenario_words(scenario), len(scenario.decisions), policy)


def scenario_time(
    scenario: engine.Scenario | None,
    policy: SeatTimePolicy = DEFAULT_SEAT_TIME,
    measured_minutes: Sequence[float] = (),
) -> ScenarioTime:
    """The measured median when there are enough attempts, else the content estimate,
    else (no scenario) the default.

    ``measured_minutes``: each officer's active play minutes up to completion (one attempt per
    officer); each counts with ``DEBRIEF_MINUTES`` added and at most ``MEASURED_CAP_FACTOR`` x
    the content estimate (when the scenario is known)."""
    content = None
    if scenario is not None:
        words, decisions = scenario_words(scenario), len(scenario.decisions)
        content = ScenarioTime(
            minutes=_content_minutes(words, decisions, policy),
            basis="content",
            words=words,
            decisions=decisions,
        )
    if len(measured_minutes) >= MEASURED_MIN_ATTEMPTS:
        cap = MEASURED_CAP_FACTOR * content.minutes if content is not None else math.inf
        counted = [min(float(played) + DEBRIEF_MINUTES, cap) for played in measured_minutes]
        return ScenarioTime(
            minutes=float(statistics.median(counted)), basis="measured", attempts=len(counted)
        )
    return content if content is not None else ScenarioTime(minutes=DEFAULT_SCENARIO_MINUTES, basis="default")


@lru_cache(maxsize=64)
def _library_scenario(path: Path, mtime_ns: int) -> engine.Scenario | None:
    try:
        return engine.load_scenario(path)
    except engine.ScenarioError:
        return None


def library_scenario_time(slug: str, policy: SeatTimePolicy = DEFAULT_SEAT_TIME) -> ScenarioTime:
    """A built-in scenario's content estimate (the default if there is no such file)."""
    path = engine.library_path() / f"{slug}.yaml"
    try:
        scenario = _library_scenario(path, path.stat().st_mtime_ns)
    except OSError:
        scenario = None
    return scenario_time(scenario, policy)


# --- the course ---------------------------------------------------------------------------


def estimate(
    spec: CourseSpec,
    scenario_times: Mapping[str, ScenarioTime] | None = None,
    policy: SeatTimePolicy | None = None,
) -> CourseEstimate:
    """The course's seat time, item by item.

    ``scenario_times`` gives a scenario's minutes by slug (measured or from the version an
    agency would play); a slug missing from it is looked up in the built-in library.
    """
    policy = policy or getattr(spec, "seat_time", None) or DEFAULT_SEAT_TIME
    scenario_times = scenario_times if scenario_times is not None else {}
    items = [_item_estimate(item, policy, scenario_times) for _, item in spec.items()]
    return CourseEstimate(items=tuple(items), declared_hours=spec.credit_hours, policy=policy)


def _item_estimate(
    item: ItemSpec, policy: SeatTimePolicy, scenario_times: Mapping[str, ScenarioTime]
) -> ItemEstimate:
    common: dict[str, Any] = {
        "slug": item.slug,
        "title": item.title,
        "kind": item.kind,
        "declared_minutes": item.minutes,
    }
    if item.kind == "knowledge_check":
        n = item.questions_per_attempt
        return ItemEstimate(
            minutes=n * policy.question_minutes,
            basis="questions",
            detail=f"{n} question{'s' if n != 1 else ''} x {policy.question_minutes:g} min",
            **common,
        )
    if item.kind == "scenario":
        known = scenario_times.get(item.scenario or "")
        time = known.at(policy) if known else library_scenario_time(item.scenario or "", policy)
        return ItemEstimate(minutes=time.minutes, basis=time.basis, detail=time.explanation, **common)
    words = word_count(item.body) + word_count(item.intro)
    return ItemEstimate(
        minutes=float(lesson_minutes(item, policy))
        if item.kind == "lesson"
        else _reading_minutes(words, policy),
        basis="words",
        detail=f"{words:,} words at {policy.reading_wpm} words a minute",
        **common,
    )


def over_claims(course: CourseEstimate) -> list[OverClaim]:
    """Declared figures the estimate does not support, lessons first, then the course."""
    margin = course.policy.margin
    out: list[OverClaim] = []
    for item in course.items:
        declared = item.declared_minutes
        if item.kind != "lesson" or declared is None:
            continue
        if declared > item.minutes * (1 + margin) and declared - item.minutes > 1:
            out.append(
                OverClaim(
                    item.slug,
                    f'lesson "{item.slug}" declares {declared} minutes but its content supports '
                    f"{item.minutes:g} ({item.detail}); at most {_most_minutes(item.minutes, margin)} "
                    f"with the {margin:.0%} margin",
                )
            )
    # a hair of tolerance: 2.2 hours declared against 2.2 estimated must pass despite rounding
    if course.declared_hours > course.max_hours + 1e-9:
        parts = ", ".join(f"{_KIND_WORDS.get(k, k)} {m:.0f}" for k, m in course.minutes_by_kind().items())
        assumed = course.assumed_scenarios
        note = (
            f"; items {', '.join(assumed)} name a scenario that could not be found and count "
            f"{DEFAULT_SCENARIO_MINUTES:g} minutes each"
            if assumed
            else ""
        )
        out.append(
            OverClaim(
                None,
                f"{course.declared_hours:g} credit hours declared, but the content supports about "
                f"{course.hours:.2f} hours ({course.total_minutes:.0f} minutes: {parts}); at most "
                f"{math.floor(course.max_hours * 100) / 100:.2f} hours with the {margin:.0%} margin{note}",
            )
        )
    return out


@dataclass(frozen=True)
class HoursShortfall:
    """Credit hours a course declares beyond what its current estimate supports: what the
    import check refused, found again once measured play times replaced content estimates."""

    declared_hours: float
    estimated_hours: float
    max_hours: float
    measured_items: tuple[str, ...]  # titles of the scenario items now timed by measured play

    @property
    def excess_hours(self) -> float:
        """How far the declared hours are above the most that may be declared."""
        return self.declared_hours - self.max_hours


def hours_shortfall(course: CourseEstimate) -> HoursShortfall | None:
    """The course's declared credit hours against its current estimate (measured medians where
    there are enough attempts); None while the declared hours are within the margin.

    The course format refuses an over-claim on import and edit; this is the same test for a
    stored version, whose scenarios' measured times may have fallen since it was published."""
    if course.declared_hours <= course.max_hours + 1e-9:  # the tolerance over_claims allows
        return None
    return HoursShortfall(
        declared_hours=course.declared_hours,
        estimated_hours=course.hours,
        max_hours=math.floor(course.max_hours * 100) / 100,
        measured_items=tuple(item.title for item in course.items if item.basis == "measured"),
    )


_KIND_WORDS = {"lesson": "lessons", "knowledge_check": "knowledge checks", "scenario": "scenarios"}


def _most_minutes(estimate_minutes: float, margin: float) -> int:
    return max(math.floor(estimate_minutes * (1 + margin)), math.floor(estimate_minutes + 1))
