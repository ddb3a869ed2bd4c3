"""The partner catalogue and the teaching objectives (domain.md), as data."""

from __future__ import annotations

from dataclasses import dataclass

OBJECTIVES: dict[int, str] = {
    1: "Communicate early",
    2: "Bridge and buffer",
    3: "Share concerns and align messaging",
    4: "Correct misinformation fast, through credible messengers",
    5: "Consistency and follow-through",
    6: "Institutionalise, don't personalise",
    7: "Enforcement is not enough, and not the enemy",
    8: "Count small wins",
}


@dataclass(frozen=True)
class PartnerType:
    """Defaults for one kind of partner; a scenario may override the delay."""

    name: str
    label: str
    delay_hours: float  # typical time from the call to the partner acting
    can_mediate: bool = False  # may run a mediation between groups
    can_guard: bool = False  # may keep watch over a place


PARTNER_TYPES: dict[str, PartnerType] = {
    t.name: t
    for t in (
        PartnerType("faith_leader", "Faith leader", 2.0, can_mediate=True),
        PartnerType("block_captain", "Neighbourhood leader / block captain", 1.5),
        PartnerType("interrupter", "Street outreach worker / violence interrupter", 1.0, can_mediate=True),
        PartnerType("youth_mentor", "Youth mentor", 3.0, can_mediate=True),
        PartnerType("place_manager", "Business leader / place manager", 1.0, can_guard=True),
        PartnerType("local_representative", "Local representative", 6.0),
        PartnerType("crime_analyst", "Crime analyst", 4.0),
        PartnerType("social_services", "Social and community services", 8.0),
        PartnerType("probation_parole", "Probation and parole", 6.0),
        PartnerType("prosecutor", "Prosecutor (state's attorney)", 24.0),
        PartnerType("researcher", "Researcher", 48.0),
    )
}

GROUP_ROLES = ("crew", "family", "congregation", "regulars", "youth", "neighbourhood", "other")
