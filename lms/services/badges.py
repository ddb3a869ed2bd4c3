"""Open Badges 2.0 hosted documents: the assertion, the badge class and the issuer profile.

Each certificate is a hosted assertion (https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html):
the documents are plain dicts served as JSON at their own URLs, which the caller passes in.
The recipient is identified by a salted SHA-256 hash, never in clear: of the email the person
has confirmed (User.confirmed_email), which a backpack matches to its owner's verified
addresses; when they have none (a placeholder from a learning platform, an address a roster
typed), of a stable URL of the person in Ripple (recipient type "url", which Open Badges 2.0
allows), so the assertion still verifies but names no address they cannot prove is theirs. Such
a badge cannot go into a backpack until the person confirms an email (the certificate page
says so); the assertion is served live, so it names that email from then on.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from lms.extensions import db
from lms.models import Agency, Certificate, Course, CourseVersion, User

CONTEXT = "https://w3id.org/openbadges/v2"


def recipient_salt(certificate: Certificate) -> str:
    """A per-certificate salt, stable without storing it (derived from the random code)."""
    return hashlib.sha256(f"ripple-badge-salt:{certificate.code}".encode()).hexdigest()[:16]


def hashed_identity(email: str, salt: str) -> str:
    return _hashed(email.strip().lower(), salt)


def _hashed(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def backpack_email(user: User) -> str | None:
    """The email a badge names its earner by, or None: only one the person has confirmed."""
    return user.confirmed_email


def recipient(certificate: Certificate, user: User, *, person_url: str) -> dict[str, Any]:
    """The assertion's IdentityObject: the confirmed email, else the person's Ripple URL."""
    salt = recipient_salt(certificate)
    email = backpack_email(user)
    if email:
        return {"type": "email", "hashed": True, "salt": salt, "identity": hashed_identity(email, salt)}
    return {"type": "url", "hashed": True, "salt": salt, "identity": _hashed(person_url, salt)}


def _iso(day: date) -> str:
    return datetime.combine(day, time(0, 0), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def assertion(
    certificate: Certificate,
    user: User,
    *,
    assertion_url: str,
    badge_url: str,
    verify_url: str,
    person_url: str,
) -> dict[str, Any]:
    """The hosted assertion of a certificate that is not revoked, for its earner `user`
    (`person_url`: the person's stable URL in Ripple, see recipient)."""
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": assertion_url,
        "recipient": recipient(certificate, user, person_url=person_url),
        "badge": badge_url,
        "verification": {"type": "hosted"},
        "issuedOn": _iso(certificate.issued_on),
        "evidence": verify_url,
        "narrative": f"Completed {certificate.course_title} ({certificate.credit_hours:g} credit hours).",
    }
    if certificate.expires_on is not None:
        # Valid through the expiry date: the assertion expires at the end of that day.
        document["expires"] = _iso(certificate.expires_on + timedelta(days=1))
    return document


def revoked_assertion(certificate: Certificate, *, assertion_url: str) -> dict[str, Any]:
    """What a revoked assertion's URL answers (with HTTP 410 Gone), as the specification says."""
    return {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": assertion_url,
        "revoked": True,
        "revocationReason": certificate.revoked_reason or "Revoked by the issuer",
    }


def badge_class(
    course: Course,
    version: CourseVersion,
    *,
    badge_url: str,
    image_url: str,
    criteria_narrative: str,
    issuer_url: str,
) -> dict[str, Any]:
    summary = (version.content or {}).get("summary") or course.title
    return {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": badge_url,
        "name": version.title,
        "description": summary,
        "image": image_url,
        "criteria": {"narrative": criteria_narrative},
        "issuer": issuer_url,
        "tags": [t for t in (version.category,) if t],
    }


def issuer(agency: Agency, *, issuer_url: str, homepage: str, email: str) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "Issuer",
        "id": issuer_url,
        "name": agency.name,
        "url": homepage,
        "email": email,
    }


def image_title(course_id: int) -> str | None:
    """The title a course's public badge image shows, or None when there is no image to show.

    The image is public and needs no code, so it exists only for a course that is published
    and has issued at least one certificate that is not revoked. An expired one counts: the
    image belongs to the badge class, and its badges were really issued (each assertion says
    when it expires). Anything else (a draft, another agency's unpublished work, a course
    nobody earned or whose every certificate was revoked) answers exactly like a missing
    course. The title is the newest published version's, never a draft's.
    """
    return db.session.scalar(
        select(CourseVersion.title)
        .where(
            CourseVersion.course_id == course_id,
            CourseVersion.status == "published",
            select(Certificate.id)
            .where(Certificate.course_id == course_id, Certificate.revoked_at.is_(None))
            .exists(),
        )
        .order_by(CourseVersion.number.desc())
        .limit(1)
    )
