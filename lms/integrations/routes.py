"""Agency → Integrations: learning platforms (LTI), the LRS (xAPI), API tokens, delivery queues."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.access import agency_or_404, roles_required, scoped_or_404
from lms.extensions import db
from lms.integrations import bp
from lms.integrations.forms import (
    DeploymentRuleForm,
    EmptyForm,
    LrsForm,
    RegistrationForm,
    RegistrationLinkForm,
    TokenForm,
)
from lms.models import Agency, ApiToken, LtiRegistration, Role
from lms.models.types import utcnow
from lms.services import api_tokens, lti, lti_deployments, lti_registration, outcomes, xapi

STAFF = (Role.COORDINATOR,)


def _page(
    agency: Agency,
    *,
    lrs_form=None,
    token_form=None,
    new_token=None,
    link_form=None,
    new_link=None,
    status=200,
):
    settings = xapi.settings_of(agency.id)
    if lrs_form is None:
        lrs_form = LrsForm(obj=settings) if settings else LrsForm()
        lrs_form.secret.data = ""
    return render_template(
        "integrations/overview.html",
        agency=agency,
        tool=lti.tool_configuration(),
        registrations=lti.registrations_of(agency),
        lrs=settings,
        lrs_form=lrs_form,
        token_form=token_form or TokenForm(formdata=None),
        tokens=api_tokens.tokens_of(agency),
        new_token=new_token,
        registration_link=lti_registration.current_link(agency),
        link_form=link_form or RegistrationLinkForm(formdata=None),
        new_link=new_link,
        now=utcnow(),
        queues=outcomes.queues_of(agency.id, limit=10),
        empty=EmptyForm(),
    ), status


@bp.route("/agencies/<int:agency_id>/integrations")
@roles_required(*STAFF)
def overview(agency_id: int):
    agency = agency_or_404(agency_id)
    page = _page(agency)
    db.session.commit()  # the tool configuration may create our first signing key
    return page


def _registration_input(form: RegistrationForm) -> lti.RegistrationInput:
    return lti.RegistrationInput(
        name=form.name.data or "",
        issuer=form.issuer.data,
        client_id=form.client_id.data,
        auth_login_url=form.auth_login_url.data,
        auth_token_url=form.auth_token_url.data,
        key_set_url=form.key_set_url.data,
        auth_audience=form.auth_audience.data,
        deployment_ids=(form.deployment_ids.data or "").splitlines(),
        active=form.active.data,
    )


def _registration_form_page(
    agency, form, registration, error=None, status=200, *, checks=None, rule_form=None
):
    if registration is not None and rule_form is None:
        rule_form = DeploymentRuleForm(formdata=None, rule=registration.new_deployments)
    return render_template(
        "integrations/registration.html",
        agency=agency,
        form=form,
        registration=registration,
        tool=lti.tool_configuration(),
        error=error,
        pending=lti_deployments.pending_of(registration) if registration else [],
        rule_form=rule_form,
        checks=checks,
        empty=EmptyForm(),
    ), status


def _registration_refused(agency, form, registration, error: lti.RegistrationError):
    if error.field and error.field in form:
        form[error.field].errors = [error.detail]  # shown beside the field and in the summary
        return _registration_form_page(agency, form, registration, status=400)
    return _registration_form_page(agency, form, registration, str(error), 400)


@bp.route("/agencies/<int:agency_id>/integrations/lti/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_registration(agency_id: int):
    agency = agency_or_404(agency_id)
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            lti.save_registration(current_user, agency, _registration_input(form))
        except lti.RegistrationError as error:
            db.session.rollback()
            return _registration_refused(agency, form, None, error)
        db.session.commit()
        flash("Platform registered. Give the platform the tool configuration shown here.", "success")
        return redirect(url_for("integrations.overview", agency_id=agency.id))
    return _registration_form_page(agency, form, None, status=400 if form.errors else 200)


@bp.route("/agencies/<int:agency_id>/integrations/lti/<int:registration_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_registration(agency_id: int, registration_id: int):
    agency = agency_or_404(agency_id)
    registration = scoped_or_404(LtiRegistration, registration_id, agency=agency)
    form = RegistrationForm(obj=registration)
    if not form.is_submitted():
        form.deployment_ids.data = "\n".join(d.deployment_id for d in registration.deployments if d.active)
    if form.validate_on_submit():
        try:
            lti.save_registration(current_user, agency, _registration_input(form), registration)
        except lti.RegistrationError as error:
            db.session.rollback()
            return _registration_refused(agency, form, registration, error)
        db.session.commit()
        flash("Registration saved.", "success")
        return redirect(url_for("integrations.overview", agency_id=agency.id))
    return _registration_form_page(agency, form, registration, status=400 if form.errors else 200)


@bp.route("/agencies/<int:agency_id>/integrations/lrs", methods=["POST"])
@roles_required(*STAFF)
def save_lrs(agency_id: int):
    agency = agency_or_404(agency_id)
    form = LrsForm()
    if form.validate_on_submit():
        try:
            xapi.save_settings(
                current_user,
                agency,
                endpoint=form.endpoint.data,
                key=form.key.data,
                secret=form.secret.data,
                include_email=form.include_email.data,
                active=form.active.data,
            )
        except xapi.LrsError as error:
            db.session.rollback()
            form.endpoint.errors = [str(error)]
        else:
            db.session.commit()
            flash("LRS settings saved.", "success")
            return redirect(url_for("integrations.overview", agency_id=agency.id, _anchor="lrs"))
    return _page(agency, lrs_form=form, status=400)


@bp.route("/agencies/<int:agency_id>/integrations/tokens", methods=["POST"])
@roles_required(*STAFF)
def create_token(agency_id: int):
    agency = agency_or_404(agency_id)
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, raw = api_tokens.create_token(current_user, agency, form.name.data, form.scopes.data)
        except api_tokens.TokenError as error:
            db.session.rollback()
            form.name.errors = [str(error)]
        else:
            db.session.commit()
            return _page(agency, new_token=(token, raw))
    return _page(agency, token_form=form, status=400)


@bp.route("/agencies/<int:agency_id>/integrations/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(*STAFF)
def revoke_token(agency_id: int, token_id: int):
    agency = agency_or_404(agency_id)
    token = scoped_or_404(ApiToken, token_id, agency=agency)
    if not EmptyForm().validate_on_submit():
        abort(400)
    api_tokens.revoke_token(current_user, token)
    db.session.commit()
    flash(f"Token “{token.name}” revoked.", "success")
    return redirect(url_for("integrations.overview", agency_id=agency.id, _anchor="tokens"))


@bp.route("/agencies/<int:agency_id>/integrations/deliveries")
@roles_required(*STAFF)
def deliveries(agency_id: int):
    agency = agency_or_404(agency_id)
    return render_template(
        "integrations/deliveries.html",
        agency=agency,
        queues=outcomes.queues_of(agency.id, limit=200),
        empty=EmptyForm(),
    )


@bp.route("/agencies/<int:agency_id>/integrations/deliveries/retry", methods=["POST"])
@roles_required(*STAFF)
def retry_deliveries(agency_id: int):
    agency = agency_or_404(agency_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    report = outcomes.deliver_agency_now(current_user, agency.id)
    db.session.commit()
    flash(
        f"Scores: {report.grades_delivered} delivered, {report.grades_failed} still failing. "
        f"Statements: {report.statements_delivered} delivered, {report.statements_failed} still failing.",
        "success" if not (report.grades_failed or report.statements_failed) else "warning",
    )
    return redirect(url_for("integrations.deliveries", agency_id=agency.id))
