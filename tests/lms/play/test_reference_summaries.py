"""The debrief's reference bands (expert path, no partnership) and the grade's references are
simulated once per scenario version, by the first grading, and kept on the version: every later
grade of the version is scored against the same references, and web processes only read them."""

from __future__ import annotations

import pytest

import scenarios as engine
from lms.extensions import db as database
from lms.models import Attempt, ScenarioVersion
from lms.services import attempts, debrief
from lms.services.scenario_library import scenario_of
from scenarios import grading as engine_grading


def play_to_the_end(user, attempt):
    for index, choice in enumerate(scenario_of(attempt.scenario_version).expert_path):
        attempts.decide(user, attempt, index, choice)
    database.session.commit()


def stored(version_id: int) -> dict:
    database.session.expire_all()
    return database.session.get(ScenarioVersion, version_id).reference_summaries or {}


def test_the_first_grading_stores_them_and_debriefs_read_them(db, instructor, direct_attempt, monkeypatch):
    version_id = direct_attempt.scenario_version_id
    assert stored(version_id) == {}
    play_to_the_end(instructor, direct_attempt)
    kept = stored(version_id)
    scenario = scenario_of(direct_attempt.scenario_version)
    runs = debrief.reference_runs(scenario)
    assert runs == 12  # TestConfig.SCENARIO_REFERENCE_RUNS, not the scenario's 200
    # Two summaries (expert path, no partnership) and the grade's references.
    assert set(kept) == {
        debrief._reference_key(scenario, scenario.expert_path, runs),
        debrief._reference_key(scenario, scenario.baseline_path, runs),
        debrief._grading_key(runs),
    }
    # They are what the simulation gives ...
    debrief._reference.cache_clear()
    assert {key: kept[key] for key in kept if key != debrief._grading_key(runs)} == {
        debrief._reference_key(scenario, path, runs): debrief.reference_summary(scenario, path)
        for path in (scenario.expert_path, scenario.baseline_path)
    }

    # ... and a debrief in a fresh process (empty cache) no longer simulates them.
    def no_simulation(*args):
        raise AssertionError("the debrief simulated a reference run")

    debrief._reference.cache_clear()
    monkeypatch.setattr(debrief, "_reference", no_simulation)
    database.session.expire_all()
    built = debrief.build(database.session.get(type(direct_attempt), direct_attempt.id))
    assert built.metrics  # the comparison table is there


def test_the_grade_is_scored_against_the_references_kept_on_the_version(db, instructor, direct_attempt):
    play_to_the_end(instructor, direct_attempt)
    scenario = scenario_of(direct_attempt.scenario_version)
    kept = stored(direct_attempt.scenario_version_id)[debrief._grading_key(12)]
    assert kept["runs"] == 12 and kept["fingerprint"] == scenario.fingerprint
    # The engine's own references for those runs: the same seed and paths, so the same means.
    assert engine.References.from_dict(kept) == engine.references(scenario, 12)
    breakdown = database.session.get(Attempt, direct_attempt.id).grade.breakdown
    assert breakdown["reference_runs"] == 12
    for metric in breakdown["metrics"]:
        assert metric["expert"] == kept["expert"][metric["metric"]]
        assert metric["baseline"] == kept["baseline"][metric["metric"]]
    # The debrief's table shows the same reference means as the grade.
    built = debrief.build(database.session.get(Attempt, direct_attempt.id))
    rows = {row.name: row for row in built.metrics}
    for metric in breakdown["metrics"]:
        assert rows[metric["metric"]].expert == metric["expert"]


def test_later_gradings_of_the_version_simulate_only_the_attempt(
    db, instructor, store_dispute, direct_attempt, monkeypatch
):
    play_to_the_end(instructor, direct_attempt)
    first = database.session.get(Attempt, direct_attempt.id).grade.breakdown
    debrief._reference.cache_clear()
    engine_grading._CACHE.clear()
    calls = []
    real = engine.monte_carlo

    def counted(scenario, decisions, runs, seed, **kwargs):
        calls.append((engine.format_choose(scenario, decisions), runs))
        return real(scenario, decisions, runs, seed, **kwargs)

    monkeypatch.setattr(engine, "monte_carlo", counted)
    monkeypatch.setattr(engine.engine, "monte_carlo", counted)  # what engine.references would use
    second_attempt = attempts.start_direct(instructor, store_dispute)
    database.session.commit()
    play_to_the_end(instructor, second_attempt)
    scenario = scenario_of(store_dispute)
    assert calls == [(engine.format_choose(scenario, scenario.expert_path), 24)]  # the attempt's own runs
    second = database.session.get(Attempt, second_attempt.id).grade.breakdown
    assert [(m["expert"], m["baseline"]) for m in second["metrics"]] == [
        (m["expert"], m["baseline"]) for m in first["metrics"]
    ]


def test_references_kept_for_another_yaml_are_not_used(db, store_dispute):
    scenario = scenario_of(store_dispute)
    refs = debrief.store_grading_references(store_dispute, scenario)
    key = debrief._grading_key(refs.runs)
    fake = {**refs.to_dict(), "expert": {name: 999.0 for name in refs.expert}}
    store_dispute.reference_summaries = {key: {**fake, "fingerprint": scenario.fingerprint}}
    assert debrief.grading_references(scenario, store_dispute).expert["peak_reach"] == 999.0  # read back
    store_dispute.reference_summaries = {key: {**fake, "fingerprint": "another draft's"}}
    assert debrief.grading_references(scenario, store_dispute) == refs  # worked out again
    debrief.store_grading_references(store_dispute, scenario)
    assert store_dispute.reference_summaries[key]["fingerprint"] == scenario.fingerprint


def test_a_second_grading_of_the_version_changes_nothing(db, instructor, store_dispute, direct_attempt):
    play_to_the_end(instructor, direct_attempt)
    first = stored(store_dispute.id)
    second_attempt = attempts.start_direct(instructor, store_dispute)
    database.session.commit()
    play_to_the_end(instructor, second_attempt)
    assert stored(store_dispute.id) == first


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Held here: a test may replace debrief._reference, and the shared autouse monkeypatch
    # (tests/conftest.py) is undone only after this fixture's teardown.
    reference = debrief._reference
    reference.cache_clear()
    yield
    reference.cache_clear()
