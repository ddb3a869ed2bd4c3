"""Routes of the learn area: my training, course pages, items, certificates, transcript."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.access import roles_required, scoped_or_404
from lms.course_format import BUILTIN_COURSES_DIR
from lms.downloads import attachment
from lms.extensions import db
from lms.learn import bp
from lms.learn.forms import CheckForm, LessonDoneForm, ReissueForm, RevokeForm
from lms.models import Agency, Assignment, Attempt, Certificate, Role, User
from lms.navigation import register
from lms.public_urls import public_url
from lms.services import badges, certificates, learning, transcript
from lms.services.scoping import scoped

register("My training", "learn.my_training", Role.OFFICER, order=10)
register("Transcript", "learn.transcript", Role.OFFICER, order=11)
register("Certificates", "learn.agency_certificates", Role.COORDINATOR, order=40)

# A registry, not a switch: the template that shows each item kind.
ITEM_TEMPLATES = {
    "lesson": "learn/item_lesson.html",
    "knowledge_check": "learn/item_check.html",
    "scenario": "learn/item_scenario.html",
}


def _may_oversee(user: User) -> bool:
    return user.has_role(Role.COORDINATOR) or user.is_platform_admin


def _assignment_or_404(assignment_id: int) -> Assignment:
    """The officer's own assignment; coordinators and admins may look at their agency's."""
    assignment = scoped_or_404(Assignment, assignment_id)
    if assignment.user_id != current_user.id and not _may_oversee(current_user):
        abort(404)
    return assignment


def _own_assignment_or_404(assignment_id: int) -> Assignment:
    assignment = _assignment_or_404(assignment_id)
    if assignment.user_id != current_user.id:
        abort(404)
    return assignment


def _certificate_or_404(certificate_id: int) -> Certificate:
    certificate = scoped_or_404(Certificate, certificate_id)
    if certificate.user_id != current_user.id and not _may_oversee(current_user):
        abort(404)
    return certificate


def _agency_name(agency_id: int | None) -> str:
    agency = db.session.get(Agency, agency_id) if agency_id is not None else None
    return agency.name if agency else ""


# --- my training -----------------------------------------------------------------------


@bp.route("/")
def my_training():
    # Opportunistic recertification: open renewal windows become assignments right away.
    if certificates.renew_due(user=current_user):
        db.session.commit()
    courses = [learning.progress(a) for a in learning.assignments_for(current_user)]
    return render_template(
        "learn/my_training.html",
        open_courses=[p for p in courses if p.assignment.status == "assigned"],
        done_courses=[p for p in courses if p.assignment.status == "completed"],
        certificates=certificates.certificates_for(current_user),
        status_of=certificates.status_of,
    )


@bp.route("/assignments/<int:assignment_id>")
def assignment(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    return render_template(
        "learn/course.html",
        p=learning.progress(assignment),
        learner=db.session.get(User, assignment.user_id),
        own=assignment.user_id == current_user.id,
    )


@bp.route("/assignments/<int:assignment_id>/sources")
def course_sources(assignment_id: int):
    """The course's "Sources and further reading": anyone who may see the course page."""
    assignment = _assignment_or_404(assignment_id)
    return render_template(
        "learn/course_sources.html",
        assignment=assignment,
        spec=learning.spec_for(assignment),
        own=assignment.user_id == current_user.id,
    )


