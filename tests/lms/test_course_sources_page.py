"""A course's "Sources and further reading" page: for anyone who may see the course."""

from __future__ import annotations

from lms.models import Role
from tests.lms.learning_fixtures import course_data, enrol, publish

SOURCES = [
    {
        "cite": "Tyler, T. R. (1990). *Why People Obey the Law.* Yale University Press.",
        "note": "Procedural justice <script>alert(1)</script> in module 5.",
        "url": "https://example.org/why-people-obey?a=1&b=2",
    },
    {"cite": "Braga, A. A., & Weisburd, D. (2012). Focused deterrence."},
]
CREDITS = "The partnership framework comes from **our own** field work.\n\n<img src=x onerror=alert(2)>"


def page(client, assignment):
    response = client.get(f"/learn/assignments/{assignment.id}/sources")
    return response.status_code, response.get_data(as_text=True)


def test_sources_and_credits_are_shown_sanitised(db, sign_in, officer):
    assignment = enrol(officer, publish(course_data(sources=SOURCES, credits=CREDITS)))
    status, body = page(sign_in(officer), assignment)
    assert status == 200
    assert "<em>Why People Obey the Law.</em>" in body
    assert 'href="https://example.org/why-people-obey?a=1&amp;b=2"' in body
    assert "Braga, A. A., &amp; Weisburd, D. (2012). Focused deterrence." in body
    assert "<strong>our own</strong>" in body
    assert "<script>alert(1)" not in body and "onerror" not in body
    assert 'id="no-sources"' not in body


def test_a_course_without_sources_has_an_empty_state(db, sign_in, officer):
    assignment = enrol(officer, publish())
    status, body = page(sign_in(officer), assignment)
    assert status == 200 and 'id="no-sources"' in body and "does not list its sources yet" in body


def test_the_course_page_links_to_it(db, sign_in, officer):
    assignment = enrol(officer, publish(course_data(sources=SOURCES)))
    body = sign_in(officer).get(f"/learn/assignments/{assignment.id}").get_data(as_text=True)
    assert f'href="/learn/assignments/{assignment.id}/sources"' in body


def test_only_people_who_may_see_the_course_see_its_sources(
    db, app, sign_in, officer, coordinator, make_user, make_agency, agency
):
    assignment = enrol(officer, publish(course_data(sources=SOURCES)))
    colleague = make_user(agency, (Role.OFFICER,))
    outsider = make_user(make_agency("Elsewhere PD"), (Role.COORDINATOR,))
    for person, expected in ((officer, 200), (coordinator, 200), (colleague, 404), (outsider, 404)):
        status, body = page(sign_in(person, app.test_client()), assignment)
        assert status == expected, person.name
        if expected == 404:
            assert "Why People Obey" not in body
