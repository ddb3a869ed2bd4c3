"""The partner catalogue and the teaching objectives, as data.

Each partner type says what it can do in the model (its capabilities decide which
registered actions may name it; see ``scenarios/model/actions.py``), how long it
usually takes to act, and its *discretion*: how well it keeps sensitive information
to itself (0 = it will be all over the street, 1 = never repeated). Discretion is a
teaching choice, said plainly in ``scenarios/MODEL.md``: partners whose job is
confidential (the analyst, probation, the prosecutor) keep it; partners whose value is
being close to the street are the most likely to repeat it, through no bad faith.
"""

from __future__ import annotations

from dataclasses import dataclass

OBJECTIVES: dict[int, str] = {
    1: "Communicate early",
    2: "Bridge and buffer",
    3: "Share concerns and align messaging",
    4: "Correct misinformation fast, through credible messengers",
    5: "Consistency and follow-through",
    6: "Institutionalize, don't personalize",
    7: "Enforcement is not enough, and not the enemy",
    8: "Count small wins",
}

CAPABILITIES = (
    "can_mediate", "can_occupy", "can_guard", "can_analyse", "can_support", "can_supervise", "can_deter", "can_evaluate",
)  # fmt: skip


@dataclass(frozen=True)
class PartnerType:
    """Defaults for one kind of partner; a scenario may override the delay and the discretion."""

    name: str
    label: str
    delay_hours: float  # typical time from the call to the partner acting
    discretion: float  # 0..1: how reliably shared sensitive information stays with them
    role: str  # one line: what they bring, for the catalogue
    can_mediate: bool = False  # may run a mediation between groups
    can_occupy: bool = False  # may keep young people busy (activities, not a mediation)
    can_guard: bool = False  # may keep watch over a place
    can_analyse: bool = False  # may map who is connected to whom and where tension is
    can_support: bool = False  # may support the victim's family and high-risk people
    can_supervise: bool = False  # may contact people under supervision
    can_deter: bool = False  # may deliver a focused-deterrence message
    can_evaluate: bool = False  # may evaluate what was done

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(c for c in CAPABILITIES if getattr(self, c))


PARTNER_TYPES: dict[str, PartnerType] = {
    t.name: t
    for t in (
        PartnerType("faith_leader", "Faith leader", 2.0, 0.6,
                    "calms congregations, hosts vigils, a credible public and moral voice", can_mediate=True),
        PartnerType("block_captain", "Neighborhood leader / block captain", 1.5, 0.45,
                    "knows residents, carries corrections door to door"),
        PartnerType("interrupter", "Street outreach worker / violence interrupter", 1.0, 0.5,
                    "knows who is angry, mediates between groups, offers a way out", can_mediate=True),
        PartnerType("youth_mentor", "Youth mentor", 3.0, 0.6,
                    "reaches young people and keeps them busy and away from the conflict", can_occupy=True),
        PartnerType("place_manager", "Business leader / place manager", 1.0, 0.5,
                    "guardianship of a place, cameras, early word of trouble there", can_guard=True),
        PartnerType("local_representative", "Local representative", 6.0, 0.3,
                    "wide public reach and convening power; low credibility in some groups"),
        PartnerType("crime_analyst", "Crime analyst", 4.0, 0.98,
                    "who is connected to whom and where the tension is", can_analyse=True),
        PartnerType("social_services", "Social and community services", 8.0, 0.85,
                    "support for the victim's family and high-risk people", can_support=True),
        PartnerType("probation_parole", "Probation and parole", 6.0, 0.95,
                    "contact with people under supervision, and current information", can_supervise=True),
        PartnerType("prosecutor", "Prosecutor (state's attorney)", 24.0, 0.95,
                    "a focused-deterrence message backed by consequences", can_deter=True),
        PartnerType("researcher", "Researcher", 48.0, 0.9,
                    "evaluates what was done; pays off in the weeks after", can_evaluate=True),
    )
}  # fmt: skip

GROUP_ROLES = ("crew", "family", "congregation", "regulars", "youth", "neighbourhood", "other")

# Partner types whose word carries moral weight in a community (a focused-deterrence
# message needs one of them beside the prosecutor), and those who can offer help.
MORAL_VOICES = frozenset({"faith_leader", "interrupter", "youth_mentor", "block_captain"})
HELP_OFFERS = frozenset({"social_services", "interrupter"})
