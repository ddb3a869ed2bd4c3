"""Fixtures for the engine's tests: tiny hand-made scenarios, frozen copies of two library ones."""

from __future__ import annotations

import textwrap

import pytest

import scenarios

MINIMAL = """
ripple_scenario: 1
slug: tiny
title: A tiny scenario
community:
  groups:
    - {id: north, size: 30, role: crew}
    - {id: south, size: 30, role: crew}
    - {id: homes, size: 100, role: family}
partners:
  - id: pastor
    type: faith_leader
    groups:
      homes: {reach: 0.8, credibility: 0.9}
incident: {by: north, against: south}
retaliation: {groups: [north, south]}
decisions:
  - at_hours: 1
    prompt: What now?
    options:
      - {label: Call the pastor, points: 5, actions: [{do: contact_partner, partner: pastor}]}
      - {label: Wait}
  - at_hours: 4
    kind: multiple
    prompt: And now?
    options:
      - {label: Ask for a correction, points: 5, actions: [{do: ask_correction, partner: pastor}]}
      - {label: Police statement, points: 2, actions: [{do: police_statement}]}
      - {label: Nothing}
expert_path: "1a,2a+b"
baseline_path: "1b,2c"
"""


# Frozen copies of two library scenarios as they were first published (comments, prose and
# feedback left out), so the engine's tests do not move when the library is revised.
CREW = """\
ripple_scenario: 1
slug: crew-shooting-rumour
title: "Saturday night: a shooting between two crews"
version: 1
objectives: [1, 2, 4, 5]
clock:
  weekday: Saturday
  time: "23:00"
  event: the shooting
community:
  mixing: network
  contacts_within: 8
  contacts_between: 1
  groups:
    - {id: east_crew, name: the Eastside crew, size: 40, role: crew, police_trust: 0.2, anger: 0.35}
    - {id: west_crew, name: the Westside crew, size: 40, role: crew, police_trust: 0.2, anger: 0.35}
    - {id: east_families, name: east-block families, size: 160, role: family, police_trust: 0.35, anger: 0.15}
    - {id: west_families, name: west-block families, size: 160, role: family, police_trust: 0.35, anger: 0.15}
    - {id: congregation, name: Greater Hope congregation, size: 180, role: congregation, police_trust: 0.5, anger: 0.05}
    - {id: neighbourhood, name: the wider neighbourhood, size: 260, role: neighbourhood, police_trust: 0.45, anger: 0.05}
  links:
    - {groups: [east_crew, east_families], contacts: 3}
    - {groups: [west_crew, west_families], contacts: 3}
    - {groups: [east_families, congregation], contacts: 1}
    - {groups: [west_families, congregation], contacts: 1}
partners:
  - id: outreach
    type: interrupter
    name: Marcus Reed (Safe Streets outreach)
    delay_hours: 1
    groups:
      east_crew: {reach: 0.8, credibility: 0.9}
      west_crew: {reach: 0.7, credibility: 0.85}
      east_families: {reach: 0.3, credibility: 0.6}
      west_families: {reach: 0.3, credibility: 0.6}
  - id: pastor
    type: faith_leader
    name: Pastor Denise Hall (Greater Hope)
    delay_hours: 2
    groups:
      congregation: {reach: 0.85, credibility: 0.9}
      east_families: {reach: 0.55, credibility: 0.8}
      west_families: {reach: 0.45, credibility: 0.75}
      neighbourhood: {reach: 0.3, credibility: 0.6}
      east_crew: {reach: 0.2, credibility: 0.4}
  - id: block_captain
    type: block_captain
    name: Luis Ortega (block captain)
    delay_hours: 1.5
    groups:
      neighbourhood: {reach: 0.6, credibility: 0.8}
      east_families: {reach: 0.3, credibility: 0.6}
      west_families: {reach: 0.2, credibility: 0.5}
  - id: council
    type: local_representative
    name: Council member Ana Price
    delay_hours: 5
    groups:
      east_crew: {reach: 0.4, credibility: 0.1}
      west_crew: {reach: 0.4, credibility: 0.1}
      east_families: {reach: 0.5, credibility: 0.25}
      west_families: {reach: 0.5, credibility: 0.25}
      congregation: {reach: 0.5, credibility: 0.4}
      neighbourhood: {reach: 0.6, credibility: 0.5}
incident:
  by: west_crew
  against: east_crew
  text: Jaylen, 19, from the east blocks, is shot in the leg outside Lucky's Takeout.
rumour:
  start_hours: 0.2
  seeds: 3
  seed_group: east_families
  contact_rate: 1.2
  escalation: 0.15
  levels:
    - "Jaylen got shot on Delmar."
    - "It was Westside. People are saying who pulled the trigger."
    - "Jaylen didn't make it."
    - "Westside says they are coming back for the rest of them tonight."
  affects: [east_crew, west_crew, east_families, west_families]
tension:
  anger_per_level: 0.06
  anger_per_incident: 0.3
  decay_hours: 36
retaliation:
  groups: [east_crew, west_crew]
  branching: 0.45
  decay_hours: 18
  baseline_per_day: 0.02
  anger_weight: 1
  anger_reference: 0.45
police:
  delay_hours: 0.5
  statement_reach: 0.5
decisions:
  - id: first-hour
    at_hours: 0.5
    prompt: |
      23:30. Jaylen is in surgery. Detectives have a car description and nothing
      more. Your phone shows two missed calls from people in the east blocks.
      What do you do in this first hour?
    options:
      - id: a
        label: Call Marcus and Pastor Hall now; tell them what is confirmed, what is not, and what worries you.
        points: 10
        objectives: [1, 3]
        actions:
          - {do: contact_partner, partner: outreach, share: facts_and_concerns}
          - {do: contact_partner, partner: pastor, share: facts_and_concerns}
      - id: b
        label: Call Marcus, but say nothing until detectives confirm something.
        points: 4
        objectives: [1]
        actions:
          - {do: contact_partner, partner: outreach, share: nothing}
      - id: c
        label: Stay with the scene and the investigation; reach out to partners in the morning.
        points: 0
        objectives: [7]
      - id: d
        label: Put out a short police statement that the shooting is under investigation.
        points: 3
        objectives: [3]
        actions:
          - {do: police_statement}
  - id: the-story
    at_hours: 3
    kind: multiple
    max_choices: 2
    prompt: |
      02:00. A version of the story names a Westside member as the shooter and says
      Jaylen has died. He has not. Choose up to two things to set in motion now.
    options:
      - id: a
        label: Ask Marcus to sit down with both groups and cool things off.
        points: 10
        objectives: [2]
        actions:
          - {do: mediation, partner: outreach, groups: [east_crew, west_crew]}
      - id: b
        label: Ask Pastor Hall to tell families that Jaylen is alive and the shooter is not known.
        points: 8
        objectives: [4]
        actions:
          - {do: ask_correction, partner: pastor}
      - id: c
        label: Saturate the west blocks with patrols and serve every open warrant tonight.
        points: 1
        objectives: [7]
        actions:
          - {do: enforcement, group: west_crew}
      - id: d
        label: Post on the department's page that the victim is alive.
        points: 3
        objectives: [4]
        actions:
          - {do: police_statement}
  - id: morning
    at_hours: 10
    kind: multiple
    max_choices: 2
    prompt: |
      09:00 Sunday. Services start at eleven. The council member's office asks what
      to say. Choose up to two.
    options:
      - id: a
        label: Agree one short message with Pastor Hall and Luis Ortega and deliver it together.
        points: 8
        objectives: [3, 4]
        actions:
          - {do: contact_partner, partner: block_captain, share: facts_and_concerns}
          - {do: joint_message, partners: [pastor, block_captain]}
      - id: b
        label: Call Marcus and Pastor Hall back; ask what they are hearing and thank them.
        points: 6
        objectives: [5, 8]
        actions:
          - {do: follow_up, partner: outreach}
          - {do: follow_up, partner: pastor}
      - id: c
        label: Let the council member hold a press conference on her own.
        points: 2
        objectives: [3]
        actions:
          - {do: ask_correction, partner: council}
      - id: d
        label: Wait for the investigation before anyone says anything more.
        points: 0
  - id: next-day
    at_hours: 30
    prompt: |
      Monday 05:00. Two days in. What do you do with the partnerships now?
    options:
      - id: a
        label: Meet Marcus and Pastor Hall, share what worked, and plan who calls whom next time.
        points: 6
        objectives: [5, 8]
        actions:
          - {do: acknowledge, partner: outreach}
          - {do: acknowledge, partner: pastor}
      - id: b
        label: Hand the case to detectives and get back to normal patrol.
        points: 0
      - id: c
        label: Run a warrant sweep on the Westside crew, with Marcus explaining it to the families.
        points: 3
        objectives: [7]
        actions:
          - {do: enforcement, group: west_crew, trust_cost: 0.1}
grading:
  pass_mark: 65
  rubric_weight: 0.5
  outcome_weight: 0.5
  runs: 200
  horizon_hours: 72
  outcomes:
    retaliations: {good: 0.2, bad: 2.0, weight: 2}
    peak_reach: {good: 0.2, bad: 0.6, weight: 1}
    police_trust_end: {good: 0.5, bad: 0.38, weight: 1}
expert_path: "1a,2a+b,3a+b,4a"
baseline_path: "1c,2c,3d,4b"
late_paths:
  right partners, called at 02:00: "1c,2a+b,3a+b,4a"
"""

