"""The attempt service: seeds, one-time decisions, grading and overrides, without HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import AttemptDecision, AttemptGrade, AuditEvent
from lms.services import attempts
from lms.services.scenario_library import scenario_of, sync_library


def play_path(user, attempt, path):
    for index, choice in enumerate(path):
        attempts.decide(user, attempt, index, choice)


def test_library_sync_is_idempotent(db, library):
    again = sync_library()
    assert sorted(v.id for v in again) == sorted(v.id for v in library.values())
    assert {"crew-shooting-rumour", "store-dispute", "use-of-force-video", "officer-transfer"} <= set(library)


def test_seed_is_fixed_when_the_attempt_starts(direct_attempt):
    assert direct_attempt.seed > 0
    first = attempts.state(direct_attempt).run.observation
    assert attempts.state(direct_attempt).run.observation == first


def test_each_attempt_gets_its_own_seed(db, instructor, store_dispute):
    seeds = {attempts.start_direct(instructor, store_dispute).seed for _ in range(3)}
    assert len(seeds) == 3


def test_a_decision_moves_the_attempt_to_the_next_point(db, instructor, direct_attempt):
    scenario = scenario_of(direct_attempt.scenario_version)
    assert attempts.decide(instructor, direct_attempt, 0, scenario.expert_path[0]) is False
    result = attempts.state(direct_attempt)
    assert result.index == 1
    assert result.run.observation.time == scenario.decisions[1].at_hours


def test_a_decision_cannot_be_made_twice(db, instructor, direct_attempt):
    scenario = scenario_of(direct_attempt.scenario_version)
    attempts.decide(instructor, direct_attempt, 0, scenario.expert_path[0])
    other = [o.id for o in scenario.decisions[0].options if [o.id] != scenario.expert_path[0]][:1]
    with pytest.raises(attempts.StaleDecision):
        attempts.decide(instructor, direct_attempt, 0, other)
    assert direct_attempt.choices[0] == scenario.expert_path[0]


def test_a_decision_cannot_skip_ahead(db, instructor, direct_attempt):
    scenario = scenario_of(direct_attempt.scenario_version)
    with pytest.raises(attempts.StaleDecision):
        attempts.decide(instructor, direct_attempt, 1, scenario.expert_path[1])
    assert db.session.scalar(select(func.count()).select_from(AttemptDecision)) == 0


@pytest.mark.parametrize(
    "choice", [[], ["zz"], ["a", "b", "c", "d", "e"]], ids=["none", "unknown", "too-many"]
)
def test_bad_choices_are_refused_and_record_nothing(db, instructor, direct_attempt, choice):
    with pytest.raises(attempts.PlayError):
        attempts.decide(instructor, direct_attempt, 0, choice)
    assert db.session.scalar(select(func.count()).select_from(AttemptDecision)) == 0


def test_only_the_player_decides(db, officer, direct_attempt):
    scenario = scenario_of(direct_attempt.scenario_version)
    with pytest.raises(attempts.PlayError):
        attempts.decide(officer, direct_attempt, 0, scenario.expert_path[0])


def test_the_last_decision_grades_with_a_full_breakdown(db, instructor, direct_attempt):
    scenario = scenario_of(direct_attempt.scenario_version)
    play_path(instructor, direct_attempt, scenario.expert_path)
    grade = direct_attempt.grade
    assert direct_attempt.status == "completed"
    assert grade.kind == "auto"
    assert grade.passed
    assert grade.breakdown["runs"] == 24  # TestConfig.SCENARIO_GRADING_RUNS
    assert {m["metric"] for m in grade.breakdown["metrics"]} == set(scenario.grading.outcomes)
    assert len(grade.breakdown["choices"]) >= len(scenario.decisions)


def test_grading_is_reproducible_from_the_attempt(db, instructor, store_dispute):
    import scenarios as engine

    attempt = attempts.start_direct(instructor, store_dispute)
    scenario = scenario_of(store_dispute)
    play_path(instructor, attempt, scenario.baseline_path)
    # The attempt's runs, scored against the engine's references with the test config's runs.
    again = engine.grade(
        scenario,
        attempt.choices,
        engine.monte_carlo(scenario, attempt.choices, 24, attempt.seed),
        engine.references(scenario, 12),  # TestConfig.SCENARIO_REFERENCE_RUNS
    )
    assert attempt.grade.score == pytest.approx(round(again.score, 2))
    assert not attempt.grade.passed


def test_a_finished_attempt_takes_no_more_decisions(db, instructor, direct_attempt):
    scenario = scenario_of(direct_attempt.scenario_version)
    play_path(instructor, direct_attempt, scenario.expert_path)
    with pytest.raises(attempts.StaleDecision):
        attempts.decide(instructor, direct_attempt, 0, scenario.expert_path[0])


@pytest.fixture
def finished_attempt(db, officer, store_dispute):
    attempt = attempts.start_direct(officer, store_dispute)
    play_path(officer, attempt, scenario_of(store_dispute).baseline_path)
    db.session.commit()
    return attempt


def test_override_keeps_the_original_and_audits_the_change(db, instructor, finished_attempt):
    original = finished_attempt.grade
    attempts.override_grade(
        instructor, finished_attempt, score=85, reason="Mediation was arranged off-script"
    )
    db.session.commit()
    grades = db.session.scalars(
        select(AttemptGrade).where(AttemptGrade.attempt_id == finished_attempt.id)
    ).all()
    assert [g.kind for g in grades] == ["auto", "override"]
    assert grades[0].score == original.score
    assert finished_attempt.grade.score == 85 and finished_attempt.grade.passed
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "attempt.grade_overridden")
    ).one()
    assert event.before["score"] == original.score and event.after["score"] == 85
    assert event.summary == "Mediation was arranged off-script"


@pytest.mark.parametrize("score,reason", [(85, ""), (85, "   "), (101, "fine"), (-1, "fine")])
def test_override_needs_a_reason_and_a_score_in_range(db, instructor, finished_attempt, score, reason):
    with pytest.raises(attempts.PlayError):
        attempts.override_grade(instructor, finished_attempt, score=score, reason=reason)
    assert len(finished_attempt.grades) == 1


def test_officers_cannot_override(db, make_user, agency, finished_attempt):
    with pytest.raises(attempts.PlayError):
        attempts.override_grade(make_user(agency), finished_attempt, score=90, reason="because")


def test_library_sync_keeps_an_admins_newer_version(db, admin, library):
    from lms.services.scenario_library import publish_text

    version = library["store-dispute"]
    edited = publish_text(
        admin, version.scenario, version.source_text.replace("pass_mark: 65", "pass_mark: 70", 1)
    )
    assert edited.id != version.id
    db.session.commit()
    again = {v.scenario.slug: v for v in sync_library()}
    assert again["store-dispute"].id == edited.id
