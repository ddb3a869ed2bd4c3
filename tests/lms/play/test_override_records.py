"""An overridden grade carries through the officer's records: item page, course completion,
hours, certificate and the public verification page always agree with the current grade."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.extensions import db as _db
from lms.models import AuditEvent, Certificate, Completion, ItemCompletion, OutboxMessage
from lms.services import attempts, learning
from lms.services.scenario_library import scenario_of, sync_library
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

ITEM = "practice-scenario"


@pytest.fixture
def course_assignment(db, officer):
    sync_library()
    data = course_data(slug="override-course")
    data["modules"][1]["items"][1].update(required=True, scenario="store-dispute")
    return enrol(officer, publish(data))


def _play(officer, assignment, path):
    attempt = attempts.start_for_item(officer, assignment.id, ITEM)
    for index, choice in enumerate(path(scenario_of(attempt.scenario_version))):
        attempts.decide(officer, attempt, index, choice)
    _db.session.commit()
    return attempt


@pytest.fixture
def passed_attempt(db, officer, course_assignment):
    """The officer completed the course by passing the scenario: a valid certificate."""
    pass_course(officer, course_assignment)
    attempt = _play(officer, course_assignment, lambda s: s.expert_path)
    assert attempt.grade.passed and learning.completion_of(course_assignment) is not None
    return attempt


def _pass_mark(attempt) -> float:
    return attempt.grade.breakdown["pass_mark"]


def _certificate(assignment) -> Certificate:
    return _db.session.scalar(select(Certificate).where(Certificate.user_id == assignment.user_id))


def _fail(
    instructor, attempt, certificate="revoke", reason="Checked the recording: the call was never made."
):
    grade = attempts.override_grade(
        instructor,
        attempt,
        score=_pass_mark(attempt) - 5,
        reason="Re-marked after review",
        certificate=certificate,
        certificate_reason=reason,
    )
    _db.session.commit()
    return grade


def _item_page(client, sign_in, officer, assignment) -> str:
    sign_in(officer)
    return client.get(f"/learn/assignments/{assignment.id}/items/{ITEM}").get_data(as_text=True)


def test_a_pass_lowered_below_the_pass_mark_reads_not_passed_on_the_item_page(
    db, client, sign_in, officer, instructor, course_assignment, passed_attempt
):
    _fail(instructor, passed_attempt)
    page = _item_page(client, sign_in, officer, course_assignment)
    score = _pass_mark(passed_attempt) - 5
    assert f"Score {score:g} · Not passed" in page
    assert '<p class="tag tag-ok">Passed</p>' not in page


def test_a_pass_turned_fail_withdraws_the_course_completion_and_reopens_the_assignment(
    db, instructor, course_assignment, passed_attempt
):
    _fail(instructor, passed_attempt)
    assert learning.completion_of(course_assignment) is None
    assert course_assignment.status == "assigned" and course_assignment.completed_at is None
    kept = db.session.scalar(select(Completion).execution_options(include_withdrawn=True))
    assert kept.withdrawn_at is not None and kept.withdrawn_reason == "Re-marked after review"


def test_a_withdrawn_completion_counts_no_hours(db, instructor, course_assignment, passed_attempt):
    _fail(instructor, passed_attempt)
    assert db.session.scalar(select(func.sum(Completion.credit_hours))) is None


def test_revoking_on_override_shows_revoked_with_the_reason_on_the_verify_page(
    db, client, instructor, course_assignment, passed_attempt
):
    code = _certificate(course_assignment).code
    _fail(instructor, passed_attempt)
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Revoked certificate" in page and "Checked the recording: the call was never made." in page


def test_keeping_the_certificate_leaves_it_valid_and_records_the_reason(
    db, client, instructor, course_assignment, passed_attempt
):
    code = _certificate(course_assignment).code
    _fail(instructor, passed_attempt, certificate="keep", reason="Certified on the practical test as well.")
    assert "Valid certificate" in client.get(f"/verify/{code}").get_data(as_text=True)
    kept = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.kept"))
    assert kept.after == {"kept_reason": "Certified on the practical test as well."}


@pytest.mark.parametrize("choice", [None, "tear it up"])
def test_a_pass_turned_fail_needs_a_decision_about_the_certificate(
    db, instructor, course_assignment, passed_attempt, choice
):
    with pytest.raises(attempts.PlayError, match="revoked or kept"):
        _fail(instructor, passed_attempt, certificate=choice)


def test_the_officer_is_told_of_the_change(
    db, client, sign_in, officer, instructor, course_assignment, passed_attempt
):
    _fail(instructor, passed_attempt)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "grade_changed"))
    assert message.user_id == officer.id
    assert "is withdrawn" in message.body and "revoked" in message.body
    sign_in(officer)
    assert "Your grade was changed" in client.get("/messages").get_data(as_text=True)


def test_a_fail_turned_pass_completes_the_course_and_issues_a_certificate(
    db, officer, instructor, course_assignment
):
    pass_course(officer, course_assignment)
    attempt = _play(officer, course_assignment, lambda s: s.baseline_path)
    assert not attempt.grade.passed and learning.completion_of(course_assignment) is None
    attempts.override_grade(instructor, attempt, score=95, reason="Credit for the call made by radio")
    db.session.commit()
    completion = learning.completion_of(course_assignment)
    assert completion is not None and course_assignment.status == "completed"
    assert db.session.scalar(
        select(Certificate).where(
            Certificate.completion_id == completion.id, Certificate.revoked_at.is_(None)
        )
    )


def test_pass_fail_pass_gives_one_completion_and_a_new_certificate(
    db, instructor, course_assignment, passed_attempt
):
    first = _certificate(course_assignment)
    _fail(instructor, passed_attempt)
    attempts.override_grade(instructor, passed_attempt, score=95, reason="Appeal upheld")
    db.session.commit()
    assert db.session.scalar(select(func.count(Completion.id)).execution_options(include_withdrawn=True)) == 1
    standing = db.session.scalars(select(Certificate).where(Certificate.revoked_at.is_(None))).all()
    assert len(standing) == 1 and standing[0].code != first.code


def test_the_flipped_grade_and_the_withdrawn_course_go_to_the_learning_platforms(
    db, monkeypatch, instructor, course_assignment, passed_attempt
):
    from lms.services import outcomes

    sent = []
    monkeypatch.setattr(
        outcomes, "attempt_graded", lambda attempt, grade: sent.append(("graded", grade.passed))
    )
    monkeypatch.setattr(
        outcomes, "course_withdrawn", lambda completion: sent.append(("withdrawn", completion.id))
    )
    _fail(instructor, passed_attempt)
    withdrawn = db.session.scalar(select(Completion.id).execution_options(include_withdrawn=True))
    assert sent == [("graded", False), ("withdrawn", withdrawn)]


# --- another attempt of the item still passes -------------------------------------------


@pytest.fixture
def passed_twice(db, officer, course_assignment, passed_attempt):
    """The officer passed the scenario a second time after completing the course."""
    second = _play(officer, course_assignment, lambda s: s.expert_path)
    assert second.grade.passed
    return passed_attempt, second


def _item_pass(assignment) -> ItemCompletion | None:
    return _db.session.scalar(
        select(ItemCompletion).where(
            ItemCompletion.assignment_id == assignment.id, ItemCompletion.item_slug == ITEM
        )
    )


def test_lowering_the_first_of_two_passes_moves_the_item_pass_to_the_second(
    db, instructor, course_assignment, passed_twice
):
    first, second = passed_twice
    _fail(instructor, first, certificate=None)
    row = _item_pass(course_assignment)
    assert row.evidence == {"attempt": second.id, "grade": second.grade.id}
    assert row.score == second.grade.score


def test_lowering_the_first_of_two_passes_keeps_the_course_complete(
    db, instructor, course_assignment, passed_twice
):
    first, second = passed_twice
    _fail(instructor, first, certificate=None)
    completion = learning.completion_of(course_assignment)
    assert completion is not None and course_assignment.status == "completed"
    [rests_on] = [entry for entry in completion.evidence["items"] if entry["item"] == ITEM]
    assert rests_on["attempt"] == second.id and rests_on["grade"] == second.grade.id


def test_lowering_the_first_of_two_passes_leaves_the_certificate_valid(
    db, client, instructor, course_assignment, passed_twice
):
    code = _certificate(course_assignment).code
    _fail(instructor, passed_twice[0], certificate=None)
    assert _certificate(course_assignment).revoked_at is None
    assert "Valid certificate" in client.get(f"/verify/{code}").get_data(as_text=True)


def test_the_officer_is_told_the_other_attempt_still_counts(db, instructor, course_assignment, passed_twice):
    first, second = passed_twice
    _fail(instructor, first, certificate=None)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "grade_changed"))
    assert (
        f"still counts as passed in “Test Partnership Course”: your attempt {second.number}" in message.body
    )
    assert "withdrawn" not in message.body


def test_a_second_pass_that_was_itself_lowered_does_not_keep_the_item_passed(
    db, instructor, course_assignment, passed_twice
):
    first, second = passed_twice
    _fail(instructor, second, certificate=None)
    _fail(instructor, first)
    assert _item_pass(course_assignment) is None
    assert learning.completion_of(course_assignment) is None


# --- through the instructor's pages ------------------------------------------------------


def _grade_url(attempt) -> str:
    return f"/play/attempts/{attempt.id}/grade"


def _form(attempt, **extra) -> dict:
    return {"score": f"{_pass_mark(attempt) - 5:g}", "reason": "Re-marked after review", **extra}


def test_the_override_panel_comes_before_the_decisions(client, sign_in, instructor, passed_attempt):
    sign_in(instructor)
    page = client.get(f"/play/attempts/{passed_attempt.id}/debrief").get_data(as_text=True)
    assert page.index('id="override"') < page.index('id="feedback"')


def test_reviewing_a_change_says_what_it_changes_and_records_nothing(
    db, client, sign_in, instructor, course_assignment, passed_attempt
):
    code = _certificate(course_assignment).code
    sign_in(instructor)
    page = client.post(_grade_url(passed_attempt), data=_form(passed_attempt)).get_data(as_text=True)
    before = f"{passed_attempt.grade.score:g}"
    assert f"Score: {before} → <strong>{_pass_mark(passed_attempt) - 5:g}</strong>" in page
    assert "Passed → <strong>Not passed</strong>" in page
    assert "The course “Test Partnership Course” is no longer complete" in page
    assert f"Certificate <code>{code}</code> would be revoked or kept" in page
    assert len(passed_attempt.grades) == 1 and learning.completion_of(course_assignment) is not None


def test_confirming_without_a_certificate_decision_asks_for_one(
    db, client, sign_in, instructor, course_assignment, passed_attempt
):
    sign_in(instructor)
    response = client.post(_grade_url(passed_attempt), data=_form(passed_attempt, confirm="Confirm"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is revoked or kept" in page and "Review the change" in page
    assert len(passed_attempt.grades) == 1


def test_confirming_a_fail_with_revoke_carries_through_item_page_course_and_verify_page(
    db, client, sign_in, officer, instructor, course_assignment, passed_attempt
):
    code = _certificate(course_assignment).code
    sign_in(instructor)
    response = client.post(
        _grade_url(passed_attempt),
        data=_form(
            passed_attempt,
            confirm="Confirm",
            reviewed_grade=str(passed_attempt.grade.id),
            certificate="revoke",
            certificate_reason="The scenario it rested on was re-marked as not passed.",
        ),
    )
    assert response.status_code == 302
    assert learning.completion_of(course_assignment) is None
    verify = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Revoked certificate" in verify and "re-marked as not passed" in verify
    course = _item_page(client, sign_in, officer, course_assignment)
    assert f"Score {_pass_mark(passed_attempt) - 5:g} · Not passed" in course


def test_confirming_after_the_grade_changed_elsewhere_records_nothing(
    db, client, sign_in, instructor, course_assignment, passed_attempt
):
    sign_in(instructor)
    stale = _form(
        passed_attempt,
        confirm="Confirm",
        reviewed_grade="999999",
        certificate="keep",
        certificate_reason="x y",
    )
    response = client.post(_grade_url(passed_attempt), data=stale)
    assert response.status_code == 400 and "review the change again" in response.get_data(as_text=True)
    assert len(passed_attempt.grades) == 1


def test_reviewing_a_change_another_attempt_still_passes_says_the_course_stays_complete(
    db, client, sign_in, instructor, course_assignment, passed_twice
):
    first, second = passed_twice
    sign_in(instructor)
    page = client.post(_grade_url(first), data=_form(first)).get_data(as_text=True)
    assert "another attempt still passes: the course stays complete" in page
    assert f"rests on attempt {second.number}" in page
    assert "is no longer complete" not in page and "would be revoked or kept" not in page
