"""Signing in as each role in a real browser, and what each role's home page offers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lms.models import Role


@pytest.mark.parametrize(
    "roles,sees,does_not_see",
    [
        ((Role.OFFICER,), "My training", "My agency"),
        ((Role.INSTRUCTOR, Role.OFFICER), "Teaching", "My agency"),
        ((Role.COORDINATOR, Role.OFFICER), "My agency", "Teaching"),
    ],
    ids=["officer", "instructor", "coordinator"],
)
def test_each_role_signs_in_and_sees_its_home(page, sign_in_as, make_user, agency, roles, sees, does_not_see):
    user = make_user(agency, roles, name="Browser Person")
    sign_in_as(user)
    expect(page.get_by_role("heading", name="Welcome, Browser")).to_be_visible()
    expect(page.get_by_role("heading", name=sees)).to_be_visible()
    assert page.get_by_role("heading", name=does_not_see).count() == 0


def test_wrong_password_shows_a_clear_message(page, sign_in_as, officer):
    sign_in_as(officer, password="not the password")
    expect(page.get_by_role("alert").filter(has_text="do not match an account")).to_be_visible()


def test_coordinator_finds_and_deactivates_an_officer_by_keyboard(page, sign_in_as, coordinator, officer):
    sign_in_as(coordinator)
    page.get_by_role("link", name="Open the roster").click()
    page.get_by_label("Search name, email or badge").fill(officer.name)
    page.keyboard.press("Enter")
    page.get_by_role("link", name=officer.name).click()
    page.get_by_label("Reason").fill("Left the agency")
    page.get_by_role("button", name=f"Deactivate {officer.name}").click()
    expect(page.get_by_text(f"{officer.name} is now deactivated.")).to_be_visible()


def test_sign_out(page, sign_in_as, officer):
    sign_in_as(officer)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
