"""The coordinator's side in a real browser: import a roster, then read the dashboard."""

from __future__ import annotations

from playwright.sync_api import expect

ROSTER = (
    "badge_number,name,email,rank,unit,supervisor_badge,hire_date,status\n"
    "5001,Dana Brooks,dana.brooks@riverside.test,Sergeant,HQ,,2015-06-01,active\n"
    "5002,Sam Chen,sam.chen@riverside.test,Officer,HQ,5001,2022-01-10,active\n"
)


def test_coordinator_imports_a_roster_after_a_dry_run(
    page, sign_in_as, coordinator, tmp_path, axe_violations
):
    bad = tmp_path / "bad.csv"
    bad.write_text(ROSTER.replace("sam.chen@riverside.test", "sam.chen-at-riverside"))
    good = tmp_path / "roster.csv"
    good.write_text(ROSTER)
    sign_in_as(coordinator)
    page.get_by_role("link", name="Compliance").first.click()
    page.get_by_role("link", name="Import roster").click()
    page.get_by_label("Roster file (CSV)").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Line 3, email")).to_be_visible()
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)
    page.get_by_role("link", name="Upload a corrected file").click()
    page.get_by_label("Roster file (CSV)").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("New: add 2 people")).to_be_visible()
    assert axe_violations() == []
    page.get_by_role("button", name="Add 2 people").click()
    expect(page.get_by_text("Roster imported: 2 added")).to_be_visible()
    expect(page.get_by_role("button", name="Invite the 2 people new from this import")).to_be_visible()


def test_coordinator_reads_the_dashboard_and_drills_into_a_unit(
    page, sign_in_as, coordinator, agency, axe_violations
):
    sign_in_as(coordinator)
    page.get_by_role("link", name="Compliance").first.click()
    expect(page.get_by_role("heading", name="Whole agency")).to_be_visible()
    expect(page.get_by_role("heading", name="By unit")).to_be_visible()
    assert axe_violations() == []
    page.get_by_role("link", name=agency.units[0].name).click()
    expect(page.get_by_role("heading", name=agency.units[0].name, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="← Whole agency")).to_be_visible()
