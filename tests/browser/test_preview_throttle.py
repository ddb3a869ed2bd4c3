"""Past AUTHOR_PREVIEW_RATE_LIMIT the editors' live checks say they are paused and for how
long, instead of breaking silently."""

from __future__ import annotations

import re

from playwright.sync_api import expect

PAUSED = re.compile(r"Checking paused, try again in \d+ s")


def test_the_lesson_preview_says_it_is_paused(db, page, sign_in_as, instructor, rate_limit):
    from lms.services import authoring

    course = authoring.create_course(instructor, slug="paused-preview", title="Paused preview")
    db.session.commit()
    rate_limit("AUTHOR_PREVIEW_RATE_LIMIT", "1 per minute")
    sign_in_as(instructor)
    page.goto(f"/author/courses/{course.id}")
    page.get_by_role("link", name="First lesson").click()
    text = page.get_by_label("Lesson text")
    text.fill("Some **bold** words.")
    expect(page.locator("#lesson-preview strong")).to_have_text("bold")
    text.fill("Some *other* words.")
    expect(page.locator("#lesson-preview")).to_have_text(PAUSED)


def test_the_yaml_check_says_it_is_paused(db, page, sign_in_as, instructor, store_dispute, rate_limit):
    from lms.services import scenario_authoring

    record = scenario_authoring.duplicate(instructor, store_dispute.id, slug="store-dispute-paused")
    db.session.commit()
    rate_limit("AUTHOR_PREVIEW_RATE_LIMIT", "1 per minute")
    sign_in_as(instructor)
    page.goto(f"/author/scenarios/{record.id}")
    page.get_by_role("link", name="YAML editor", exact=True).click()
    source = page.locator("#source")
    text = source.input_value()
    type_in = "(textarea, text) => { textarea.value = text; textarea.dispatchEvent(new Event('input')); }"
    source.evaluate(type_in, text + "\n")
    # The first check parses and checks the whole scenario: on a loaded CI machine (two suites
    # side by side) that took longer than the default five seconds.
    expect(page.locator("#validation-status")).to_have_text("No problems found.", timeout=30_000)
    source.evaluate(type_in, text)
    expect(page.locator("#validation-status")).to_have_text(PAUSED)
