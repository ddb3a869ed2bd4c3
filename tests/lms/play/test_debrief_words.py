"""The debrief in words for people: measures, engine events, the headline and the comparisons."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import scenarios as engine
from lms.services import debrief, measures
from scenarios.model.actions import ACTIONS
from scenarios.results import Event

LIBRARY = sorted(Path(engine.__file__).parent.joinpath("library").glob("*.yaml"))


def test_every_engine_measure_has_words_and_a_direction():
    assert set(measures.MEASURES) == set(engine.METRIC_DOCS)
    for m in measures.MEASURES.values():
        assert m.better in ("lower", "higher") and "_" not in m.label and m.doc.endswith(".")
        assert "Maki" not in m.doc and "fraction" not in m.label.lower()


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("heard_fraction", 0.203, "20%"),
        ("police_trust_end", 0.52, "middling (0.52 of 1)"),
        ("incidents", 1.0, "1 incident"),
        ("incidents", 1.22, "1.22 incidents"),
        ("retaliations", 0.2, "0.2 retaliations"),
        ("time_to_first_retaliation", 1, "1 hour"),
        ("time_to_first_retaliation", 30, "30 hours"),
        ("peak_severity", 3.94, "version 3.9"),
    ],
)
def test_values_are_written_for_people(name, value, text):
    assert measures.format_value(name, value) == text


def test_better_and_worse_follow_each_measures_direction_and_noise():
    assert measures.verdict("retaliations", 0.2, 0.77) == "better"
    assert measures.verdict("police_trust_end", 0.4, 0.6) == "worse"
    assert measures.verdict("police_trust_end", 0.6, 0.4) == "better"
    assert measures.verdict("retaliations", 0.22, 0.20, margin=0.05) == "about the same"
    assert measures.verdict("heard_fraction", 0.504, 0.5) == "about the same"


def test_points_and_lists_read_as_sentences():
    assert debrief.points_words(2) == "earned 2 points"
    assert debrief.points_words(1) == "earned 1 point"
    assert debrief.points_words(-1) == "cost 1 point"
    assert debrief.join_words(["Hold off.", "Ask Pastor Hall"]) == "Hold off and Ask Pastor Hall"
    assert debrief.join_words(["A", "B", "C"]) == "A, B and C"


def test_the_period_is_worded_from_the_scenarios_length():
    assert debrief.period_words(72) == "3 days"
    assert debrief.period_words(504) == "3 weeks"
    assert debrief.period_words(24) == "1 day"
    assert debrief.period_words(30) == "30 hours"


def _lines(path: Path) -> list[str]:
    scenario = engine.load_scenario(path.read_text())
    lines = []
    for choices in (scenario.expert_path, scenario.baseline_path):
        run = engine.simulate(scenario, choices, 7)
        lines += [debrief.describe(scenario, event) for event in run.events]
    return lines


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_library_events_read_without_engine_words(path):
    for line in _lines(path):
        assert "+" not in line, line
        assert not re.search(r"\.;|;\s*$|\.\.|: [a-z_]+\.$", line), line
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", line), line  # no raw action or id
        assert "points" not in line


def test_a_correction_by_police_and_partners_names_each():
    scenario = engine.load_scenario(
        Path(engine.__file__).parent.joinpath("library/crew-shooting-rumour.yaml").read_text()
    )
    event = Event(10.0, "correction", "police+pastor+block_captain", {"corrected": 227}, 0)
    pastor = next(p.name for p in scenario.partners if p.id == "pastor")
    captain = next(p.name for p in scenario.partners if p.id == "block_captain")
    assert (
        debrief.describe(scenario, event)
        == f"Police, {pastor} and {captain} corrected the rumor for 227 people."
    )


def test_a_partner_action_without_text_is_worded():
    scenario = engine.load_scenario(
        Path(engine.__file__).parent.joinpath("library/crew-shooting-rumour.yaml").read_text()
    )
    partner = scenario.partners[0]
    event = Event(5.0, "partner_action", partner.id, {"action": "acknowledge"}, 1)
    assert debrief.describe(scenario, event) == f"{partner.name} was thanked for their work."


def test_the_headline_gives_the_share_of_runs_in_which_anyone_retaliated():
    scenario = engine.load_scenario((LIBRARY[0].parent / "crew-shooting-rumour.yaml").read_text())
    summaries = tuple(
        debrief.distribution_summary(engine.monte_carlo(scenario, path, 20, 11))
        for path in (scenario.expert_path, scenario.expert_path, scenario.baseline_path)
    )
    per_run = engine.monte_carlo(scenario, scenario.baseline_path, 20, 11).per_run["retaliations"]
    share = sum(1 for value in per_run if value > 0) / 20
    assert summaries[2]["retaliated_share"] == share
    text = debrief.headline(scenario, summaries)
    assert text.startswith("Someone retaliated in ")
    assert f"and {round(share * 100):.0f}% with no partnership." in text
    assert "of 20 simulated runs of these" in text


def test_a_summary_stored_before_the_share_was_kept_still_gets_a_headline():
    scenario = engine.load_scenario((LIBRARY[0].parent / "crew-shooting-rumour.yaml").read_text())
    summary = debrief.distribution_summary(engine.monte_carlo(scenario, scenario.expert_path, 8, 3))
    del summary["retaliated_share"]
    assert "a run on average" in debrief.headline(scenario, (summary, summary, summary))


# Police's own actions are worded by the debrief's timeline, not as something a partner is asked to do.
NOT_ASKED_OF_PARTNERS = {"police_statement", "enforcement"}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_action_has_words_for_the_debrief_and_the_situation_room(name):
    """A new action type gets plain words in both places (not "keep busy with ..." or
    "take part in your plan")."""
    from lms.services.debrief import ACTION_WORDS
    from lms.services.situation import ASKED_TO

    assert name in ACTION_WORDS
    assert name in ASKED_TO or name in NOT_ASKED_OF_PARTNERS
