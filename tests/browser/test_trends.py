"""Trends and scheduled reports in a real browser, on a phone."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

_FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_the_trends_page_shows_charts_and_tables_on_a_phone(
    browser, live_server, coordinator, agency, make_user
):
    course = publish(course_data(slug="trend-browser"))
    enrol(make_user(agency), course, due_on=date.today() - timedelta(days=40))
    pass_course(officer := make_user(agency), enrol(officer, course, due_on=date.today()))
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill(coordinator.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Compliance").first.click()
    page.get_by_role("link", name="Trends", exact=True).click()
    expect(page.get_by_role("heading", name="The last 12 months")).to_be_visible()
    table = page.get_by_role("region", name="Trends by month").get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(12)
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(4)
    for index in range(4):
        expect(charts.nth(index).locator(".comparison-bar")).to_have_count(12)
        expect(charts.nth(index).get_by_text("Show the numbers as a table")).to_be_visible()
    assert page.evaluate(_FITS)
    context.close()


def test_a_coordinator_subscribes_pauses_and_unsubscribes(page, sign_in_as, coordinator, axe_violations):
    sign_in_as(coordinator)
    page.get_by_role("link", name="Compliance").first.click()
    page.get_by_role("link", name="Scheduled reports").click()
    page.get_by_label("Report", exact=True).select_option(label="Overdue training")
    page.get_by_label("How often").select_option("weekly")
    page.get_by_label("Day of the week (weekly reports)").select_option(label="Friday")
    expect(page.get_by_label(f"{coordinator.name} ({coordinator.email})")).to_be_checked()
    assert axe_violations() == []
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("Subscribed: Overdue training, weekly on Friday.")).to_be_visible()
    page.get_by_role("button", name="Pause Overdue training").click()
    expect(page.get_by_role("cell", name="Paused")).to_be_visible()
    page.get_by_role("button", name="Unsubscribe Overdue training").click()
    expect(page.get_by_text("No scheduled reports yet.")).to_be_visible()
