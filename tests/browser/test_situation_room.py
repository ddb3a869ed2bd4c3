"""The situation room: the officer's scenario page at a phone's and a laptop's size.

Each step opens with an announced recap; the briefing, the partners and the timeline can be
opened at any time; the community picture replays; a keyboard alone plays to the debrief.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from lms.services.scenario_library import scenario_of
from tests.browser.conftest import AXE, tab_to

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 800}}
SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "build", "screenshots")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def shot(page, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def wcag_violations(page) -> list[dict]:
    with open(AXE, encoding="utf-8") as source:
        page.evaluate(source.read())
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_AA,
    )
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def choose(page, point, option_ids) -> None:
    """Tick the options of one decision by their labels."""
    for option_id in option_ids:
        page.get_by_label(point.option(option_id).label, exact=True).check()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def start_crew_shooting(page, sign_in_as, instructor, library, size):
    scenario = scenario_of(library["crew-shooting-rumour"])
    page.set_viewport_size(SIZES[size])
    sign_in_as(instructor)
    page.get_by_role("link", name="Scenarios").click()
    page.get_by_role("button", name=f"Play {scenario.title}").click()
    return scenario


@pytest.mark.parametrize("size", SIZES)
def test_each_step_opens_with_an_announced_recap(page, sign_in_as, instructor, library, size):
    scenario = start_crew_shooting(page, sign_in_as, instructor, library, size)
    steps = len(scenario.decisions)
    expect(page).to_have_title(re.compile(rf"^Decision 1 of {steps} · Saturday 23:30 · "))
    expect(page.locator("#briefing-panel")).to_have_attribute("open", "")
    assert no_horizontal_scroll(page)
    assert wcag_violations(page) == []
    shot(page, f"room-{size}-decision-1")
    for index, choice in enumerate(scenario.expert_path[:-1]):
        choose(page, scenario.decisions[index], choice)
        page.get_by_role("button", name="Decide and continue").click()
        expect(page.get_by_role("heading", name=f"Decision {index + 2} of {steps}")).to_be_visible()
        assert page.url.endswith("#recap")
        expect(page.locator("#recap")).to_be_focused()
        clock = scenario.clock_label(scenario.decisions[index + 1].at_hours).split(" (")[0]
        expect(page).to_have_title(re.compile(rf"^Decision {index + 2} of {steps} · {clock} · "))
        recap = page.locator("#recap[role=status][aria-live=polite]")
        expect(recap).to_contain_text("Since your last decision")
        expect(recap).to_contain_text(re.compile("|".join(re.escape(p.name) for p in scenario.partners)))
        if index == 0:  # the expert calls Marcus first: he reports before decision 2
            expect(recap).to_contain_text("Marcus Reed (Safe Streets outreach):")
        expect(recap.get_by_role("heading", name=re.compile("Since your last decision"))).to_be_in_viewport()
        assert no_horizontal_scroll(page)
        assert wcag_violations(page) == []
        shot(page, f"room-{size}-decision-{index + 2}")
    briefing = page.locator("#briefing-panel")
    expect(briefing).not_to_have_attribute("open", "")
    briefing.locator("summary").click()
    expect(briefing).to_have_attribute("open", "")
    expect(briefing.locator(".prose")).to_be_visible()
    page.locator("#partners-panel summary").click()
    expect(page.locator("#partners-panel")).to_contain_text("Asked to: come on board")


@pytest.mark.parametrize("size", SIZES)
def test_the_scrubber_replays_the_spread(page, sign_in_as, instructor, library, size):
    scenario = start_crew_shooting(page, sign_in_as, instructor, library, size)
    point = scenario.decisions[0]
    for option_id in scenario.expert_path[0]:
        page.get_by_label(point.option(option_id).label, exact=True).check()
    page.get_by_role("button", name="Decide and continue").click()
    expect(page.get_by_role("heading", name="Decision 2 of")).to_be_visible()
    scrubber = page.get_by_label("Replay the spread")
    expect(scrubber).to_be_visible()
    figure = page.locator("#play-network")
    assert figure.locator("svg .later").count() == 0  # the still shows the state now
    scrubber.fill(scrubber.get_attribute("min"))
    assert figure.locator("svg .later").count() > 0
    expect(figure.locator(".replay-at")).to_contain_text("Showing Saturday 23:30")
    figure.get_by_role("button", name="Play").click()
    expect(figure.locator(".replay-at")).to_contain_text("Showing Sunday 02:00", timeout=15_000)
    assert figure.locator("svg .later").count() == 0
    assert no_horizontal_scroll(page)
    assert page.evaluate("(f) => f.scrollWidth <= f.clientWidth", figure.element_handle())
    shot(page, f"room-{size}-replay")


@pytest.mark.parametrize("size", SIZES)
def test_a_keyboard_alone_plays_every_decision_to_the_debrief(page, sign_in_as, instructor, library, size):
    scenario = start_crew_shooting(page, sign_in_as, instructor, library, size)
    steps = len(scenario.decisions)
    for index in range(steps):
        expect(page.get_by_role("heading", name=f"Decision {index + 1} of {steps}")).to_be_visible()
        tab_to(page, "ul.options input")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked")
        tab_to(page, "form[data-busy-label] button[type=submit]")
        shot(page, f"room-{size}-keyboard-{index + 1}")
        page.keyboard.press("Enter")
        if index + 1 < steps:
            expect(page.get_by_role("heading", name=f"Decision {index + 2} of {steps}")).to_be_visible()
    expect(page.get_by_role("heading", name="How the rumor spread")).to_be_visible(timeout=30_000)
    shot(page, f"room-{size}-debrief")


def test_the_last_decision_shows_it_is_grading_and_cannot_be_sent_twice(
    page, sign_in_as, instructor, library
):
    scenario = start_crew_shooting(page, sign_in_as, instructor, library, "laptop")
    for index, choice in enumerate(scenario.expert_path[:-1]):
        choose(page, scenario.decisions[index], choice)
        page.get_by_role("button", name="Decide and continue").click()
        expect(page.get_by_role("heading", name=f"Decision {index + 2} of")).to_be_visible()
    choose(page, scenario.decisions[-1], scenario.expert_path[-1])
    # Hold the submission in the page (a listener added after the page's own), to look at the
    # form while it is busy; then count what a second submit would send.
    page.evaluate(
        """() => { window.sent = 0; const form = document.querySelector('form[data-busy-label]');
        form.addEventListener('submit', (event) => { if (!event.defaultPrevented) window.sent += 1; event.preventDefault(); }); }"""
    )
    button = page.get_by_role("button", name="Decide and continue")
    button.click()
    busy = page.get_by_role("button", name="Grading your attempt…")
    expect(busy).to_be_disabled()
    expect(page.locator("form[data-busy-label]")).to_have_attribute("aria-busy", "true")
    page.evaluate("() => document.querySelector('form[data-busy-label]').requestSubmit()")
    assert page.evaluate("window.sent") == 1
