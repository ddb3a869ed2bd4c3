"""In the browser: an instructor downloads a library scenario's facilitator guide and tabletop
as real PDFs, and an officer finds a course's sources from the course page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.lms import pdf_text
from tests.lms.learning_fixtures import course_data, enrol, publish

SCENARIO_TITLE = "Words at the corner store"  # the store-dispute library scenario


def _download(page, link) -> bytes:
    with page.expect_download() as started:
        link.click()
    download = started.value
    assert download.failure() is None
    with open(download.path(), "rb") as handle:
        return handle.read()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        (f"Facilitator guide for “{SCENARIO_TITLE}” (PDF)", "guide"),
        (f"15-minute tabletop for “{SCENARIO_TITLE}” (PDF)", "tabletop"),
    ],
    ids=["facilitator-guide", "tabletop"],
)
def test_an_instructor_downloads_a_library_scenarios_handouts(
    db, page, sign_in_as, instructor, library, name, kind
):
    sign_in_as(instructor)
    page.get_by_role("link", name="Authoring").click()
    expect(page.get_by_role("link", name=f"Duplicate “{SCENARIO_TITLE}”")).to_be_visible()
    pdf = _download(page, page.get_by_role("link", name=name))
    assert pdf.startswith(b"%PDF"), pdf[:20]
    assert pdf_text.check_structure(pdf) >= 1
    assert SCENARIO_TITLE in pdf_text.flat(pdf), kind


SOURCES = [
    {
        "cite": "Tyler, T. R. (1990). *Why People Obey the Law.* Yale University Press.",
        "url": "https://example.org/why-people-obey",
    },
    {
        "cite": "Braga, A. A., Weisburd, D., & Turchan, B. (2018). Focused deterrence strategies and crime control."
    },
]


def test_an_officer_opens_the_course_sources_from_the_course_page(db, page, sign_in_as, officer):
    enrol(
        officer,
        publish(course_data(sources=SOURCES, credits="Written for this course from **field notes**.")),
    )
    sign_in_as(officer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My training").click()
    page.get_by_role("link", name="Test Partnership Course", exact=True).click()
    page.get_by_role("link", name="Sources and further reading").click()
    sources = page.locator("ol.sources")
    expect(sources.locator("li")).to_have_count(2)
    expect(sources).to_contain_text("Why People Obey the Law.")
    expect(sources).to_contain_text("Focused deterrence strategies and crime control")
    expect(page.get_by_role("heading", name="Sources and further reading", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Sources", exact=True)).to_be_visible()
    expect(sources.get_by_role("link", name="https://example.org/why-people-obey")).to_be_visible()
    expect(page.get_by_role("heading", name="Credits")).to_be_visible()
    expect(page.locator("#no-sources")).to_have_count(0)
