"""An officer takes a course in a real browser: opens it, reads a lesson, passes a check."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.lms.learning_fixtures import enrol, publish


def test_officer_reads_a_lesson_passes_a_check_and_sees_progress(page, sign_in_as, officer, db):
    enrol(officer, publish())
    sign_in_as(officer)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My training").click()
    page.get_by_role("link", name="Test Partnership Course", exact=True).click()
    expect(page.get_by_text("0 of 3 required items done.")).to_be_visible()
    page.get_by_role("link", name="Start: Intro lesson").click()

    expect(page.get_by_role("heading", name="Why partners matter")).to_be_visible()
    page.get_by_role("button", name="Mark as read and continue").click()

    expect(page.get_by_role("heading", name="Knowledge check: basics")).to_be_visible()
    page.get_by_label("Now", exact=True).check()
    page.get_by_label("Warning", exact=True).check()
    page.get_by_label("Visibility", exact=True).check()
    page.get_by_label("False", exact=True).check()
    for position, text in enumerate(["Safety", "Facts", "Partners", "Message"], start=1):
        page.get_by_label(text, exact=True).select_option(str(position))
    page.get_by_role("button", name="Submit answers").click()

    expect(page.get_by_text("You passed with 100%.")).to_be_visible()
    expect(page.get_by_role("heading", name="Attempt 1: 100% — passed")).to_be_visible()
    page.get_by_role("link", name="Course overview").click()
    expect(page.get_by_text("2 of 3 required items done.")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Course progress")).to_have_attribute("value", "66")


def test_a_missing_answer_is_named_and_the_others_are_kept(page, sign_in_as, officer, db):
    from lms.services import learning

    assignment = enrol(officer, publish())
    learning.mark_lesson_read(officer, assignment, "intro")
    db.session.commit()
    sign_in_as(officer)
    page.goto(f"/learn/assignments/{assignment.id}/items/basics-check")
    page.get_by_label("Now", exact=True).check()
    # questions are shown in the attempt's shuffled order, and named by the number shown
    answered = page.locator("fieldset.question", has=page.get_by_label("Now", exact=True)).locator("legend")
    number = answered.inner_text().strip()
    page.get_by_role("button", name="Submit answers").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("choose an answer.")  # the other choice questions are named
    assert f"{number}:" not in alert.inner_text()  # the answered one is not
    expect(page.get_by_label("Now", exact=True)).to_be_checked()
