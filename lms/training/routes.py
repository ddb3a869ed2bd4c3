"""Training records and standards pages (coordinators): sessions, the unit hours table and
printable course files. Thin: the form validates, one service call, render or redirect."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.access import agency_or_404, roles_required, scoped_or_404
from lms.downloads import attachment
from lms.extensions import db
from lms.input import page_arg, parse_id
from lms.models import DELIVERY_METHODS, Agency, Course, Role, TrainingSession
from lms.services import catalog, roster, standards, training_records
from lms.training import bp
from lms.training.forms import EditSessionForm, SessionForm, VoidForm
from lms.wording import quantity

STAFF = (Role.COORDINATOR,)
PER_PAGE = 50


def _session_or_404(agency: Agency, session_id: int) -> TrainingSession:
    return scoped_or_404(TrainingSession, session_id, agency=agency)


def _choices(form: SessionForm, agency: Agency) -> None:
    courses = db.session.scalars(catalog.courses_offered_to(agency.id).order_by(Course.title))
    form.course.choices = [("", "No course: a title of its own")] + [(str(c.id), c.title) for c in courses]
    form.unit.choices = [("", "No unit: badge numbers only")] + [
        (str(u.id), "\u2003" * depth + u.name) for u, depth, _ in roster.unit_tree(agency)
    ]


def _spec(form: SessionForm) -> training_records.SessionSpec:
    upload = form.sheet.data
    sheet = (upload.filename or "", upload.read()) if upload and getattr(upload, "filename", "") else None
    return training_records.SessionSpec(
        title=form.title.data or "",
        course_id=parse_id(form.course.data, "course"),
        description=form.description.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        hours=float(form.hours.data),
        category=form.category.data or "",
        delivery=form.delivery.data,
        provider=form.provider.data or "",
        instructor=form.instructor.data or "",
        location=form.location.data or "",
        unit_id=parse_id(form.unit.data, "unit"),
        badges=form.badges.data or "",
        sheet=sheet,
    )


@bp.route("/agencies/<int:agency_id>/training")
@roles_required(*STAFF)
def sessions(agency_id: int):
    agency = agency_or_404(agency_id)
    page = page_arg()
    rows = training_records.sessions_of(agency, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return render_template(
        "training/sessions.html",
        agency=agency,
        rows=rows[:PER_PAGE],
        page=page,
        has_next=len(rows) > PER_PAGE,
        deliveries=DELIVERY_METHODS,
    )


@bp.route("/agencies/<int:agency_id>/training/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def record(agency_id: int):
    agency = agency_or_404(agency_id)
    form = SessionForm()
    _choices(form, agency)
    if form.validate_on_submit():
        try:
            session = training_records.record_session(current_user, agency, _spec(form))
        except training_records.TrainingRecordError as error:
            form[error.field or "title"].errors.append(str(error))
        else:
            db.session.commit()
            flash(
                f"“{session.title}” recorded for {quantity(len(session.attendances), 'attendee')}.", "success"
            )
            return redirect(url_for("training.session", agency_id=agency.id, session_id=session.id))
    status = 400 if request.method == "POST" else 200
    return render_template("training/session_form.html", agency=agency, form=form, session=None), status


@bp.route("/agencies/<int:agency_id>/training/sessions/<int:session_id>")
@roles_required(*STAFF)
def session(agency_id: int, session_id: int):
    agency = agency_or_404(agency_id)
    found = _session_or_404(agency, session_id)
    return render_template(
        "training/session.html",
        agency=agency,
        session=found,
        file=standards.session_file(found),
        void_form=VoidForm(),
        deliveries=DELIVERY_METHODS,
    )


@bp.route("/agencies/<int:agency_id>/training/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(agency_id: int, session_id: int):
    agency = agency_or_404(agency_id)
    found = _session_or_404(agency, session_id)
    if found.voided_at is not None:
        flash("This session was voided; it cannot be edited.", "error")
        return redirect(url_for("training.session", agency_id=agency.id, session_id=found.id))
    form = EditSessionForm(obj=found) if request.method == "GET" else EditSessionForm()
    _choices(form, agency)
    if request.method == "GET":
        form.course.data = str(found.course_id or "")
        form.unit.data = ""
        form.badges.data = "\n".join(
            sorted(a.user.badge_number for a in found.attendances if a.user.badge_number)
        )
    if form.validate_on_submit():
        try:
            training_records.update_session(current_user, found, _spec(form), form.reason.data)
        except training_records.TrainingRecordError as error:
            form[error.field or "title"].errors.append(str(error))
        else:
            db.session.commit()
            flash(f"“{found.title}” saved.", "success")
            return redirect(url_for("training.session", agency_id=agency.id, session_id=found.id))
    status = 400 if request.method == "POST" else 200
    return render_template("training/session_form.html", agency=agency, form=form, session=found), status


@bp.route("/agencies/<int:agency_id>/training/sessions/<int:session_id>/void", methods=["POST"])
@roles_required(*STAFF)
def void(agency_id: int, session_id: int):
    agency = agency_or_404(agency_id)
    found = _session_or_404(agency, session_id)
    form = VoidForm()
    if not form.validate_on_submit():
        for message in form.reason.errors or ["Give a reason; it is kept in the audit log."]:
            flash(message, "error")
        return redirect(url_for("training.session", agency_id=agency.id, session_id=found.id)), 303
    try:
        training_records.void_session(current_user, found, form.reason.data)
    except training_records.TrainingRecordError as error:
        flash(str(error), "error")
        return redirect(url_for("training.session", agency_id=agency.id, session_id=found.id)), 303
    db.session.commit()
    flash(f"“{found.title}” voided: its hours no longer count for anyone.", "success")
    return redirect(url_for("training.session", agency_id=agency.id, session_id=found.id))


@bp.route("/agencies/<int:agency_id>/training/sessions/<int:session_id>/sign-in-sheet")
@roles_required(*STAFF)
def sign_in_sheet(agency_id: int, session_id: int):
    agency = agency_or_404(agency_id)
    found = _session_or_404(agency, session_id)
    if not found.sheet_data:
        abort(404)
    response = current_app.response_class(
        found.sheet_data, mimetype=found.sheet_type or "application/octet-stream"
    )
    # Always a download, never run as a page of ours: an uploaded file is the uploader's content.
    response.headers["Content-Disposition"] = attachment(found.sheet_name or "sign-in-sheet")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.route("/agencies/<int:agency_id>/training/sessions/<int:session_id>/file")
@roles_required(*STAFF)
def session_file(agency_id: int, session_id: int):
    agency = agency_or_404(agency_id)
    found = _session_or_404(agency, session_id)
    return render_template(
        "training/course_file.html", agency=agency, file=standards.session_file(found), session=found
    )


@bp.route("/agencies/<int:agency_id>/training/courses/<int:course_id>/file")
@roles_required(*STAFF)
def course_file(agency_id: int, course_id: int):
    agency = agency_or_404(agency_id)
    course = db.session.scalar(catalog.courses_offered_to(agency.id).where(Course.id == course_id))
    if course is None:
        abort(404)
    return render_template(
        "training/course_file.html", agency=agency, file=standards.course_file(agency, course), session=None
    )


@bp.route("/agencies/<int:agency_id>/standards")
@roles_required(*STAFF)
def standards_table(agency_id: int):
    agency = agency_or_404(agency_id)
    delivered = db.session.scalars(
        catalog.courses_offered_to(agency.id).where(Course.id.in_(standards.delivered_course_ids(agency)))
        .order_by(Course.title)
    ).all()  # fmt: skip
    return render_template(
        "training/standards.html", agency=agency, table=standards.unit_table(agency), courses=delivered
    )
