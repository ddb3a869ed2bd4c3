"""Public certificate verification and the Open Badges 2.0 hosted documents.

No sign-in: anyone holding a certificate's code (printed on it, in its QR code) may check
it. The page shows the essential facts and nothing more personal than the name on it.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from lms import dates
from lms.access import public
from lms.extensions import db
from lms.models import Agency, Completion, Course, CourseVersion, User
from lms.public_urls import public_url
from lms.services import badges, catalog, certificates
from lms.verify import bp, public_budget


def _json(document: dict, status: int = 200) -> Response:
    response = jsonify(document)
    response.status_code = status
    response.headers["Access-Control-Allow-Origin"] = "*"  # badge validators fetch cross-origin
    return response


def _badge_url(agency_id: int, course_id: int) -> str:
    return public_url("verify.badge_class", agency_id=agency_id, course_id=course_id)


@bp.route("/verify/")
@public
@public_budget
def lookup():
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("verify.certificate", code=code))
    return render_template("verify/lookup.html")


@bp.route("/verify/<code>")
@public
@public_budget
def certificate(code: str):
    cert = certificates.find_by_code(code)
    if cert is None:
        return render_template("verify/not_found.html", code=code[:80]), 404
    agency = db.session.get(Agency, cert.agency_id)
    dates.use(agency)  # the issuing agency's way of writing dates, for everyone who checks
    replacement = None
    if cert.revoked_at is not None:
        replacement = next((c for c in certificates.history(cert) if c.replaces_id == cert.id), None)
    return render_template(
        "verify/certificate.html",
        cert=cert,
        info=certificates.facts(cert, agency.name if agency else ""),
        today=date.today(),
        replaced=replacement is not None,
        assertion_url=public_url("verify.assertion", code=cert.code),
    )


@bp.route("/badges/assertions/<code>")
@public
@public_budget
def assertion(code: str):
    cert = certificates.find_by_code(code)
    if cert is None:
        return _json({"error": "No certificate has this code."}, 404)
    url = public_url("verify.assertion", code=cert.code)
    if cert.revoked_at is not None:
        return _json(badges.revoked_assertion(cert, assertion_url=url), 410)
    user = db.session.get(User, cert.user_id)
    return _json(
        badges.assertion(
            cert,
            user,
            assertion_url=url,
            badge_url=_badge_url(cert.agency_id, cert.course_id),
            verify_url=public_url("verify.certificate", code=cert.code),
            person_url=public_url("agency.person", user_id=user.id),
        )
    )


def _offered(agency_id: int, course_id: int) -> tuple[Agency, Course, CourseVersion]:
    agency = db.session.get(Agency, agency_id)
    course = db.session.get(Course, course_id)
    if agency is None or course is None or course.agency_id not in (None, agency.id):
        abort(404)
    # The version the agency's certificates were earned on (newest), else the published one.
    version = db.session.scalar(
        select(CourseVersion)
        .join(Completion, Completion.course_version_id == CourseVersion.id)
        .where(Completion.course_id == course.id, Completion.agency_id == agency.id)
        .order_by(CourseVersion.number.desc())
        .limit(1)
    ) or catalog.published_version(course)
    if version is None:
        abort(404)
    return agency, course, version


@bp.route("/badges/agencies/<int:agency_id>/courses/<int:course_id>")
@public
@public_budget
def badge_class(agency_id: int, course_id: int):
    agency, course, version = _offered(agency_id, course_id)
    hours = certificates.hours_text(version.credit_hours)
    return _json(
        badges.badge_class(
            course,
            version,
            badge_url=_badge_url(agency.id, course.id),
            image_url=public_url("verify.badge_image", course_id=course.id),
            criteria_narrative=(
                f"Complete every required lesson, knowledge check and graded scenario of "
                f"{version.title} ({hours}), passing each at its pass mark."
            ),
            issuer_url=public_url("verify.issuer", agency_id=agency.id),
        )
    )


@bp.route("/badges/courses/<int:course_id>/image.svg")
@public
@public_budget
def badge_image(course_id: int):
    title = badges.image_title(course_id)
    if title is None:
        abort(404)
    svg = render_template("verify/badge.svg", title=title)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@bp.route("/badges/agencies/<int:agency_id>")
@public
@public_budget
def issuer(agency_id: int):
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        abort(404)
    return _json(
        badges.issuer(
            agency,
            issuer_url=public_url("verify.issuer", agency_id=agency.id),
            homepage=public_url("verify.lookup"),
            email=current_app.config["BADGE_ISSUER_EMAIL"],
        )
    )
