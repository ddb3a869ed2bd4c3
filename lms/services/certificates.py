"""Certificates: issuing, verifying, revoking, reissuing, renewing, and the PDF.

A certificate is never edited or deleted. Revocation is recorded on it; a correction is a
new certificate that names the one it replaces (which is revoked, so only one is valid);
a renewal is a new certificate whose expiry extends from the old one's.
"""

from __future__ import annotations

import calendar
import io
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from sqlalchemy import select

from lms import dates
from lms.extensions import db
from lms.input import text_problem, visible_text
from lms.models import Assignment, Certificate, Completion, CourseVersion, User
from lms.models.types import utcnow
from lms.services import audit, catalog

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REASON_MAX = 500


class CertificateError(Exception):
    """A certificate action that cannot be done; the message is meant for the user."""


def new_code() -> str:
    """An unguessable verification code (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the end of a shorter month (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def status_of(certificate: Certificate, today: date | None = None) -> str:
    """valid | expired | revoked"""
    if certificate.revoked_at is not None:
        return "revoked"
    today = today or date.today()
    if certificate.expires_on is not None and certificate.expires_on < today:
        return "expired"
    return "valid"


def not_renewed():
    """A WHERE clause on Certificate: it has not been renewed, i.e. no newer unrevoked
    certificate of the same person replaces it or is for the same course or its renewal course.

    A renewed certificate's expiry is no longer anything to act on, so the expiring figures
    leave it out (the renewal certificate counts instead). Which course renews which is read
    first (a handful of rows), so the clause holds no subquery per certificate.
    """
    from sqlalchemy import and_, exists, or_
    from sqlalchemy.orm import aliased

    from lms.models import Course

    renewals = db.session.execute(
        select(CourseVersion.course_id, Course.id)
        .join(Course, Course.slug == CourseVersion.renewal_course_slug)
        .where(CourseVersion.renewal_course_slug.is_not(None))
        .distinct()
    ).all()
    newer = aliased(Certificate)
    return ~exists().where(
        newer.user_id == Certificate.user_id,
        newer.revoked_at.is_(None),
        newer.id != Certificate.id,
        or_(
            newer.replaces_id == Certificate.id,
            and_(
                newer.id > Certificate.id,
                or_(
                    newer.course_id == Certificate.course_id,
                    *(and_(Certificate.course_id == old, newer.course_id == new) for old, new in renewals),
                ),
            ),
        ),
    )


def _version_of(certificate: Certificate) -> CourseVersion:
    # (a certificate kept after its completion was withdrawn still names its course version)
    completion = db.session.get(
        Completion, certificate.completion_id, execution_options={"include_withdrawn": True}
    )
    return db.session.get(CourseVersion, completion.course_version_id)


def _renewed_certificate(completion: Completion, version: CourseVersion) -> Certificate | None:
    """The officer's certificate that this completion renews: one whose course names this
    course as its renewal. The latest-expiring one if several."""
    candidates = db.session.execute(
        select(Certificate, CourseVersion)
        .join(Completion, Certificate.completion_id == Completion.id)
        .join(CourseVersion, Completion.course_version_id == CourseVersion.id)
        .where(
            Certificate.user_id == completion.user_id,
            Certificate.revoked_at.is_(None),
            Certificate.expires_on.is_not(None),
            Certificate.completion_id != completion.id,
            CourseVersion.renewal_course_slug == version.course.slug,
        )
    ).all()
    certs = [cert for cert, _ in candidates]
    return max(certs, key=lambda c: (c.expires_on, c.id)) if certs else None


def issue_for_completion(actor: User | None, completion: Completion) -> Certificate:
    """Issue the certificate a completion earns (the caller records the completion once).

    Expiry: the course's validity in months from the issue date; for a renewal, from the old
    certificate's expiry if it has not passed yet, so renewing early loses nothing.
    """
    version = db.session.get(CourseVersion, completion.course_version_id)
    user = db.session.get(User, completion.user_id)
    issued_on = completion.completed_at.date()
    expires_on = None
    renews = _renewed_certificate(completion, version)
    if version.certificate_valid_months is not None:
        start = issued_on
        if renews is not None and renews.expires_on >= issued_on:
            start = renews.expires_on
        expires_on = add_months(start, version.certificate_valid_months)
    certificate = Certificate(
        agency_id=completion.agency_id,
        user_id=completion.user_id,
        course_id=completion.course_id,
        completion_id=completion.id,
        code=new_code(),
        recipient_name=user.name,
        course_title=version.title,
        credit_hours=version.credit_hours,
        issued_on=issued_on,
        expires_on=expires_on,
    )
    db.session.add(certificate)
    db.session.flush()
    summary = f"Certificate for {version.title} issued to {user.name}"
    if renews is not None:
        summary += f", renewing certificate {renews.id}"
    audit.record(actor, "certificate.issued", certificate, summary=summary)
    return certificate


def standing_for(completion: Completion) -> Certificate | None:
    """The completion's certificate that is not revoked (the newest, after reissues), if any."""
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.completion_id == completion.id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.id.desc())
        .limit(1)
    )


