"""The built-in scenarios: valid, distinct in what they teach, and calibrated by the simulation.

What every library scenario must show over SEEDS seeds (each run graded on its own, the
outcome scored against the scenario's reference distributions):

* the expert path passes on the outcome alone in >= 95% of runs, no partnership fails in >= 95%;
* each contrast path of kind late, wrong_messenger, oversharing or false_statement lowers the
  outcome score by at least 5 points on paired seeds (oversharing and false_statement may
  instead be critical errors, which fail the attempt whatever its score);
* an "alternative" passing path exists whose outcome differs in kind from the expert's: each
  is clearly better on some graded metric;
* the figures match the calibration kept in tests/scenarios/calibration/<slug>.json.

Re-record a calibration after changing a library scenario on purpose:
``RIPPLE_RECORD_CALIBRATION=1 pytest tests/scenarios/test_library.py``.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from scenarios import PARTNER_TYPES, grade_each_run, list_library, load_scenario, monte_carlo, references
from scenarios.grading import critical_errors

SEEDS = 400
SEED = 2024
DROP = 5.0  # points of outcome score a contrast path must lose, on paired seeds
CROSS = 0.1  # in position units (the expert-baseline gap): how much better "better" must be
CALIBRATION = Path(__file__).parent / "calibration"
LIBRARY = list_library()
REVISED = {"crew-shooting-rumour", "use-of-force-video", "store-dispute", "officer-transfer"}
NEW = {
    "call-in-focused-deterrence",
    "school-rumour-juvenile",
    "language-and-distrust",
    "refresher-night-shift",
}
SLUGS = REVISED | NEW  # the library as issue 15 ships it
FOUND = sorted(p.stem for p in LIBRARY)  # every file in the library is checked, whatever it is
MUST_SHOW = ("late", "wrong_messenger", "oversharing", "false_statement", "alternative")
# partners outside the justice system: what would harm is never theirs to hold
COMMUNITY = {
    "faith_leader",
    "block_captain",
    "interrupter",
    "youth_mentor",
    "place_manager",
    "local_representative",
}
HARMFUL = {"investigative", "identities", "operational"}


def test_the_library_holds_the_known_scenarios():
    found = set(FOUND)
    assert found >= REVISED, f"missing: {REVISED - found}"
    assert found <= SLUGS, f"a library file nobody listed: {found - SLUGS}"


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_scenario_is_well_formed(path):
    s = load_scenario(path)
    assert s.slug == path.stem
    assert s.briefing and s.summary and s.objectives
    assert 3 <= len(s.decisions) <= 6
    assert any(d.kind == "multiple" for d in s.decisions)
    for d in s.decisions:
        assert 3 <= len(d.options) <= 5
        assert all(o.feedback.strip() for o in d.options), d.id
    assert s.late_paths, "a plausible-but-late path is part of the calibration"
    assert 300 <= s.population <= 1500
    kinds = {kind for kind, _ in s.contrast_paths.values()}
    assert set(MUST_SHOW) <= kinds, f"missing contrast paths: {set(MUST_SHOW) - kinds}"
    g = s.grading
    assert g.outcome_weight / (g.outcome_weight + g.rubric_weight) >= 0.6


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_the_expert_path_is_not_one_letter_pattern(path):
    """No option letter is chosen at every decision, so the letters alone never answer a scenario."""
    s = load_scenario(path)
    common = set.intersection(*(set(chosen) for chosen in s.expert_path))
    assert not common, f"the expert chooses {sorted(common)} at every decision"
    firsts = {min(chosen) for chosen in s.expert_path}
    assert len(firsts) >= 2


def test_the_best_option_sits_at_varied_letters_and_is_not_mostly_the_longest():
    best_letters: list[str] = []
    longest_is_expert = 0
    for path in LIBRARY:
        s = load_scenario(path)
        for d, chosen in zip(s.decisions, s.expert_path, strict=True):
            best_letters.append(max((d.option(o) for o in chosen), key=lambda o: o.points).id)
            longest = max(d.options, key=lambda o: len(o.label))
            longest_is_expert += longest.id in chosen
    total = len(best_letters)
    top = max(best_letters.count(letter) for letter in set(best_letters))
    assert top <= total / 2, f"the best option is {top} of {total} times at the same letter"
    # the length of a label must not give the answer away: at most 40% of decisions
    assert longest_is_expert <= 0.4 * total, (
        f"the longest label is the expert's in {longest_is_expert} of {total}"
    )


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_objective_an_option_tags_is_one_its_scenario_lists(path):
    """The scenario's objectives are what the library and the facilitator guide show: an option
    never exercises an objective the scenario does not claim to teach."""
    s = load_scenario(path)
    listed = set(s.objectives)
    unlisted = [(d.id, o.id, sorted(set(o.objectives) - listed)) for d in s.decisions for o in d.options
                if set(o.objectives) - listed]  # fmt: skip
    assert not unlisted, f"options tag objectives {s.slug} does not list: {unlisted}"


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_what_would_harm_told_to_a_community_partner_is_a_critical_error(path):
    """Investigative detail, identities or an operational plan given to a community partner fail the attempt."""
    s = load_scenario(path)
    types = {p.id: p.type for p in s.partners}
    expert = {(i, o) for i, chosen in enumerate(s.expert_path) for o in chosen}
    for i, d in enumerate(s.decisions):
        for o in d.options:
            for a in o.actions:
                share = a.args.get("share") if a.type == "contact_partner" else None
                told = {share} if isinstance(share, str) else set(share or [])
                if told & HARMFUL and types[a.args["partner"]] in COMMUNITY:
                    assert o.critical, (d.id, o.id)
            if o.critical:
                assert (i, o.id) not in expert, (d.id, o.id)
                assert len(o.feedback.split()) >= 25, f"{d.id}{o.id}: say why, and what to do instead"


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_scenario_has_a_facilitator_guide(path):
    """Goals, a discussion prompt at every decision, debrief prompts and the model's assumptions."""
    s = load_scenario(path)
    f = s.facilitator
    assert 2 <= len(f.goals) <= 5
    assert set(f.prompts) == {d.id for d in s.decisions}, "a prompt for every decision point"
    assert f.debrief_prompts and f.assumptions
    texts = [*f.goals, *f.debrief_prompts, *f.assumptions, *(q for qs in f.prompts.values() for q in qs)]
    # options are shown shuffled: a prompt never points at an option by its letter
    letters = re.compile(r"\boptions? \(?[a-e]\b|\b[1-6][a-e](\+[a-e])*\b", re.IGNORECASE)
    assert not [q for q in texts if letters.search(q)]


