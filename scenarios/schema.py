"""The scenario format: parse YAML, validate everything, build frozen dataclasses.

``load_scenario`` reports every problem at once, each with its path in the
document and its line, and raises nothing but ``ScenarioError``.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalogue import GROUP_ROLES, OBJECTIVES, PARTNER_TYPES
from .model.actions import ACTIONS
from .yamlsource import MISSING, DocumentError, IssueCollector, parse_yaml

FORMAT_VERSION = 1
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Outcome metrics a scenario may grade on (see engine.METRIC_DOCS for meanings).
METRICS = (
    "incidents",
    "retaliations",
    "time_to_first_retaliation",
    "peak_reach",
    "final_reach",
    "peak_severity",
    "corrected_fraction",
    "mean_anger_end",
    "peak_mean_anger",
    "police_trust_end",
    "retaliation_risk",
    "leaks",
    "case_damage",
    "contradicted_claims",
)


# Every number has a finite range (NaN and infinity are refused everywhere), chosen from what
# the model needs with headroom over the library; scenarios/README.md lists them all.
MAX_HOURS = 24 * 60  # the longest horizon: every time in hours after the incident
MAX_DECAY_HOURS = 24 * 365
MAX_GROUPS = 50
MAX_LINKS = 200
MAX_PARTNERS = 50
MAX_LEVELS = 20
MAX_DECISIONS = 30
MAX_ACTIONS = 20  # per option
MAX_LATE_PATHS = 20
MAX_RUNS = 10_000
MAX_REFERENCE_RUNS = 1_000  # each grade's references simulate two paths this many times
MAX_BASELINE_PER_DAY = 10.0  # background incidents per ordered pair of groups; the library uses 0.05
# the values a metric can take, which bound its good and bad thresholds
METRIC_RANGES = {
    "incidents": (0.0, 1000.0),
    "retaliations": (0.0, 1000.0),
    "time_to_first_retaliation": (0.0, float(MAX_HOURS)),
    "peak_reach": (0.0, 1.0),
    "final_reach": (0.0, 1.0),
    "peak_severity": (0.0, float(MAX_LEVELS)),
    "corrected_fraction": (0.0, 1.0),
    "mean_anger_end": (0.0, 1.0),
    "peak_mean_anger": (0.0, 1.0),
    "police_trust_end": (0.0, 1.0),
    "retaliation_risk": (0.0, 1000.0),
    "leaks": (0.0, 1000.0),
    "case_damage": (0.0, 1.0),
    "contradicted_claims": (0.0, 1000.0),
}
# The kinds of contrast path a scenario names for its calibration (scenarios/README.md):
# each is checked against the expert path on paired seeds.
CONTRAST_KINDS = ("late", "wrong_messenger", "oversharing", "false_statement", "alternative")


class ScenarioError(DocumentError):
    """A scenario document is invalid; ``.issues`` lists every problem."""


# --- the dataclasses ------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    size: int
    role: str
    police_trust: float
    anger: float


@dataclass(frozen=True)
class Partner:
    id: str
    type: str
    name: str
    delay_hours: float
    willingness: float
    reach: dict[str, float] = field(hash=False)  # group id -> share of the group reached
    credibility: dict[str, float] = field(hash=False)  # group id -> 0..1
    discretion: float = 0.5  # 0..1: how reliably sensitive information stays with them


@dataclass(frozen=True)
class Action:
    type: str
    args: dict[str, Any] = field(hash=False)  # defaults filled in


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    actions: tuple[Action, ...]
    points: float
    objectives: tuple[int, ...]
    feedback: str
    critical: str = ""  # non-empty: taking this option fails the attempt, and this says why


@dataclass(frozen=True)
class DecisionPoint:
    id: str
    index: int  # 0-based position in scenario.decisions
    at_hours: float
    prompt: str
    kind: str  # "single" | "multiple"
    max_choices: int
    options: tuple[Option, ...]

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Community:
    mixing: str  # "network" | "well_mixed"
    contacts_within: float  # mean contacts a person has inside their own group
    contacts_between: float  # mean contacts a person has in other groups (spread by size)
    links: tuple[tuple[str, str, float], ...]  # extra mean contacts per member between two groups


@dataclass(frozen=True)
class Incident:
    by: str | None
    against: str | None
    text: str
    transfer_at_hours: float | None
    facts_emerge_hours: float = 24.0  # when the facts come out (footage, witnesses): claims meet them


@dataclass(frozen=True)
class Rumour:
    start_hours: float
    seeds: int
    seed_group: str | None
    contact_rate: float  # tellings per spreader per hour
    escalation: float  # probability a telling escalates one level
    levels: tuple[str, ...]
    start_level: int  # 1-based
    affects: tuple[str, ...]  # groups whose anger rises with severe versions


@dataclass(frozen=True)
class Tension:
    anger_per_level: float
    anger_per_incident: float
    decay_hours: float


@dataclass(frozen=True)
class Retaliation:
    groups: tuple[str, ...]
    branching: float
    decay_hours: float
    baseline_per_day: float
    anger_weight: float
    anger_reference: float


@dataclass(frozen=True)
class Police:
    delay_hours: float
    statement_reach: float
    clearance_hours: float = 3.0  # extra time a complete statement of facts takes to clear


@dataclass(frozen=True)
class Clock:
    weekday: str
    time: str  # "HH:MM"
    event: str  # "the shooting"


@dataclass(frozen=True)
class Threshold:
    """An outcome metric the grade uses, and its weight. ``good`` and ``bad`` are read from
    older scenarios and shown to authors as targets, but no longer score anything: outcomes
    are scored against the scenario's own expert and no-partnership runs."""

    weight: float
    good: float | None = None
    bad: float | None = None


