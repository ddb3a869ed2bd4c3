"""The action vocabulary: a registry of action types keyed by name.

Each action type declares its parameters (validated by the schema) and a SimPy
process that acts on the ``World`` after the acting party's response delay.
Adding an action type means adding one decorated function here, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .world import World

SHARE_CHOICES = ("nothing", "facts", "concerns", "facts_and_concerns")


@dataclass(frozen=True)
class Param:
    """One parameter of an action: its kind decides how the schema checks it."""

    kind: str  # partner | partners | group | groups | number | choice | bool
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


ACTIONS: dict[str, ActionType] = {}


def action(name: str, summary: str, objectives: tuple[int, ...] = (), **params: Param):
    """Register ``fn(world, args, decision)`` (a generator) as action type ``name``."""

    def register(fn: Callable[..., Generator]) -> Callable[..., Generator]:
        ACTIONS[name] = ActionType(name, summary, dict(params), fn, objectives)
        return fn

    return register


# --- the vocabulary ----------------------------------------------------------


@action(
    "contact_partner",
    "Call a partner in. Once they respond they give early warning from the groups they "
    "reach; shared facts let them correct accurately (aligned); shared concerns let them "
    "buffer anger in the groups they reach.",
    (1, 2, 3),
    partner=Param("partner", doc="partner id"),
    share=Param("choice", False, "facts_and_concerns", choices=SHARE_CHOICES, doc="what you share"),
)
def contact_partner(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    world.engage(partner, args["share"], decision)


@action(
    "follow_up",
    "Check back with a partner: restores their willingness and keeps them engaged.",
    (5,),
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
    "x willingness (x 0.5 if you did not share the facts).",
    (4,),
    partner=Param("partner"),
)
def ask_correction(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    state = world.partner_state[partner]
    if not state.engaged:
        world.engage(partner, "nothing", decision)
    factor = state.willingness * (1.0 if state.aligned else 0.5)
    spec = world.scenario.partner(partner)
    reach = dict(spec.reach)
    cred = {g: c * factor for g, c in spec.credibility.items()}
    yield from world.correct(partner, reach, cred, decision)


@action(
    "joint_message",
    "A public message by police and partners together. Reaches, per group, the best of "
    "the police's own reach and the partners' reach; works per hearer at the best of "
    "police trust and the partners' credibility. Builds trust where partners vouch. "
    "Partners without the facts make it a mixed message (half effect).",
    (3, 4),
    partners=Param("partners"),
)
def joint_message(world: World, args: dict, decision: int) -> Generator:
    partners = args["partners"]
    yield world.env.timeout(max(world.partner_delay(p) for p in partners))
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
            spec = world.scenario.partner(p)
            state = world.partner_state[p]
            reach[g] = max(reach[g], spec.reach.get(g, 0.0))
            cred[g] = max(cred[g], spec.credibility.get(g, 0.0) * state.willingness)
        if not aligned:
            cred[g] *= 0.5
    for p in partners:
        if not world.partner_state[p].engaged:
            world.engage(p, "nothing", decision)
    yield from world.correct("+".join(["police", *partners]), reach, cred, decision)
    if aligned:  # partners vouching for police: a bridge
        for g in world.scenario.group_ids:
            best = max(world.scenario.partner(p).credibility.get(g, 0.0) for p in partners)
            world.change_trust(g, 0.1 * best, "joint message", decision)


@action(
    "police_statement",
    "A police-only public statement. Works per hearer in proportion to that group's "
    "trust in police. If partners are engaged without the facts, it contradicts what "
    "they say and makes the rumour more likely to escalate for 12 hours.",
    (3, 7),
    reach=Param(
        "number", False, None, lo=0, hi=1, doc="share of each group reached (default: police.statement_reach)"
    ),
)
def police_statement(world: World, args: dict, decision: int) -> Generator:
    yield world.env.timeout(world.scenario.police.delay_hours)
    reach_all = args["reach"] if args["reach"] is not None else world.scenario.police.statement_reach
    if any(s.engaged and not s.aligned for s in world.partner_state.values()):
        world.log(
            "warning",
            "police",
            {"text": "The police statement did not match what partners were telling people."},
            decision,
        )
        world.boost_escalation(1.5, 12.0, decision)
    reach = {g: reach_all for g in world.scenario.group_ids}
    cred = {g: world.group_trust(g) for g in world.scenario.group_ids}
    yield from world.correct("police", reach, cred, decision)


@action(
    "mediation",
    "A mediator works between the groups: each named group's hazard of retaliating is "
    "multiplied by (1 - strength x credibility x willingness) for duration_hours, and "
    "anger there falls by 0.3 x credibility x willingness among the people reached.",
    (2,),
    partner=Param("partner", needs="can_mediate"),
    groups=Param("groups"),
    strength=Param("number", False, 0.7, lo=0, hi=1),
    duration_hours=Param("number", False, 48.0, lo=0, hi=24 * 30),
)
def mediation(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner))
    state = world.partner_state[partner]
    if not state.engaged:
        world.engage(partner, "nothing", decision)
    spec = world.scenario.partner(partner)
    for g in args["groups"]:
        c = spec.credibility.get(g, 0.0) * state.willingness
        world.modify_hazard(
            g, 1.0 - args["strength"] * c, args["duration_hours"], f"mediation by {partner}", decision
        )
        world.calm(g, 0.3 * c, spec.reach.get(g, 0.0), partner, decision)


@action(
    "guardianship",
    "Patrol or keep watch at the place a group gathers: incidents by or against that "
    "group become less likely (hazard x (1 - strength)) for duration_hours. With a place "
    "manager, they also give early word from that group.",
    (2, 7),
    group=Param("group"),
    partner=Param("partner", required=False, needs="can_guard"),
    strength=Param("number", False, 0.4, lo=0, hi=1),
    duration_hours=Param("number", False, 24.0, lo=0, hi=24 * 30),
)
def guardianship(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    delay = world.partner_delay(partner) if partner else world.scenario.police.delay_hours
    yield world.env.timeout(delay)
    if partner and not world.partner_state[partner].engaged:
        world.engage(partner, "nothing", decision)
    who = partner or "police"
    world.modify_hazard(
        args["group"],
        1.0 - args["strength"],
        args["duration_hours"],
        f"guardianship by {who}",
        decision,
        against=True,
    )


@action(
    "hand_over",
    "Introduce a partner to a colleague who stays: the relationship survives the "
    "officer's transfer (scenario incident.transfer_at_hours).",
    (6,),
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
            "text": f"{world.scenario.partner(partner).name} now works with the unit, not one officer.",
        },
        decision,
    )


@action(
    "enforcement",
    "Arrests, warrants, saturation. The group's hazard is multiplied by (1 - strength) "
    "for duration_hours; police trust in the group falls by trust_cost (halved when an "
    "aligned partner reaching at least 30% of the group explains it) and anger rises by 0.1.",
    (7,),
    group=Param("group"),
    strength=Param("number", False, 0.5, lo=0, hi=1),
    duration_hours=Param("number", False, 24.0, lo=0, hi=24 * 30),
    trust_cost=Param("number", False, 0.15, lo=0, hi=1),
)
def enforcement(world: World, args: dict, decision: int) -> Generator:
    yield world.env.timeout(world.scenario.police.delay_hours)
    g = args["group"]
    world.modify_hazard(g, 1.0 - args["strength"], args["duration_hours"], "enforcement", decision)
    explained = any(
        s.engaged and s.aligned and world.scenario.partner(p).reach.get(g, 0.0) >= 0.3
        for p, s in world.partner_state.items()
    )
    cost = args["trust_cost"] * (0.5 if explained else 1.0)
    world.change_trust(g, -cost, "enforcement", decision)
    world.anger_group(g, 0.1, decision)


@action(
    "acknowledge",
    "Share a small win with a partner and the community: willingness +0.3 (max 1) and "
    "police trust +0.03 in the groups the partner reaches.",
    (8, 5),
    partner=Param("partner"),
)
def acknowledge(world: World, args: dict, decision: int) -> Generator:
    partner = args["partner"]
    yield world.env.timeout(world.partner_delay(partner) * 0.5)
    state = world.partner_state[partner]
    state.willingness = min(1.0, state.willingness + 0.3)
    for g, r in world.scenario.partner(partner).reach.items():
        if r > 0:
            world.change_trust(g, 0.03, "small win acknowledged", decision)
    world.log(
        "partner_action",
        partner,
        {"action": "acknowledge", "willingness": round(state.willingness, 3)},
        decision,
    )
