"""The public verification and badge URLs: one rate-limit budget per client address across
all of them, and a badge image only for what has really been issued."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lms.models import Certificate, Course, CourseVersion
from lms.services import certificates
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish


@pytest.fixture
def cert(db, officer):
    pass_course(officer, enrol(officer, publish()))
    return db.session.scalar(select(Certificate))


@pytest.fixture
def budget_of_four(rate_limit):
    rate_limit("VERIFY_RATE_LIMIT", "4 per minute")


def public_urls(cert) -> dict[str, str]:
    return {
        "page": f"/verify/{cert.code}",
        "lookup": "/verify/",
        "assertion": f"/badges/assertions/{cert.code}",
        "badge class": f"/badges/agencies/{cert.agency_id}/courses/{cert.course_id}",
        "issuer": f"/badges/agencies/{cert.agency_id}",
        "image": f"/badges/courses/{cert.course_id}/image.svg",
    }


@pytest.mark.parametrize("last", ["page", "lookup", "assertion", "badge class", "issuer", "image"])
def test_every_public_url_draws_on_one_budget_per_address(client, cert, budget_of_four, last):
    urls = public_urls(cert)
    others = [url for name, url in urls.items() if name != last]
    statuses = [client.get(url).status_code for url in others[:4]]
    assert statuses == [200] * 4
    refused = client.get(urls[last])
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_another_address_has_its_own_budget(client, cert, budget_of_four):
    for url in list(public_urls(cert).values())[:4]:
        client.get(url)
    assert client.get(f"/verify/{cert.code}").status_code == 429
    other = client.get(f"/verify/{cert.code}", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 200


# --- the badge image ------------------------------------------------------------------------


@pytest.mark.parametrize("certificate", ["in force", "expired"])
def test_the_badge_image_of_an_issued_course_shows_its_published_title(db, client, cert, certificate):
    if certificate == "expired":  # still issued: the image is the badge class's, not one badge's
        cert.expires_on = date(2001, 1, 1)
        db.session.commit()
    response = client.get(f"/badges/courses/{cert.course_id}/image.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "Test Partnership Course" in response.get_data(as_text=True)


def _draft_only(db, agency_id):
    course = Course(agency_id=agency_id, slug="secret-plan", title="Secret Operation Nightfall")
    db.session.add(course)
    db.session.flush()
    db.session.add(CourseVersion(course_id=course.id, number=1, content={}, title=course.title))
    db.session.commit()
    return course.id


def _published_never_issued(db, agency_id):
    return publish(course_data(slug="unearned", title="Secret Operation Nightfall"), agency_id=agency_id).id


def _only_certificate_revoked(db, agency_id):
    from lms.models import User

    course = publish(course_data(slug="revoked", title="Secret Operation Nightfall"), agency_id=agency_id)
    person = db.session.scalar(select(User).where(User.agency_id == agency_id))
    pass_course(person, enrol(person, course))
    cert = db.session.scalar(select(Certificate).where(Certificate.course_id == course.id))
    certificates.revoke(person, cert, "Issued in error")
    db.session.commit()
    return course.id


@pytest.mark.parametrize(
    "make_course",
    [_draft_only, _published_never_issued, _only_certificate_revoked],
    ids=["another agency's draft", "published, never issued", "only certificate revoked"],
)
def test_no_badge_image_for_what_was_never_issued(db, client, make_agency, make_user, make_course):
    from lms.models import Role

    other = make_agency()
    make_user(other, (Role.COORDINATOR, Role.OFFICER))
    course_id = make_course(db, other.id)
    response = client.get(f"/badges/courses/{course_id}/image.svg")
    missing = client.get("/badges/courses/999999/image.svg")
    assert response.status_code == missing.status_code == 404
    assert response.get_data() == missing.get_data()
    assert "Nightfall" not in response.get_data(as_text=True)