@dataclass(frozen=True)
class AdaptiveRule:
    """When an adaptive grade stops running: the rule's numbers, in one place (scenarios/adaptive.py
    applies them; a scenario may override any of them in ``grading.adaptive``).

    Runs go in batches of ``batch`` from the attempt's seed family. After a batch the grade stops
    when it has at least ``floor`` runs, the score's 95% interval is no wider than
    ± max(``width``, ``relative_width`` x its distance from the pass mark), and the verdict is
    settled: the pass mark lies outside score ± z x SE, z for ``confidence`` (a critical error
    settles it alone). Otherwise it stops at ``cap``. Defaults and why: scenarios/README.md.
    """

    batch: int = 20
    floor: int = 40
    cap: int = 1000
    width: float = 1.0  # points, 95% half-width, near the pass mark
    relative_width: float = 0.25  # far from it: a quarter of the distance is precise enough
    confidence: float = 0.99  # of the pass/fail verdict


@dataclass(frozen=True)
class Grading:
    pass_mark: float
    rubric_weight: float
    outcome_weight: float
    runs: int
    horizon_hours: float
    sample_minutes: float
    outcomes: dict[str, Threshold] = field(hash=False)
    reference_runs: int = 200  # runs of the expert and no-partnership paths the outcome is scored against
    adaptive: AdaptiveRule = AdaptiveRule()  # when a grade's runs stop (the fixed ``runs`` is for --runs N)


@dataclass(frozen=True)
class FacilitatorMinutes:
    briefing: int | None = None
    play: int | None = None
    debrief: int | None = None


