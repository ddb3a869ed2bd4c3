"""The coordinator acts from the Today board in a real browser: extend, excuse, remind."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.lms.learning_fixtures import course_data, enrol, publish

TODAY = date.today()
NAMES = ("Ava Adams", "Ben Brooks", "Cy Chen", "Dee Diaz")


@pytest.fixture
def overdue_officers(db, agency, make_user):
    course = publish(course_data(slug="board-course", title="Board Course"))
    people = [make_user(agency, name=name, badge_number=f"90{n}") for n, name in enumerate(NAMES)]
    for n, person in enumerate(people):
        enrol(person, course, due_on=TODAY - timedelta(days=5 + n))
    return people


def test_coordinator_extends_excuses_and_reminds_from_the_board(
    page, sign_in_as, coordinator, agency, overdue_officers, axe_violations
):
    new_due = TODAY + timedelta(days=14)
    sign_in_as(coordinator)
    page.get_by_role("link", name="Open today's board").click()
    page.get_by_role("link", name="4 assignments past their due date").click()
    expect(page.get_by_role("heading", name="Overdue")).to_be_visible()
    expect(page.get_by_role("cell", name="900", exact=True)).to_be_visible()  # badge numbers
    assert axe_violations() == []

    page.get_by_label("Choose Ava Adams, Board Course").check()
    page.get_by_label("Choose Ben Brooks, Board Course").check()
    page.get_by_label("Action").select_option(label="Extend the due date")
    page.get_by_label("New due date").fill(new_due.isoformat())
    page.get_by_label("Reason (for an extension or an excuse)").fill("Court week")
    page.get_by_role("button", name="Apply to the chosen rows").click()
    expect(page.get_by_text("Due date of 2 assignments moved")).to_be_visible()
    expect(page.get_by_role("link", name="2 assignments past their due date")).to_be_visible()

    page.goto(f"/people/{overdue_officers[0].id}")
    expect(page.get_by_role("cell", name=f"{new_due:%b} {new_due.day}, {new_due.year}")).to_be_visible()

    page.goto(f"/agencies/{agency.id}/today?list=overdue")
    page.get_by_label("Choose Cy Chen, Board Course").check()
    page.get_by_label("Action").select_option(label="Excuse (waive)")
    page.get_by_label("Reason (for an extension or an excuse)").fill("On medical leave")
    page.get_by_role("button", name="Apply to the chosen rows").click()
    expect(page.get_by_text("1 assignment excused.")).to_be_visible()
    expect(page.get_by_role("link", name="1 assignment past its due date")).to_be_visible()

    page.get_by_label("Choose Dee Diaz, Board Course").check()
    page.get_by_label("Action").select_option(label="Remind now")
    page.get_by_role("button", name="Apply to the chosen rows").click()
    expect(page.get_by_text("1 reminder sent.")).to_be_visible()
    page.get_by_role("link", name="Reminders").click()
    row = page.get_by_role("row").filter(has_text="Reminder: Board Course")
    expect(row).to_contain_text("Dee Diaz")


def test_a_past_date_is_refused_on_the_board_and_changes_nothing(
    page, sign_in_as, coordinator, agency, overdue_officers
):
    sign_in_as(coordinator)
    page.goto(f"/agencies/{agency.id}/today?list=overdue")
    page.get_by_label("Choose Ava Adams, Board Course").check()
    page.get_by_label("Action").select_option(label="Extend the due date")
    page.get_by_label("New due date").fill((TODAY - timedelta(days=1)).isoformat())
    page.get_by_label("Reason (for an extension or an excuse)").fill("Oops")
    page.get_by_role("button", name="Apply to the chosen rows").click()
    expect(page.get_by_role("alert")).to_contain_text("The new due date cannot be in the past.")
    page.goto(f"/agencies/{agency.id}/today")
    expect(page.get_by_role("link", name="4 assignments past their due date")).to_be_visible()
