"""The debrief on a phone: the headline first, nothing wider than the screen, accessible, and a
"Try again" that starts the next attempt."""

from __future__ import annotations

from playwright.sync_api import expect

from lms.services.scenario_library import scenario_of
from tests.browser.conftest import tab_to
from tests.lms.learning_fixtures import course_data, enrol, publish


def test_an_officers_debrief_on_a_phone_leads_with_words_and_offers_try_again(
    page, sign_in_as, officer, library, db, axe_violations
):
    from lms.services import attempts

    data = course_data(slug="phone-debrief")
    data["modules"][1]["items"][1].update(scenario="store-dispute")
    assignment = enrol(officer, publish(data))
    attempt = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    for index, choice in enumerate(scenario_of(attempt.scenario_version).baseline_path):
        attempts.decide(officer, attempt, index, choice)
    db.session.commit()

    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(officer)
    page.goto(f"/play/attempts/{attempt.id}/debrief")
    headline = page.locator("#headline")
    expect(headline).to_be_visible()
    expect(headline).to_contain_text("simulated runs of these 3 days")
    expect(page.get_by_role("heading", name="What your choices led to")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations() == []

    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", name="Briefing")).to_be_visible()
    db.session.expire_all()
    assert attempts.start_for_item(officer, assignment.id, "practice-scenario").number == 2


def test_a_keyboard_alone_makes_the_last_decision_and_goes_on_to_the_next_item(
    page, sign_in_as, officer, library, db
):
    """No pointer: Tab to an option, Space, Tab to the button, Enter; then from the debrief, Tab
    to "Next item" and Enter."""
    from lms.services import attempts

    data = course_data(slug="keyboard-next")
    data["modules"][1]["items"].append(
        {"kind": "lesson", "slug": "after-the-scenario", "title": "After the scenario", "body": "What next."}
    )
    assignment = enrol(officer, publish(data))
    attempt = attempts.start_for_item(officer, assignment.id, "practice-scenario")
    scenario = scenario_of(attempt.scenario_version)
    for index, choice in enumerate(scenario.expert_path[:-1]):
        attempts.decide(officer, attempt, index, choice)
    db.session.commit()

    sign_in_as(officer)
    page.goto(f"/play/attempts/{attempt.id}")
    tab_to(page, "ul.options input")
    page.keyboard.press("Space")
    tab_to(page, "form[data-busy-label] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#headline")).to_be_visible(timeout=30_000)
    tab_to(page, ".next-steps a.button.primary")
    assert page.evaluate("document.activeElement.textContent").startswith("Next item: ")
    page.keyboard.press("Enter")
    page.wait_for_url("**/learn/assignments/*/items/*")
    assert "/play/" not in page.url