def test_scenarios_teach_different_objectives():
    objectives = {p.stem: frozenset(load_scenario(p).objectives) for p in LIBRARY}
    assert len(set(objectives.values())) == len(objectives)
    assert set().union(*objectives.values()) >= {1, 2, 3, 4, 5, 6, 7}


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_an_option_that_fails_the_attempt_earns_no_points(path):
    """A critical option (a breach of what may not be shared, a false public claim) never
    outscores a safe one in the rubric the debrief shows."""
    s = load_scenario(path)
    scored = [(d.id, o.id, o.points) for d in s.decisions for o in d.options if o.critical and o.points]
    assert not scored, f"critical options with points: {scored}"


def test_every_partner_type_is_a_choice_somewhere():
    """Each catalogue partner type acts through an option in at least one library scenario."""
    acting: set[str] = set()
    for path in LIBRARY:
        s = load_scenario(path)
        types = {p.id: p.type for p in s.partners}
        for d in s.decisions:
            for o in d.options:
                for a in o.actions:
                    for key in ("partner", "partners"):
                        value = a.args.get(key)
                        for pid in [value] if isinstance(value, str) else value or []:
                            acting.add(types[pid])
    assert acting == set(PARTNER_TYPES), f"never a choice: {set(PARTNER_TYPES) - acting}"


