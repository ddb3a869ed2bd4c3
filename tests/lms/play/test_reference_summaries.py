"""The debrief's reference bands (expert path, no partnership) are simulated once per scenario
version, by the first grading, and kept on the version: web processes then only read them."""

from __future__ import annotations

import pytest

from lms.extensions import db as database
from lms.models import ScenarioVersion
from lms.services import attempts, debrief
from lms.services.scenario_library import scenario_of


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
    assert len(kept) == 2
    # They are what the simulation gives ...
    debrief._reference.cache_clear()
    runs = debrief._reference_runs()
    assert kept == {
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
