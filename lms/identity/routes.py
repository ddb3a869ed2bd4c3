from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from lms.access import agency_or_404, roles_required
from lms.extensions import db
from lms.identity import bp
from lms.identity.forms import SignInPolicyForm
from lms.models import Role
from lms.services.identity import policy, providers


def _security_page(agency, form, error=None, status=200):
    return render_template(
        "identity/security.html",
        agency=agency,
        form=form,
        error=error,
        providers=providers.providers_of(agency),
    ), status


@bp.route("/agencies/<int:agency_id>/sign-in", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def security(agency_id: int):
    """The agency's sign-in page for coordinators: directory sign-ins and the sign-in policy."""
    agency = agency_or_404(agency_id)
    form = SignInPolicyForm(obj=agency)
    if not form.validate_on_submit():
        return _security_page(agency, form, status=400 if form.is_submitted() else 200)
    try:
        policy.update(
            current_user,
            agency,
            policy.SignInPolicy(
                sso_only=form.sso_only.data,
                mfa_for_staff=form.mfa_for_staff.data,
                mfa_grace_days=form.mfa_grace_days.data,
                idle_minutes=form.idle_minutes.data,
            ),
        )
    except providers.ProviderError as error:
        if error.field in form:
            form[error.field].errors = [str(error)]
            return _security_page(agency, form, status=400)
        return _security_page(agency, form, error=str(error), status=400)
    db.session.commit()
    flash("Sign-in policy saved.", "success")
    return redirect(url_for("identity.security", agency_id=agency.id))