@cache
def _calibrate(slug: str) -> dict:
    s = load_scenario(next(p for p in LIBRARY if p.stem == slug))
    refs = references(s)
    paths = {"expert": ("expert", s.expert_path), "baseline": ("baseline", s.baseline_path)}
    paths.update(s.contrast_paths)
    rows = {}
    for name, (kind, decisions) in paths.items():
        dist = monte_carlo(s, decisions, SEEDS, seed=SEED)
        grades = grade_each_run(s, decisions, dist, refs)
        rows[name] = {
            "kind": kind,
            "outcome": [g.outcome_score for g in grades],
            "score": float(np.mean([g.score for g in grades])),
            "pass_rate": float(np.mean([g.passed for g in grades])),
            "outcome_pass_rate": float(np.mean([g.outcome_passed for g in grades])),
            "critical": bool(critical_errors(s, decisions)),
            "means": {m: dist.metrics[m].mean for m in s.grading.outcomes},
            "positions": {
                m: (refs.baseline[m] - dist.metrics[m].mean) / (refs.baseline[m] - refs.expert[m])
                if refs.baseline[m] != refs.expert[m] else 0.0
                for m in s.grading.outcomes
            },
        }  # fmt: skip
    print(f"\n{slug} (pass mark {s.grading.pass_mark:g}, {SEEDS} seeds per path)")
    for name, row in rows.items():
        print(
            f"  {row['kind']:16s} {name:50s} outcome {np.mean(row['outcome']):5.1f} score {row['score']:5.1f} "
            f"pass {row['pass_rate']:.2f} outcome-pass {row['outcome_pass_rate']:.2f}"
            + (" CRITICAL" if row["critical"] else "")
        )
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("slug", FOUND)
def test_library_scenario_is_calibrated_by_the_simulation(slug):
    rows = _calibrate(slug)
    expert, baseline = rows["expert"], rows["baseline"]
    assert expert["outcome_pass_rate"] >= 0.95, "the expert path must pass on the outcome alone"
    assert baseline["outcome_pass_rate"] <= 0.05, "no partnership must fail on the outcome alone"
    ex = np.asarray(expert["outcome"])
    for name, row in rows.items():
        kind = row["kind"]
        if kind in ("late", "wrong_messenger", "oversharing", "false_statement"):
            drop = float(np.mean(ex - np.asarray(row["outcome"])))  # paired: same seed family
            if kind in ("oversharing", "false_statement") and row["critical"]:
                assert row["pass_rate"] == 0.0, name
                continue
            assert drop >= DROP, f"{kind} path {name!r} costs only {drop:.1f} points of outcome"
    alternatives = [row for row in rows.values() if row["kind"] == "alternative"]
    assert alternatives
    for alt in alternatives:
        assert alt["pass_rate"] >= 0.9 and alt["outcome_pass_rate"] >= 0.9, "an alternative must pass"
        better = [m for m in alt["positions"] if alt["positions"][m] - expert["positions"][m] >= CROSS]
        worse = [m for m in alt["positions"] if expert["positions"][m] - alt["positions"][m] >= CROSS]
        assert better and worse, "the alternative must differ in kind: better on one metric, worse on another"


@pytest.mark.slow
@pytest.mark.parametrize("slug", FOUND)
def test_library_calibration_is_kept(slug):
    """The calibration numbers stay what they were recorded as (the run is deterministic)."""
    rows = _calibrate(slug)
    figures = {
        name: {
            "outcome": round(float(np.mean(r["outcome"])), 2),
            "outcome_pass_rate": round(r["outcome_pass_rate"], 3),
            "pass_rate": round(r["pass_rate"], 3),
            "means": {m: round(v, 4) for m, v in r["means"].items()},
        }
        for name, r in rows.items()
    }
    file = CALIBRATION / f"{slug}.json"
    if os.environ.get("RIPPLE_RECORD_CALIBRATION"):
        file.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    kept = json.loads(file.read_text())
    assert set(kept) == set(figures)
    for name, row in figures.items():
        assert row["outcome"] == pytest.approx(kept[name]["outcome"], abs=0.5), name
        assert row["outcome_pass_rate"] == pytest.approx(kept[name]["outcome_pass_rate"], abs=0.02), name
        for m, v in row["means"].items():
            assert v == pytest.approx(kept[name]["means"][m], rel=0.02, abs=1e-3), (name, m)


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_focused_enforcement_without_an_analyst_says_it_runs_at_half_strength(path):
    # the model runs it at half strength and twice the trust cost without the analyst's map
    s = load_scenario(path)
    if any(p.type == "crime_analyst" for p in s.partners):
        return
    for d in s.decisions:
        for o in d.options:
            if any(a.type == "enforcement" and a.args["mode"] == "focused" for a in o.actions):
                words = o.feedback.lower()
                assert "no crime analyst" in words and "half strength" in words, (d.id, o.id)


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_a_mediation_or_keep_busy_names_only_groups_the_partner_reaches(path):
    # a mediation or a mentor's activities work through the partner's credibility with each
    # group: one named for a group the partner does not reach does nothing, whatever its
    # feedback says it does
    s = load_scenario(path)
    partners = {p.id: p for p in s.partners}
    for d in s.decisions:
        for o in d.options:
            for a in o.actions:
                if a.type in ("mediation", "keep_busy"):
                    p = partners[a.args["partner"]]
                    unreached = [g for g in a.args["groups"] if p.credibility.get(g, 0.0) <= 0.0]
                    assert not unreached, (d.id, o.id, p.id, unreached)
