"""Calibration and the author preview under the outcome-led grade: each row's outcome-only
pass probability and critical mark, the new flags, the references worked out once for the
sweep, and the preview's outcome-only pass and critical errors."""

from __future__ import annotations

import pytest
from markupsafe import escape

import scenarios as engine
from lms.extensions import db as database
from lms.services import calibration, debrief, scenario_authoring
from tests.lms import tiny_scenarios


@pytest.fixture
def tiny_draft(db, instructor):
    record = scenario_authoring.create_blank(instructor, slug="tiny-critical", title="Tiny")
    scenario_authoring.save_text(instructor, record, tiny_scenarios.TINY)
    database.session.commit()
    return record


def rows_by_path(results):
    return {row["path"]: row for row in results["paths"]}


def test_rows_have_the_outcome_only_pass_probability_and_a_critical_mark(db):
    scenario = engine.load_scenario(tiny_scenarios.TINY)
    results = calibration.run(scenario, runs=8, sample=10)
    rows = rows_by_path(results)
    assert results["reference_runs"] == 12  # TestConfig.SCENARIO_REFERENCE_RUNS
    assert rows["1a"]["outcome_pass_probability"] == 1.0 and rows["1a"]["critical"] == []
    assert rows["1b"]["outcome_pass_probability"] == 0.0
    # The critical path does what the expert's does, and neither it nor its outcome passes.
    assert rows["1c"]["critical"] == ["1c"] and rows["1c"]["outcome"] == rows["1a"]["outcome"]
    assert rows["1c"]["pass_probability"] == rows["1c"]["outcome_pass_probability"] == 0.0
    kinds = [flag["kind"] for flag in results["flags"]]
    assert kinds == ["metric_not_separated"]  # case damage: both references leave it at 0
    assert results["unseparated"] == ["case_damage"]


def test_an_outcome_under_60_percent_of_the_grade_is_flagged(db):
    text = tiny_scenarios.TINY.replace(
        "  pass_mark: 70\n", "  pass_mark: 70\n  rubric_weight: 0.5\n  outcome_weight: 0.5\n"
    )
    results = calibration.run(engine.load_scenario(text), runs=4, sample=10)
    (flag,) = [flag for flag in results["flags"] if flag["kind"] == "outcome_weight_low"]
    assert "only 50% of the grade" in flag["message"]


def test_flags_name_the_outcome_problems():
    rows = [
        {"path": "1a,2a", "decisions": [["a"], ["a"]], "name": "expert", "score": 80.0, "rubric": 100,
         "outcome": 66.7, "passes": True, "pass_probability": 0.9, "outcome_pass_probability": 0.55,
         "partnership": True, "critical": []},
        {"path": "1b,2b", "decisions": [["b"], ["b"]], "name": "baseline", "score": 50.0, "rubric": 10,
         "outcome": 72.0, "passes": False, "pass_probability": 0.1, "outcome_pass_probability": 0.3,
         "partnership": False, "critical": []},
    ]  # fmt: skip
    found = calibration.flags(rows, 70, outcome_share=0.6, unseparated=[])
    assert [flag["kind"] for flag in found] == ["expert_outcome_unreliable", "baseline_outcome_passes"]
    assert "only 55% of runs" in found[0]["message"] and "outcome score 72" in found[1]["message"]
    # A baseline whose outcome falls short, in most runs too, is not flagged.
    rows[1].update(outcome=40.0, outcome_pass_probability=0.2)
    assert [flag["kind"] for flag in calibration.flags(rows, 70)] == ["expert_outcome_unreliable"]


def test_the_sweep_works_out_the_references_once_and_the_page_shows_the_new_columns(
    client, sign_in, instructor, tiny_draft
):
    sign_in(instructor)
    assert client.post(f"/author/scenarios/{tiny_draft.id}/calibrate").status_code == 302
    draft = scenario_authoring.draft_of(tiny_draft)
    database.session.refresh(draft)
    scenario = engine.load_scenario(draft.source_text)
    kept = draft.reference_summaries[debrief._grading_key(12)]
    assert kept["fingerprint"] == draft.fingerprint
    run = database.session.scalar(database.select(calibration.CalibrationRun))
    assert run.status == "done" and run.results["reference_runs"] == 12
    expert = rows_by_path(run.results)["1a"]
    direct = engine.grade(
        scenario,
        [["a"]],
        engine.monte_carlo(scenario, [["a"]], run.runs, run.seed),
        engine.References.from_dict(kept),
    )
    assert expert["outcome"] == round(direct.outcome_score, 1)
    page = client.get(f"/author/scenarios/{tiny_draft.id}/calibration").get_data(as_text=True)
    assert '<th scope="col">Pass probability, outcome alone</th><th scope="col">Critical error</th>' in page
    assert "<strong>critical</strong> (1c): fails whatever its score" in page
    assert "the references cannot say what a poor result is" in page  # the flag for case damage


def test_the_preview_shows_the_outcome_only_pass_and_critical_errors(client, sign_in, instructor, tiny_draft):
    sign_in(instructor)
    url = f"/author/scenarios/{tiny_draft.id}/preview?seed=5&path="
    critical = client.get(url + "1c").get_data(as_text=True)
    assert "Would not pass" in critical
    assert "Critical error: this path fails whatever its score" in critical
    assert (
        f"Decision 1: “{escape(tiny_scenarios.CRITICAL_LABEL)}”.</strong> {escape(tiny_scenarios.CRITICAL_REASON)}"
        in critical
    )
    assert "The outcome alone would not pass: a critical error fails it too." in critical
    expert = client.get(url + "1a").get_data(as_text=True)
    assert "Would pass" in expert and "Critical error" not in expert
    assert "The outcome alone would pass" in expert
    assert "against 12 reference runs each of the expert and no-partnership paths" in expert


def test_a_calibration_row_grades_each_run_once(db, monkeypatch):
    from scenarios import grading as engine_grading

    scenario = engine.load_scenario(tiny_scenarios.TINY)
    refs = engine.references(scenario, 12)
    calls = []
    real = engine_grading.grade
    monkeypatch.setattr(engine_grading, "grade", lambda *a, **k: calls.append(1) or real(*a, **k))
    row = calibration._row(scenario, scenario.expert_path, {}, 8, 1, refs)
    assert len(calls) == 8  # one grade per run gives both pass probabilities
    assert 0 <= row["outcome_pass_probability"] <= 1 and 0 <= row["pass_probability"] <= 1
