"""Small inline scenarios for the grade's tests in the app: one decision, a few hundred people,
so a grading with the test config's runs takes a fraction of a second.

TINY's outcome: option a (call the pastor and ask for a correction) is the expert path and
keeps the rumour's reach well under the no-partnership path b (wait); c does what a does but
is marked critical, so it scores like a and still fails. `case_damage` is graded too, and both
references leave it at 0 (nothing sensitive is shared): the references do not separate it, so
the engine scores it over its scale from the expert's mean. With the pass mark at 70, the
expert's runs pass on their outcome alone and the no-partnership runs do not (by about 8 points).
"""

from __future__ import annotations

TINY = """\
ripple_scenario: 1
slug: tiny-critical
title: A tiny scenario with a critical option
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
      north: {reach: 0.5, credibility: 0.6}
      south: {reach: 0.5, credibility: 0.6}
incident: {by: north, against: south}
retaliation: {groups: [north, south]}
decisions:
  - at_hours: 1
    prompt: What now?
    options:
      - label: Call the pastor and ask for a correction
        points: 5
        actions: [{do: contact_partner, partner: pastor}, {do: ask_correction, partner: pastor}]
      - {label: Wait}
      - label: Name the suspect on social media
        points: 5
        critical: Naming a suspect in public can get the wrong person hurt and wrecks the case.
        actions: [{do: contact_partner, partner: pastor}, {do: ask_correction, partner: pastor}]
grading:
  pass_mark: 70
  outcomes:
    peak_reach: {weight: 1}
    case_damage: {weight: 1}
expert_path: "1a"
baseline_path: "1b"
"""

CRITICAL_LABEL = "Name the suspect on social media"
CRITICAL_REASON = "Naming a suspect in public can get the wrong person hurt and wrecks the case."


def publish(text: str = TINY):
    """The scenario as a published platform-library version (flushed)."""
    from lms.extensions import db
    from lms.models import ScenarioRecord
    from lms.services.scenario_library import parse_source, publish_text

    slug = parse_source(text).slug
    record = ScenarioRecord(agency_id=None, slug=slug, title=slug)
    db.session.add(record)
    db.session.flush()
    return publish_text(None, record, text)
