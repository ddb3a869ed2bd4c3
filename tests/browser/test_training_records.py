"""Classroom training in a real browser: a coordinator records a session for two officers picked
by badge number, and sees their hours rise on the officer page."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect


def test_a_session_recorded_by_badge_raises_both_officers_hours(
    page, sign_in_as, coordinator, agency, make_user, tmp_path, axe_violations
):
    first = make_user(agency, name="Avery Adams", badge_number="3001")
    make_user(agency, name="Blake Brown", badge_number="3002")
    sheet = tmp_path / "roll-call.csv"
    sheet.write_text("badge,name\n3001,Avery Adams\n3002,Blake Brown\n")
    day = (date.today() - timedelta(days=2)).isoformat()
    sign_in_as(coordinator)
    page.goto(f"/people/{first.id}")
    expect(page.get_by_text("0 credit hours")).to_be_visible()

    page.get_by_role("link", name="Compliance").first.click()
    page.get_by_role("link", name="Training records").click()
    page.get_by_role("link", name="Record a session").click()
    page.get_by_label("Title").fill("Crisis intervention refresher")
    page.get_by_label("First day").fill(day)
    page.get_by_label("Last day").fill(day)
    page.get_by_label("Credit hours").fill("4")
    page.get_by_label("Category", exact=True).fill("Crisis intervention")
    page.get_by_label("Attendees by badge number").fill("3001, 3999")
    page.get_by_label("Sign-in sheet (optional)").set_input_files(str(sheet))
    page.get_by_role("button", name="Record the session").click()
    expect(page.locator("#badges-error")).to_contain_text("has badge number 3999")
    assert axe_violations() == []

    page.get_by_label("Attendees by badge number").fill("3001, 3002")
    page.get_by_label("Sign-in sheet (optional)").set_input_files(str(sheet))
    page.get_by_role("button", name="Record the session").click()
    expect(page.get_by_text("recorded for 2 attendees")).to_be_visible()
    expect(page.get_by_role("link", name="Blake Brown")).to_be_visible()
    expect(page.get_by_role("link", name="roll-call.csv")).to_be_visible()
    assert axe_violations() == []

    page.get_by_role("link", name="Avery Adams").click()
    expect(page.get_by_text("4 credit hours")).to_be_visible()
    expect(page.get_by_role("region", name="Hours by category")).to_contain_text("Crisis intervention")
    expect(page.get_by_role("link", name="Crisis intervention refresher")).to_be_visible()
