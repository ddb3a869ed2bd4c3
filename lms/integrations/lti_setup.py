"""Setting up LTI platforms: the dynamic-registration link and the page a platform opens with
it, the new-deployment rule and pending deployments, and the connection doctor."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from lms.access import agency_or_404, public, roles_required, scoped_or_404
from lms.extensions import db
from lms.integrations import bp
from lms.integrations.forms import DeploymentRuleForm, EmptyForm, RegistrationForm, RegistrationLinkForm
from lms.integrations.routes import STAFF, _page, _registration_form_page
from lms.models import LtiDeployment, LtiRegistration
from lms.security import content_security_policy
from lms.services import lti_deployments, lti_doctor, lti_registration
from lms.verify import limiter

# --- the coordinator's registration link ---------------------------------------------------------------


@bp.route("/agencies/<int:agency_id>/integrations/lti/registration-link", methods=["POST"])
@roles_required(*STAFF)
def create_registration_link(agency_id: int):
    agency = agency_or_404(agency_id)
    form = RegistrationLinkForm()
    if not form.validate_on_submit():
        return _page(agency, link_form=form, status=400)
    try:
        _link, raw = lti_registration.create_link(current_user, agency, form.days.data)
    except lti_registration.RegistrationLinkError as error:
        db.session.rollback()
        form.days.errors = [str(error)]
        return _page(agency, link_form=form, status=400)
    page = _page(agency, new_link=lti_registration.link_url(raw))
    db.session.commit()
    return page


@bp.route("/agencies/<int:agency_id>/integrations/lti/registration-link/withdraw", methods=["POST"])
@roles_required(*STAFF)
def withdraw_registration_link(agency_id: int):
    agency = agency_or_404(agency_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    link = lti_registration.current_link(agency)
    if link is None:
        flash("There is no registration link to withdraw.", "info")
    else:
        lti_registration.withdraw_link(current_user, link)
        db.session.commit()
        flash("Registration link withdrawn: platforms can no longer register with it.", "success")
    return redirect(url_for("integrations.overview", agency_id=agency.id, _anchor="dynamic-registration"))


# --- what the platform opens ---------------------------------------------------------------------------


def _register_rate_limit() -> str:
    return current_app.config["LTI_REGISTER_RATE_LIMIT"]


@bp.route("/lti/register/<link_token>")
@public
@limiter.limit(_register_rate_limit, key_func=get_remote_address)
def dynamic_register(link_token: str):
    configuration_url = request.args.get("openid_configuration", "")
    registration_token = request.args.get("registration_token")
    outcome = error = None
    try:
        link = lti_registration.link_for_token(link_token)
        if not configuration_url:
            raise lti_registration.DynamicRegistrationError(
                "This is a registration link for a learning platform: paste it into the platform's "
                "page for adding an LTI tool by URL (dynamic registration). The platform opens it "
                "with the `openid_configuration` it needs; opened on its own, it does nothing."
            )
        outcome = lti_registration.register(link, configuration_url, registration_token)
    except (lti_registration.RegistrationLinkError, lti_registration.DynamicRegistrationError) as refused:
        db.session.rollback()
        error = str(refused)
        current_app.logger.warning("LTI dynamic registration refused from %s: %s", request.remote_addr, error)
    else:
        db.session.commit()
    response = current_app.make_response(
        (
            render_template("integrations/dynamic_registration.html", outcome=outcome, error=error),
            400 if error else 200,
        )
    )
    # The platform shows this page in its own frame or window.
    origin = lti_registration.origin_of(configuration_url) if configuration_url else None
    frame_origins = list(current_app.config["LMS_FRAME_ORIGINS"]) + ([origin] if origin else [])
    response.headers["Content-Security-Policy"] = content_security_policy(frame_origins)
    return response


# --- new deployments -------------------------------------------------------------------------------------


def _registration(agency_id: int, registration_id: int):
    agency = agency_or_404(agency_id)
    return agency, scoped_or_404(LtiRegistration, registration_id, agency=agency)


def _deployment(registration: LtiRegistration, lti_deployment_id: int) -> LtiDeployment:
    deployment = scoped_or_404(LtiDeployment, lti_deployment_id, agency=None)
    if deployment.registration_id != registration.id:
        abort(404)
    return deployment


def _filled_form(registration: LtiRegistration) -> RegistrationForm:
    form = RegistrationForm(formdata=None, obj=registration)
    form.deployment_ids.data = "\n".join(d.deployment_id for d in registration.deployments if d.active)
    return form


def _back(agency, registration, anchor="deployments"):
    return redirect(
        url_for(
            "integrations.edit_registration",
            agency_id=agency.id,
            registration_id=registration.id,
            _anchor=anchor,
        )
    )


@bp.route(
    "/agencies/<int:agency_id>/integrations/lti/<int:registration_id>/deployment-rule", methods=["POST"]
)
@roles_required(*STAFF)
def set_deployment_rule(agency_id: int, registration_id: int):
    agency, registration = _registration(agency_id, registration_id)
    form = DeploymentRuleForm()
    if not form.validate_on_submit():
        return _registration_form_page(
            agency, _filled_form(registration), registration, status=400, rule_form=form
        )
    lti_deployments.set_rule(current_user, registration, form.rule.data)
    db.session.commit()
    flash("Saved what launches from new deployments do.", "success")
    return _back(agency, registration)


@bp.route(
    "/agencies/<int:agency_id>/integrations/lti/<int:registration_id>/deployments/<int:lti_deployment_id>/approve",
    methods=["POST"],
)
@roles_required(*STAFF)
def approve_deployment(agency_id: int, registration_id: int, lti_deployment_id: int):
    agency, registration = _registration(agency_id, registration_id)
    deployment = _deployment(registration, lti_deployment_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    lti_deployments.approve(current_user, deployment)
    db.session.commit()
    flash(f"Deployment {deployment.deployment_id} approved: its launches now open Ripple.", "success")
    return _back(agency, registration)


@bp.route(
    "/agencies/<int:agency_id>/integrations/lti/<int:registration_id>/deployments/<int:lti_deployment_id>/dismiss",
    methods=["POST"],
)
@roles_required(*STAFF)
def dismiss_deployment(agency_id: int, registration_id: int, lti_deployment_id: int):
    agency, registration = _registration(agency_id, registration_id)
    deployment = _deployment(registration, lti_deployment_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        lti_deployments.dismiss(current_user, deployment)
    except ValueError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(agency, registration)
    db.session.commit()
    flash(f"Pending deployment {deployment.deployment_id} dismissed.", "success")
    return _back(agency, registration)


# --- the connection doctor -------------------------------------------------------------------------------


@bp.route("/agencies/<int:agency_id>/integrations/lti/<int:registration_id>/doctor", methods=["POST"])
@roles_required(*STAFF)
def run_doctor(agency_id: int, registration_id: int):
    agency, registration = _registration(agency_id, registration_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    checks = lti_doctor.run(current_user, registration)
    page = _registration_form_page(agency, _filled_form(registration), registration, checks=checks)
    db.session.commit()  # nothing but, on a first use, our signing key
    return page