STORE = """\
ripple_scenario: 1
slug: store-dispute
title: "Words at the corner store"
version: 1
objectives: [1, 2, 5, 7]
clock:
  weekday: Thursday
  time: "17:00"
  event: the fight at the market
community:
  contacts_within: 7
  contacts_between: 1
  groups:
    - {id: pine_street, name: the Pine Street group, size: 30, role: crew, police_trust: 0.3, anger: 0.3}
    - {id: cedar_court, name: the Cedar Court group, size: 30, role: crew, police_trust: 0.25, anger: 0.35}
    - {id: regulars, name: the market's regulars, size: 140, role: regulars, police_trust: 0.5, anger: 0.05}
    - {id: cedar_families, name: Cedar Court families, size: 120, role: family, police_trust: 0.35, anger: 0.1}
    - {id: pine_families, name: Pine Street families, size: 120, role: family, police_trust: 0.4, anger: 0.1}
  links:
    - {groups: [pine_street, regulars], contacts: 3}
    - {groups: [cedar_court, regulars], contacts: 3}
    - {groups: [cedar_court, cedar_families], contacts: 3}
    - {groups: [pine_street, pine_families], contacts: 3}
partners:
  - id: store_owner
    type: place_manager
    name: Yusuf Haddad (Haddad's Corner Market)
    delay_hours: 0.5
    groups:
      regulars: {reach: 0.8, credibility: 0.8}
      pine_street: {reach: 0.5, credibility: 0.5}
      cedar_court: {reach: 0.5, credibility: 0.45}
  - id: block_captain
    type: block_captain
    name: Loretta Evans (Cedar Court block captain)
    delay_hours: 1.5
    groups:
      cedar_families: {reach: 0.75, credibility: 0.85}
      cedar_court: {reach: 0.3, credibility: 0.6}
      regulars: {reach: 0.2, credibility: 0.6}
  - id: outreach
    type: interrupter
    name: Andre Wallace (outreach worker)
    delay_hours: 2
    groups:
      pine_street: {reach: 0.7, credibility: 0.8}
      cedar_court: {reach: 0.7, credibility: 0.85}
incident:
  by: pine_street
  against: cedar_court
  text: A queue argument at Haddad's Corner Market ends in a punch and a threat.
rumour:
  start_hours: 0.2
  seeds: 3
  seed_group: cedar_court
  contact_rate: 1.0
  escalation: 0.12
  levels:
    - "There was a fight at Haddad's."
    - "Pine Street jumped one of ours."
    - "They put him in the hospital."
    - "Cedar is going to settle it at the store on Saturday."
  affects: [cedar_court, pine_street, cedar_families]
tension:
  anger_per_level: 0.06
  anger_per_incident: 0.3
  decay_hours: 48
retaliation:
  groups: [pine_street, cedar_court]
  branching: 0.4
  decay_hours: 30
  baseline_per_day: 0.02
  anger_weight: 1
  anger_reference: 0.4
police:
  delay_hours: 0.5
  statement_reach: 0.4
decisions:
  - id: at-the-store
    at_hours: 0.5
    prompt: |
      17:30. You arrive at the market. The young men have gone. Mr. Haddad is
      shaken and angry. What do you do?
    options:
      - id: a
        label: Sit down with Mr. Haddad; share what you know, ask what he saw, and agree how he will reach you if either group comes back.
        points: 10
        objectives: [1, 2]
        actions:
          - {do: contact_partner, partner: store_owner, share: facts_and_concerns}
          - {do: ask_correction, partner: store_owner}
          - {do: guardianship, group: cedar_court, partner: store_owner, duration_hours: 48}
      - id: b
        label: Take his statement, copy the footage and leave.
        points: 2
      - id: c
        label: Find the young man who threw the punch and arrest him tonight.
        points: 3
        objectives: [7]
        actions:
          - {do: enforcement, group: pine_street, strength: 0.3, trust_cost: 0.1}
      - id: d
        label: Call Loretta Evans so Cedar Court families hear what happened from her.
        points: 6
        objectives: [1, 4]
        actions:
          - {do: contact_partner, partner: block_captain, share: facts_and_concerns}
  - id: the-evening
    at_hours: 3
    kind: multiple
    max_choices: 2
    prompt: |
      20:00. Mr. Haddad calls: Cedar Court is saying the boy was hospitalised. He
      was not. Choose up to two.
    options:
      - id: a
        label: Ask Andre Wallace to talk with both groups before the weekend.
        points: 8
        objectives: [2]
        actions:
          - {do: mediation, partner: outreach, groups: [pine_street, cedar_court], duration_hours: 60}
      - id: b
        label: Ask Loretta Evans to tell Cedar Court families what the footage shows.
        points: 8
        objectives: [4]
        actions:
          - {do: contact_partner, partner: block_captain, share: facts}
          - {do: ask_correction, partner: block_captain}
      - id: c
        label: Park a patrol car outside the market every evening this week.
        points: 4
        objectives: [7]
        actions:
          - {do: guardianship, group: cedar_court, strength: 0.3, duration_hours: 24}
      - id: d
        label: Post on the precinct page that nobody was seriously hurt.
        points: 2
        objectives: [4]
        actions:
          - {do: police_statement}
  - id: next-day
    at_hours: 20
    prompt: |
      Friday 13:00. Quiet so far. What do you do today?
    options:
      - id: a
        label: Stop by the market and call Loretta and Andre; ask what they hear and agree a plan for Saturday.
        points: 8
        objectives: [5]
        actions:
          - {do: follow_up, partner: store_owner}
          - {do: follow_up, partner: block_captain}
          - {do: follow_up, partner: outreach}
      - id: b
        label: Nothing more; it seems to have blown over.
        points: 0
      - id: c
        label: Serve the open warrants on two Pine Street members before the weekend.
        points: 2
        objectives: [7]
        actions:
          - {do: enforcement, group: pine_street}
grading:
  pass_mark: 65
  rubric_weight: 0.5
  outcome_weight: 0.5
  runs: 200
  horizon_hours: 72
  outcomes:
    retaliations: {good: 0.2, bad: 1.5, weight: 2}
    peak_reach: {good: 0.2, bad: 0.6, weight: 1}
    police_trust_end: {good: 0.45, bad: 0.35, weight: 1}
expert_path: "1a,2a+b,3a"
baseline_path: "1b,2c+d,3c"
late_paths:
  partners called only after the evening rumour: "1b,2a+b,3a"
"""


def scenario_text(**replace: str) -> str:
    """MINIMAL with some lines replaced: scenario_text(old="new")."""
    text = MINIMAL
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return textwrap.dedent(text)


@pytest.fixture(scope="session")
def tiny():
    return scenarios.load_scenario(MINIMAL)


@pytest.fixture(scope="session")
def library():
    return {p.stem: scenarios.load_scenario(p) for p in scenarios.list_library()}


@pytest.fixture(scope="session")
def crew():
    """A crew-shooting scenario: four decision points, four partners (a frozen copy, see CREW)."""
    return scenarios.load_scenario(CREW)
