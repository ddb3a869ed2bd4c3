"""The debrief: what happened in an attempt, why, and how it compares.

Everything here is derived from the attempt's (scenario version, seed, decisions) and the
grade stored with it; reference runs (the expert's path, no partnership) depend only on the
scenario version, so the first grading of a version stores them on it (`store_references`)
and debriefs read them from there (or, before that, simulate them once per process).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

from flask import current_app

import scenarios as engine
from lms.charts import BarChart, Chart, Line, bar_chart, downsample, line_chart
from lms.models import Attempt, AttemptGrade, ScenarioVersion
from lms.services import measures
from lms.services.network_picture import network_picture
from lms.services.scenario_library import scenario_of
from lms.wording import join_words, quantity
from scenarios import grading as engine_grading

# The debrief's reference bands share the grade's reference runs (the same seed and number of
# runs), so the expert and no-partnership means on the page are the ones the grade used.
REFERENCE_SEED = engine_grading.REFERENCE_SEED
# What-if projections kept per process: about 2 kB each, so the cache stays under a few MB.
WHAT_IF_CACHE_SIZE = 1024
BAND_SERIES = ("reach", "incidents", "police_trust")


def distribution_summary(distribution: engine.Distribution) -> dict:
    """The parts of a Monte Carlo distribution the debrief shows, small enough to store."""
    times, bands = downsample(
        distribution.times,
        {
            f"{name}.{stat}": distribution.bands[name][stat]
            for name in BAND_SERIES
            for stat in ("p10", "p50", "p90", "mean")
        },
    )
    return {
        "runs": distribution.runs,
        "seed": distribution.seed,
        "metrics": {
            name: {"mean": m.mean, "p10": m.p10, "p50": m.p50, "p90": m.p90, "ci95": list(m.ci95)}
            for name, m in distribution.metrics.items()
        },
        "times": times,
        "bands": bands,
        # Share of runs in which anyone retaliated at all: the debrief's headline figure.
        "retaliated_share": (
            sum(1 for value in distribution.per_run.get("retaliations", []) if value > 0) / distribution.runs
            if distribution.runs and "retaliations" in distribution.per_run
            else None
        ),
    }


@lru_cache(maxsize=128)
def _reference(fingerprint: str, source_text: str, path_key: str, runs: int) -> dict:
    scenario = engine.load_scenario(source_text)
    path = engine.parse_choose(scenario, path_key) if path_key else []
    return distribution_summary(engine.monte_carlo(scenario, path, runs, REFERENCE_SEED))


def reference_runs(scenario: engine.Scenario) -> int:
    """Runs of each reference path: SCENARIO_REFERENCE_RUNS, else the scenario's own
    `grading.reference_runs` (what its grades are calibrated against)."""
    return int(current_app.config.get("SCENARIO_REFERENCE_RUNS") or scenario.grading.reference_runs)


def _reference_runs(scenario: engine.Scenario, runs: int | None = None) -> int:
    return runs or reference_runs(scenario)


def _reference_key(scenario: engine.Scenario, path: list[list[str]], runs: int) -> str:
    return f"{runs}@{REFERENCE_SEED}:{engine.format_choose(scenario, path)}"


def _grading_key(runs: int) -> str:
    return f"grading:{runs}@{REFERENCE_SEED}"


def reference_summary(
    scenario: engine.Scenario,
    path: list[list[str]],
    runs: int | None = None,
    version: ScenarioVersion | None = None,
) -> dict:
    """The Monte Carlo summary of `path` under the fixed reference seed: kept on the version
    once a grading has stored it (see `store_references`), else simulated (and cached here)."""
    runs = _reference_runs(scenario, runs)
    if version is not None:
        stored = (version.reference_summaries or {}).get(_reference_key(scenario, path, runs))
        if stored is not None:
            return stored
    return _reference(scenario.fingerprint, scenario.source_text, engine.format_choose(scenario, path), runs)


def _computed_references(
    scenario: engine.Scenario, runs: int, version: ScenarioVersion | None = None
) -> engine.References:
    """The grade's references from the reference summaries: the same runs as
    `engine.references(scenario, runs)` (same paths, seed and number), so the same means."""
    expert = reference_summary(scenario, scenario.expert_path, runs, version)
    baseline = reference_summary(scenario, scenario.baseline_path, runs, version)
    return engine.References(
        runs,
        REFERENCE_SEED,
        {name: m["mean"] for name, m in expert["metrics"].items()},
        {name: m["mean"] for name, m in baseline["metrics"].items()},
    )


def grading_references(
    scenario: engine.Scenario, version: ScenarioVersion | None = None
) -> engine.References:
    """The reference distributions every grade of this scenario version is scored against:
    read from the version when stored for its current YAML (see `store_references`), else
    worked out here (and kept in this process's cache)."""
    runs = reference_runs(scenario)
    if version is not None:
        stored = (version.reference_summaries or {}).get(_grading_key(runs))
        if stored is not None and stored.get("fingerprint") == scenario.fingerprint:
            return engine.References.from_dict(stored)
        if version.fingerprint != scenario.fingerprint:
            version = None  # its stored summaries are another YAML's
    return _computed_references(scenario, runs, version)


def store_grading_references(version: ScenarioVersion, scenario: engine.Scenario) -> engine.References:
    """Keep the grade's references on the version (under their own key, with the runs and the
    YAML's fingerprint) unless they are there already; returns them."""
    runs = reference_runs(scenario)
    refs = grading_references(scenario, version)
    stored = version.reference_summaries or {}
    kept = stored.get(_grading_key(runs))
    if kept is None or kept.get("fingerprint") != scenario.fingerprint:
        version.reference_summaries = {
            **stored,
            _grading_key(runs): {**refs.to_dict(), "fingerprint": scenario.fingerprint},
        }
    return refs


def store_references(version: ScenarioVersion, scenario: engine.Scenario) -> engine.References:
    """Keep the debrief's reference summaries (expert path, no partnership) and the grade's
    references on the version, so every grade of the version uses the same references and
    web processes read them instead of simulating. Grading calls it, on a worker when there
    is one; after the first grading of a version it changes nothing. They depend only on the
    YAML, so two workers storing them at once store the same thing. Returns the references."""
    runs = reference_runs(scenario)
    stored = version.reference_summaries or {}
    missing = {
        _reference_key(scenario, path, runs): path
        for path in (scenario.expert_path, scenario.baseline_path)
        if _reference_key(scenario, path, runs) not in stored
    }
    if missing:
        version.reference_summaries = {
            **stored,
            **{key: reference_summary(scenario, path, runs) for key, path in missing.items()},
        }
    return store_grading_references(version, scenario)


def warm_references() -> int:
    """Work out and keep the references of every published version that lacks them; a Celery
    worker does this as it starts, so that after a deploy or a publish the first grade of each
    version does not wait behind its references (about two seconds of runs each). One commit
    per version worked out; a version whose runs explode is left to its first grade (which
    reports it). Returns how many versions were worked out."""
    from sqlalchemy import select

    from lms.extensions import db

    ids = db.session.scalars(select(ScenarioVersion.id).where(ScenarioVersion.status == "published")).all()
    done = 0
    for version_id in ids:
        version = db.session.get(ScenarioVersion, version_id)
        before = dict(version.reference_summaries or {})
        try:
            store_references(version, scenario_of(version))
        except engine.EventBudgetExceeded:
            db.session.rollback()
            continue
        if version.reference_summaries != before:
            db.session.commit()
            done += 1
    db.session.commit()
    return done


@dataclass
class TimelineEntry:
    time: float
    clock: str
    kind: str
    text: str
    decision: str | None  # the decision that caused it, as the trainee saw it


@dataclass
class DecisionReview:
    number: int
    clock: str
    prompt: str
    chosen: list[engine.Option]
    best: list[engine.Option]
    points: float | None  # None while the answer key is withheld: points would rank the options


@dataclass
class MetricRow:
    name: str
    doc: str
    yours: float
    expert: float
    baseline: float
    yours_low: float
    yours_high: float


@dataclass
class GradedMetric:
    """One outcome measure of the grade, as the trainee reads it."""

    name: str
    doc: str
    value: float  # the attempt's mean over its runs
    baseline: float | None  # the no-partnership mean (None in grades from before references)
    expert: float | None  # the expert path's mean
    score: float
    weight: float
    scored: bool  # False: counted for nothing (grades stored before unseparated metrics were widened)
    separated: bool  # False: the references are about the same here; scored over the metric's scale
    good: float | None = None  # full marks at (grades stored before the outcome-led grade)
    bad: float | None = None  # no marks at


@dataclass
class CriticalNote:
    decision: int  # 1-based, as the trainee saw it
    prompt: str
    option: str
    label: str
    reason: str


@dataclass
class GradeSummary:
    """The stored grade breakdown read for the page: how the score is made, per measure."""

    pass_mark: float
    rubric_score: float
    rubric_points: float
    rubric_max: float
    outcome_score: float
    rubric_share: float  # 0..1 of the score
    outcome_share: float
    runs: int
    reference_runs: int | None  # None: a grade stored before reference runs
    outcome_passed: bool  # the outcome alone reaches the pass mark (and no critical error)
    metrics: list[GradedMetric]
    critical_errors: list[CriticalNote]
    references: bool  # scored against the expert and no-partnership runs (else good/bad targets)
    score: float | None = None  # the computed score (an override keeps it beside its own)
    interval: tuple[float, float] | None = None  # the score's 95% interval (None in older grades)
    stopped: str = ""  # "settled" | "cap": how the adaptive rule ended ("" for a fixed number of runs)


def grade_summary(scenario: engine.Scenario, breakdown: dict) -> GradeSummary:
    """Read a stored breakdown, of this grade or of one stored before the outcome-led grade
    (metrics with good/bad targets, no references, no critical errors)."""
    rubric_weight = float(breakdown.get("rubric_weight", 0.5))
    outcome_weight = float(breakdown.get("outcome_weight", 0.5))
    total = rubric_weight + outcome_weight or 1.0
    metrics = []
    for m in breakdown.get("metrics", []):
        name = m["metric"]
        metrics.append(
            GradedMetric(
                name,
                measures.measure(name).doc,
                float(m["value"]),
                m.get("baseline"),
                m.get("expert"),
                float(m["score"]),
                float(m["weight"]),
                bool(m.get("scored", True)),
                bool(m.get("separated", m.get("scored", True))),
                m.get("good"),
                m.get("bad"),
            )
        )
    notes = []
    for e in breakdown.get("critical_errors") or []:
        i = int(e["decision"])
        prompt = scenario.decisions[i].prompt if 0 <= i < len(scenario.decisions) else ""
        notes.append(CriticalNote(i + 1, prompt, e["option"], e["label"], e["reason"]))
    pass_mark = float(breakdown.get("pass_mark", 0))
    outcome = float(breakdown.get("outcome_score", 0))
    outcome_passed = breakdown.get("outcome_passed")
    if outcome_passed is None:  # an older grade: it had no critical errors
        outcome_passed = outcome >= pass_mark and not notes
    return GradeSummary(
        pass_mark=pass_mark,
        rubric_score=float(breakdown.get("rubric_score", 0)),
        rubric_points=float(breakdown.get("rubric_points", 0)),
        rubric_max=float(breakdown.get("rubric_max", 0)),
        outcome_score=outcome,
        rubric_share=rubric_weight / total,
        outcome_share=outcome_weight / total,
        runs=int(breakdown.get("runs", 0)),
        reference_runs=breakdown.get("reference_runs") or None,
        outcome_passed=bool(outcome_passed),
        metrics=metrics,
        critical_errors=notes,
        references=any(m.expert is not None for m in metrics),
        score=float(breakdown["score"]) if breakdown.get("score") is not None else None,
        interval=tuple(breakdown["interval"]) if breakdown.get("interval") else None,
        stopped=str(breakdown.get("stopped") or ""),
    )


@dataclass
class Comparison:
    """One measure that matters, yours beside the expert's and no partnership's, in words."""

    name: str
    title: str
    sentence: str
    chart: BarChart
    top: float  # the bars' full width
    against_expert: str  # "better" | "worse" | "about the same"
    against_baseline: str


@dataclass
class Debrief:
    attempt: Attempt
    scenario: engine.Scenario
    grade: AttemptGrade
    run: engine.Run
    timeline: list[TimelineEntry]
    decisions: list[DecisionReview]
    metrics: list[MetricRow]
    charts: list[Chart]
    objectives: dict[int, str]
    network: dict
    summary: GradeSummary
    reveal: bool = True  # False: the expert path (the answer key) is withheld from this viewer
    headline: str = ""
    comparisons: list[Comparison] = field(default_factory=list)


KIND_LABELS = {
    "incident": "Incident",
    "retaliation": "Retaliation",
    "rumour_start": "Rumor",
    "rumour_escalation": "Rumor grew",
    "correction": "Correction",
    "partner_action": "Partner",
    "partner_cooling": "Partner cooling",
    "warning": "Warning",
    "trust_change": "Trust",
    "decision": "Your decision",
    "transfer": "Transfer",
    "relationship_kept": "Relationship kept",
    "relationship_lost": "Relationship lost",
    "leak": "Information leaked",
    "contradiction": "Claim contradicted",
}


# Engine actions in words, after the actor's name; "{group}" is the group it was aimed at.
ACTION_WORDS = {
    "contact_partner": "was called in",
    "engaged": "is on board",
    "follow_up": "was checked back with and is keen again",
    "acknowledge": "was thanked for their work",
    "ask_correction": "corrected the rumor",
    "joint_message": "spoke publicly alongside police",
    "police_statement": "made a public statement",
    "mediation": "mediated to calm {group}",
    "keep_busy": "kept the young people of {group} busy",
    "guardianship": "kept watch where {group} gather",
    "request_analysis": "mapped who is connected to whom",
    "support": "supported {group}",
    "support_services": "supported {group}",
    "supervision": "checked in on people under supervision among {group}",
    "supervision_contact": "checked in on people under supervision among {group}",
    "focused deterrence": "gave {group} a focused deterrence message",
    "focused_deterrence": "gave {group} a focused deterrence message",
    "evaluate": "evaluated the partner work",
    "hand_over": "now works with the unit, not one officer",
    "enforcement": "carried out enforcement in {group}",
    "focused enforcement": "carried out focused enforcement in {group}",
    "focused enforcement without the analyst's map": "carried out focused enforcement in {group} "
    "without the analyst's map",
    "an operation the targets had been warned of": "ran an operation in {group} that the targets "
    "had been warned of",
}


def _names(scenario: engine.Scenario) -> dict[str, str]:
    return (
        {g.id: g.name for g in scenario.groups}
        | {p.id: p.name for p in scenario.partners}
        | {"police": "Police"}
    )


def _name(names: dict[str, str], who) -> str:
    """A person, group or '+'-joined list of them, named (never an id)."""
    if who is None:
        return "Police"
    parts = str(who).split("+")
    named = [names.get(p) or p.replace("_", " ") for p in parts]
    return join_words(named)


def _action_words(action: str, group: str) -> str:
    kind = action.split(" by ")[0]
    words = ACTION_WORDS.get(kind) or ACTION_WORDS.get(action)
    if words is None:
        words = kind.replace("_", " ") + (" with {group}" if group else "")
    elif group and "{group}" not in words:
        words += " with {group}"
    return words.replace("{group}", group or "the group")


def points_words(points: float) -> str:
    """ "earned 2 points", "cost 1 point", "earned no points"."""
    if not points:
        return "earned no points"
    size = abs(points)
    text = f"{size:g} point{'' if size == 1 else 's'}"
    return f"earned {text}" if points > 0 else f"cost {text}"


def describe(scenario: engine.Scenario, event: engine.Event) -> str:
    """One line of plain language for an engine event."""
    d = event.details
    names = _names(scenario)
    if event.kind in ("incident", "retaliation"):
        verb = "An incident" if event.kind == "incident" else "Retaliation"
        return f"{verb}: {_name(names, d.get('by'))} against {_name(names, d.get('against'))}."
    if event.kind == "correction":
        count = int(d.get("corrected", 0) or 0)
        people = "1 person" if count == 1 else f"{count} people"
        return f"{_name(names, event.who)} corrected the rumor for {people}."
    if event.kind == "trust_change":
        direction = "rose" if d.get("to", 0) >= d.get("from", 0) else "fell"
        why = f" ({d['why']})" if d.get("why") else ""
        return f"Trust in police among {_name(names, event.who)} {direction}{why}."
    if event.kind == "decision":
        point = next((p for p in scenario.decisions if p.id == d.get("decision")), None)
        labels = [point.option(o).label for o in d.get("options", []) if point.option(o)] if point else []
        if len(labels) == 1:
            label = labels[0].strip()
            return f"You chose: {label}" + ("" if label[-1:] in ".!?" else ".")
        return "You chose " + join_words([f"“{label.strip().rstrip('.;,')}”" for label in labels]) + "."
    if event.kind == "partner_action" and "text" not in d:
        group = _name(names, d["group"]) if d.get("group") else ""
        return f"{_name(names, event.who)} {_action_words(str(d.get('action', 'acted')), group)}."
    return str(d.get("text") or event.kind.replace("_", " ").capitalize())


def _timeline(scenario: engine.Scenario, run: engine.Run) -> list[TimelineEntry]:
    entries = []
    for event in run.events:
        if event.kind == "warning" and event.details.get("signal") and event.details.get("level", 0) < 2:
            continue  # calm-weather signals are noise in a timeline
        cause = None
        if event.decision is not None and event.kind != "decision":
            cause = f"decision {event.decision + 1}"
        entries.append(
            TimelineEntry(
                event.time,
                scenario.clock_label(event.time),
                KIND_LABELS.get(event.kind, event.kind),
                describe(scenario, event),
                cause,
            )
        )
    return entries


def _reviews(scenario: engine.Scenario, choices: list[list[str]], *, reveal: bool) -> list[DecisionReview]:
    reviews = []
    for point, chosen_ids in zip(scenario.decisions, choices, strict=False):
        chosen = [point.option(o) for o in chosen_ids]
        best = [point.option(o) for o in scenario.expert_path[point.index]] if reveal else []
        reviews.append(
            DecisionReview(
                point.index + 1,
                scenario.clock_label(point.at_hours),
                point.prompt,
                chosen,
                best,
                sum(o.points for o in chosen) if reveal else None,
            )
        )
    return reviews


def _band_chart(title, description, series, summaries, *, percent=False, y_max=None) -> Chart:
    yours, expert, baseline = summaries
    lines = [
        Line(
            "No partnership",
            baseline["bands"][f"{series}.p50"],
            "line-baseline",
            (baseline["bands"][f"{series}.p10"], baseline["bands"][f"{series}.p90"]),
        ),
        Line(
            "Expert path",
            expert["bands"][f"{series}.p50"],
            "line-expert",
            (expert["bands"][f"{series}.p10"], expert["bands"][f"{series}.p90"]),
        ),
        Line(
            "Your path",
            yours["bands"][f"{series}.p50"],
            "line-yours",
            (yours["bands"][f"{series}.p10"], yours["bands"][f"{series}.p90"]),
        ),
    ]
    times = yours["times"][: min(len(s["times"]) for s in summaries)]
    for line in lines:
        line.values = line.values[: len(times)]
        line.band = (line.band[0][: len(times)], line.band[1][: len(times)])
    return line_chart(title, description, times, lines, y_label=title, percent=percent, y_max=y_max)


def _run_charts(scenario: engine.Scenario, run: engine.Run) -> list[Chart]:
    s = run.series
    level_series = {f"level{k}": values for k, values in enumerate(s.reach_by_level)}
    times, levels = downsample(s.times, level_series)
    rumour = line_chart(
        "Rumor reach by severity (your run)",
        "Share of the community holding each version of the rumor over time, in the run you played.",
        times,
        [
            Line(f"Level {k + 1}: {scenario.rumour.levels[k]}", levels[f"level{k}"], f"line-level{k + 1}")
            for k in range(len(level_series))
        ],
        y_label="share of community",
        percent=True,
    )
    times, anger = downsample(s.times, s.anger_by_group)
    names = {g.id: g.name for g in scenario.groups}
    tension = line_chart(
        "Tension by group (your run)",
        "Mean anger (0 to 1) in each group over time, in the run you played.",
        times,
        [Line(names[g], values, f"line-group{i % 6}") for i, (g, values) in enumerate(anger.items())],
        y_label="mean anger",
        y_max=1.0,
    )
    return [rumour, tension]


# The three measures the debrief leads with: whether anyone struck back, how far the rumour
# went, and trust in police.
HEADLINE_MEASURES = (
    ("retaliations", "Retaliation"),
    ("heard_fraction", "How far the rumor went"),
    ("police_trust_end", "Trust in police"),
)


def period_words(hours: float) -> str:
    """The scenario's length for "simulated runs of these …": days or weeks when it is whole
    days or weeks, else hours (nothing the scenario does not say, such as "weekends")."""
    if hours >= 24 * 14 and hours % (24 * 7) == 0:
        return quantity(hours / (24 * 7), "week")
    if hours >= 24 and hours % 24 == 0:
        return quantity(hours / 24, "day")
    return quantity(hours, "hour")


def _margin(*summaries: dict) -> float:
    return sum(_half_width(s) ** 2 for s in summaries) ** 0.5


def _relation(verdict: str, other: str) -> str:
    return {"better": f"better than {other}", "worse": f"worse than {other}"}.get(
        verdict, f"about the same as {other}"
    )


def headline(scenario: engine.Scenario, summaries: tuple[dict, dict, dict]) -> str:
    """The debrief's first sentence: retaliation under your choices, the expert's and none."""
    yours, expert, baseline = (s["metrics"].get("retaliations") for s in summaries)
    if yours is None:
        return ""
    runs = summaries[0]["runs"]
    period = period_words(scenario.grading.horizon_hours)
    shares = [s.get("retaliated_share") for s in summaries]
    if None not in shares:
        mine, experts, none = (f"{round(share * 100):.0f}%" for share in shares)
        return (
            f"Someone retaliated in {mine} of {runs} simulated runs of these {period} under your choices: "
            f"{experts} under the expert's choices and {none} with no partnership."
        )
    v = measures.format_value
    return (
        f"Over {runs} simulated runs of these {period}, your choices led to "
        f"{v('retaliations', yours['mean'])} a run on average: "
        f"{v('retaliations', expert['mean'])} under the expert's choices and "
        f"{v('retaliations', baseline['mean'])} with no partnership."
    )


def comparisons(summaries: tuple[dict, dict, dict]) -> list[Comparison]:
    """Bars for the measures that matter, each with a sentence saying better or worse."""
    found = []
    for name, title in HEADLINE_MEASURES:
        yours, expert, baseline = (s["metrics"].get(name) for s in summaries)
        if yours is None or expert is None or baseline is None:
            continue
        m = measures.measure(name)
        values = [("Your choices", yours), ("Expert path", expert), ("No partnership", baseline)]
        top = 1.0 if m.format in (measures.PERCENT, measures.SCALE) else None
        chart = bar_chart(
            m.label,
            m.doc,
            [(label, s["mean"], measures.format_value(name, s["mean"])) for label, s in values],
            horizontal=True,
            top=top,
        )
        top = top or max([s["mean"] for _, s in values] + [1e-9])
        against_expert = measures.verdict(name, yours["mean"], expert["mean"], _margin(yours, expert))
        against_baseline = measures.verdict(name, yours["mean"], baseline["mean"], _margin(yours, baseline))
        sentence = (
            f"{m.label}: {measures.format_value(name, yours['mean'])} under your choices, "
            f"{_relation(against_baseline, 'no partnership')} and "
            f"{_relation(against_expert, 'the expert path')}. {m.good_looks_like}"
        )
        found.append(Comparison(name, title, sentence, chart, top, against_expert, against_baseline))
    return found


def build(attempt: Attempt, *, reveal: bool = True) -> Debrief:
    """Everything the debrief page shows for a finished attempt.

    With `reveal` False (an officer's own course attempt, before the scenario is passed or out
    of attempts: `attempts.reveals_answers`) the expert path is left out: each decision keeps
    its feedback and what it led to (not its points: across attempts they would rank the
    options), and the measures still compare the outcome with
    the expert's and no partnership's, but no option is named as the expert's.
    """
    scenario = scenario_of(attempt.scenario_version)
    choices = attempt.choices
    run = engine.simulate(scenario, choices, attempt.seed)
    grade = attempt.grade
    yours = grade.breakdown["distribution"]
    expert = reference_summary(scenario, scenario.expert_path, version=attempt.scenario_version)
    baseline = reference_summary(scenario, scenario.baseline_path, version=attempt.scenario_version)
    summaries = (yours, expert, baseline)
    rows = []
    for name in engine.METRIC_DOCS:
        if name not in yours["metrics"]:
            continue
        rows.append(
            MetricRow(
                name,
                measures.measure(name).doc,
                yours["metrics"][name]["mean"],
                expert["metrics"][name]["mean"],
                baseline["metrics"][name]["mean"],
                yours["metrics"][name]["p10"],
                yours["metrics"][name]["p90"],
            )
        )
    charts = [
        _band_chart(
            "Share believing the rumor",
            "Median and 10th–90th percentile band over many runs of each path.",
            "reach",
            summaries,
            percent=True,
        ),
        _band_chart(
            "Violent incidents so far",
            "Cumulative incidents: median and 10th–90th percentile band over many runs.",
            "incidents",
            summaries,
        ),
        _band_chart(
            "Trust in police",
            "Mean trust in police (0 to 1): median and 10th–90th percentile band.",
            "police_trust",
            summaries,
            y_max=1.0,
        ),
        *_run_charts(scenario, run),
    ]
    return Debrief(
        attempt,
        scenario,
        grade,
        run,
        _timeline(scenario, run),
        _reviews(scenario, choices, reveal=reveal),
        rows,
        charts,
        dict(engine.OBJECTIVES),
        network_picture(scenario, run),
        grade_summary(scenario, grade.breakdown),
        reveal,
        headline(scenario, summaries),
        comparisons(summaries),
    )


@dataclass
class WhatIfRow:
    name: str
    label: str
    doc: str
    yours: float
    projected: float
    yours_text: str
    projected_text: str
    difference_text: str
    verdict: str  # "better" | "worse" | "about the same", for the change


@dataclass
class WhatIf:
    decision: engine.DecisionPoint
    original: list[engine.Option]
    alternative: list[engine.Option]
    rows: list[WhatIfRow]
    runs: int


class _Projections:
    """A bounded, thread-safe LRU of Monte Carlo metric means, keyed by what determines them."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple, dict[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> dict[str, float] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple, means: dict[str, float]) -> None:
        with self._lock:
            self._items[key] = means
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# Runs are deterministic, so a projection is computed once per (scenario YAML, seed, path): the
# attempt's own path, and each alternative asked for.
_projections = _Projections(WHAT_IF_CACHE_SIZE)


def _played(attempt: Attempt) -> tuple[int, int, dict[str, dict]]:
    """The runs, seed and metric summaries the debrief shows for the attempt's own path (its
    grade's distribution): what-if projects alternatives with the same runs and seed, so "as you
    played" is the debrief's figure and a difference is the choice's, not the luck's."""
    summary = attempt.grade.breakdown["distribution"]
    # The grade's Monte Carlo is seeded with the attempt's seed (grades stored before the
    # summary kept its seed have no "seed" of their own).
    return int(summary["runs"]), int(summary.get("seed", attempt.seed)), summary["metrics"]


def what_if_runs(attempt: Attempt) -> int:
    """How many runs a what-if projection of `attempt` is made over: its debrief's."""
    return _played(attempt)[0]


def _projection_key(attempt: Attempt, path: list[list[str]]) -> tuple:
    # What determines a run: the scenario's YAML, the seed and the path (not the attempt's id).
    runs, seed, _ = _played(attempt)
    return (attempt.scenario_version.fingerprint, seed, runs, tuple(tuple(choice) for choice in path))


def _alternative(choices: list[list[str]], index: int, option_ids: list[str]) -> list[list[str]]:
    changed = [list(c) for c in choices]
    if 0 <= index < len(changed):
        changed[index] = list(dict.fromkeys(option_ids))
    return changed


def _projected(scenario: engine.Scenario, attempt: Attempt, path: list[list[str]]) -> dict[str, dict]:
    if path == attempt.choices:
        return _played(attempt)[2]
    key = _projection_key(attempt, path)
    metrics = _projections.get(key)
    if metrics is None:
        runs, seed, _ = _played(attempt)
        distribution = engine.monte_carlo(scenario, path, runs, seed)
        metrics = {name: {"mean": m.mean, "ci95": list(m.ci95)} for name, m in distribution.metrics.items()}
        _projections.put(key, metrics)
    return metrics


def _half_width(summary: dict) -> float:
    low, high = summary.get("ci95") or (summary["mean"], summary["mean"])
    return (high - low) / 2


def what_if_is_cached(attempt: Attempt, index: int, option_ids: list[str]) -> bool:
    """Whether `what_if(attempt, index, option_ids)` would simulate nothing (the alternative's
    projection is known, or it is the path played): the cheap answers are not rate-limited."""
    changed = _alternative(attempt.choices, index, option_ids)
    return changed == attempt.choices or _projections.get(_projection_key(attempt, changed)) is not None


def what_if(attempt: Attempt, index: int, option_ids: list[str]) -> WhatIf:
    """Project the outcome had decision `index` gone differently (not graded), over the same
    runs and seed as the attempt's grade. Each projection is simulated once per process and
    then kept (`_projections`)."""
    scenario = scenario_of(attempt.scenario_version)
    choices = attempt.choices
    if not 0 <= index < len(choices):
        raise ValueError("Pick one of the decisions you made.")
    changed = _alternative(choices, index, option_ids)
    problems = engine.validate_decisions(scenario, changed)
    if problems:
        raise ValueError("That alternative is not a valid choice: " + "; ".join(problems))
    runs = _played(attempt)[0]
    mine = _projected(scenario, attempt, choices)
    theirs = _projected(scenario, attempt, changed)
    point = scenario.decisions[index]
    rows = []
    for name in engine.METRIC_DOCS:
        if name not in mine or name not in theirs:
            continue
        m = measures.measure(name)
        a, b = mine[name]["mean"], theirs[name]["mean"]
        margin = (_half_width(mine[name]) ** 2 + _half_width(theirs[name]) ** 2) ** 0.5
        rows.append(
            WhatIfRow(
                name,
                m.label,
                m.doc,
                a,
                b,
                measures.format_value(name, a),
                measures.format_value(name, b),
                measures.format_difference(name, b - a),
                measures.verdict(name, b, a, margin),
            )
        )
    return WhatIf(
        point,
        [point.option(o) for o in choices[index]],
        [point.option(o) for o in changed[index]],
        rows,
        runs,
    )
