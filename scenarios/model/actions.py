"""The action vocabulary: a registry of action types keyed by name.

Each action type declares its parameters (validated by the schema), a documented effect
and a SimPy process that acts on the ``World`` after the acting party's response delay.
Adding an action type means adding one decorated function here, nothing else; the
catalogue (``python -m scenarios catalogue``) and the scenario format pick it up.

Every number an effect uses is a named constant in ``scenarios/model/effects.py``, listed
with its unit and its source in ``scenarios/MODEL.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import effects as fx

if TYPE_CHECKING:  # pragma: no cover
    from .world import World

# What a partner can be told (scenarios/MODEL.md, "What is shared"). The four older names
# are kept as shorthands so every published scenario still reads the same.
INFORMATION_KINDS = ("facts", "concerns", "investigative", "identities", "operational")
SHARE_SHORTHANDS = {
    "nothing": (),
    "facts": ("facts",),
    "concerns": ("concerns",),
    "facts_and_concerns": ("facts", "concerns"),
}
SHARE_CHOICES = tuple(SHARE_SHORTHANDS)  # the shorthands, for older callers
STATEMENT_CONTENTS = ("facts", "unknowns", "claim")
ENFORCEMENT_MODES = ("broad", "focused")


@dataclass(frozen=True)
class Param:
    """One parameter of an action: its kind decides how the schema checks it."""

    kind: str  # partner | partners | group | groups | number | choice | bool | kinds
    required: bool = True
    default: Any = None
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    needs: str | None = None  # partner capability, e.g. "can_mediate"
    doc: str = ""


@dataclass(frozen=True)
class ActionType:
    name: str
    summary: str
    params: dict[str, Param]
    run: Callable[..., Generator]
    objectives: tuple[int, ...] = field(default=())
    delay: str = ""  # when it acts, in words

    @property
    def needs(self) -> tuple[str, ...]:
        """The partner capabilities this action asks for (empty: any partner, or police)."""
        return tuple(p.needs for p in self.params.values() if p.needs)


ACTIONS: dict[str, ActionType] = {}


def action(name: str, summary: str, objectives: tuple[int, ...] = (), delay: str = "", **params: Param):
    """Register ``fn(world, args, decision)`` (a generator) as action type ``name``."""

    def register(fn: Callable[..., Generator]) -> Callable[..., Generator]:
        ACTIONS[name] = ActionType(name, summary, dict(params), fn, objectives, delay)
        return fn

    return register


PARTNER_DELAY = "after the partner's delay_hours"
HALF_DELAY = "after half the partner's delay_hours"
POLICE_DELAY = "after police.delay_hours"


# --- working with partners ---------------------------------------------------------


@action(
    "contact_partner",
    "Call a partner in and tell them what you choose. Once they respond they give early "
    "warning from the groups they reach. Facts let them correct accurately (aligned); "
    "concerns let them buffer anger in the groups they reach. Identities make their mediation "
    "stronger; investigative detail makes their corrections and mediation stronger. A partner "
    "told the operational plan, and reaching at least 30% of the group, prepares people for it "
    "(the enforcement's anger there is halved). Every sensitive kind may leak, with probability "
    "(1 - the partner's discretion) x the kind's sensitivity, some hours later, and a leak plays "
    "out in the run (see MODEL.md, 'What is shared').",
    (1, 2, 3),
    PARTNER_DELAY,
    partner=Param("partner", doc="partner id"),
    share=Param(
        "kinds", False, ("facts", "concerns"), choices=INFORMATION_KINDS,
        doc="what you share: a list of facts, concerns, investigative, identities, operational "
        "(or one of nothing, facts, concerns, facts_and_concerns)",
    ),
)  # fmt: skip
def contact_partner(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    world.engage(partner, args["share"], decision)


@action(
    "follow_up",
    "Check back with a partner: restores their willingness and keeps them engaged.",
    (5,),
    HALF_DELAY,
    partner=Param("partner"),
)
def follow_up(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner) * 0.5)
    world.follow_up(partner, decision)


@action(
    "ask_correction",
    "Ask a partner to correct the rumour among the people they reach. Each reached "
    "person is corrected with probability = the partner's credibility with their group "
    "x willingness (x 0.5 if you did not share the facts; x 1.15, at most 1, if they also "
    "have investigative detail).",
    (4,),
    PARTNER_DELAY,
    partner=Param("partner"),
)
def ask_correction(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    state = world.partner_state[partner]
    world.bring_in(partner, (), decision)
    factor = state.willingness * (1.0 if state.aligned else fx.UNALIGNED_CORRECTION)
    if "investigative" in state.shared:
        factor *= fx.DETAIL_BONUS
    spec = world.specs[partner]
    reach = dict(spec.reach)
    cred = {g: min(1.0, c * factor) for g, c in spec.credibility.items()}
    yield from world.correct(partner, reach, cred, decision)


@action(
    "joint_message",
    "A public message by police and partners together. Reaches, per group, the best of "
    "the police's own reach and the partners' reach; works per hearer at the best of "
    "police trust and the partners' credibility. Builds trust where partners vouch. "
    "Partners without the facts make it a mixed message (half effect). hold_hours: the "
    "message is held at least this long (e.g. for the morning), while the rumour runs on.",
    (3, 4),
    "after the slowest partner's delay_hours, or hold_hours if longer",
    partners=Param("partners"),
    hold_hours=Param("number", False, 0.0, lo=0, hi=72, doc="held at least this long"),
)
def joint_message(world: World, args: dict, decision: int) -> Generator:
    partners = args["partners"]
    yield world.env.timeout(max(args["hold_hours"], *(world.partner_delay(p) for p in partners)))
    aligned = all(world.partner_state[p].aligned for p in partners)
    if not aligned:
        world.log(
            "warning",
            "police",
            {
                "text": "The joint message went out with partners who did not have the facts; it sounded mixed."
            },
            decision,
        )
    reach: dict[str, float] = {}
    cred: dict[str, float] = {}
    for g in world.scenario.group_ids:
        reach[g] = world.scenario.police.statement_reach
        cred[g] = world.group_trust(g)
        for p in partners:
            spec = world.specs[p]
            state = world.partner_state[p]
            reach[g] = max(reach[g], spec.reach.get(g, 0.0))
            cred[g] = max(cred[g], spec.credibility.get(g, 0.0) * state.willingness)
        if not aligned:
            cred[g] *= 0.5
    for p in partners:
        world.bring_in(p, (), decision)
    yield from world.correct("+".join(["police", *partners]), reach, cred, decision)
    if aligned:  # partners vouching for police: a bridge
        for g in world.scenario.group_ids:
            best = max(world.specs[p].credibility.get(g, 0.0) for p in partners)
            world.change_trust(g, fx.VOUCHING_TRUST * best, "joint message", decision)


@action(
    "police_statement",
    "A police-only public statement. Works per hearer in proportion to that group's trust in "
    "police. content: facts (complete and confirmed: it waits police.clearance_hours for every "
    "fact to be cleared), unknowns ('what we know, what we don't': goes out at once, convinces "
    "x 0.85, and earns a little trust for candour), or claim (a confident account not yet "
    "established: goes out at once, but when the facts come out at incident.facts_emerge_hours "
    "it is contradicted: trust falls by 0.2 in every group it reached, each person it convinced "
    "believes the rumour again and spreads it with probability 0.6, and escalation doubles for a "
    "day). If partners are engaged "
    "without the facts, the statement contradicts what they say and makes the rumour more "
    "likely to escalate for 12 hours.",
    (3, 4, 7),
    "after police.delay_hours (plus police.clearance_hours for content: facts)",
    reach=Param(
        "number", False, None, lo=0, hi=1, doc="share of each group reached (default: police.statement_reach)"
    ),
    content=Param("choice", False, "facts", choices=STATEMENT_CONTENTS, doc="facts, unknowns or claim"),
)
def police_statement(world: World, args: dict, decision: int) -> Generator:
    police = world.scenario.police
    content = args["content"]
    delay = police.delay_hours + (police.clearance_hours if content == "facts" else 0.0)
    yield world.env.timeout(delay)
    reach_all = args["reach"] if args["reach"] is not None else police.statement_reach
    if any(s.engaged and not s.aligned for s in world.partner_state.values()):
        world.log(
            "warning",
            "police",
            {"text": "The police statement did not match what partners were telling people."},
            decision,
        )
        world.boost_escalation(fx.MIXED_MESSAGE_ESCALATION, fx.MIXED_MESSAGE_HOURS, decision)
    factor = fx.UNKNOWNS_CONVINCE if content == "unknowns" else 1.0
    reach = {g: reach_all for g in world.scenario.group_ids}
    cred = {g: world.group_trust(g) * factor for g in world.scenario.group_ids}
    tag = None
    if content == "claim":  # each claim keeps its own convinced people, even two in one option
        world._claims_made = getattr(world, "_claims_made", 0) + 1
        tag = f"claim:{decision}:{world._claims_made}"
    yield from world.correct("police", reach, cred, decision, tag=tag)
    if content == "unknowns":
        for g in world.scenario.group_ids:
            world.change_trust(
                g, fx.CANDOUR_TRUST * reach_all, "an honest 'what we know, what we don't'", decision
            )
    elif content == "claim":
        world.env.process(world.contradict_later(tag, reach, decision))


# --- partners' own levers --------------------------------------------------------


@action(
    "mediation",
    "A mediator works between the groups: each named group's hazard of retaliating is "
    "multiplied by (1 - strength x credibility x willingness) for duration_hours, and "
    "the anger of the people reached is multiplied by (1 - 0.3 x credibility x willingness). "
    "Investigative detail or identities shared with the mediator make it x 1.15 stronger.",
    (2,),
    PARTNER_DELAY,
    partner=Param("partner", needs="can_mediate"),
    groups=Param("groups"),
    strength=Param("number", False, 0.7, lo=0, hi=1),
    duration_hours=Param("number", False, 48.0, lo=0, hi=24 * 30),
)
def mediation(world: World, args: dict, decision: int) -> Generator:
    yield from _work_with_groups(world, args, decision, "mediation", fx.MEDIATION_CALMING, detail_helps=True)


def _work_with_groups(
    world: World, args: dict, decision: int, kind: str, calming: float, *, detail_helps: bool
):
    """A partner's work with the named groups, after the partner's delay: each group's hazard
    x (1 - strength x c) for duration_hours and its reached people calmed by calming x c, where
    c = credibility x willingness, x DETAIL_BONUS if `detail_helps` and the partner has been told
    investigative detail or identities (both as they stand when the work starts), at most 1."""
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    state = world.partner_state[partner]
    world.bring_in(partner, (), decision)
    spec = world.specs[partner]
    informed = detail_helps and state.shared & {"investigative", "identities"}
    bonus = fx.DETAIL_BONUS if informed else 1.0
    for g in args["groups"]:
        c = min(1.0, spec.credibility.get(g, 0.0) * state.willingness * bonus)
        world.modify_hazard(
            g, 1.0 - args["strength"] * c, args["duration_hours"], f"{kind} by {partner}", decision,
            lasting=True,
        )  # fmt: skip
        world.calm(g, calming * c, spec.reach.get(g, 0.0), partner, decision)


@action(
    "keep_busy",
    "A youth mentor runs activities for the young people of the named groups (open gym, rides "
    "home, an evening program): each group's hazard of retaliating is multiplied by (1 - strength "
    "x credibility x willingness) for duration_hours, and the anger of the people reached by "
    "(1 - 0.15 x credibility x willingness). It is not a mediation: nothing is settled between the "
    "groups, so its default strength is below a mediation's and its calming half as strong, and "
    "case detail shared with the mentor does not make it stronger.",
    (2,),
    PARTNER_DELAY,
    partner=Param("partner", needs="can_occupy"),
    groups=Param("groups"),
    strength=Param("number", False, fx.KEEP_BUSY_STRENGTH, lo=0, hi=1),
    duration_hours=Param("number", False, 48.0, lo=0, hi=24 * 30),
)
def keep_busy(world: World, args: dict, decision: int) -> Generator:
    # no DETAIL_BONUS: running a program needs no case detail
    yield from _work_with_groups(world, args, decision, "keep_busy", fx.KEEP_BUSY_CALMING, detail_helps=False)


@action(
    "guardianship",
    "Patrol or keep watch at the place a group gathers: incidents by or against that "
    "group become less likely (hazard x (1 - strength)) for duration_hours. With a place "
    "manager, they are engaged and give early word from the groups they reach.",
    (2, 7),
    "after the place manager's delay_hours, or police.delay_hours",
    group=Param("group"),
    partner=Param("partner", required=False, needs="can_guard"),
    strength=Param("number", False, 0.4, lo=0, hi=1),
    duration_hours=Param("number", False, 24.0, lo=0, hi=24 * 30),
)
def guardianship(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    delay = world.partner_delay(partner) if partner else world.scenario.police.delay_hours
    yield world.env.timeout(delay)
    if partner:
        world.bring_in(partner, (), decision)
    who = partner or "police"
    world.modify_hazard(
        args["group"], 1.0 - args["strength"], args["duration_hours"], f"guardianship by {who}", decision,
        against=True, lasting=bool(partner),
    )  # fmt: skip


@action(
    "request_analysis",
    "The crime analyst maps who is connected to whom and where the tension is. From then on "
    "the trainee sees the tension of every group, focused enforcement is precise, and "
    "services' and probation's work reaches the right people (x 1.3).",
    (1, 7),
    PARTNER_DELAY,
    partner=Param("partner", needs="can_analyse"),
)
def request_analysis(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    world.bring_in(partner, ("facts",), decision)
    world.complete_analysis(partner, decision)


@action(
    "support_services",
    "Social and community services support the victim's family and high-risk people in the "
    "named groups, slowly: every 12 hours over duration_hours, the anger of the people reached is "
    "multiplied by (1 - 0.15 x credibility x willingness) and the group's hazard by (1 - 0.25 x "
    "reach x credibility x willingness) for the next 12 hours (reach x 1.3 after the analyst's "
    "map). An evaluation that lands while it runs keeps it going for the evaluation's extend_hours.",
    (2,),
    PARTNER_DELAY,
    partner=Param("partner", needs="can_support"),
    groups=Param("groups"),
    duration_hours=Param("number", False, 72.0, lo=12, hi=24 * 30),
)
def support_services(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    state = world.partner_state[partner]
    world.bring_in(partner, ("concerns",), decision)
    spec = world.specs[partner]
    steps = max(1, int(args["duration_hours"] // fx.SUPPORT_STEP_HOURS))
    start = world.env.now
    last = start + (steps - 1) * fx.SUPPORT_STEP_HOURS  # the last planned step
    world.support_running += 1
    # a step every SUPPORT_STEP_HOURS up to the last one, or on to an evaluation's kept_until
    while True:
        targeted = fx.ANALYSIS_TARGETING if world.analysis_at is not None else 1.0
        for g in args["groups"]:
            c = spec.credibility.get(g, 0.0) * state.willingness
            r = min(1.0, spec.reach.get(g, 0.0) * targeted)
            world.calm(g, fx.SUPPORT_CALMING * c, r, partner, decision)
            world.modify_hazard(
                g, 1.0 - min(1.0, fx.SUPPORT_HAZARD * r * c), fx.SUPPORT_STEP_HOURS,
                f"support by {partner}", decision, quiet=world.env.now > start,
            )  # fmt: skip
        if world.env.now + fx.SUPPORT_STEP_HOURS > max(last, world.kept_until) + 1e-9:
            break
        yield world.env.timeout(fx.SUPPORT_STEP_HOURS)
    world.support_running -= 1


@action(
    "supervision_contact",
    "Probation and parole contact the supervised members of the named groups: each group's "
    "hazard is multiplied by (1 - 0.5 x reach) for duration_hours (reach = the share under "
    "supervision; x 1.3 after the analyst's map), and what officers learn makes the group's "
    "tension visible to the trainee from then on.",
    (1, 7),
    PARTNER_DELAY,
    partner=Param("partner", needs="can_supervise"),
    groups=Param("groups"),
    duration_hours=Param("number", False, 72.0, lo=0, hi=24 * 30),
)
def supervision_contact(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    world.bring_in(partner, ("facts",), decision)
    spec = world.specs[partner]
    targeted = fx.ANALYSIS_TARGETING if world.analysis_at is not None else 1.0
    for g in args["groups"]:
        r = min(1.0, spec.reach.get(g, 0.0) * targeted)
        world.modify_hazard(
            g, 1.0 - fx.SUPERVISION_HAZARD * r, args["duration_hours"], f"supervision by {partner}", decision,
            lasting=True,
        )  # fmt: skip
        world.reveal(g, partner, decision)


@action(
    "focused_deterrence",
    "The prosecutor joins a call-in for the named groups: consequences for the next act of "
    "violence. It works when the partners standing alongside include a community moral voice (a "
    "faith leader, interrupter, mentor or block captain with credibility >= 0.5 there, willing) "
    "and an offer of help (services or an interrupter, willing; an interrupter can be both). With "
    "both: hazard x 0.4 for duration_hours and anger x 0.9; with one: "
    "hazard x 0.75 for half as long; alone it backfires: anger up 0.15 and police trust down 0.1 "
    "in the group, hazard unchanged.",
    (7, 2),
    PARTNER_DELAY,
    partner=Param("partner", needs="can_deter"),
    groups=Param("groups"),
    alongside=Param("partners", False, None, doc="the partners who stand beside the prosecutor"),
    duration_hours=Param("number", False, 168.0, lo=0, hi=24 * 30),
)
def focused_deterrence(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    world.bring_in(partner, ("facts",), decision)
    alongside = args["alongside"] or []
    for p in alongside:
        world.bring_in(p, ("facts",), decision)
    world.deterrence(partner, args["groups"], alongside, args["duration_hours"], decision)


@action(
    "evaluate",
    "Researchers evaluate what was done. When the evaluation is in, the partner work still "
    "running (mediation, a mentor's activities, supervision, support, a place manager's watch) is kept going for "
    "extend_hours more, once, because the early indicators support it; engaged partners regain full "
    "willingness, and the first evaluation raises trust by 0.05 once in each group partners "
    "reach. With no partner work running it changes nothing.",
    (8, 6),
    PARTNER_DELAY,
    partner=Param("partner", needs="can_evaluate"),
    extend_hours=Param("number", False, 168.0, lo=0, hi=24 * 60),
)
def evaluate(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    world.bring_in(partner, ("facts",), decision)
    world.evaluation(partner, args["extend_hours"], decision)


@action(
    "hand_over",
    "Introduce a partner to a colleague who stays: the relationship survives the "
    "officer's transfer (scenario incident.transfer_at_hours).",
    (6,),
    HALF_DELAY,
    partner=Param("partner"),
)
def hand_over(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner) * 0.5)
    world.partner_state[partner].handed_over = True
    world.log(
        "partner_action",
        partner,
        {
            "action": "hand_over",
            "text": f"{world.specs[partner].name} now works with the unit, not one officer.",
        },
        decision,
    )


@action(
    "acknowledge",
    "Share a small win with a partner and the community: willingness +0.3 (max 1) and "
    "police trust +0.03 in the groups the partner reaches.",
    (8, 5),
    HALF_DELAY,
    partner=Param("partner"),
)
def acknowledge(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner) * 0.5)
    state = world.partner_state[partner]
    state.willingness = min(1.0, state.willingness + 0.3)
    for g, r in world.specs[partner].reach.items():
        if r > 0:
            world.change_trust(g, 0.03, "small win acknowledged", decision)
    world.log(
        "partner_action",
        partner,
        {"action": "acknowledge", "willingness": round(state.willingness, 3)},
        decision,
    )


# --- police action ------------------------------------------------------------------


@action(
    "enforcement",
    "Arrests, warrants, a sweep. mode: broad (a sweep: the group's hazard x (1 - strength) for "
    "duration_hours, anger +0.1 at once and +0.15 more when it ends, trust - trust_cost) or "
    "focused (on the few driving the violence: hazard x (1 - strength) for duration_hours, anger "
    "+0.02, trust - trust_cost / 3; without the analyst's map it is half as strong at twice the "
    "cost; if the operation leaked beforehand, suspects are warned: x 0.2 strength and anger "
    "+0.1). The trust cost halves when a partner who has the facts (aligned) and reaches at "
    "least 30% of the group is engaged when it happens (they explain it afterwards); the anger "
    "it adds halves when a partner reaching that much of the group was told the plan.",
    (7,),
    POLICE_DELAY,
    group=Param("group"),
    mode=Param("choice", False, "broad", choices=ENFORCEMENT_MODES, doc="broad or focused"),
    strength=Param("number", False, 0.5, lo=0, hi=1),
    duration_hours=Param("number", False, 24.0, lo=0, hi=24 * 30),
    trust_cost=Param("number", False, 0.15, lo=0, hi=1),
)
def enforcement(world: World, args: dict, decision: int) -> Generator:
    yield world.env.timeout(world.scenario.police.delay_hours)
    g = args["group"]
    if args["mode"] == "focused":
        world.focused_enforcement(g, args["strength"], args["duration_hours"], args["trust_cost"], decision)
        return
    world.modify_hazard(g, 1.0 - args["strength"], args["duration_hours"], "enforcement", decision)
    world.change_trust(g, -args["trust_cost"] * world.explained_factor(g), "enforcement", decision)
    prepared = world.prepared_factor(g)
    world.anger_group(g, fx.SWEEP_ANGER * prepared, decision)
    yield world.env.timeout(args["duration_hours"])
    world.anger_group(g, fx.SWEEP_RESENTMENT * prepared, decision)
    world.log(
        "warning",
        "police",
        {"text": f"The sweep is over; resentment in {world.scenario.group(g).name} is rising."},
        decision,
    )
