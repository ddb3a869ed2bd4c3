"""Accounts that work, in a real browser: an invitation accepted from the outbox, a password
reset from the sign-in page, and a roster file that would deactivate most of the agency."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.models import OutboxMessage

NEW_PASSWORD = "a long walk along the river"


@pytest.fixture
def newcomer(db, make_user, agency):
    person = make_user(agency, name="Nia Newcomer", email="nia@riverside.test")
    person.password_hash = None  # as the roster import adds people
    db.session.commit()
    return person


def choose_password(page, password=NEW_PASSWORD):
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Repeat the new password").fill(password)
    page.get_by_role("button", name="Set my password and sign in").click()


def test_coordinator_invites_an_officer_who_accepts_from_the_outbox(
    page, sign_in_as, coordinator, newcomer, axe_violations
):
    sign_in_as(coordinator)
    page.goto(f"/people/{newcomer.id}")
    page.get_by_role("button", name="Invite Nia Newcomer").click()
    expect(page.get_by_text("Invitation sent to Nia Newcomer (nia@riverside.test)")).to_be_visible()
    page.goto(f"/agencies/{coordinator.agency_id}/")
    page.get_by_role("link", name="Reminders").click()
    page.get_by_text("You're invited to Ripple").click()  # open the message
    link = page.get_by_role("link", name=re.compile(r"auth.welcome"))
    expect(link).to_be_visible()
    assert axe_violations() == []
    link.click()
    expect(page.get_by_role("heading", name="Welcome to Ripple")).to_be_visible()
    expect(page.get_by_text("You are signed in as Cora Coordinator")).to_be_visible()
    assert axe_violations() == []
    choose_password(page)
    expect(page.get_by_text("Welcome to Ripple: your password is set and you are signed in.")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome, Nia")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    sign_in_as(newcomer, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Welcome, Nia")).to_be_visible()


def test_an_officer_resets_a_forgotten_password_by_email(db, page, sign_in_as, officer, axe_violations):
    page.goto("/auth/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(officer.email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("If an account exists for that address, we've sent a link")).to_be_visible()
    assert axe_violations() == []
    body = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == "password_reset")).one()
    page.goto(re.search(r"http://\S+/auth/reset/\S+", body).group(0))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    choose_password(page)
    expect(page.get_by_text("Your password has been reset and you are signed in.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.goto(re.search(r"http://\S+/auth/reset/\S+", body).group(0))  # the link works once
    expect(page.get_by_text("This link has already been used.")).to_be_visible()
    sign_in_as(officer, NEW_PASSWORD)
    expect(page.get_by_role("heading", name=f"Welcome, {officer.name.split()[0]}")).to_be_visible()


def test_a_roster_that_would_deactivate_most_of_the_agency_cannot_be_applied_in_one_click(
    db, page, sign_in_as, coordinator, agency, make_user, tmp_path, axe_violations
):
    for n in range(12):
        make_user(agency, name=f"Officer {n:02}")
    new_hires = tmp_path / "new-hires.csv"
    new_hires.write_text("badge_number,name,email\nN1,Ann Lee,ann@riverside.test\n")
    sign_in_as(coordinator)
    page.goto(f"/agencies/{agency.id}/roster/import")
    page.get_by_label("Roster file (CSV)").set_input_files(str(new_hires))
    page.get_by_label("Full sync: people not in the file are deactivated").check()
    page.get_by_role("button", name="Check the file").click()
    expect(
        page.get_by_role("heading", name="This import deactivates 12 people of the 13 active")
    ).to_be_visible()
    assert axe_violations() == []
    apply = page.get_by_role("button", name="Add 1 person and deactivate 12 people not in the file")
    apply.click()
    expect(page.get_by_text("would deactivate 12 people of 13 active").first).to_be_visible()
    page.get_by_label(re.compile("Type the number of people to deactivate")).fill("12")
    page.get_by_role("button", name="Add 1 person and deactivate 12 people not in the file").click()
    expect(page.get_by_text("Roster imported: 1 added, 0 updated, 12 deactivated")).to_be_visible()
