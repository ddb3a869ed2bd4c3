"""The authoring quality bar, in a real browser: an instructor duplicates a library scenario,
changes a rubric and a parameter, sees a validation error and fixes it, runs a calibration,
publishes, and an officer plays the new version."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.models import Attempt, ScenarioRecord
from tests.lms.learning_fixtures import enrol, publish

ADAPTED_TITLE = "Words at the corner store (Riverside)"


def paste(textarea, text: str) -> None:
    """Replace the editor's text the way a paste does: one edit, one input event. (Playwright's
    fill types through Chromium's insertText, which takes over 20 s for the library's 18 KB
    scenarios in headless Chromium; a paste is a single edit.)"""
    textarea.evaluate(
        "(el, text) => { el.focus(); el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        text,
    )


@pytest.fixture
def officer_assignment(db, officer, library):
    """The officer's course with one graded scenario item: store-dispute."""
    course = publish(
        {
            "ripple_course": 1,
            "slug": "corner-store",
            "title": "Corner store practice",
            "summary": "Practice.",
            "category": "Community policing",
            "credit_hours": 1,
            "certificate_valid_months": None,
            "modules": [
                {
                    "slug": "practice",
                    "title": "Practice",
                    "items": [
                        {
                            "kind": "scenario",
                            "slug": "store",
                            "title": "The corner store",
                            "scenario": "store-dispute",
                            "intro": "Play it.",
                        }
                    ],
                }
            ],
        },  # fmt: skip
        agency_id=officer.agency_id,
    )
    return enrol(officer, course)


def test_instructor_adapts_calibrates_and_publishes_and_an_officer_plays_it(
    db, page, sign_in_as, instructor, officer, officer_assignment, axe_violations
):
    sign_in_as(instructor)
    page.get_by_role("link", name="Authoring").click()
    page.get_by_role("link", name="Duplicate “Words at the corner store”").click()
    expect(page.get_by_label("Slug of your copy")).to_have_value("store-dispute")
    page.get_by_role("button", name="Duplicate and adapt").click()
    expect(page.get_by_text("is now your draft")).to_be_visible()
    assert axe_violations() == []

    # A rubric and the title, in the form editor.
    page.get_by_role("link", name="Form editor", exact=True).click()
    page.get_by_label("Title").fill(ADAPTED_TITLE)
    page.locator("#d0-o1-points").fill("4")
    page.get_by_role("button", name="Save to the draft").click()
    expect(page.get_by_text("Saved to the draft's YAML.")).to_be_visible()
    assert axe_violations() == []

    # A parameter in the YAML: first a value the engine refuses, shown live at its line.
    page.get_by_role("link", name="YAML editor", exact=True).click()
    source = page.locator("#source")
    text = source.input_value()
    assert "points: 4" in text and ADAPTED_TITLE in text
    paste(source, text.replace("branching: 0.4", "branching: 1.4"))
    issues = page.locator("#issues")
    expect(issues).to_contain_text("retaliation.branching")
    line = next(n for n, row in enumerate(text.split("\n"), 1) if "branching: 0.4" in row)
    expect(issues.get_by_role("link", name=f"line {line}")).to_be_visible()
    expect(page.locator(".code-line.code-error")).to_have_count(1)
    page.get_by_role("button", name="Save the draft").click()  # the server refuses it too
    expect(page.get_by_text("nothing was saved")).to_be_visible()
    expect(issues).to_contain_text("retaliation.branching")
    paste(source, source.input_value().replace("branching: 1.4", "branching: 0.35"))
    expect(page.get_by_text("No problems found.")).to_be_visible()
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft version 1 saved.")).to_be_visible()
    assert axe_violations() == []

    # Publishing asks for a calibration first.
    page.get_by_role("link", name="Publish", exact=True).click()
    expect(page.get_by_text("This draft has not been calibrated.")).to_be_visible()
    page.get_by_role("button", name="Calibrate this draft").click()
    expect(page.get_by_role("table", name="Every calibrated path, best expected score first")).to_be_visible()
    expect(page.get_by_role("heading", name="Flags")).to_be_visible()
    assert axe_violations() == []
    page.get_by_role("link", name="Publish", exact=True).click()
    expect(page.get_by_text("Calibrated: this draft's YAML was calibrated")).to_be_visible()
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.get_by_text("Version 1 is published to your agency")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # The officer's course now plays the agency's version.
    sign_in_as(officer)
    page.goto(f"/learn/assignments/{officer_assignment.id}/items/store")
    page.get_by_role("button", name="Start attempt").click()
    expect(page.get_by_role("heading", name=ADAPTED_TITLE)).to_be_visible()
    db.session.expire_all()
    attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == officer.id))
    record = db.session.scalar(select(ScenarioRecord).where(ScenarioRecord.agency_id == instructor.agency_id))
    assert attempt.scenario_version.scenario_id == record.id
    assert attempt.scenario_version.status == "published"
    assert "branching: 0.35" in attempt.scenario_version.source_text


def test_lesson_preview_updates_live(db, page, sign_in_as, instructor, axe_violations):
    from lms.services import authoring

    course = authoring.create_course(instructor, slug="live-preview", title="Live preview")
    db.session.commit()
    sign_in_as(instructor)
    page.goto(f"/author/courses/{course.id}")
    page.get_by_role("link", name="First lesson").click()
    page.get_by_label("Lesson text").fill("## A heading\n\nSome **bold** words.")
    expect(page.locator("#lesson-preview strong")).to_have_text("bold")
    assert axe_violations() == []


def test_lesson_preview_says_when_the_text_is_too_long(db, page, sign_in_as, instructor):
    from lms.course_format import MAX_LESSON_CHARS
    from lms.services import authoring

    course = authoring.create_course(instructor, slug="long-preview", title="Long preview")
    db.session.commit()
    sign_in_as(instructor)
    page.goto(f"/author/courses/{course.id}")
    page.get_by_role("link", name="First lesson").click()
    page.get_by_label("Lesson text").fill("`" * (MAX_LESSON_CHARS + 1))
    expect(page.locator("#lesson-preview")).to_have_text(
        "The lesson text is 20,001 characters long; at most 20,000 are allowed; shorten it to see the preview."
    )
