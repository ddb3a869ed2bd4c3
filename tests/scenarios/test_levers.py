"""Each model mechanism does what its documentation says (issue 14).

Every test compares paths on the same seed family (paired seeds) in a small inline
scenario (tests/scenarios/lever_scenarios.py) and asserts the documented direction with a
margin well outside the noise: ``above(a, b, margin)`` needs the paired mean gap to exceed
both ``margin`` and four of its standard errors. Each test was checked to fail with the
mechanism it tests taken out of the model (one exception: an investigative leak's doubled
escalation alone; the test fails without the leak's fuel, which also raises the severity, but
telling the boost apart takes about 300 runs a path).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from scenarios import simulate
from scenarios.model import effects as fx
from scenarios.model.actions import ACTIONS

from .lever_scenarios import HAZARD, PARTNERS, above, build, gap, nothing, partner, path, runs

ROOT = Path(__file__).resolve().parents[2]
N = 80  # paired runs per path


def deter(groups: list[str], beside: list[str] | None = None) -> dict:
    """A call-in by the prosecutor, with ``beside`` standing alongside (none: alone)."""
    extra = {"alongside": beside} if beside else {}
    return act("focused_deterrence", partner="prosecutor", groups=groups, **extra)


def contact(partner: str, share) -> dict:
    return {"do": "contact_partner", "partner": partner, "share": share}


def act(name: str, **args) -> dict:
    return {"do": name, **args}


@cache
def _runs(s, decisions: tuple, n: int, seed: int) -> tuple:
    return tuple(runs(s, [list(d) for d in decisions], n, seed))


def family(s, decisions, n: int = N, seed: int = 1) -> tuple:
    """The runs of ``decisions`` over the seed family; cached, so paths shared by tests run once."""
    return _runs(s, tuple(tuple(d) for d in decisions), n, seed)


def metrics(s, decisions, n: int = N, seed: int = 1) -> dict:
    """{metric: array over the seed family}."""
    ms = [r.metrics for r in family(s, decisions, n, seed)]
    return {m: np.array([x[m] for x in ms]) for m in ms[0]}


def at_hour(run, group: str, hour: float) -> float:
    """A group's mean anger in the run's series at ``hour``."""
    k = run.series.times.index(hour)
    return run.series.anger_by_group[group][k]


# --- what is shared ---------------------------------------------------------------

SHARING = build(
    (1, {
        "facts": [contact("pastor", ["facts"]), act("ask_correction", partner="pastor")],
        "bare": [contact("pastor", "nothing"), act("ask_correction", partner="pastor")],
        "concerns": [contact("pastor", ["concerns"])],
        "silent": [contact("pastor", "nothing")],
        "detail": [contact("outreach", ["facts", "investigative"]), act("ask_correction", partner="outreach")],
        "plain": [contact("outreach", ["facts"]), act("ask_correction", partner="outreach")],
    }),
)  # fmt: skip
MEDIATION = build(
    (1, {
        "detail": [contact("outreach", ["facts", "investigative"]),
                   act("mediation", partner="outreach", groups=["south"], strength=1.0)],
        "plain": [contact("outreach", ["facts"]), act("mediation", partner="outreach", groups=["south"], strength=1.0)],
    }),
    **HAZARD,
)  # fmt: skip


def test_facts_make_a_partners_correction_stronger():
    facts, bare = metrics(SHARING, path("facts")), metrics(SHARING, path("bare"))
    # without the facts each hearer is convinced half as often (UNALIGNED_CORRECTION)
    assert above(facts["corrected_fraction"], bare["corrected_fraction"], 0.1)
    assert above(bare["peak_reach"], facts["peak_reach"], 0.05)


def test_concerns_buffer_anger():
    concerns, silent = metrics(SHARING, path("concerns")), metrics(SHARING, path("silent"))
    assert above(silent["peak_mean_anger"], concerns["peak_mean_anger"], 0.01)
    assert above(silent["mean_anger_end"], concerns["mean_anger_end"], 0.01)


def test_investigative_detail_makes_a_partners_correction_stronger():
    detail, plain = metrics(SHARING, path("detail")), metrics(SHARING, path("plain"))
    # credibility 0.6 x 1.15 (DETAIL_BONUS): about 15% more of those reached are convinced
    assert above(detail["corrected_fraction"], plain["corrected_fraction"], 0.01)
    assert not detail["leaks"].any()  # the interrupter here has discretion 1


def test_investigative_detail_makes_a_partners_mediation_stronger():
    detail, plain = metrics(MEDIATION, path("detail")), metrics(MEDIATION, path("plain"))
    assert above(plain["retaliation_risk"], detail["retaliation_risk"], 0.02)


# a mentor's activities against an interrupter's mediation of the same two crews, the
# partners' reach and credibility the same (0.7, 0.6); the incident is north against south
KEEP_BUSY = build(
    (1, {
        "busy": [act("keep_busy", partner="mentor", groups=["south", "north"])],
        "busy_detail": [contact("mentor", ["facts", "investigative"]),
                        act("keep_busy", partner="mentor", groups=["south", "north"])],
        "mediate": [act("mediation", partner="outreach", groups=["south", "north"])],
    }),
    **HAZARD,
)  # fmt: skip


def test_keeping_young_people_busy_lowers_their_retaliation():
    busy, idle = metrics(KEEP_BUSY, path("busy")), metrics(KEEP_BUSY, path("z"))
    assert above(idle["retaliation_risk"], busy["retaliation_risk"], 0.02)


def test_keeping_young_people_busy_is_a_weaker_lever_than_mediation():
    busy, mediated = metrics(KEEP_BUSY, path("busy")), metrics(KEEP_BUSY, path("mediate"))
    assert above(busy["retaliation_risk"], mediated["retaliation_risk"], 0.01)


def test_case_detail_does_not_make_keeping_busy_stronger():
    def factors(choice: str) -> dict:
        events = simulate(KEEP_BUSY, path(choice), 1).events
        return {
            e.details["group"]: e.details["hazard_factor"]
            for e in events
            if e.kind == "partner_action" and e.details.get("action") == "keep_busy by mentor"
        }

    # hazard x (1 - strength x credibility x willingness), with no bonus for what the mentor was told
    expected = 1 - fx.KEEP_BUSY_STRENGTH * 0.6
    assert factors("busy") == factors("busy_detail") == pytest.approx({"south": expected, "north": expected})


@pytest.mark.parametrize(
    ("action", "who", "kind"),
    [
        (act("mediation", partner="mentor", groups=["south"]), "mentor", "youth_mentor"),
        (act("keep_busy", partner="pastor", groups=["south"]), "pastor", "faith_leader"),
        (act("keep_busy", partner="outreach", groups=["south"]), "outreach", "interrupter"),
    ],
)
def test_only_a_mentor_keeps_young_people_busy_and_a_mentor_does_not_mediate(action, who, kind):
    import scenarios

    with pytest.raises(scenarios.ScenarioError) as caught:
        build((0.5, {"a": [action]}))
    (issue,) = caught.value.issues
    assert issue.path == "decisions[0].options[0].actions[0].partner" and issue.line is not None
    assert issue.message == f'partner "{who}" ({kind}) cannot do {action["do"]}'


def _leak_scenario():
    half = partner("half", "block_captain", {"homes": (0.5, 0.5)}, delay_hours=1.0, discretion=0.5)
    sensitive = ["investigative", "identities", "operational", "facts", "concerns"]
    return build(
        (1, {"a": [contact("talker", sensitive), contact("pastor", sensitive), contact("half", sensitive)]}),
        partners=[*PARTNERS, half],
        grading={"horizon_hours": 30, "sample_minutes": 240},
        rumour={"contact_rate": 0.0},
    )


def test_each_sensitive_kind_leaks_with_probability_one_minus_discretion_times_sensitivity():
    s = _leak_scenario()
    n = 300
    seen = {(p, k): 0 for p in ("talker", "pastor", "half") for k in fx.SENSITIVITY}
    waits = []
    for run in runs(s, path("a"), n, seed=7):
        told = {
            e.who: e.time
            for e in run.events
            if e.kind == "partner_action" and e.details.get("action") == "engaged"
        }
        leaks = [e for e in run.events if e.kind == "leak"]
        assert run.metrics["leaks"] == len(leaks)
        for e in leaks:
            seen[e.who, e.details["kind"]] += 1
            waits.append(e.time - told[e.who])
    for (pid, kind), count in seen.items():
        discretion = s.partner(pid).discretion
        p = (1 - discretion) * fx.SENSITIVITY[kind]
        se = math.sqrt(p * (1 - p) / n)
        assert abs(count / n - p) <= 4 * se + 1e-9, (pid, kind, count / n, p)
    assert seen["talker", "operational"] > 0.8 * n and seen["pastor", "operational"] == 0
    # the leak comes an exponential wait after the telling, mean LEAK_MEAN_HOURS
    assert abs(np.mean(waits) - fx.LEAK_MEAN_HOURS) < 4 * fx.LEAK_MEAN_HOURS / math.sqrt(len(waits))


ENFORCE = build(
    (0.5, {
        "map": [act("request_analysis", partner="analyst")],
        "tell_plan": [contact("talker", ["operational"])],
        "tell_facts": [contact("talker", ["facts"])],
        "pastor_plan": [contact("pastor", ["operational"])],  # discretion 1: never leaks
        "pastor_told_nothing": [contact("pastor", [])],
    }),
    (4, {
        "focused": [act("enforcement", group="south", mode="focused", strength=1.0)],
        "broad": [act("enforcement", group="south", mode="broad")],
        "focused_half": [act("enforcement", group="south", mode="focused")],
    }),
    **HAZARD,
)  # fmt: skip


def test_an_operational_leak_makes_a_later_focused_enforcement_weaker():
    leaked = metrics(ENFORCE, path("map+tell_plan", "focused"))
    kept = metrics(ENFORCE, path("map+tell_facts", "focused"))
    assert leaked["leaks"].mean() > 0.8 and not kept["leaks"].any()
    assert leaked["case_damage"].mean() == leaked["leaks"].mean()  # each leak here is the plan
    # warned suspects: x WARNED_STRENGTH of the strength, and anger on top
    assert above(leaked["retaliation_risk"], kept["retaliation_risk"], 0.05)

    # and the warned crew's anger rises over the hour the enforcement comes in (4.5 h)
    def jump(decisions):
        return np.array([at_hour(r, "south", 5) - at_hour(r, "south", 4) for r in family(ENFORCE, decisions)])

    assert above(jump(path("map+tell_plan", "focused")), jump(path("map+tell_facts", "focused")), 0.01)


RUMOUR_LEAK = build(
    (0.5, {
        "detail": [contact("talker", ["facts", "investigative"])],
        "facts": [contact("talker", ["facts"])],
        "names": [contact("talker", ["identities"])],
        "none": [contact("talker", "nothing")],
    }),
    # a sparse network: the rumour dies out in places, and leaked detail carries it further
    community={"contacts_within": 2, "contacts_between": 0.2},
)  # fmt: skip


def test_an_investigative_leak_spreads_and_escalates_the_rumour_and_damages_the_case():
    detail, facts = metrics(RUMOUR_LEAK, path("detail")), metrics(RUMOUR_LEAK, path("facts"))
    assert abs(detail["case_damage"].mean() - fx.SENSITIVITY["investigative"]) < 0.15
    assert (detail["case_damage"] == detail["leaks"]).all() and not facts["case_damage"].any()
    assert above(detail["peak_reach"], facts["peak_reach"], 0.02)
    assert above(detail["peak_severity"], facts["peak_severity"], 0.1)


def test_an_identities_leak_angers_the_victims_group():
    s = RUMOUR_LEAK
    named, silent = family(s, path("names")), family(s, path("none"))
    leaked = np.array([r.metrics["leaks"] for r in named])
    assert 0.5 < leaked.mean() < 0.9
    # the leak comes a few hours after the telling (1.5 h): by 12 h the family's anger shows it
    south_named = np.array([at_hour(r, "south", 12) for r in named])
    south_silent = np.array([at_hour(r, "south", 12) for r in silent])
    assert above(south_named, south_silent, 0.05)
    assert above(
        np.array([r.metrics["police_trust_end"] for r in silent]),
        np.array([r.metrics["police_trust_end"] for r in named]),
        0.01,
    )


def test_sharing_too_little_and_too_much_both_lose():
    s = build(
        (0.5, {
            "right": [contact("pastor", ["facts", "concerns"]), act("ask_correction", partner="pastor")],
            "under": [contact("pastor", "nothing"), act("ask_correction", partner="pastor")],
            "over": [contact("talker", ["facts", "concerns", "investigative", "identities", "operational"]),
                     act("ask_correction", partner="talker")],
        }),
        (6, {"sweep": [act("enforcement", group="south", mode="focused")]}),
    )  # fmt: skip
    right, under, over = (metrics(s, path(p, "sweep")) for p in ("right", "under", "over"))
    # too little: the correction convinces half as many (and nobody buffers the anger)
    assert above(under["peak_reach"], right["peak_reach"], 0.03)
    assert above(right["corrected_fraction"], under["corrected_fraction"], 0.05)
    # too much, to a partner who repeats it: the case, the family and the operation pay
    assert above(over["case_damage"], right["case_damage"], 0.5)
    assert above(over["retaliation_risk"], right["retaliation_risk"], 0.02)
    assert above(right["police_trust_end"], over["police_trust_end"], 0.01)


# --- public statements --------------------------------------------------------------

STATEMENTS = build(
    (0.5, {
        "unknowns": [act("police_statement", content="unknowns")],
        "facts": [act("police_statement", content="facts")],
        "claim": [act("police_statement", content="claim")],
    }),
    rumour={"contact_rate": 1.5},  # a fast rumour: waiting three hours for clearance costs
)  # fmt: skip


def test_an_early_what_we_know_beats_waiting_for_the_cleared_facts():
    unknowns, facts = metrics(STATEMENTS, path("unknowns")), metrics(STATEMENTS, path("facts"))
    assert above(facts["peak_reach"], unknowns["peak_reach"], 0.03)
    assert above(unknowns["police_trust_end"], facts["police_trust_end"], 0.005)  # candour


def test_a_claim_is_contradicted_when_the_facts_emerge():
    s = STATEMENTS
    emerge = s.incident.facts_emerge_hours
    claims, facts = family(s, path("claim")), family(s, path("facts"))
    silent = metrics(s, nothing(s))
    for r in claims:
        assert r.metrics["contradicted_claims"] == 1
        drops = [e for e in r.events if e.kind == "trust_change" and "contradicted" in e.details["why"]]
        assert {e.time for e in drops} == {emerge}
        assert {e.who for e in drops} == set(s.group_ids)
        assert all(e.details["from"] - e.details["to"] == pytest.approx(fx.CLAIM_TRUST_COST) for e in drops)
    assert not any(r.metrics["contradicted_claims"] for r in facts)
    trust = np.array([r.metrics["police_trust_end"] for r in claims])
    m, _ = gap(trust, silent["police_trust_end"])
    assert m == pytest.approx(-fx.CLAIM_TRUST_COST, abs=0.01)  # worse on trust than saying nothing

    # after the contradiction the people it convinced believe the rumour again
    def rise(rs):
        i, j = (rs[0].series.times.index(h) for h in (emerge - 1, emerge + 1))
        return np.array([r.series.reach[j] - r.series.reach[i] for r in rs])

    assert above(rise(claims), rise(facts), 0.02)
    final = np.array([r.metrics["final_reach"] for r in claims])
    assert above(final, np.array([r.metrics["final_reach"] for r in facts]), 0.02)


# --- enforcement ----------------------------------------------------------------------


def test_focused_enforcement_with_the_map_lowers_risk_at_less_trust_cost_than_a_sweep():
    none = metrics(ENFORCE, path("z", "z"))
    focused = metrics(ENFORCE, path("map", "focused_half"))
    broad = metrics(ENFORCE, path("z", "broad"))
    assert above(none["retaliation_risk"], focused["retaliation_risk"], 0.05)
    lost_focused = none["police_trust_end"] - focused["police_trust_end"]
    lost_broad = none["police_trust_end"] - broad["police_trust_end"]
    assert lost_focused.mean() > 0
    assert above(lost_broad, lost_focused, 0.01)


def test_focused_enforcement_without_the_map_is_weaker():
    informed = metrics(ENFORCE, path("map", "focused"))
    blind = metrics(ENFORCE, path("z", "focused"))
    assert above(blind["retaliation_risk"], informed["retaliation_risk"], 0.05)
    assert above(informed["police_trust_end"], blind["police_trust_end"], 0.005)  # and it costs more


def test_a_partner_told_the_plan_prepares_people_for_it():
    """Where a partner who was told the plan reaches enough of the group (the pastor reaches 60%
    of south), the anger the sweep adds there is halved (PREPARED); the pastor never leaks."""

    def jump(decisions):
        return np.array([at_hour(r, "south", 5) - at_hour(r, "south", 4) for r in family(ENFORCE, decisions)])

    prepared = jump(path("pastor_plan", "broad"))
    unprepared = jump(path("pastor_told_nothing", "broad"))
    assert not metrics(ENFORCE, path("pastor_plan", "broad"))["leaks"].any()
    assert above(unprepared, prepared, 0.02)


def test_a_broad_sweep_raises_anger_when_it_ends():
    s = ENFORCE
    ends = 4 + s.police.delay_hours + 24  # the decision, the police delay, the sweep
    before, after = math.floor(ends), math.ceil(ends)

    def jump(rs):
        return np.array([at_hour(r, "south", after) - at_hour(r, "south", before) for r in rs])

    broad, focused = family(s, path("z", "broad")), family(s, path("map", "focused_half"))
    assert above(jump(broad), jump(focused), 0.08)
    assert (jump(broad) > 0).all()


# --- partners' own levers -------------------------------------------------------------

LEVERS = build(
    (0.5, {
        "map": [act("request_analysis", partner="analyst")],
        "support": [act("support_services", partner="services", groups=["south"], duration_hours=36)],
        "supervise": [act("supervision_contact", partner="probation", groups=["south"])],
        "voices": [contact("pastor", ["facts"]), contact("services", ["facts"])],
        "deter": [deter(["south"])],
        "deter_beside": [deter(["south"], ["pastor", "services"])],
        "mediate": [act("mediation", partner="outreach", groups=["south"], strength=1.0, duration_hours=24)],
        "evaluate": [act("evaluate", partner="researcher")],
    }),
    (6, {"wait": []}),
    # the hazard does not follow anger here (anger_weight 0), so a lever's effect on
    # retaliation_risk is its hazard factor alone, not the anger it also calms
    retaliation={**HAZARD["retaliation"], "anger_weight": 0.0},
    tension=HAZARD["tension"],
    # probation too unwilling to report on its own (below 0.3): what the trainee sees of the
    # group comes from the supervision contacts alone; the contacts' effect is unchanged
    partners=[{**p, "willingness": 0.2} if p["id"] == "probation" else p for p in PARTNERS],
)  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_analysts_map_shows_every_groups_tension(seed):
    s = LEVERS
    mapped = simulate(s, path("map"), seed, stop_at_decision=1).observation.tension_by_group
    blind = simulate(s, path("z"), seed, stop_at_decision=1).observation.tension_by_group
    assert None not in mapped.values() and set(mapped) == set(s.group_ids)
    assert set(blind.values()) == {None}


def test_support_services_lower_anger_and_hazard_slowly():
    s = LEVERS
    support, none = family(s, path("support", "z")), family(s, nothing(s))

    def m(rs, key):
        return np.array([r.metrics[key] for r in rs])

    assert above(m(none, "retaliation_risk"), m(support, "retaliation_risk"), 0.03)
    assert above(m(none, "mean_anger_end"), m(support, "mean_anger_end"), 0.005)
    # slowly, step by step: the gap in the group's anger is wider after the second step than
    # after the first (half an hour after each)
    first = 0.5 + s.partner("services").delay_hours + 0.5
    last = first + fx.SUPPORT_STEP_HOURS

    def south(rs, hour):
        return np.array([at_hour(r, "south", hour) for r in rs])

    early = south(none, first) - south(support, first)
    late = south(none, last) - south(support, last)
    assert above(late, early, 0.02)


def test_supervision_contact_lowers_hazard_and_reveals_the_group():
    s = LEVERS
    supervised, none = metrics(s, path("supervise", "z")), metrics(s, nothing(s))
    assert above(none["retaliation_risk"], supervised["retaliation_risk"], 0.05)
    for seed in (4, 5):
        seen = simulate(s, path("supervise"), seed, stop_at_decision=1).observation
        assert {g for g, v in seen.tension_by_group.items() if v is not None} == {"south"}
        assert [x.source_partner for x in seen.signals] == ["probation"]
        blind = simulate(s, path("z"), seed, stop_at_decision=1).observation
        assert set(blind.tension_by_group.values()) == {None}


def test_focused_deterrence_needs_a_moral_voice_and_help():
    s = LEVERS
    full, voices = metrics(s, path("voices+deter_beside", "z")), metrics(s, path("voices", "z"))
    alone, none = metrics(s, path("deter", "z")), metrics(s, nothing(s))
    assert above(voices["retaliation_risk"], full["retaliation_risk"], 0.05)
    # a threat with nobody they respect beside it and no help: anger up, trust down, no safer
    assert above(alone["peak_mean_anger"], none["peak_mean_anger"], 0.01)
    assert above(none["police_trust_end"], alone["police_trust_end"], 0.01)
    assert alone["retaliation_risk"].mean() >= none["retaliation_risk"].mean() - 0.02


def test_an_evaluation_keeps_running_partner_work_going():
    s = LEVERS
    both, mediated = metrics(s, path("mediate+evaluate", "z")), metrics(s, path("mediate", "z"))
    assert above(mediated["retaliation_risk"], both["retaliation_risk"], 0.03)


def test_an_evaluation_with_no_partner_work_changes_nothing():
    s = LEVERS
    evaluated, none = family(s, path("evaluate", "z")), family(s, nothing(s))
    for r in evaluated:
        said = [e for e in r.events if e.who == "researcher" and e.details.get("action") == "evaluate"]
        assert said and "no partner work" in said[0].details["text"]
        assert not [e for e in r.events if e.kind == "trust_change"]
    for key in ("retaliation_risk", "mean_anger_end", "peak_reach"):
        a = np.array([r.metrics[key] for r in evaluated])
        b = np.array([r.metrics[key] for r in none])
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean()) < 3 * se + 1e-9, key


# --- retaliation_risk --------------------------------------------------------------------


def test_retaliation_risk_is_the_expected_number_of_retaliations():
    # Interventions off. count - risk is a martingale's end value: mean 0, variance the mean
    # risk. The hazard is sampled every 15 minutes (a left sum, so it misses each incident's
    # jump in excitation and anger for up to one step: well under 1% here), so allow 2%.
    s = build(
        (1, {"a": []}),
        retaliation={"branching": 0.5, "baseline_per_day": 2.0},
        grading={"horizon_hours": 48, "sample_minutes": 15},
        rumour={"contact_rate": 0.3},
    )
    rs = runs(s, nothing(s), 100, seed=3)
    risk = np.array([r.metrics["retaliation_risk"] for r in rs])
    count = np.array([r.metrics["retaliations"] for r in rs])
    m, se = gap(count, risk)
    assert count.mean() > 10
    assert abs(m) < 3 * se + 0.02 * count.mean(), (count.mean(), risk.mean(), se)
    # and it is smoother than the count it predicts
    assert risk.std() < count.std()


# --- purity ----------------------------------------------------------------------------

EVERYTHING = build(
    (0.5, {"a": [
        contact("talker", ["facts", "concerns", "investigative", "identities", "operational"]),
        contact("pastor", ["facts", "concerns"]), contact("services", "facts_and_concerns"),
        act("request_analysis", partner="analyst"), act("police_statement", content="unknowns"),
        act("guardianship", group="south"),
    ]}),
    (3, {"a": [
        act("ask_correction", partner="pastor"), act("joint_message", partners=["pastor", "talker"]),
        act("police_statement", content="claim"), act("mediation", partner="outreach", groups=["south", "north"]),
        act("support_services", partner="services", groups=["south"]),
        act("keep_busy", partner="mentor", groups=["south"]),
        act("supervision_contact", partner="probation", groups=["south"]),
        deter(["south", "north"], ["pastor", "outreach"]),
        act("follow_up", partner="talker"), act("hand_over", partner="pastor"),
    ]}),
    (8, {"a": [
        act("evaluate", partner="researcher"), act("acknowledge", partner="pastor"),
        act("police_statement", content="facts"), act("enforcement", group="north", mode="focused"),
        act("enforcement", group="south", mode="broad"),
    ]}),
    incident={"transfer_at_hours": 30},
)  # fmt: skip
EVERY_PATH = path("a", "a", "a")


def test_the_purity_path_uses_every_action():
    used = {a.type for d in EVERYTHING.decisions for o in d.options for a in o.actions}
    assert used == set(ACTIONS)


def test_same_inputs_give_the_same_run_with_every_action():
    first = simulate(EVERYTHING, EVERY_PATH, 5).to_dict()
    simulate(EVERYTHING, EVERY_PATH, 6)  # another run in between leaves nothing behind
    assert simulate(EVERYTHING, EVERY_PATH, 5).to_dict() == first
    assert first["metrics"]["leaks"] >= 1 and first["metrics"]["contradicted_claims"] == 1
    assert simulate(EVERYTHING, EVERY_PATH, 8).to_dict() != first


def test_the_run_is_the_same_in_another_process_with_another_hash_seed():
    here = simulate(EVERYTHING, EVERY_PATH, 5).to_dict()
    code = (
        "import json, sys\n"
        "from tests.scenarios.test_levers import EVERYTHING, EVERY_PATH\n"
        "from scenarios import simulate\n"
        "json.dump(simulate(EVERYTHING, EVERY_PATH, 5).to_dict(), sys.stdout)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == json.loads(json.dumps(here))


def test_a_claim_the_horizon_never_lets_meet_the_facts_is_refused():
    import scenarios

    claim = {"c": [act("police_statement", content="claim")]}
    with pytest.raises(scenarios.ScenarioError) as caught:
        build((0.5, claim), incident={"facts_emerge_hours": 36})  # the horizon is 36 h
    (issue,) = caught.value.issues
    assert issue.path == "incident.facts_emerge_hours" and issue.line is not None
    assert issue.message.startswith("a claim would never meet the facts within the horizon")
    build((0.5, claim), incident={"facts_emerge_hours": 35})
    build((0.5, {"f": [act("police_statement", content="facts")]}), incident={"facts_emerge_hours": 36})


def test_two_claims_in_one_option_are_contradicted_as_two_claims(monkeypatch):
    from scenarios.model.world import World

    s = build((0.5, {"two": [act("police_statement", content="claim")] * 2}))
    relapses: list[list[int]] = []
    fuel = World.fuel_rumour

    def spy(self, gids, share, people=None):
        if people is not None:
            relapses[-1].append(len(people))
        return fuel(self, gids, share, people)

    monkeypatch.setattr(World, "fuel_rumour", spy)
    for seed in range(1, 6):
        relapses.append([])
        r = simulate(s, path("two"), seed)
        assert r.metrics["contradicted_claims"] == 2
        drops = [e for e in r.events if e.kind == "trust_change" and "contradicted" in e.details["why"]]
        assert sorted(e.who for e in drops) == sorted(s.group_ids * 2)  # trust lost twice in each group
        # each contradiction brings back the people its own claim convinced
        assert len(relapses[-1]) == 2 and all(n > 0 for n in relapses[-1]), relapses


def test_enforcement_is_explained_only_by_a_partner_engaged_when_it_happens():
    tell = act("contact_partner", partner="pastor", share=["facts"])  # reaches 60% of south
    enforce = act("enforcement", group="south")
    s = build((0.5, {"tell": [tell]}), (4.0, {"enforce": [enforce], "enforce_tell": [enforce, tell]}))

    def cost(decisions):
        (drop,) = [
            e
            for e in simulate(s, decisions, 1).events
            if e.kind == "trust_change" and e.details["why"] == "enforcement"
        ]
        return drop.details["from"] - drop.details["to"]

    assert cost(path("tell", "enforce")) == pytest.approx(0.15 * fx.EXPLAINED, abs=1e-3)
    # told at the same decision, the partner is engaged only after the enforcement: no halving
    assert cost(path("z", "enforce_tell")) == pytest.approx(0.15, abs=1e-3)