def keep(actor: User, certificate: Certificate, reason: str) -> Certificate:
    """Keep a certificate although the completion it was issued for was withdrawn: the
    decision and its reason are recorded in the audit log; the certificate stays valid."""
    reason = clean_reason(reason)
    audit.record(
        actor,
        "certificate.kept",
        certificate,
        summary=f"Certificate {certificate.code} of {certificate.recipient_name} kept: {reason}",
        after={"kept_reason": reason},
    )
    return certificate


def find_by_code(code: str) -> Certificate | None:
    """The certificate with this verification code (public lookup: no agency scoping)."""
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def clean_reason(reason: str | None) -> str:
    reason = visible_text(reason)
    if not reason:
        raise CertificateError("Reason: give a reason; it is shown on the verification page.")
    if len(reason) > REASON_MAX:
        raise CertificateError(f"Reason: use at most {REASON_MAX} characters.")
    return reason


def revoke(actor: User, certificate: Certificate, reason: str) -> Certificate:
    """Revoke a certificate with a reason (audit-logged). A revoked certificate stays revoked."""
    reason = clean_reason(reason)
    if certificate.revoked_at is not None:
        raise CertificateError("This certificate is already revoked.")
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    certificate.revoked_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        "certificate.revoked",
        certificate,
        summary=f"Certificate {certificate.id} of {certificate.recipient_name} revoked: {reason}",
        after={"revoked_reason": reason},
    )
    return certificate


def reissue(actor: User, certificate: Certificate, *, recipient_name: str, reason: str) -> Certificate:
    """Replace a certificate after a correction: the old one is revoked (history kept) and a new
    one with a new code, naming the one it replaces, keeps the dates of the original."""
    reason = clean_reason(reason)
    name = (recipient_name or "").strip()
    if not name:
        raise CertificateError("Name on the certificate: enter the name to print.")
    problem = text_problem(Certificate.recipient_name, name)
    if problem:
        raise CertificateError(f"Name on the certificate: it {problem}.")
    if certificate.revoked_at is not None:
        raise CertificateError("A revoked certificate cannot be reissued; reissue its replacement instead.")
    revoke(actor, certificate, f"Replaced by a corrected certificate: {reason}")
    replacement = Certificate(
        agency_id=certificate.agency_id,
        user_id=certificate.user_id,
        course_id=certificate.course_id,
        completion_id=certificate.completion_id,
        code=new_code(),
        recipient_name=name,
        course_title=certificate.course_title,
        credit_hours=certificate.credit_hours,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        replaces_id=certificate.id,
    )
    db.session.add(replacement)
    db.session.flush()
    audit.record(
        actor,
        "certificate.reissued",
        replacement,
        summary=f"Certificate {certificate.id} reissued as {replacement.id}: {reason}",
        before={"recipient_name": certificate.recipient_name},
        after={"recipient_name": name},
    )
    return replacement


def history(certificate: Certificate) -> list[Certificate]:
    """The certificate and those it replaced, newest first, and any that replaced it, first."""
    chain = [certificate]
    seen = {certificate.id}
    current = certificate
    while current.replaces_id is not None and current.replaces_id not in seen:
        current = db.session.get(Certificate, current.replaces_id)
        chain.append(current)
        seen.add(current.id)
    current = certificate
    while True:
        newer = db.session.scalar(select(Certificate).where(Certificate.replaces_id == current.id))
        if newer is None or newer.id in seen:
            break
        chain.insert(0, newer)
        seen.add(newer.id)
        current = newer
    return chain


def certificates_for(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        )
    )


# --- recertification ---------------------------------------------------------------


def _root_created_at(certificate: Certificate):
    current = certificate
    while current.replaces_id is not None:
        current = db.session.get(Certificate, current.replaces_id)
    return current.created_at