@bp.route("/assignments/<int:assignment_id>/resume")
def resume(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    following = learning.progress(assignment).next_item
    if following is None:
        return redirect(url_for("learn.assignment", assignment_id=assignment.id))
    return redirect(url_for("learn.item", assignment_id=assignment.id, item_slug=following.item.slug))


def _item_context(assignment: Assignment, item_slug: str):
    try:
        module, item = learning.item_of(assignment, item_slug)
    except learning.UnknownItem:
        abort(404)
    p = learning.progress(assignment)
    return p, p.items[item.slug]


def _render_item(assignment: Assignment, item_slug: str, *, status: int = 200, **extra):
    p, entry = _item_context(assignment, item_slug)
    item = entry.item
    order = list(p.items)
    index = order.index(item.slug)
    context = {
        "p": p,
        "entry": entry,
        "item": item,
        "own": assignment.user_id == current_user.id,
        "previous": p.items[order[index - 1]] if index > 0 else None,
        "following": p.items[order[index + 1]] if index + 1 < len(order) else None,
    }
    if item.kind == "knowledge_check":
        attempts = learning.check_attempts(assignment, item.slug)
        shown = None
        wanted = request.args.get("attempt", type=int)
        if wanted is not None:
            shown = next((a for a in attempts if a.number == wanted), None)
        # The answer key: once passed or out of attempts; staff looking on see it all along.
        reveal = entry.reveals_answers or assignment.user_id != current_user.id
        number = len(attempts) + 1
        context.update(
            attempts=attempts,
            shown_attempt=shown,
            feedback=learning.attempt_feedback(item, shown, reveal=reveal) if shown else None,
            reveal=reveal,
            number=number,
            questions=learning.presented(assignment, item, number),
            key=learning.display_key(assignment, item, number),
            ordering_display=learning.ordering_display,
            form=extra.pop("form", None) or CheckForm(),
        )
    elif item.kind == "scenario":
        context["scenario_attempts"] = db.session.scalars(
            select(Attempt)
            .where(Attempt.assignment_id == assignment.id, Attempt.item_slug == item.slug)
            .order_by(Attempt.number)
        ).all()
    else:
        context["form"] = LessonDoneForm()
    context.update(extra)
    return render_template(ITEM_TEMPLATES[item.kind], **context), status


@bp.route("/assignments/<int:assignment_id>/items/<item_slug>")
def item(assignment_id: int, item_slug: str):
    assignment = _assignment_or_404(assignment_id)
    return _render_item(assignment, item_slug)


@bp.route("/assignments/<int:assignment_id>/items/<item_slug>/done", methods=["POST"])
def lesson_done(assignment_id: int, item_slug: str):
    assignment = _own_assignment_or_404(assignment_id)
    _item_context(assignment, item_slug)  # 404 for an unknown item
    if not LessonDoneForm().validate_on_submit():
        abort(400)
    try:
        completion = learning.mark_lesson_read(current_user, assignment, item_slug)
    except learning.LearningError as error:
        flash(str(error), "error")
        return redirect(url_for("learn.item", assignment_id=assignment.id, item_slug=item_slug))
    db.session.commit()
    if completion is not None:
        flash("Course complete. Your certificate is ready.", "success")
        return redirect(url_for("learn.assignment", assignment_id=assignment.id))
    return redirect(url_for("learn.resume", assignment_id=assignment.id))


@bp.route("/assignments/<int:assignment_id>/items/<item_slug>/check", methods=["POST"])
def submit_check(assignment_id: int, item_slug: str):
    assignment = _own_assignment_or_404(assignment_id)
    _, entry = _item_context(assignment, item_slug)
    form = CheckForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for("learn.item", assignment_id=assignment.id, item_slug=item_slug)
    try:
        outcome = learning.submit_check_form(current_user, assignment, item_slug, request.form)
    except learning.InvalidAnswers as error:
        return _render_item(
            assignment, item_slug, status=400, form=form, errors=error.errors, submitted=request.form
        )
    except learning.LearningError as error:
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    attempt = outcome.attempt
    if outcome.completion is not None:
        flash(f"You passed with {attempt.score:g}%. Course complete: your certificate is ready.", "success")
    elif outcome.item_passed:
        flash(f"You passed with {attempt.score:g}%.", "success")
    else:
        flash(f"You scored {attempt.score:g}%; the pass mark is {entry.item.pass_mark}%.", "warning")
    return redirect(
        url_for("learn.item", assignment_id=assignment.id, item_slug=item_slug, attempt=attempt.number)
    )


@bp.route("/images/<path:filename>")
def content_image(filename: str):
    """Images of the built-in courses, referenced from lessons as images/<name>."""
    return send_from_directory(BUILTIN_COURSES_DIR / "images", filename, max_age=3600)


# --- certificates ------------------------------------------------------------------------


@bp.route("/certificates/<int:certificate_id>")
def certificate(certificate_id: int):
    cert = _certificate_or_404(certificate_id)
    manage = _may_oversee(current_user)
    return render_template(
        "learn/certificate.html",
        cert=cert,
        info=certificates.facts(cert, _agency_name(cert.agency_id)),
        verify_url=public_url("verify.certificate", code=cert.code),
        backpack_email=badges.backpack_email(db.session.get(User, cert.user_id)),
        history=certificates.history(cert),
        manage=manage,
        revoke_form=RevokeForm(prefix="revoke") if manage else None,
        reissue_form=ReissueForm(prefix="reissue", data={"recipient_name": cert.recipient_name})
        if manage
        else None,
    )


@bp.route("/certificates/<int:certificate_id>/certificate.pdf")
def certificate_pdf(certificate_id: int):
    cert = _certificate_or_404(certificate_id)
    pdf = certificates.render_pdf(
        certificates.facts(cert, _agency_name(cert.agency_id)),
        public_url("verify.certificate", code=cert.code),
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": attachment(f"certificate-{cert.id}.pdf")},
    )


@bp.route("/certificates/<int:certificate_id>/qr.svg")
def certificate_qr(certificate_id: int):
    cert = _certificate_or_404(certificate_id)
    svg = certificates.qr_svg(public_url("verify.certificate", code=cert.code))
    return Response(svg, mimetype="image/svg+xml")


def _certificate_form_failed(cert: Certificate, form) -> Response:
    for name, messages in form.errors.items():
        label = form[name].label.text if name in form else "Form"
        for message in messages:
            flash(f"{label}: {message}", "error")
    return redirect(url_for("learn.certificate", certificate_id=cert.id))


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
@roles_required(Role.COORDINATOR)
def revoke_certificate(certificate_id: int):
    cert = _certificate_or_404(certificate_id)
    form = RevokeForm(prefix="revoke")
    if not form.validate_on_submit():
        return _certificate_form_failed(cert, form)
    try:
        certificates.revoke(current_user, cert, form.reason.data)
    except certificates.CertificateError as error:
        flash(str(error), "error")
        return redirect(url_for("learn.certificate", certificate_id=cert.id))
    db.session.commit()
    flash("Certificate revoked. The verification page and the badge now show it as revoked.", "success")
    return redirect(url_for("learn.certificate", certificate_id=cert.id))


@bp.route("/certificates/<int:certificate_id>/reissue", methods=["POST"])
@roles_required(Role.COORDINATOR)
def reissue_certificate(certificate_id: int):
    cert = _certificate_or_404(certificate_id)
    form = ReissueForm(prefix="reissue")
    if not form.validate_on_submit():
        return _certificate_form_failed(cert, form)
    try:
        new = certificates.reissue(
            current_user, cert, recipient_name=form.recipient_name.data, reason=form.reason.data
        )
    except certificates.CertificateError as error:
        flash(str(error), "error")
        return redirect(url_for("learn.certificate", certificate_id=cert.id))
    db.session.commit()
    flash("Certificate reissued with a new verification code; the old one shows as replaced.", "success")
    return redirect(url_for("learn.certificate", certificate_id=new.id))


@bp.route("/agency/certificates")
@roles_required(Role.COORDINATOR)
def agency_certificates():
    q = (request.args.get("q") or "").strip()[:100]
    stmt = scoped(Certificate, current_user).order_by(Certificate.issued_on.desc(), Certificate.id.desc())
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            db.func.lower(Certificate.recipient_name).like(like)
            | db.func.lower(Certificate.course_title).like(like)
        )
    rows = db.session.scalars(stmt.limit(200)).all()
    return render_template(
        "learn/agency_certificates.html", certificates=rows, q=q, status_of=certificates.status_of
    )


