"""Loading scenarios: every problem at once, with path and line, and nothing but ScenarioError."""

from __future__ import annotations

import contextlib
import random

import pytest

import scenarios
from scenarios import ScenarioError, load_scenario

from .conftest import MINIMAL, scenario_text


def test_minimal_file_is_valid_with_defaults(tiny):
    assert tiny.slug == "tiny"
    assert tiny.version == 1
    assert tiny.grading.horizon_hours == 72
    assert tiny.decisions[1].kind == "multiple" and tiny.decisions[1].max_choices == 3
    assert [o.id for o in tiny.decisions[0].options] == ["a", "b"]
    assert tiny.partners[0].delay_hours == 2.0  # the faith leader's catalogue default
    assert tiny.expert_path == [["a"], ["a", "b"]]


def test_fingerprint_pins_the_content():
    same = load_scenario(MINIMAL + "\n# a comment changes nothing\n")
    other = load_scenario(scenario_text(**{"title: A tiny scenario": "title: Another"}))
    assert same.fingerprint == load_scenario(MINIMAL).fingerprint
    assert other.fingerprint != same.fingerprint
    assert len(same.fingerprint) == 64


def test_clock_label(tiny):
    assert tiny.clock_label(40 / 60) == "Saturday 23:40 (40 minutes after the incident)"
    assert tiny.clock_label(2) == "Sunday 01:00 (2 hours after the incident)"


def test_unknown_partner_names_path_line_and_known_ones():
    text = scenario_text(**{"{do: ask_correction, partner: pastor}": "{do: ask_correction, partner: pastr}"})
    with pytest.raises(ScenarioError) as err:
        load_scenario(text)
    line = text.splitlines().index(next(ln for ln in text.splitlines() if "pastr" in ln)) + 1
    assert [str(i) for i in err.value.issues] == [
        f'decisions[1].options[0].actions[0].partner: unknown partner "pastr"; known: pastor (line {line})'
    ]


def test_all_problems_are_reported_at_once():
    text = scenario_text(
        **{
            "size: 30, role: crew}\n    - {id: south": "size: -3, role: crew}\n    - {id: south",
            "type: faith_leader": "type: priest",
            "at_hours: 4": "at_hours: 0.5",
            "{do: police_statement}": "{do: shout}",
            '"1a,2a+b"': '"1a,2z"',
        }
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(text)
    messages = [str(i) for i in err.value.issues]
    assert any(m.startswith("community.groups[0].size: must be at least 1") for m in messages)
    assert any(m.startswith('partners[0].type: unknown value "priest"') for m in messages)
    assert any(m.startswith("decisions[1].at_hours: decision points must be in time order") for m in messages)
    assert any(m.startswith('decisions[1].options[1].actions[0].do: unknown value "shout"') for m in messages)
    assert any(m.startswith('expert_path: decision 2: unknown option "z"') for m in messages)
    assert all(i.line is not None for i in err.value.issues)
    assert len(messages) >= 5


def test_capability_is_checked():
    text = scenario_text(**{"{do: police_statement}": "{do: mediation, partner: pastor, groups: [north]}"})
    load_scenario(text)  # a faith leader may mediate
    text = scenario_text(**{"{do: police_statement}": "{do: guardianship, partner: pastor, group: north}"})
    with pytest.raises(ScenarioError, match="cannot do guardianship"):
        load_scenario(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just a string",
        "[1, 2, 3]",
        "ripple_scenario: 2",
        "{{{{",
        "decisions: 5",
        "community: {groups: [1, 2]}",
        "a: &x [*x]",
        "ripple_scenario: 1\ncommunity: {groups: [{id: a, size: .inf}]}",
        "? [1, 2]\n: x",
        "\t\x00\x01",
    ],
)
def test_garbage_raises_only_scenario_error(text):
    with pytest.raises(ScenarioError):
        load_scenario(text)


def test_fuzz_truncations_and_mutations_raise_only_scenario_error(crew):
    """Cut and corrupt a real scenario many ways: each either loads or raises ScenarioError."""
    source = crew.source_text
    rng = random.Random(7)
    for cut in range(0, len(source), max(1, len(source) // 60)):
        with contextlib.suppress(ScenarioError):
            load_scenario(source[:cut] + "\n")
    tokens = ["", "0", "-1", "x", "[]", "{}", "null", "1e999", "'", ": :", "- ", "true", "[a, b]"]
    lines = source.splitlines()
    for _ in range(150):
        mutated = list(lines)
        i = rng.randrange(len(mutated))
        line = mutated[i]
        if ":" in line and rng.random() < 0.7:
            key, _, _ = line.partition(":")
            mutated[i] = f"{key}: {rng.choice(tokens)}"
        else:
            mutated[i] = line[: rng.randrange(len(line) + 1)]
        try:
            load_scenario("\n".join(mutated))
        except ScenarioError as exc:
            assert exc.issues and all(isinstance(i, scenarios.Issue) for i in exc.issues)


def test_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read file"):
        load_scenario(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("share", "kinds"),
    [
        (None, ("facts", "concerns")),  # the default
        ("nothing", ()),
        ("facts", ("facts",)),
        ("concerns", ("concerns",)),
        ("facts_and_concerns", ("facts", "concerns")),
        ("[facts, identities]", ("facts", "identities")),
        ("[operational, facts, facts]", ("operational", "facts")),  # in order, once each
    ],
)
def test_share_reads_as_a_tuple_of_kinds_and_the_old_shorthands_still_work(share, kinds):
    action = "{do: contact_partner, partner: pastor}"
    text = scenario_text(**{action: action if share is None else action[:-1] + f", share: {share}}}"})
    args = load_scenario(text).decisions[0].options[0].actions[0].args
    assert args["share"] == kinds and isinstance(args["share"], tuple)


def test_an_unknown_kind_of_information_is_refused_with_its_line():
    text = scenario_text(
        **{
            "{do: contact_partner, partner: pastor}": "{do: contact_partner, partner: pastor, share: [facts, gossip]}"
        }
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(text)
    assert [str(i) for i in err.value.issues] == [
        'decisions[0].options[0].actions[0].share[1]: unknown kind of information "gossip"; known: facts, '
        "concerns, investigative, identities, operational (line 21)"
    ]


def test_contrast_paths_and_critical_options_are_read():
    text = scenario_text(
        **{
            "{label: Police statement, points: 2, actions: [{do: police_statement}]}": (
                "{label: Police statement, points: 2, critical: '  Says too much.  ',"
                " actions: [{do: police_statement}]}"
            ),
            'baseline_path: "1b,2c"': (
                'baseline_path: "1b,2c"\ncontrast_paths:\n  too much: {kind: oversharing, path: "1a,2b"}'
            ),
        }
    )
    s = load_scenario(text)
    assert s.contrast_paths == {"too much": ("oversharing", [["a"], ["b"]])}
    assert s.decisions[1].options[1].critical == "Says too much."
    assert s.decisions[1].options[0].critical == ""
    bad = text.replace("kind: oversharing", "kind: rude")
    with pytest.raises(ScenarioError, match='contrast_paths.too much.kind: unknown value "rude"'):
        load_scenario(bad)