@dataclass(frozen=True)
class Facilitator:
    """Notes for an instructor running the scenario with a group (all optional)."""

    goals: tuple[str, ...] = ()
    minutes: FacilitatorMinutes = FacilitatorMinutes()
    prompts: dict[str, tuple[str, ...]] = field(hash=False, default_factory=dict)  # decision id -> prompts
    debrief_prompts: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    version: int
    summary: str
    briefing: str
    objectives: tuple[int, ...]
    start_clock: Clock
    groups: tuple[Group, ...]
    partners: tuple[Partner, ...]
    community: Community
    incident: Incident
    rumour: Rumour
    tension: Tension
    retaliation: Retaliation
    police: Police
    decisions: tuple[DecisionPoint, ...]
    grading: Grading
    expert_path: list[list[str]] = field(hash=False)
    baseline_path: list[list[str]] = field(hash=False)
    late_paths: dict[str, list[list[str]]] = field(hash=False)
    contrast_paths: dict[str, tuple[str, list[list[str]]]] = field(hash=False, default_factory=dict)
    source_text: str = field(repr=False, default="")
    fingerprint: str = ""
    facilitator: Facilitator = Facilitator()

    @property
    def group_ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.groups)

    @property
    def population(self) -> int:
        return sum(g.size for g in self.groups)

    def group(self, group_id: str) -> Group:
        return next(g for g in self.groups if g.id == group_id)

    def partner(self, partner_id: str) -> Partner:
        return next(p for p in self.partners if p.id == partner_id)

    def clock_label(self, t_hours: float) -> str:
        """E.g. ``"Saturday 23:40 (40 minutes after the shooting)"``."""
        h, m = (int(x) for x in self.start_clock.time.split(":"))
        total = round(h * 60 + m + t_hours * 60)
        day = WEEKDAYS[(WEEKDAYS.index(self.start_clock.weekday) + total // 1440) % 7]
        clock = f"{(total % 1440) // 60:02d}:{total % 60:02d}"
        return f"{day} {clock} ({_elapsed(t_hours)} after {self.start_clock.event})"


def _elapsed(t_hours: float) -> str:
    minutes = round(t_hours * 60)
    if minutes < 60:
        return f"{minutes} minute{'s' * (minutes != 1)}"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        text = f"{hours} hour{'s' * (hours != 1)}"
        return text + (f" {rest} minutes" if rest else "")
    days, hours = divmod(hours, 24)
    text = f"{days} day{'s' * (days != 1)}"
    return text + (f" {hours} hour{'s' * (hours != 1)}" if hours else "")


# --- parsing ---------------------------------------------------------------------

TOP_KEYS = (
    "ripple_scenario", "slug", "title", "version", "summary", "briefing", "objectives",
    "clock", "community", "partners", "incident", "rumour", "tension", "retaliation",
    "police", "decisions", "grading", "expert_path", "baseline_path", "late_paths", "contrast_paths",
    "facilitator",
)  # fmt: skip

DEFAULT_LEVELS = (
    "There was a shooting.",
    "People are saying who did it.",
    "People are saying they will do it again.",
    "People are saying they are coming back tonight.",
)


def load_scenario(path_or_text: str | Path) -> Scenario:
    """Load and validate a scenario from a file path or YAML text.

    Raises ``ScenarioError`` (and nothing else) listing every problem, each with
    its path in the document and its line.
    """
    try:
        text = _read(path_or_text)
        try:
            document = parse_yaml(text)
        except DocumentError as exc:
            raise ScenarioError(exc.issues) from None
        return _build(document)
    except ScenarioError:
        raise
    except Exception as exc:  # a validator bug must still surface as a ScenarioError
        from .yamlsource import Issue

        raise ScenarioError(
            [Issue("(document)", f"could not be read: {type(exc).__name__}: {exc}", None)]
        ) from exc


def _read(path_or_text: str | Path) -> str:
    from .yamlsource import Issue

    if isinstance(path_or_text, Path):
        try:
            return path_or_text.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError([Issue(str(path_or_text), f"cannot read file: {exc}", None)]) from None
    if not isinstance(path_or_text, str):
        raise ScenarioError([Issue("(document)", "expected a path or YAML text", None)])
    if "\n" not in path_or_text and path_or_text.endswith((".yaml", ".yml")):
        return _read(Path(path_or_text))
    return path_or_text


def _slug_ok(value: str) -> bool:
    allowed = set(string.ascii_lowercase + string.digits + "-_")
    return bool(value) and set(value) <= allowed


def _build(document) -> Scenario:
    c = IssueCollector(document, ScenarioError)
    root = c.mapping(document.data, (), allowed=TOP_KEYS)
    if document.data is None:
        c.add((), "the document is empty")
    elif not isinstance(document.data, dict):
        c.raise_if_any()

    fmt = c.require(root, "ripple_scenario", (), int)
    if fmt is not MISSING and fmt != FORMAT_VERSION:
        c.add(("ripple_scenario",), f"unsupported format version {fmt}; this engine reads {FORMAT_VERSION}")
    slug = c.require(root, "slug", (), str)
    if slug and not _slug_ok(slug):
        c.add(("slug",), "use lowercase letters, digits, '-' and '_' only")
    title = c.require(root, "title", (), str)
    version = c.optional(root, "version", (), int, 1, min=1, max=1_000_000)
    summary = c.optional(root, "summary", (), str, "")
    briefing = c.optional(root, "briefing", (), str, "")
    objectives = []
    for i, o in enumerate(c.sequence(c.optional(root, "objectives", (), list, []), ("objectives",))):
        objectives.append(c.choice(o, ("objectives", i), list(OBJECTIVES), what="objective"))

    clock_d = c.mapping(
        c.optional(root, "clock", (), dict, {}), ("clock",), allowed=("weekday", "time", "event")
    )
    weekday = c.optional(clock_d, "weekday", ("clock",), str, "Saturday", choices=WEEKDAYS)
    time_ = c.optional(clock_d, "time", ("clock",), str, "23:00")
    if time_ and not _time_ok(time_):
        c.add(("clock", "time"), f'expected a time like "23:40", got "{time_}"')
        time_ = "00:00"
    clock = Clock(
        weekday or "Saturday",
        time_ or "00:00",
        c.optional(clock_d, "event", ("clock",), str, "the incident") or "the incident",
    )

    groups, community = _community(c, root)
    gids = [g.id for g in groups]
    partners = _partners(c, root, gids)
    pids = [p.id for p in partners]

    inc_d = c.mapping(
        c.optional(root, "incident", (), dict, {}),
        ("incident",),
        allowed=("by", "against", "text", "transfer_at_hours", "facts_emerge_hours"),
    )
    by = c.optional(inc_d, "by", ("incident",), str, None)
    against = c.optional(inc_d, "against", ("incident",), str, None)
    for key, val in (("by", by), ("against", against)):
        if val is not None and gids:
            c.choice(val, ("incident", key), gids, what="group")
    if by is not None and by == against:
        c.add(("incident", "against"), "an incident needs two different groups")
    incident = Incident(
        by,
        against,
        c.optional(inc_d, "text", ("incident",), str, "") or "",
        c.optional(inc_d, "transfer_at_hours", ("incident",), float, None, min=0, max=MAX_HOURS),
        c.optional(inc_d, "facts_emerge_hours", ("incident",), float, 24.0, min=0, max=MAX_HOURS),
    )

    rumour = _rumour(c, root, gids)
    t_d = c.mapping(
        c.optional(root, "tension", (), dict, {}),
        ("tension",),
        allowed=("anger_per_level", "anger_per_incident", "decay_hours"),
    )
    tension = Tension(
        c.optional(t_d, "anger_per_level", ("tension",), float, 0.05, min=0, max=1),
        c.optional(t_d, "anger_per_incident", ("tension",), float, 0.3, min=0, max=1),
        c.optional(t_d, "decay_hours", ("tension",), float, 48.0, min=0.01, max=MAX_DECAY_HOURS),
    )
    retaliation = _retaliation(c, root, gids)
    if incident.by and incident.against and gids:
        for key in ("by", "against"):
            g = getattr(incident, key)
            if g in gids and g not in retaliation.groups:
                c.add(("incident", key), f'group "{g}" must be listed in retaliation.groups')
    p_d = c.mapping(
        c.optional(root, "police", (), dict, {}),
        ("police",),
        allowed=("delay_hours", "statement_reach", "clearance_hours"),
    )
    police = Police(
        c.optional(p_d, "delay_hours", ("police",), float, 0.5, min=0, max=24 * 14),
        c.optional(p_d, "statement_reach", ("police",), float, 0.5, min=0, max=1),
        c.optional(p_d, "clearance_hours", ("police",), float, 3.0, min=0, max=24 * 14),
    )
    grading = _grading(c, root)
    decisions = _decisions(c, root, gids, pids, partners, grading.horizon_hours)
    _check_claims_meet_facts(c, incident, grading, decisions)

    paths = {}
    for key, required in (("expert_path", True), ("baseline_path", True)):
        paths[key] = _path(c, root.get(key, MISSING), (key,), decisions, required)
    late: dict[str, list[list[str]]] = {}
    late_d = c.mapping(c.optional(root, "late_paths", (), dict, {}), ("late_paths",))
    if len(late_d) > MAX_LATE_PATHS:
        c.add(("late_paths",), f"allows at most {MAX_LATE_PATHS} paths, has {len(late_d)}")
    for name, value in late_d.items():
        late[str(name)] = _path(c, value, ("late_paths", str(name)), decisions, True)
    contrast: dict[str, tuple[str, list[list[str]]]] = {}
    contrast_d = c.mapping(c.optional(root, "contrast_paths", (), dict, {}), ("contrast_paths",))
    if len(contrast_d) > MAX_LATE_PATHS:
        c.add(("contrast_paths",), f"allows at most {MAX_LATE_PATHS} paths, has {len(contrast_d)}")
    for name, value in list(contrast_d.items())[:MAX_LATE_PATHS]:
        cp = ("contrast_paths", str(name))
        value = c.mapping(value, cp, allowed=("kind", "path"))
        kind = c.require(value, "kind", cp, str, choices=CONTRAST_KINDS)
        path = _path(c, value.get("path", MISSING), cp + ("path",), decisions, True)
        if kind:
            contrast[str(name)] = (kind, path)

    facilitator = _facilitator(c, root, decisions)

    c.raise_if_any()
    canonical = json.dumps(document.data, sort_keys=True, ensure_ascii=False, default=str)
    return Scenario(
        slug=slug, title=title, version=version, summary=summary, briefing=briefing,
        objectives=tuple(objectives), start_clock=clock, groups=tuple(groups),
        partners=tuple(partners), community=community, incident=incident, rumour=rumour,
        tension=tension, retaliation=retaliation, police=police, decisions=tuple(decisions),
        grading=grading, expert_path=paths["expert_path"], baseline_path=paths["baseline_path"],
        late_paths=late, contrast_paths=contrast, source_text=document.text,
        fingerprint=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        facilitator=facilitator,
    )  # fmt: skip


# The facilitator block: limits for its texts and lists (scenarios/README.md, "facilitator").
FACILITATOR_TEXT_MAX = 600
FACILITATOR_LIST_MAX = 8
FACILITATOR_MINUTES_MAX = 240
FACILITATOR_PHASES = ("briefing", "play", "debrief")


def _facilitator(c: IssueCollector, root: dict, decisions: list[DecisionPoint]) -> Facilitator:
    p = ("facilitator",)
    d = c.mapping(
        c.optional(root, "facilitator", (), dict, {}),
        p,
        allowed=("goals", "minutes", "prompts", "debrief_prompts", "assumptions"),
    )
    if not d:
        return Facilitator()
    m_d = c.mapping(c.optional(d, "minutes", p, dict, {}), p + ("minutes",), allowed=FACILITATOR_PHASES)
    minutes = FacilitatorMinutes(
        *(
            c.optional(m_d, phase, p + ("minutes",), int, None, min=1, max=FACILITATOR_MINUTES_MAX)
            for phase in FACILITATOR_PHASES
        )
    )
    prompts: dict[str, tuple[str, ...]] = {}
    ids = [dp.id for dp in decisions]
    pr_d = c.mapping(c.optional(d, "prompts", p, dict, {}), p + ("prompts",))
    for key, value in pr_d.items():
        kp = p + ("prompts", str(key))
        if c.choice(key, kp, ids, what="decision id") is MISSING:
            continue
        prompts[str(key)] = _facilitator_texts(c, value, kp)
    return Facilitator(
        goals=_facilitator_texts(c, d.get("goals", MISSING), p + ("goals",)),
        minutes=minutes,
        prompts={i: prompts[i] for i in ids if i in prompts},  # in the decisions' order
        debrief_prompts=_facilitator_texts(c, d.get("debrief_prompts", MISSING), p + ("debrief_prompts",)),
        assumptions=_facilitator_texts(c, d.get("assumptions", MISSING), p + ("assumptions",)),
    )


def _facilitator_texts(c: IssueCollector, value: Any, path: tuple) -> tuple[str, ...]:
    """A list of 1-8 plain strings of 1-600 characters each (absent or null: none)."""
    if value is MISSING or value is None:
        return ()
    items = c.sequence(value, path, min_len=1, max_len=FACILITATOR_LIST_MAX)
    out = []
    for i, text in enumerate(items[:FACILITATOR_LIST_MAX]):
        ip = path + (i,)
        if not c.check_type(text, ip, str):
            continue
        text = text.strip()
        if not text:
            c.add(ip, "must not be empty")
        elif len(text) > FACILITATOR_TEXT_MAX:
            c.add(ip, f"must be at most {FACILITATOR_TEXT_MAX} characters, has {len(text)}")
        else:
            out.append(text)
    return tuple(out)


def _check_claims_meet_facts(c: IssueCollector, incident: Incident, grading: Grading, decisions) -> None:
    """A claim is contradicted when the facts emerge; if that is never within the horizon,
    a claim would cost nothing and grading would reward it."""
    if incident.facts_emerge_hours < grading.horizon_hours:
        return
    bad = {"incident.facts_emerge_hours", "grading.horizon_hours"}
    if any(issue.path in bad for issue in c.issues):
        return
    for dp in decisions:
        for o in dp.options:
            if any(a.type == "police_statement" and a.args.get("content") == "claim" for a in o.actions):
                c.add(
                    ("incident", "facts_emerge_hours"),
                    f"a claim would never meet the facts within the horizon: the facts emerge at "
                    f"{incident.facts_emerge_hours:g} h, not before grading.horizon_hours "
                    f"({grading.horizon_hours:g} h), so option {o.id}'s police_statement with "
                    f"content: claim could never be contradicted; make facts_emerge_hours smaller "
                    f"than the horizon",
                )
                return


def _time_ok(text: str) -> bool:
    parts = text.split(":")
    return len(parts) == 2 and all(p.isdigit() for p in parts) and int(parts[0]) < 24 and int(parts[1]) < 60


def _ident(c: IssueCollector, d: dict, path: tuple, seen: set, what: str, default: str | None = None) -> str:
    value = c.require(d, "id", path, str) if default is None else c.optional(d, "id", path, str, default)
    if value is MISSING:
        return f"?{len(seen)}"
    if not _slug_ok(value.lower()) or "+" in value or "," in value:
        c.add(path + ("id",), f'{what} id "{value}" may use letters, digits, "-" and "_" only')
    if value in seen:
        c.add(path + ("id",), f'duplicate {what} id "{value}"')
    seen.add(value)
    return value


def _community(c: IssueCollector, root: dict) -> tuple[list[Group], Community]:
    p = ("community",)
    d = c.mapping(
        c.require(root, "community", (), dict),
        p,
        allowed=("mixing", "contacts_within", "contacts_between", "links", "groups"),
    )
    mixing = c.optional(d, "mixing", p, str, "network", choices=("network", "well_mixed")) or "network"
    within = c.optional(d, "contacts_within", p, float, 8.0, min=0, max=200)
    between = c.optional(d, "contacts_between", p, float, 1.0, min=0, max=200)
    groups: list[Group] = []
    seen: set = set()
    groups_list = c.sequence(c.require(d, "groups", p, list), p + ("groups",), min_len=1, max_len=MAX_GROUPS)
    for i, g in enumerate(groups_list[:MAX_GROUPS]):
        gp = p + ("groups", i)
        g = c.mapping(g, gp, allowed=("id", "name", "size", "role", "police_trust", "anger"))
        if not g:
            continue
        gid = _ident(c, g, gp, seen, "group")
        groups.append(
            Group(
                gid,
                c.optional(g, "name", gp, str, gid),
                c.require(g, "size", gp, int, min=1, max=100_000) or 1,
                c.optional(g, "role", gp, str, "other", choices=GROUP_ROLES) or "other",
                c.optional(g, "police_trust", gp, float, 0.5, min=0, max=1),
                c.optional(g, "anger", gp, float, 0.1, min=0, max=1),
            )
        )
    total = sum(g.size for g in groups)
    if total > 200_000:
        c.add(p + ("groups",), f"population {total} is too large (at most 200000)")
    gids = [g.id for g in groups]
    links = []
    links_list = c.sequence(c.optional(d, "links", p, list, []), p + ("links",), max_len=MAX_LINKS)
    for i, link in enumerate(links_list[:MAX_LINKS]):
        lp = p + ("links", i)
        link = c.mapping(link, lp, allowed=("groups", "contacts"))
        pair = c.sequence(c.require(link, "groups", lp, list), lp + ("groups",), min_len=2, max_len=2)
        contacts = c.require(link, "contacts", lp, float, min=0, max=200)
        if len(pair) == 2:
            names = [c.choice(g, lp + ("groups", j), gids, what="group") for j, g in enumerate(pair)]
            if all(names) and contacts is not MISSING:
                links.append((names[0], names[1], contacts))
    return groups, Community(mixing, within, between, tuple(links))


def _partners(c: IssueCollector, root: dict, gids: list[str]) -> list[Partner]:
    partners: list[Partner] = []
    seen: set = set()
    partners_list = c.sequence(
        c.optional(root, "partners", (), list, []), ("partners",), max_len=MAX_PARTNERS
    )
    for i, d in enumerate(partners_list[:MAX_PARTNERS]):
        pp = ("partners", i)
        d = c.mapping(
            d, pp, allowed=("id", "type", "name", "delay_hours", "willingness", "discretion", "groups")
        )
        if not d:
            continue
        pid = _ident(c, d, pp, seen, "partner")
        if pid == "police":
            c.add(pp + ("id",), '"police" is reserved for the trainee\'s own side')
        ptype = c.require(d, "type", pp, str, choices=list(PARTNER_TYPES))
        default_delay = PARTNER_TYPES[ptype].delay_hours if ptype else 1.0
        default_discretion = PARTNER_TYPES[ptype].discretion if ptype else 0.5
        reach: dict[str, float] = {}
        cred: dict[str, float] = {}
        gmap = c.mapping(c.optional(d, "groups", pp, dict, {}), pp + ("groups",))
        for g, spec in gmap.items():
            gp = pp + ("groups", str(g))
            if c.choice(g, gp, gids, what="group") is MISSING:
                continue
            spec = c.mapping(spec, gp, allowed=("reach", "credibility"))
            reach[g] = c.require(spec, "reach", gp, float, min=0, max=1) or 0.0
            cred[g] = c.require(spec, "credibility", gp, float, min=0, max=1) or 0.0
        partners.append(
            Partner(
                pid,
                ptype or "faith_leader",
                c.optional(d, "name", pp, str, pid),
                c.optional(d, "delay_hours", pp, float, default_delay, min=0, max=24 * 14),
                c.optional(d, "willingness", pp, float, 1.0, min=0, max=1),
                reach,
                cred,
                c.optional(d, "discretion", pp, float, default_discretion, min=0, max=1),
            )
        )
    return partners


def _rumour(c: IssueCollector, root: dict, gids: list[str]) -> Rumour:
    p = ("rumour",)
    d = c.mapping(
        c.optional(root, "rumour", (), dict, {}),
        p,
        allowed=(
            "start_hours",
            "seeds",
            "seed_group",
            "contact_rate",
            "escalation",
            "levels",
            "start_level",
            "affects",
        ),
    )
    levels = [
        str(x)
        for x in c.sequence(
            c.optional(d, "levels", p, list, list(DEFAULT_LEVELS)),
            p + ("levels",),
            min_len=1,
            max_len=MAX_LEVELS,
        )[:MAX_LEVELS]
    ] or list(DEFAULT_LEVELS)
    seed_group = c.optional(d, "seed_group", p, str, None)
    if seed_group is not None and gids:
        seed_group = c.choice(seed_group, p + ("seed_group",), gids, what="group", default=None)
    affects = c.optional(d, "affects", p, list, None)
    if affects is None:
        affects = list(gids)
    else:
        affects = [c.choice(g, p + ("affects", i), gids, what="group") for i, g in enumerate(affects)]
    return Rumour(
        c.optional(d, "start_hours", p, float, 0.25, min=0, max=MAX_HOURS),
        c.optional(d, "seeds", p, int, 3, min=0, max=10_000),
        seed_group,
        c.optional(d, "contact_rate", p, float, 1.0, min=0, max=1000),
        c.optional(d, "escalation", p, float, 0.1, min=0, max=1),
        tuple(levels),
        c.optional(d, "start_level", p, int, 1, min=1, max=len(levels)) or 1,
        tuple(g for g in affects if g),
    )


def _retaliation(c: IssueCollector, root: dict, gids: list[str]) -> Retaliation:
    p = ("retaliation",)
    d = c.mapping(
        c.optional(root, "retaliation", (), dict, {}),
        p,
        allowed=("groups", "branching", "decay_hours", "baseline_per_day", "anger_weight", "anger_reference"),
    )
    groups = c.optional(d, "groups", p, list, [])
    groups = [c.choice(g, p + ("groups", i), gids, what="group") for i, g in enumerate(groups)]
    return Retaliation(
        tuple(g for g in groups if g),
        c.optional(d, "branching", p, float, 0.3, min=0, max=0.99),
        c.optional(d, "decay_hours", p, float, 24.0, min=0.01, max=MAX_DECAY_HOURS),
        c.optional(d, "baseline_per_day", p, float, 0.0, min=0, max=MAX_BASELINE_PER_DAY),
        c.optional(d, "anger_weight", p, float, 1.0, min=0, max=1),
        c.optional(d, "anger_reference", p, float, 0.4, min=0.01, max=1),
    )


def _grading(c: IssueCollector, root: dict) -> Grading:
    p = ("grading",)
    d = c.mapping(
        c.optional(root, "grading", (), dict, {}),
        p,
        allowed=(
            "pass_mark",
            "rubric_weight",
            "outcome_weight",
            "runs",
            "horizon_hours",
            "sample_minutes",
            "outcomes",
            "reference_runs",
            "adaptive",
        ),
    )
    rw = c.optional(d, "rubric_weight", p, float, 0.4, min=0, max=1)
    ow = c.optional(d, "outcome_weight", p, float, 0.6, min=0, max=1)
    if rw + ow <= 0:
        c.add(p, "rubric_weight and outcome_weight cannot both be 0")
    outcomes: dict[str, Threshold] = {}
    od = c.mapping(c.optional(d, "outcomes", p, dict, {}), p + ("outcomes",))
    for name, spec in od.items():
        mp = p + ("outcomes", str(name))
        if c.choice(name, mp, METRICS, what="metric") is MISSING:
            continue
        spec = c.mapping(spec, mp, allowed=("good", "bad", "weight"))
        lo, hi = METRIC_RANGES[name]
        good = c.optional(spec, "good", mp, float, None, min=lo, max=hi)
        bad = c.optional(spec, "bad", mp, float, None, min=lo, max=hi)
        if good is not None and bad is not None and good == bad:
            c.add(mp, "good and bad must differ")
        outcomes[name] = Threshold(c.optional(spec, "weight", mp, float, 1.0, min=0, max=100), good, bad)
    if ow > 0 and not outcomes and "outcomes" not in d:
        outcomes = {
            "retaliation_risk": Threshold(2.0),
            "peak_reach": Threshold(1.0),
            "police_trust_end": Threshold(1.0),
        }
    if ow > 0 and outcomes and sum(t.weight for t in outcomes.values()) <= 0:
        c.add(p + ("outcomes",), "at least one outcome needs a weight above 0")
    return Grading(
        c.optional(d, "pass_mark", p, float, 70.0, min=0, max=100),
        rw,
        ow,
        c.optional(d, "runs", p, int, 200, min=1, max=MAX_RUNS),
        c.optional(d, "horizon_hours", p, float, 72.0, min=0.1, max=24 * 60),
        c.optional(d, "sample_minutes", p, float, 30.0, min=1, max=24 * 60),
        outcomes,
        c.optional(d, "reference_runs", p, int, 200, min=10, max=MAX_REFERENCE_RUNS),
        _adaptive(c, d, p),
    )


def _adaptive(c: IssueCollector, grading: dict, path: tuple) -> AdaptiveRule:
    """``grading.adaptive``: any of the rule's numbers; the rest keep their defaults."""
    p = path + ("adaptive",)
    d = c.mapping(
        c.optional(grading, "adaptive", path, dict, {}), p, allowed=tuple(AdaptiveRule.__annotations__)
    )
    base = AdaptiveRule()
    rule = AdaptiveRule(
        batch=c.optional(d, "batch", p, int, base.batch, min=1, max=MAX_RUNS),
        # two runs at least: the interval needs a spread
        floor=c.optional(d, "floor", p, int, base.floor, min=2, max=MAX_RUNS),
        cap=c.optional(d, "cap", p, int, base.cap, min=2, max=MAX_RUNS),
        width=c.optional(d, "width", p, float, base.width, min=0.01, max=100),
        relative_width=c.optional(d, "relative_width", p, float, base.relative_width, min=0, max=1),
        confidence=c.optional(d, "confidence", p, float, base.confidence, min=0.5, max=0.9999),
    )
    if isinstance(rule.floor, int) and isinstance(rule.cap, int) and rule.cap < rule.floor:
        c.add(p + ("cap",), f"cap ({rule.cap}) must be at least floor ({rule.floor})")
    return rule


def _decisions(c, root, gids, pids, partners, horizon) -> list[DecisionPoint]:
    out: list[DecisionPoint] = []
    seen: set = set()
    last_at = -1.0
    ptypes = {p.id: PARTNER_TYPES.get(p.type) for p in partners}
    decisions_list = c.sequence(
        c.require(root, "decisions", (), list), ("decisions",), min_len=1, max_len=MAX_DECISIONS
    )
    for i, d in enumerate(decisions_list[:MAX_DECISIONS]):
        dp = ("decisions", i)
        d = c.mapping(d, dp, allowed=("id", "at_hours", "prompt", "kind", "max_choices", "options"))
        if not d:
            continue
        did = _ident(c, d, dp, seen, "decision", default=f"d{i + 1}")
        at = c.require(d, "at_hours", dp, float, min=0, max=MAX_HOURS)
        if at is not MISSING:
            if at < last_at:
                c.add(
                    dp + ("at_hours",),
                    f"decision points must be in time order ({at:g} h comes before {last_at:g} h)",
                )
            if at >= horizon:
                c.add(dp + ("at_hours",), f"must be before the horizon ({horizon:g} h)")
            last_at = at
        kind = c.optional(d, "kind", dp, str, "single", choices=("single", "multiple")) or "single"
        options: list[Option] = []
        oseen: set = set()
        for j, o in enumerate(
            c.sequence(c.require(d, "options", dp, list), dp + ("options",), min_len=2, max_len=26)
        ):
            op = dp + ("options", j)
            o = c.mapping(
                o, op, allowed=("id", "label", "actions", "points", "objectives", "feedback", "critical")
            )
            if not o:
                continue
            oid = _ident(c, o, op, oseen, "option", default=string.ascii_lowercase[j % 26])
            objs = [
                c.choice(x, op + ("objectives", k), list(OBJECTIVES), what="objective")
                for k, x in enumerate(c.optional(o, "objectives", op, list, []))
            ]
            actions = []
            raw_actions = c.sequence(
                c.optional(o, "actions", op, list, []), op + ("actions",), max_len=MAX_ACTIONS
            )
            for k, raw in enumerate(raw_actions[:MAX_ACTIONS]):
                built = _action(c, raw, op + ("actions", k), gids, pids, ptypes)
                if built is not None:
                    actions.append(built)
            options.append(
                Option(
                    oid,
                    c.require(o, "label", op, str) or oid,
                    tuple(actions),
                    c.optional(o, "points", op, float, 0.0, min=-100, max=100),
                    tuple(x for x in objs if x),
                    c.optional(o, "feedback", op, str, "") or "",
                    (c.optional(o, "critical", op, str, "") or "").strip(),
                )
            )
        default_max = 1 if kind == "single" else max(1, len(options))
        max_choices = c.optional(d, "max_choices", dp, int, default_max, min=1, max=max(1, len(options)))
        if kind == "single" and max_choices != 1:
            c.add(dp + ("max_choices",), "a single-choice point allows exactly 1 choice")
            max_choices = 1
        out.append(
            DecisionPoint(
                did,
                len(out),
                0.0 if at is MISSING else at,
                c.require(d, "prompt", dp, str) or "",
                kind,
                max_choices,
                tuple(options),
            )
        )
    return out


def _action(c, a, path, gids, pids, ptypes) -> Action | None:
    a = c.mapping(a, path)
    if not a:
        return None
    name = c.require(a, "do", path, str, choices=list(ACTIONS))
    if not name:
        return None
    spec = ACTIONS[name]
    for key in a:
        if key != "do" and key not in spec.params:
            known = ", ".join(spec.params) or "(none)"
            c.add(path + (str(key),), f'unknown parameter "{key}" for {name}; known: {known}')
    args: dict[str, Any] = {}
    ok = True
    for key, param in spec.params.items():
        kp = path + (key,)
        if key not in a or a[key] is None:
            if param.required:
                c.add(path, f'{name} needs "{key}"')
                ok = False
            args[key] = param.default
            continue
        value = a[key]
        if param.kind == "partner":
            value = c.choice(value, kp, pids, what="partner")
            if value and param.needs and not getattr(ptypes.get(value), param.needs, False):
                c.add(
                    kp,
                    f'partner "{value}" ({ptypes[value].name if ptypes.get(value) else "?"}) cannot do {name}',
                )
                value = MISSING
        elif param.kind == "partners":
            items = c.sequence(value, kp, min_len=1)
            value = [c.choice(v, kp + (k,), pids, what="partner") for k, v in enumerate(items)]
            if not items or not all(value):
                value = MISSING
        elif param.kind == "group":
            value = c.choice(value, kp, gids, what="group")
        elif param.kind == "groups":
            items = c.sequence(value, kp, min_len=1)
            value = [c.choice(v, kp + (k,), gids, what="group") for k, v in enumerate(items)]
            if not items or not all(value):
                value = MISSING
        elif param.kind == "number":
            value = c.number(value, kp, min=param.lo, max=param.hi)
        elif param.kind == "choice":
            value = c.choice(value, kp, param.choices, what=key)
        elif param.kind == "kinds":
            value = _kinds(c, value, kp, param.choices)
        elif param.kind == "bool":
            value = value if c.check_type(value, kp, bool) else MISSING
        if value is MISSING:
            ok = False
        args[key] = value
    return Action(name, args) if ok else None


def _kinds(c: IssueCollector, value: Any, path: tuple, kinds: tuple) -> Any:
    """What is shared: a list of information kinds, or one of the older shorthands."""
    from .model.actions import SHARE_SHORTHANDS

    if isinstance(value, str):
        if value in SHARE_SHORTHANDS:
            return SHARE_SHORTHANDS[value]
        value = [value]
    if not isinstance(value, list):
        c.sequence(value, path)  # records "expected a list"
        return MISSING
    chosen = [c.choice(v, path + (k,), kinds, what="kind of information") for k, v in enumerate(value)]
    if not all(chosen):
        return MISSING
    return tuple(dict.fromkeys(chosen))


def _path(
    c: IssueCollector, value: Any, path: tuple, decisions: list[DecisionPoint], required: bool
) -> list[list[str]]:
    from .decisions import parse_choose_points, validate_points

    if value is MISSING or value is None:
        if required:
            c.add(path, 'missing (give the path as e.g. "1a,2b+c,3a")')
        return []
    if isinstance(value, str):
        decisions_value, problems = parse_choose_points(decisions, value)
    elif isinstance(value, list) and all(
        isinstance(x, list) and all(isinstance(y, str) for y in x) for x in value
    ):
        decisions_value, problems = value, []
    else:
        c.add(path, 'expected a path like "1a,2b+c,3a" or a list of lists of option ids')
        return []
    problems = problems or validate_points(decisions, decisions_value, partial_ok=False)
    for problem in problems:
        c.add(path, problem)
    return decisions_value
