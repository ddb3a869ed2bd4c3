"""Public verification and the Open Badges 2.0 hosted documents, checked against the spec."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.models import Certificate
from lms.services import certificates
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

OB_CONTEXT = "https://w3id.org/openbadges/v2"


@pytest.fixture
def cert(db, officer):
    pass_course(officer, enrol(officer, publish()))
    return db.session.scalar(select(Certificate))


# --- the verification page -----------------------------------------------------------------


def test_valid_certificate_verifies_without_signing_in(client, cert):
    response = client.get(f"/verify/{cert.code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Valid certificate" in page
    assert "Olive Officer" in page and "Test Partnership Course" in page and "Riverside Test PD" in page


def test_verification_shows_nothing_more_personal_than_the_name(client, officer, cert):
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert officer.email not in page and officer.badge_number not in page


def test_expired_certificate_says_expired(db, client, cert):
    cert.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert "Expired certificate" in client.get(f"/verify/{cert.code}").get_data(as_text=True)


def test_revoked_certificate_says_revoked_with_reason(db, client, coordinator, cert):
    certificates.revoke(coordinator, cert, "Completed by someone else")
    db.session.commit()
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Revoked certificate" in page and "Completed by someone else" in page


def test_replaced_certificate_says_so(db, client, coordinator, cert):
    certificates.reissue(coordinator, cert, recipient_name="Olive Officer", reason="Typo")
    db.session.commit()
    assert "replaced by a corrected certificate" in client.get(f"/verify/{cert.code}").get_data(as_text=True)


@pytest.mark.parametrize("code", ["nope-not-a-real-code-123", "short", "x" * 70, "bad%20chars!!!!!!!!!!"])
def test_unknown_code_is_a_clear_not_found(client, db, code):
    response = client.get(f"/verify/{code}")
    assert response.status_code == 404 and "Certificate not found" in response.get_data(as_text=True)


def test_lookup_form_redirects_to_the_code(client, db):
    response = client.get("/verify/?code=abc")
    assert response.status_code == 302 and response.headers["Location"].endswith("/verify/abc")


def test_verification_is_rate_limited(app, client, cert):
    from lms.verify import limiter

    limiter.reset()
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [client.get(f"/verify/{cert.code}").status_code for _ in range(4)]
    finally:
        app.config["VERIFY_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()
    assert codes == [200, 200, 200, 429]


# --- Open Badges 2.0 -----------------------------------------------------------------------


def _assertion(client, cert):
    return client.get(f"/badges/assertions/{cert.code}")


def test_assertion_has_the_required_fields(client, cert):
    doc = _assertion(client, cert).get_json()
    assert doc["@context"] == OB_CONTEXT and doc["type"] == "Assertion"
    assert doc["id"] == f"http://localhost/badges/assertions/{cert.code}"
    assert doc["verification"] == {"type": "hosted"}
    for key in ("recipient", "badge", "issuedOn", "expires"):
        assert key in doc


def test_assertion_recipient_is_a_salted_hash_of_the_confirmed_email(db, client, officer, cert):
    officer.email_confirmed = officer.email  # as using an emailed invitation or reset link does
    db.session.commit()
    recipient = _assertion(client, cert).get_json()["recipient"]
    assert recipient["type"] == "email" and recipient["hashed"] is True
    expected = hashlib.sha256((officer.email + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == f"sha256${expected}"
    assert officer.email not in _assertion(client, cert).get_data(as_text=True)


@pytest.mark.parametrize(
    "email",
    ["lti-3-0a1b2c3d4e5f@lti.invalid", "roster.typed@example.org"],
    ids=["placeholder", "not-confirmed"],
)
def test_without_a_confirmed_email_the_recipient_is_the_persons_ripple_url(db, client, officer, cert, email):
    from lms.public_urls import public_url

    officer.email = email
    db.session.commit()
    response = _assertion(client, cert)
    recipient = response.get_json()["recipient"]
    assert recipient["type"] == "url" and recipient["hashed"] is True
    # The person's stable URL in Ripple, made the same way outside the request.
    person_url = public_url("agency.person", user_id=officer.id)
    expected = hashlib.sha256((person_url + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == f"sha256${expected}"
    email_hash = hashlib.sha256((email + recipient["salt"]).encode()).hexdigest()
    assert email_hash not in response.get_data(as_text=True) and email not in response.get_data(as_text=True)


def test_the_certificate_page_says_when_a_badge_cannot_go_into_a_backpack(db, client, sign_in, officer, cert):
    page = sign_in(officer).get(f"/learn/certificates/{cert.id}").get_data(as_text=True)
    assert "no email address is confirmed" in page and "Forgot your password?" in page
    officer.email_confirmed = officer.email
    db.session.commit()
    page = client.get(f"/learn/certificates/{cert.id}").get_data(as_text=True)
    assert "no email address is confirmed" not in page and "Open Badge (JSON)" in page


def test_assertion_dates_are_iso8601(client, cert):
    doc = _assertion(client, cert).get_json()
    assert doc["issuedOn"] == f"{cert.issued_on.isoformat()}T00:00:00Z"
    assert doc["expires"] == f"{(cert.expires_on + timedelta(days=1)).isoformat()}T00:00:00Z"


def test_badge_class_has_the_required_fields(client, cert):
    badge_url = _assertion(client, cert).get_json()["badge"]
    doc = client.get(badge_url).get_json()
    assert doc["@context"] == OB_CONTEXT and doc["type"] == "BadgeClass" and doc["id"] == badge_url
    assert doc["name"] == "Test Partnership Course" and doc["description"]
    assert doc["criteria"]["narrative"] and doc["image"].endswith("/image.svg")
    assert client.get(doc["image"]).mimetype == "image/svg+xml"


def test_issuer_profile_has_the_required_fields(client, cert):
    badge = client.get(_assertion(client, cert).get_json()["badge"]).get_json()
    doc = client.get(badge["issuer"]).get_json()
    assert doc["@context"] == OB_CONTEXT and doc["type"] == "Issuer" and doc["id"] == badge["issuer"]
    assert doc["name"] == "Riverside Test PD" and doc["url"].startswith("http") and "@" in doc["email"]


def test_revoked_assertion_answers_410_with_reason(db, client, coordinator, cert):
    certificates.revoke(coordinator, cert, "Issued in error")
    db.session.commit()
    response = _assertion(client, cert)
    doc = response.get_json()
    assert response.status_code == 410
    assert doc["revoked"] is True and doc["revocationReason"] == "Issued in error"


def test_unknown_assertion_is_404(client, db):
    assert client.get("/badges/assertions/nothing-here-at-all-0000").status_code == 404


def test_course_not_offered_to_an_agency_has_no_badge_class(client, make_agency, agency):
    other = make_agency()
    theirs = publish(course_data(slug="theirs"), agency_id=other.id)
    assert client.get(f"/badges/agencies/{agency.id}/courses/{theirs.id}").status_code == 404
