from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.access import agency_or_404, roles_required, scoped_or_404
from lms.agency import bp
from lms.agency.forms import (
    ApplyImportForm,
    DateSettingsForm,
    InviteForm,
    RolesForm,
    RosterFilterForm,
    RosterUploadForm,
    StatusForm,
)
from lms.extensions import db
from lms.input import page_arg, parse_id
from lms.models import Agency, AuditEvent, Role, RosterImport, User
from lms.models.types import utcnow
from lms.services import accounts, agency_settings, compliance, invitations, reminders, roster, roster_import
from lms.services.scoping import scoped

STAFF = (Role.COORDINATOR,)


@bp.route("/agencies/")
@roles_required(Role.ADMIN)
def agencies():
    rows = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    return render_template("agency/agencies.html", agencies=rows)


@bp.route("/agency/")
@roles_required(*STAFF)
def my_agency():
    if current_user.agency_id is None:
        return redirect(url_for("agency.agencies"))
    return redirect(url_for("agency.overview", agency_id=current_user.agency_id))


@bp.route("/agencies/<int:agency_id>/")
@roles_required(*STAFF)
def overview(agency_id: int):
    agency = agency_or_404(agency_id)
    return render_template("agency/overview.html", agency=agency, tree=roster.unit_tree(agency))


@bp.route("/agencies/<int:agency_id>/people")
@roles_required(*STAFF)
def people(agency_id: int):
    agency = agency_or_404(agency_id)
    form = RosterFilterForm(request.args)
    form.unit.choices = [("", "All units")] + [
        (str(unit.id), "\u2003" * depth + unit.name) for unit, depth, _ in roster.unit_tree(agency)
    ]
    if not form.validate():
        return render_template("agency/people.html", agency=agency, form=form, result=None), 400
    unit_id = parse_id(form.unit.data, "unit")  # a blank (or space) unit is no filter
    result = roster.search_people(
        current_user,
        agency,
        q=(form.q.data or "").strip(),
        unit_id=unit_id,
        role=form.role.data or "",
        status=form.status.data or "active",
        page=page_arg(),
    )
    return render_template(
        "agency/people.html",
        agency=agency,
        form=form,
        result=result,
        invite_form=InviteForm(),
        never_signed_in=invitations.never_signed_in_count(agency),
    )


@bp.route("/people/<int:user_id>")
@roles_required(*STAFF)
def person(user_id: int):
    person = scoped_or_404(User, user_id)
    roles_form = RolesForm(data={role.value: person.has_role(role) for role in Role})
    history = db.session.scalars(
        scoped(AuditEvent, current_user)
        .where(AuditEvent.target_type == "User", AuditEvent.target_id == person.id)
        .order_by(AuditEvent.created_at.desc())
        .limit(20)
    ).all()
    return render_template(
        "agency/person.html",
        person=person,
        roles_form=roles_form,
        status_form=StatusForm(),
        history=history,
        record=compliance.officer_record(person),
        invite_form=InviteForm(),
        not_invitable=invitations.why_not_invitable(person),
    )


def _mail_settings() -> reminders.MailSettings:
    return reminders.MailSettings.from_config(current_app.config)


def _invited_words(invited: invitations.Invited) -> str:
    sent = len(invited.sent)
    text = f"{sent} invitation{'s' if sent != 1 else ''} sent"
    if invited.skipped:
        text += (
            " (not invited: " + ", ".join(f"{n} {why}" for why, n in sorted(invited.skipped.items())) + ")"
        )
    where = "by email" if current_app.config.get("MAIL_SERVER") else "to the outbox under Reminders"
    return f"{text}, {where}." if sent else f"{text}."


@bp.route("/people/<int:user_id>/invite", methods=["POST"])
@roles_required(*STAFF)
def person_invite(user_id: int):
    person = scoped_or_404(User, user_id)
    if not InviteForm().validate_on_submit():
        abort(400)
    try:
        queued = invitations.invite(current_user, person)
    except accounts.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("agency.person", user_id=person.id))
    invitations.send([queued], _mail_settings())
    db.session.commit()
    where = "by email" if current_app.config.get("MAIL_SERVER") else "to the outbox under Reminders"
    flash(
        f"Invitation sent to {person.name} ({person.email}), {where}. The link works for 7 days.", "success"
    )
    return redirect(url_for("agency.person", user_id=person.id))


