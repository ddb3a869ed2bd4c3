"""The optional `facilitator:` block: notes for an instructor, validated like the rest."""

from __future__ import annotations

import pytest

from scenarios import Facilitator, ScenarioError, load_scenario

from .conftest import MINIMAL

BLOCK = """
facilitator:
  goals: ["Name who to call first, and why.", "Say what stays with the detective."]
  minutes: {briefing: 4, play: 25, debrief: 12}
  prompts:
    d2: ["Who do the families believe?"]
    d1: ["What do you need to know before you call anyone?", "Who hears it first?"]
  debrief_prompts: ["Where did the rumour stop?"]
  assumptions: ["The pastor reaches only the families on the block."]
"""


def with_block(block: str) -> str:
    return MINIMAL + block


def issues(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        load_scenario(text)
    return [str(i) for i in err.value.issues]


def test_a_scenario_without_the_block_has_empty_notes(tiny):
    assert tiny.facilitator == Facilitator()
    assert tiny.facilitator.minutes.play is None


def test_the_block_is_read_in_decision_order():
    f = load_scenario(with_block(BLOCK)).facilitator
    assert f.goals == ("Name who to call first, and why.", "Say what stays with the detective.")
    assert (f.minutes.briefing, f.minutes.play, f.minutes.debrief) == (4, 25, 12)
    assert list(f.prompts) == ["d1", "d2"]
    assert f.prompts["d1"][1] == "Who hears it first?"
    assert f.debrief_prompts == ("Where did the rumour stop?",)
    assert f.assumptions == ("The pastor reaches only the families on the block.",)


def test_every_part_is_optional():
    f = load_scenario(with_block("facilitator:\n  minutes: {play: 10}\n")).facilitator
    assert f.minutes.play == 10 and f.minutes.briefing is None and f.goals == () and f.prompts == {}


def _line(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    d2:", "    d9:", 'facilitator.prompts.d9: unknown decision id "d9"; known: d1, d2'),
        ("play: 25", "play: 0", "facilitator.minutes.play: must be at least 1, got 0"),
        ("play: 25", "play: 241", "facilitator.minutes.play: must be at most 240, got 241"),
        ("play: 25", "play: 2.5", "facilitator.minutes.play: expected a whole number"),
        ("play: 25", "lunch: 25", 'facilitator.minutes.lunch: unknown key "lunch"'),
        (
            '["Where did the rumour stop?"]',
            "[]",
            "facilitator.debrief_prompts: needs at least 1 item(s), has 0",
        ),
        ('["Where did the rumour stop?"]', '["  "]', "facilitator.debrief_prompts[0]: must not be empty"),
        ('["Where did the rumour stop?"]', "[42]", "facilitator.debrief_prompts[0]: expected text"),
        ('["Where did the rumour stop?"]', '"Where?"', "facilitator.debrief_prompts: expected a list"),
        ("  assumptions:", "  assumption:", 'facilitator.assumption: unknown key "assumption"'),
        ('["Who do the families believe?"]', "{a: b}", "facilitator.prompts.d2: expected a list"),
    ],
)
def test_each_problem_names_its_path_and_line(old, new, expected):
    assert old in BLOCK
    text = with_block(BLOCK.replace(old, new, 1))
    found = issues(text)
    assert len(found) == 1 and found[0].startswith(expected), found
    assert found[0].endswith(f"(line {_line(text, new.split(':')[0].strip() or new)})"), found


def test_text_length_and_list_size_are_bounded():
    long = "x" * 601
    text = with_block(BLOCK.replace("Where did the rumour stop?", long))
    assert issues(text) == [
        f"facilitator.debrief_prompts[0]: must be at most 600 characters, has 601 (line {_line(text, long)})"
    ]
    load_scenario(with_block(BLOCK.replace("Where did the rumour stop?", "x" * 600)))
    nine = "[" + ", ".join(f'"goal {i}"' for i in range(9)) + "]"
    text = with_block(
        BLOCK.replace('["Name who to call first, and why.", "Say what stays with the detective."]', nine)
    )
    assert issues(text) == [
        f"facilitator.goals: allows at most 8 item(s), has 9 (line {_line(text, 'goal 8')})"
    ]


def test_problems_elsewhere_are_reported_with_the_block_ones():
    text = with_block(BLOCK.replace("    d2:", "    d9:")).replace("title: A tiny scenario", "title: 5")
    found = issues(text)
    assert any(m.startswith("title: expected text") for m in found)
    assert any(m.startswith("facilitator.prompts.d9") for m in found)


def test_the_block_must_be_a_mapping():
    text = with_block("facilitator: [goals]\n")
    assert issues(text)[0].startswith("facilitator: expected a mapping, got a list")
