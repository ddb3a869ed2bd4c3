"""The instructor's override panel: near the top of the debrief, two steps (review, then
confirm), and the certificate decision asked before anything is recorded."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from lms.services.scenario_library import scenario_of
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish


def test_an_instructor_reviews_then_confirms_a_fail_and_revokes_the_certificate(
    page, sign_in_as, officer, instructor, library, db, axe_violations
):
    from lms.models import Certificate
    from lms.services import attempts, learning

    data = course_data(slug="override-panel")
    data["modules"][1]["items"][1].update(required=True, scenario="store-dispute")
    assignment = enrol(officer, publish(data))
    pass_course(officer, assignment)
    attempt = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    for index, choice in enumerate(scenario_of(attempt.scenario_version).expert_path):
        attempts.decide(officer, attempt, index, choice)
    db.session.commit()
    code = db.session.scalar(select(Certificate.code))
    low = attempt.grade.breakdown["pass_mark"] - 5

    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(instructor)
    page.goto(f"/play/attempts/{attempt.id}/debrief")
    panel = page.locator("#override")
    assert panel.evaluate("e => e.getBoundingClientRect().top") < 2 * 844  # not 9,000 px down
    panel.locator("summary").click()
    page.get_by_label("New score (0–100)").fill(f"{low:g}")
    page.get_by_label("Reason for the change").fill("Re-marked after review")
    page.get_by_role("button", name="Review change").click()

    review = page.locator(".override-review")
    expect(review).to_contain_text("Passed → Not passed")
    expect(review).to_contain_text("is no longer complete")
    expect(review).to_contain_text(code)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations() == []
    assert len(attempt.grades) == 1  # nothing recorded by the review

    page.get_by_label("Revoke it").check()
    page.get_by_label("Reason for the certificate decision").fill("The scenario was re-marked as not passed.")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("The new grade is recorded")
    db.session.expire_all()
    assert learning.completion_of(assignment) is None
    page.goto(f"/verify/{code}")
    expect(page.locator(".verify-status")).to_contain_text("Revoked")
    expect(page.locator(".verify")).to_contain_text("re-marked as not passed")
