"""Fixtures for the engine's tests: library scenarios and tiny hand-made ones."""

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
def crew(library):
    return library["crew-shooting-rumour"]