def renew_due(today: date | None = None, *, user: User | None = None) -> list[Assignment]:
    """Assign the renewal course to everyone whose certificate's renewal window has opened.

    Idempotent: a certificate already renewed (a newer certificate of the same course or its
    renewal course), or whose renewal was already assigned, is skipped. Due date: the expiry.
    A certificate kept when its completion was withdrawn is renewed too (it is still valid).
    """
    from lms.services import learning

    today = today or date.today()
    stmt = (
        select(Certificate, CourseVersion)
        .join(Completion, Certificate.completion_id == Completion.id)
        .join(CourseVersion, Completion.course_version_id == CourseVersion.id)
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.expires_on.is_not(None),
            CourseVersion.renewal_course_slug.is_not(None),
        )
        .order_by(Certificate.id)
        # A certificate kept although its completion was withdrawn is still valid, so it
        # is renewed like any other: the join must see the withdrawn completion.
        .execution_options(include_withdrawn=True)
    )
    if user is not None:
        stmt = stmt.where(Certificate.user_id == user.id)
    created: list[Assignment] = []
    for certificate, version in db.session.execute(stmt).all():
        opens_on = certificate.expires_on - timedelta(days=version.renewal_window_days or 0)
        if today < opens_on or not certificate.user.active:
            continue
        course = catalog.course_by_slug(version.renewal_course_slug, certificate.agency_id)
        if course is None or catalog.published_version(course) is None:
            continue
        since = _root_created_at(certificate)
        newer = db.session.scalar(
            select(Certificate.id).where(
                Certificate.user_id == certificate.user_id,
                Certificate.revoked_at.is_(None),
                Certificate.id != certificate.id,
                Certificate.created_at > since,
                Certificate.course_id.in_([course.id, certificate.course_id]),
            )
        )
        if newer is not None:
            continue
        assigned = db.session.scalar(
            select(Assignment.id).where(
                Assignment.user_id == certificate.user_id,
                Assignment.course_id == course.id,
                (Assignment.status == "assigned") | (Assignment.assigned_at >= since),
            )
        )
        if assigned is not None:
            continue
        created.append(
            learning.assign_course(
                None, certificate.user, course, due_on=certificate.expires_on, source="renewal"
            )
        )
    return created


# --- the QR code and the PDF -------------------------------------------------------------


def qr_svg(url: str, *, border: int = 4) -> str:
    """A QR code of `url` as a small SVG (presentation attributes only, so CSP-safe)."""
    from reportlab.graphics.barcode.qr import QrCodeWidget

    widget = QrCodeWidget(url)
    widget.qr.make()
    modules = widget.qr.modules
    size = len(modules) + 2 * border
    path = "".join(
        f"M{c + border},{r + border}h1v1h-1z"
        for r, row in enumerate(modules)
        for c, dark in enumerate(row)
        if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img"><title>QR code: {escape(url)}</title>'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate shows, in words, shared by the page, the PDF and verification."""

    recipient_name: str
    agency_name: str
    course_title: str
    credit_hours: float
    issued_on: date
    expires_on: date | None
    status: str
    code: str


def facts(certificate: Certificate, agency_name: str, today: date | None = None) -> CertificateFacts:
    return CertificateFacts(
        recipient_name=certificate.recipient_name,
        agency_name=agency_name,
        course_title=certificate.course_title,
        credit_hours=certificate.credit_hours,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        status=status_of(certificate, today),
        code=certificate.code,
    )


def hours_text(hours: float) -> str:
    return f"{hours:g} credit hour{'' if hours == 1 else 's'}"


def render_pdf(info: CertificateFacts, verify_url: str) -> bytes:
    """A one-page landscape certificate with a QR code linking to `verify_url`."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    width, height = landscape(letter)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"Certificate: {info.course_title}")
    pdf.setAuthor(info.agency_name)
    pdf.setSubject(f"Verify at {verify_url}")
    brand = HexColor("#143a6b")
    pdf.setStrokeColor(brand)
    pdf.setLineWidth(6)
    pdf.rect(30, 30, width - 60, height - 60)
    pdf.setLineWidth(1)
    pdf.rect(42, 42, width - 84, height - 84)

    centre = width / 2
    pdf.setFillColor(brand)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawCentredString(centre, height - 95, info.agency_name.upper())
    pdf.setFont("Times-Bold", 34)
    pdf.drawCentredString(centre, height - 150, "Certificate of Completion")
    pdf.setFillColor(HexColor("#1b2330"))
    pdf.setFont("Helvetica", 13)
    pdf.drawCentredString(centre, height - 190, "This certifies that")
    pdf.setFont("Times-Bold", 28)
    pdf.drawCentredString(centre, height - 230, info.recipient_name)
    pdf.setFont("Helvetica", 13)
    pdf.drawCentredString(centre, height - 265, "has completed")
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawCentredString(centre, height - 295, info.course_title)
    pdf.setFont("Helvetica", 12)
    pdf.drawCentredString(centre, height - 322, hours_text(info.credit_hours))

    pdf.setFont("Helvetica", 11)
    left = 80
    pdf.drawString(left, 150, f"Issued: {dates.day(info.issued_on)}")
    pdf.drawString(
        left, 132, f"Expires: {dates.day(info.expires_on)}" if info.expires_on else "Does not expire"
    )
    pdf.drawString(left, 114, f"Verification code: {info.code}")
    pdf.setFont("Helvetica", 9)
    pdf.drawString(left, 96, f"Check this certificate at {verify_url}")
    if info.status != "valid":
        pdf.setFillColor(HexColor("#a4161a"))
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(left, 175, info.status.upper())

    widget = QrCodeWidget(verify_url)
    x0, y0, x1, y1 = widget.getBounds()
    size = 110
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, width - 80 - size, 80)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