@bp.route("/agencies/<int:agency_id>/people/invite", methods=["POST"])
@roles_required(*STAFF)
def invite_never_signed_in(agency_id: int):
    agency = agency_or_404(agency_id)
    if not InviteForm().validate_on_submit():
        abort(400)
    invited, queued = invitations.invite_many(current_user, invitations.never_signed_in(agency))
    invitations.send(queued, _mail_settings())
    db.session.commit()
    flash(_invited_words(invited), "success")
    return redirect(url_for("agency.people", agency_id=agency.id))


@bp.route("/agencies/<int:agency_id>/roster/imports/<int:import_id>/invite", methods=["POST"])
@roles_required(*STAFF)
def roster_import_invite(agency_id: int, import_id: int):
    agency = agency_or_404(agency_id)
    record = scoped_or_404(RosterImport, import_id, agency=agency)
    if not InviteForm().validate_on_submit():
        abort(400)
    if record.status != "applied":
        flash(
            "This import has not been applied yet: apply it first, then invite the people it adds.", "error"
        )
        return redirect(url_for("agency.roster_import_plan", agency_id=agency.id, import_id=record.id))
    invited, queued = invitations.invite_many(current_user, invitations.added_by_import(record))
    invitations.send(queued, _mail_settings())
    db.session.commit()
    flash(_invited_words(invited), "success")
    return redirect(url_for("agency.roster_import_plan", agency_id=agency.id, import_id=record.id))


@bp.route("/people/<int:user_id>/roles", methods=["POST"])
@roles_required(*STAFF)
def person_roles(user_id: int):
    person = scoped_or_404(User, user_id)
    form = RolesForm()
    if not form.validate_on_submit():
        abort(400)
    keep_admin = {Role.ADMIN} if person.is_platform_admin else set()
    try:
        accounts.set_roles(current_user, person, form.chosen() | keep_admin)
    except accounts.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("agency.person", user_id=person.id))
    db.session.commit()
    flash(f"Roles of {person.name} saved.", "success")
    return redirect(url_for("agency.person", user_id=person.id))


@bp.route("/people/<int:user_id>/status", methods=["POST"])
@roles_required(*STAFF)
def person_status(user_id: int):
    person = scoped_or_404(User, user_id)
    form = StatusForm()
    activate = request.form.get("active") == "1"
    if not form.validate_on_submit():
        for message in form.reason.errors:
            flash(message, "error")
        return redirect(url_for("agency.person", user_id=person.id))
    try:
        roster.set_active(current_user, person, activate, form.reason.data.strip())
    except ValueError as error:
        flash(str(error), "error")
        return redirect(url_for("agency.person", user_id=person.id))
    db.session.commit()
    flash(f"{person.name} is now {'active' if activate else 'deactivated'}.", "success")
    return redirect(url_for("agency.person", user_id=person.id))