# --- transcript --------------------------------------------------------------------------


@bp.route("/transcript", endpoint="transcript")
def transcript_page():
    return render_template(
        "learn/transcript.html",
        t=transcript.transcript_for(current_user),
        today=date.today(),
        csv_url=url_for("learn.transcript_csv"),
    )


def _csv(person: User) -> Response:
    body = transcript.transcript_csv(transcript.transcript_for(person, course_times=False))
    filename = f"ripple-transcript-{person.badge_number or person.id}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": attachment(filename)})


@bp.route("/transcript.csv")
def transcript_csv():
    return _csv(current_user)


@bp.route("/people/<int:user_id>/training")
@roles_required(Role.COORDINATOR)
def person_training(user_id: int):
    """A coordinator's view of one officer: assignments with progress, and the transcript."""
    person = scoped_or_404(User, user_id)
    return render_template(
        "learn/transcript.html",
        t=transcript.transcript_for(person),
        today=date.today(),
        courses=[learning.progress(a) for a in learning.assignments_for(person)],
        csv_url=url_for("learn.person_transcript_csv", user_id=person.id),
    )


@bp.route("/people/<int:user_id>/transcript.csv")
@roles_required(Role.COORDINATOR)
def person_transcript_csv(user_id: int):
    return _csv(scoped_or_404(User, user_id))
