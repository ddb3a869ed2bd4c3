"""The lessons hold as properties of the model, over many seeds."""

from __future__ import annotations

import statistics

import pytest

from scenarios import load_scenario, monte_carlo

from .conftest import scenario_text

RUNS = 120

# The same moves, offered early (decision 1) or late (decision 2).
TIMING = scenario_text(
    **{
        """  - id: pastor
    type: faith_leader
    groups:
      homes: {reach: 0.8, credibility: 0.9}""": """  - id: pastor
    type: faith_leader
    groups:
      homes: {reach: 0.8, credibility: 0.9}
      south: {reach: 0.3, credibility: 0.5}
  - id: outreach
    type: interrupter
    groups:
      north: {reach: 0.8, credibility: 0.9}
      south: {reach: 0.8, credibility: 0.9}""",
        "  - at_hours: 1\n": "  - at_hours: 0.5\n",
        "{label: Call the pastor, points: 5, actions: [{do: contact_partner, partner: pastor}]}": (
            "{label: Bring partners in, actions: [{do: contact_partner, partner: outreach},"
            " {do: contact_partner, partner: pastor}, {do: ask_correction, partner: pastor},"
            " {do: mediation, partner: outreach, groups: [north, south]}]}"
        ),
        "  - at_hours: 4\n": "  - at_hours: 8\n",
        "{label: Ask for a correction, points: 5, actions: [{do: ask_correction, partner: pastor}]}": (
            "{label: Bring partners in, actions: [{do: contact_partner, partner: outreach},"
            " {do: contact_partner, partner: pastor}, {do: ask_correction, partner: pastor},"
            " {do: mediation, partner: outreach, groups: [north, south]}]}"
        ),
        "retaliation: {groups: [north, south]}": "retaliation: {groups: [north, south], branching: 0.5, decay_hours: 12}",
        "incident: {by: north, against: south}": "incident: {by: north, against: south}\nrumour: {seed_group: homes, affects: [south, homes], contact_rate: 1.5}",
        "2a+b": "2c",
    }
)


def _mean(dist, metric):
    return dist.metrics[metric].mean


@pytest.fixture(scope="module")
def timing():
    return load_scenario(TIMING)


def test_contacting_partners_earlier_lowers_retaliation_and_reach(timing):
    early = monte_carlo(timing, [["a"], ["c"]], RUNS, seed=1)
    late = monte_carlo(timing, [["b"], ["a"]], RUNS, seed=1)
    never = monte_carlo(timing, [["b"], ["c"]], RUNS, seed=1)
    table = {
        name: (_mean(d, "retaliations"), _mean(d, "peak_reach"))
        for name, d in [("early", early), ("late", late), ("never", never)]
    }
    print("retaliations, peak reach:", table)
    assert table["early"][0] < table["late"][0] < table["never"][0]
    assert table["early"][1] < table["late"][1] <= table["never"][1]
    # and not by chance: the difference is larger than its standard error
    diff = [a - b for a, b in zip(late.per_run["peak_reach"], early.per_run["peak_reach"], strict=True)]
    assert statistics.mean(diff) > 2 * statistics.stdev(diff) / len(diff) ** 0.5


@pytest.mark.parametrize("credibility", [0.2, 0.9])
def test_correction_works_in_proportion_to_the_messengers_credibility(credibility):
    text = scenario_text(
        **{"homes: {reach: 0.8, credibility: 0.9}": f"homes: {{reach: 0.8, credibility: {credibility}}}"}
    )
    scenario = load_scenario(text)
    corrected = monte_carlo(scenario, [["a"], ["a"]], 60, seed=2).metrics["corrected_fraction"].mean
    # the homes are 100 of 160 people, 80 reached: expect about 0.5 x credibility corrected
    assert corrected == pytest.approx(80 * credibility / 160, rel=0.2)


def test_a_trusted_messenger_lowers_reach_more_than_a_distrusted_one():
    results = {}
    for credibility in (0.15, 0.9):
        text = scenario_text(
            **{
                "homes: {reach: 0.8, credibility: 0.9}": f"homes: {{reach: 0.8, credibility: {credibility}}}",
                "incident: {by: north, against: south}": "incident: {by: north, against: south}\nrumour: {seed_group: homes, contact_rate: 0.5}",
            }
        )
        scenario = load_scenario(text)
        results[credibility] = monte_carlo(scenario, [["a"], ["a"]], RUNS, seed=3).metrics["final_reach"].mean
    print("final reach by messenger credibility:", results)
    assert results[0.9] < results[0.15] - 0.1


def test_enforcement_without_communication_erodes_trust(tiny):
    text = scenario_text(**{"{do: police_statement}": "{do: enforcement, group: north}"})
    scenario = load_scenario(text)
    trust_before = scenario.group("north").police_trust
    from scenarios import simulate

    run = simulate(scenario, [["b"], ["b"]], seed=1)
    changes = [e for e in run.events if e.kind == "trust_change" and e.who == "north"]
    assert changes and changes[0].details["to"] == pytest.approx(trust_before - 0.15)


def test_partners_not_followed_up_lose_willingness(crew):
    from scenarios import simulate

    dropped = simulate(crew, [["a"], ["c"], ["d"], ["b"]], seed=1)
    kept = simulate(crew, [["a"], ["c"], ["b"], ["b"]], seed=1)
    assert any(e.kind == "partner_cooling" and e.who == "outreach" for e in dropped.events)
    assert not any(e.kind == "partner_cooling" and e.who == "outreach" for e in kept.events)