@bp.route("/agencies/<int:agency_id>/audit")
@roles_required(*STAFF)
def audit_log(agency_id: int):
    agency = agency_or_404(agency_id)
    page = page_arg()
    per_page = 50
    events = db.session.scalars(
        scoped(AuditEvent, current_user)
        .where(AuditEvent.agency_id == agency.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    ).all()
    return render_template(
        "agency/audit.html",
        agency=agency,
        events=events[:per_page],
        page=page,
        has_next=len(events) > per_page,
    )


@bp.route("/agencies/<int:agency_id>/roster/import", methods=["GET", "POST"])
@roles_required(*STAFF)
def roster_upload(agency_id: int):
    agency = agency_or_404(agency_id)
    form = RosterUploadForm()
    error = None
    if form.validate_on_submit():
        upload = form.roster.data
        try:
            record, _ = roster_import.check(
                current_user,
                agency,
                upload.filename or "roster.csv",
                upload.read(),
                form.mode.data or roster_import.ADD_UPDATE,
            )
        except roster_import.RosterFileError as problem:
            error = str(problem)
        else:
            db.session.commit()
            return redirect(url_for("agency.roster_import_plan", agency_id=agency.id, import_id=record.id))
    recent = db.session.scalars(
        scoped(RosterImport, current_user)
        .where(RosterImport.agency_id == agency.id)
        .order_by(RosterImport.id.desc())
        .limit(10)
    ).all()
    status = 400 if (error or form.errors) else 200
    return render_template(
        "agency/roster_upload.html",
        agency=agency,
        form=form,
        error=error,
        recent=recent,
        summary_words=roster_import.summary_words,
    ), status


def _plan_page(agency, record, form, status=200):
    try:
        plan = (
            roster_import.plan(current_user, agency, record.content, record.mode)
            if record.status == "checked"
            else None
        )
    except roster_import.RosterFileError as problem:
        flash(str(problem), "error")
        return redirect(url_for("agency.roster_upload", agency_id=agency.id))
    added = invitations.added_by_import(record) if record.status == "applied" else []
    return render_template(
        "agency/roster_plan.html",
        agency=agency,
        record=record,
        plan=plan,
        form=form,
        invite_form=InviteForm(),
        added=added,
        to_invite=[person for person in added if invitations.why_not_invitable(person) is None],
        modes=roster_import.MODES,
        summary_words=roster_import.summary_words,
    ), status


@bp.route("/agencies/<int:agency_id>/roster/imports/<int:import_id>")
@roles_required(*STAFF)
def roster_import_plan(agency_id: int, import_id: int):
    agency = agency_or_404(agency_id)
    record = scoped_or_404(RosterImport, import_id, agency=agency)
    return _plan_page(agency, record, ApplyImportForm())


@bp.route("/agencies/<int:agency_id>/roster/imports/<int:import_id>/apply", methods=["POST"])
@roles_required(*STAFF)
def roster_import_apply(agency_id: int, import_id: int):
    agency = agency_or_404(agency_id)
    record = scoped_or_404(RosterImport, import_id, agency=agency)
    form = ApplyImportForm()
    if not form.validate_on_submit():
        return _plan_page(agency, record, form, 400)
    try:
        result = roster_import.apply(current_user, record, form.confirmation.data)
    except roster_import.ConfirmationNeeded as problem:
        db.session.rollback()
        form.confirmation.errors.append(str(problem))
        return _plan_page(agency, record, form, 400)
    except (ValueError, roster_import.RosterFileError) as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("agency.roster_import_plan", agency_id=agency.id, import_id=record.id))
    db.session.commit()
    summary = result.summary()
    flash(
        f"Roster imported: {summary['create']} added, {summary['update']} updated, {summary['deactivate']} deactivated, "
        f"{summary['unchanged']} unchanged.",
        "success",
    )
    if record.added_user_ids:  # the next step for new people: invite them
        return redirect(url_for("agency.roster_import_plan", agency_id=agency.id, import_id=record.id))
    return redirect(url_for("agency.people", agency_id=agency.id))


@bp.route("/agencies/<int:agency_id>/settings", methods=["GET", "POST"])
@roles_required(*STAFF)
def settings(agency_id: int):
    agency = agency_or_404(agency_id)
    form = DateSettingsForm(obj=agency)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template(
            "agency/settings.html", agency=agency, form=form, error=None, now=utcnow()
        ), status
    try:
        agency_settings.update_dates(
            current_user, agency, date_style=form.date_style.data, time_zone=form.time_zone.data
        )
    except agency_settings.SettingsError as error:
        return render_template(
            "agency/settings.html", agency=agency, form=form, error=str(error), now=utcnow()
        ), 400
    db.session.commit()
    flash("Settings saved: dates and times now read this way for everyone in the agency.", "success")
    return redirect(url_for("agency.settings", agency_id=agency.id))
