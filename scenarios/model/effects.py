"""Every number an action's effect uses, with its unit.

These are teaching choices, not fitted values (scenarios/MODEL.md says which is which and
why each has the size it has). Scenario authors change the community, partners and
actions' own parameters; these stay the same across scenarios so that the lessons learnt
in one carry to the next.
"""

from __future__ import annotations

# --- what is shared -------------------------------------------------------------------
UNALIGNED_CORRECTION = 0.5  # x credibility: a correction by a partner who lacks the facts
DETAIL_BONUS = 1.15  # x credibility / mediation strength with investigative detail or identities
BUFFER_STRENGTH = 0.6  # a buffering partner multiplies anger rises by (1 - this x cred x reach)
BUFFER_CALMING = 0.25  # x credibility: anger already there falls this much among those reached
# Probability that a kind of information told to a partner travels further, before the
# partner's discretion: p(leak) = (1 - discretion) x sensitivity.
SENSITIVITY = {"facts": 0.0, "concerns": 0.0, "investigative": 0.6, "identities": 0.7, "operational": 0.9}
LEAK_MEAN_HOURS = 3.0  # a leak happens an exponential time after the telling, this mean (hours)
LEAK_FUEL_PEOPLE = 0.04  # share of the partner's reached groups who start retelling leaked detail
LEAK_ESCALATION = 2.0  # x the rumour's escalation for LEAK_ESCALATION_HOURS after detail leaks
LEAK_ESCALATION_HOURS = 24.0
LEAK_EXCITATION = 1.0  # a leaked name or place excites the victim's side as an incident would
EXPOSURE_ANGER = 0.2  # anger added to the victim's group when an identity is exposed
EXPOSURE_TRUST = 0.1  # police trust lost in the victim's group when an identity is exposed
EXPOSED_PARTNER_WILLINGNESS = 0.5  # x the partner's willingness once they are the source of a leak

# --- public statements ----------------------------------------------------------------
UNKNOWNS_CONVINCE = 0.85  # x trust: "what we know, what we don't" convinces a little less ...
CANDOUR_TRUST = 0.03  # ... and earns this much trust, x the statement's reach
CLAIM_TRUST_COST = 0.2  # trust lost in every group the claim reached when it is contradicted
CLAIM_RELAPSE = 0.6  # probability a person the claim convinced believes the rumour again
CLAIM_ESCALATION = 2.0  # x escalation for CLAIM_ESCALATION_HOURS after the contradiction
CLAIM_ESCALATION_HOURS = 24.0
MIXED_MESSAGE_ESCALATION = 1.5
MIXED_MESSAGE_HOURS = 12.0
VOUCHING_TRUST = 0.1  # x a partner's credibility: trust a joint message builds

# --- partners' levers -------------------------------------------------------------------
MEDIATION_CALMING = 0.3  # x credibility x willingness
# Busy young people are not stewing, but nobody has talked the grievance through: half a mediation's calming.
KEEP_BUSY_CALMING = 0.15  # x credibility x willingness
# Below a mediation's 0.7: activities keep youth off the street, a mediation settles the dispute itself.
KEEP_BUSY_STRENGTH = 0.5  # default strength of keep_busy
ANALYSIS_TARGETING = 1.3  # x reach of services and probation once the analyst has mapped the network
SUPPORT_STEP_HOURS = 12.0
SUPPORT_CALMING = 0.15  # x credibility, per step
SUPPORT_HAZARD = 0.25  # x reach x credibility, per step
SUPERVISION_HAZARD = 0.5  # x the share under supervision
DETERRENCE_FULL = 0.6  # hazard x (1 - this) with a moral voice and an offer of help
DETERRENCE_HALF = 0.25  # hazard x (1 - this), half as long, with only one of them
DETERRENCE_CALMING = 0.1
BACKFIRE_ANGER = 0.15  # a threat with no voice and no help, alone
BACKFIRE_TRUST = 0.1
MORAL_VOICE_CREDIBILITY = 0.5  # the least credibility a moral voice needs in the group
EVALUATION_TRUST = 0.05

# --- enforcement -----------------------------------------------------------------------
SWEEP_ANGER = 0.1  # a broad sweep: anger at once ...
SWEEP_RESENTMENT = 0.15  # ... and when it ends
FOCUSED_ANGER = 0.02
FOCUSED_TRUST_SHARE = 1 / 3  # x trust_cost for focused enforcement
UNINFORMED_STRENGTH = 0.5  # x strength of focused enforcement without the analyst's map ...
UNINFORMED_COST = 2.0  # ... at x this trust cost
WARNED_STRENGTH = 0.2  # x strength once the operation has leaked
WARNED_ANGER = 0.1
EXPLAINED = 0.5  # x trust cost when an aligned partner explains it afterwards
EXPLAINER_REACH = 0.3  # the least share of the group the explaining partner must reach
PREPARED = 0.5  # x the anger an enforcement adds where a partner told the plan prepared people
