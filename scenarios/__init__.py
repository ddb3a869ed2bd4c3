"""Ripple's simulation engine: scenarios, the community model, grading.

Pure Python + SimPy; never imports Flask or ``lms``.
"""

from __future__ import annotations

from pathlib import Path

from . import adaptive
from .catalogue import OBJECTIVES, PARTNER_TYPES
from .decisions import DecisionError, format_choose, parse_choose, validate_decisions
from .engine import (
    METRIC_DOCS,
    EventBudgetExceeded,
    community_layout,
    event_budget,
    monte_carlo,
    run_seeds,
    simulate,
)
from .grading import (
    ChoiceFeedback,
    CriticalError,
    Grade,
    MetricScore,
    References,
    grade,
    grade_attempt,
    grade_each_run,
    outcome_pass_rate,
    pass_rate,
    pass_rates,
    references,
    rubric_max,
)
from .model.actions import ACTIONS
from .paths import PathSet, all_paths, count_paths, enumerate_paths, uses_partners
from .results import Distribution, Event, MetricSummary, Observation, Run, Series, Signal
from .schema import (
    METRICS,
    Action,
    AdaptiveRule,
    Clock,
    Community,
    DecisionPoint,
    Facilitator,
    FacilitatorMinutes,
    Grading,
    Group,
    Incident,
    Option,
    Partner,
    Police,
    Retaliation,
    Rumour,
    Scenario,
    ScenarioError,
    Tension,
    Threshold,
    load_scenario,
)
from .yamlsource import DocumentError, Issue


def library_path() -> Path:
    """The folder holding the built-in scenarios."""
    return Path(__file__).resolve().parent / "library"


def list_library() -> list[Path]:
    """The built-in scenario files, sorted by name."""
    return sorted(library_path().glob("*.yaml"))


__all__ = [
    "ACTIONS", "METRICS", "METRIC_DOCS", "OBJECTIVES", "PARTNER_TYPES",
    "Action", "AdaptiveRule", "adaptive", "ChoiceFeedback", "CriticalError", "References", "outcome_pass_rate", "pass_rates", "references", "Clock", "Community", "DecisionError", "DecisionPoint", "Facilitator", "FacilitatorMinutes",
    "Distribution", "DocumentError", "Event", "EventBudgetExceeded", "Grade", "Grading",
    "Group", "Incident",
    "Issue", "MetricScore", "MetricSummary", "Observation", "Option", "Partner", "Police",
    "Retaliation", "Rumour", "Run", "Scenario", "ScenarioError", "Series", "Signal",
    "Tension", "Threshold",
    "PathSet", "all_paths", "count_paths", "enumerate_paths", "uses_partners",
    "community_layout", "event_budget", "format_choose", "grade", "grade_attempt", "grade_each_run",
    "library_path",
    "list_library", "load_scenario", "monte_carlo", "parse_choose", "pass_rate", "rubric_max",
    "run_seeds", "simulate", "validate_decisions",
]  # fmt: skip
