"""An instructor's package for one scenario version: who may have it, and what it says.

A facilitator guide (for running the scenario with a class) and a tabletop version (a
15-minute roll-call exercise) are built from the scenario's YAML (briefing, partners,
decision points, options, expert and no-partnership paths, and its optional `facilitator:`
block) and, when the version has them, its stored reference results (the expert and
no-partnership means its grades are scored against). Nothing is simulated here: a version
that has never been graded or calibrated says so instead of showing figures.

`lms.services.facilitator_pdf` lays the content out as PDFs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

import scenarios as engine
from lms.extensions import db
from lms.models import Role, ScenarioRecord, ScenarioVersion, User
from lms.services.scenario_library import scenario_of, visible_records
from lms.services.scoping import NotFound

# Who may download the package: instructors and coordinators (platform admins always may).
PACKAGE_ROLES = (Role.INSTRUCTOR, Role.COORDINATOR)

DEFAULT_MINUTES = {"briefing": 5, "play": 20, "debrief": 15}
TABLETOP_MINUTES = 15

DEFAULT_PROMPTS = (
    "What do you know for sure at this point, and what are you hearing?",
    "Who would you call, and what would you tell them and not tell them?",
)
DEFAULT_DEBRIEF_PROMPTS = (
    "Which call made the most difference, and why that person?",
    "What did the expert keep back, and who did that protect?",
    "What would you do differently on your next shift, and who would you need to know first?",
    "Where did the no-partnership path lose time, and what did that cost the neighborhood?",
)

MODEL_PARAGRAPH = (
    "Ripple is a teaching simulation, not a forecast. It models a made-up neighborhood as groups "
    "of people who pass a rumor along, grow angry or calm down, and trust the police more or "
    "less, and two groups who may retaliate against each other. Partners reach some groups "
    "and are believed by some more than others; what they are told helps them act and may "
    "travel further than intended. Each run rolls the dice differently, so the figures are "
    "averages over many runs of the same choices. The numbers show which way choices push a "
    "situation and roughly how far; they do not predict what would happen on a real street."
)

# The reference metrics shown, in plain words: (metric, what it is, how to write a mean).
_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("retaliations", "Retaliatory incidents", "{:.1f} on average"),
    ("retaliation_risk", "Retaliation risk (incidents the model expected)", "{:.2f}"),
    ("peak_reach", "Share of the community believing the rumor at its height", "{:.0%}"),
    ("final_reach", "Share still believing it at the end", "{:.0%}"),
    ("police_trust_end", "Trust in police at the end, out of 100", "{:.0f}"),
    ("mean_anger_end", "Anger at the end, out of 100", "{:.0f}"),
    ("leaks", "Pieces of sensitive information that got beyond the partner told", "{:.1f}"),
    ("case_damage", "Runs in which the case was damaged", "{:.0%}"),
    ("contradicted_claims", "Public police claims the facts later contradicted", "{:.1f}"),
)
_PERCENT_SCALE = {"police_trust_end", "mean_anger_end"}  # 0..1 shown out of 100


@dataclass(frozen=True)
class OptionNote:
    letter: str  # the option's id, as the app shows it
    label: str  # Markdown
    feedback: str  # Markdown
    points: float
    expert: bool
    critical: str  # why it fails the attempt, or ""


@dataclass(frozen=True)
class DecisionNote:
    number: int
    when: str  # "Thursday 18:00 (1 hour after the fight at the market)"
    prompt: str  # Markdown
    kind: str
    max_choices: int
    options: tuple[OptionNote, ...]
    prompts: tuple[str, ...]  # discussion prompts
    prompts_are_defaults: bool
    expert_labels: tuple[str, ...]  # "c) Put out one message ..." (Markdown), in id order
    baseline_labels: tuple[str, ...]


@dataclass(frozen=True)
class PartnerNote:
    name: str
    kind: str
    delay_hours: float
    reaches: tuple[str, ...]  # "the Pine Street group (reach 60%, believed 80%)"


@dataclass(frozen=True)
class Outcomes:
    runs: int
    figures: tuple[str, ...]  # one sentence per metric: the expert's mean, then no partnership's


@dataclass(frozen=True)
class Package:
    title: str
    slug: str
    version: int
    status: str
    summary: str
    objectives: tuple[tuple[int, str], ...]
    goals: tuple[str, ...]
    goals_are_defaults: bool
    minutes: dict[str, int]
    minutes_are_defaults: dict[str, bool]
    briefing: str  # Markdown
    partners: tuple[PartnerNote, ...]
    decisions: tuple[DecisionNote, ...]
    debrief_prompts: tuple[str, ...]
    debrief_are_defaults: bool
    assumptions: tuple[str, ...]
    outcomes: Outcomes | None
    tabletop_prompts: tuple[str, ...] = field(default=())


# --- who may have it ------------------------------------------------------------------


def version_for(actor: User, version_id: int) -> ScenarioVersion:
    """A scenario version whose package the actor may download, else NotFound.

    Published versions of the library and of the actor's agency; drafts only of the actor's
    agency's own scenarios (platform admins: everything). Other agencies' versions raise the
    same NotFound as missing ones.
    """
    if not (actor.has_role(*PACKAGE_ROLES) or actor.is_platform_admin):
        raise NotFound(f"ScenarioVersion {version_id}")
    visible = visible_records(actor).subquery()
    version = db.session.scalar(
        select(ScenarioVersion)
        .join(visible, visible.c.id == ScenarioVersion.scenario_id)
        .where(ScenarioVersion.id == version_id)
    )
    if version is None:
        raise NotFound(f"ScenarioVersion {version_id}")
    if version.status != "published" and not actor.is_platform_admin:
        record = db.session.get(ScenarioRecord, version.scenario_id)
        if record is None or record.agency_id is None or record.agency_id != actor.agency_id:
            raise NotFound(f"ScenarioVersion {version_id}")
    return version


def may_download(actor: User) -> bool:
    return actor.has_role(*PACKAGE_ROLES) or actor.is_platform_admin


# --- what it says -----------------------------------------------------------------------


def package(version: ScenarioVersion) -> Package:
    """The content of both handouts for a version."""
    scenario = scenario_of(version)
    return build(
        scenario, version=version.number, status=version.status, outcomes=stored_outcomes(version, scenario)
    )


def build(
    scenario: engine.Scenario, *, version: int | None = None, status: str = "published", outcomes=None
) -> Package:
    """The package for a parsed scenario (pure: no database)."""
    f = scenario.facilitator
    minutes = {phase: getattr(f.minutes, phase) or default for phase, default in DEFAULT_MINUTES.items()}
    minutes_defaults = {phase: getattr(f.minutes, phase) is None for phase in DEFAULT_MINUTES}
    goals = f.goals or _default_goals(scenario)
    debrief = f.debrief_prompts or DEFAULT_DEBRIEF_PROMPTS
    return Package(
        title=scenario.title,
        slug=scenario.slug,
        version=version if version is not None else scenario.version,
        status=status,
        summary=scenario.summary.strip(),
        objectives=tuple((o, engine.OBJECTIVES[o]) for o in scenario.objectives),
        goals=goals,
        goals_are_defaults=not f.goals,
        minutes=minutes,
        minutes_are_defaults=minutes_defaults,
        briefing=scenario.briefing,
        partners=tuple(_partner(scenario, p) for p in scenario.partners),
        decisions=tuple(_decision(scenario, dp) for dp in scenario.decisions),
        debrief_prompts=debrief,
        debrief_are_defaults=not f.debrief_prompts,
        assumptions=f.assumptions,
        outcomes=outcomes,
        tabletop_prompts=tuple(
            (list(f.debrief_prompts) + [p for p in DEFAULT_DEBRIEF_PROMPTS if p not in f.debrief_prompts])[:3]
        ),
    )


def _default_goals(scenario: engine.Scenario) -> tuple[str, ...]:
    goals = [
        f"Practice objective {o}, {engine.OBJECTIVES[o].lower()}, under time pressure."
        for o in scenario.objectives[:4]
    ]
    goals.append("Say what each partner may be told, and what stays with the case detective.")
    return tuple(goals)


def _partner(scenario: engine.Scenario, partner: engine.Partner) -> PartnerNote:
    kind = engine.PARTNER_TYPES.get(partner.type)
    groups = {g.id: g.name for g in scenario.groups}
    reaches = tuple(
        f"{groups.get(gid, gid)} (reaches {share:.0%}, believed {partner.credibility.get(gid, 0):.0%})"
        for gid, share in partner.reach.items()
    )
    return PartnerNote(partner.name, kind.label if kind else partner.type, partner.delay_hours, reaches)


def _decision(scenario: engine.Scenario, dp: engine.DecisionPoint) -> DecisionNote:
    expert = _chosen(scenario.expert_path, dp.index)
    baseline = _chosen(scenario.baseline_path, dp.index)
    options = tuple(
        OptionNote(o.id, o.label, o.feedback, o.points, o.id in expert, o.critical)
        for o in sorted(dp.options, key=lambda o: o.id)
    )
    prompts = scenario.facilitator.prompts.get(dp.id, ())
    return DecisionNote(
        number=dp.index + 1,
        when=scenario.clock_label(dp.at_hours),
        prompt=dp.prompt,
        kind=dp.kind,
        max_choices=dp.max_choices,
        options=options,
        prompts=prompts or DEFAULT_PROMPTS,
        prompts_are_defaults=not prompts,
        expert_labels=tuple(f"{o.letter}) {o.label}" for o in options if o.expert),
        baseline_labels=tuple(f"{o.letter}) {o.label}" for o in options if o.letter in baseline),
    )


def _chosen(path: list[list[str]], index: int) -> set[str]:
    return set(path[index]) if index < len(path) else set()


# --- the reference results ------------------------------------------------------------


def stored_outcomes(version: ScenarioVersion, scenario: engine.Scenario) -> Outcomes | None:
    """The expert and no-partnership means kept on the version for its current YAML (by the
    first grading or a calibration), with the most runs; None when there are none."""
    best = None
    for key, value in (version.reference_summaries or {}).items():
        if not key.startswith("grading:") or not isinstance(value, dict):
            continue
        if value.get("fingerprint") != scenario.fingerprint:
            continue
        if best is None or int(value.get("runs", 0)) > int(best.get("runs", 0)):
            best = value
    if best is None:
        return None
    return Outcomes(int(best.get("runs", 0)), figures(best.get("expert") or {}, best.get("baseline") or {}))


def figures(expert: dict, baseline: dict) -> tuple[str, ...]:
    """The expert's and the no-partnership reference means as sentences, in a fixed order."""
    out = []
    for name, label, fmt in _FIGURES:
        pair = [_shown(name, fmt, means.get(name)) for means in (expert, baseline)]
        if None in pair:
            continue
        out.append(f"{label}: {pair[0]} following the expert path, {pair[1]} with no partnership.")
    return tuple(out)


def _shown(name: str, fmt: str, value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return fmt.format(value * 100 if name in _PERCENT_SCALE else value)
