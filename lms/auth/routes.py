from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from lms.access import public
from lms.auth import bp
from lms.auth.forms import ChangePasswordForm, SignInForm
from lms.extensions import db
from lms.services import accounts


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect to another host after sign-in.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        result = accounts.authenticate(
            form.email.data,
            form.password.data,
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        )
        db.session.commit()
        if result.outcome == "ok":
            session.clear()  # a fresh session on sign-in (no fixation)
            session.permanent = True
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")))
        error = {
            "invalid": "That email and password do not match an account. Check both and try again.",
            "locked": (
                "Too many failed sign-ins with this email address. For your security, sign-in "
                f"is paused for {result.minutes_left} minute{'s' if result.minutes_left != 1 else ''}."
            ),
            "inactive": "This account is deactivated. Please contact your agency's training coordinator.",
        }[result.outcome]
    status = 200 if error is None and not form.errors else 401 if error else 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/sign-out", methods=["POST"])
@public
def logout():
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.new_password.data)
        except accounts.AccountError as error:
            form[error.field or "new_password"].errors.append(str(error))
            return render_template("auth/password.html", form=form), 400
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # keep this session valid under the new epoch
            flash("Your password has been changed. Other sessions were signed out.", "success")
            return redirect(url_for("main.index"))
    status = 400 if form.errors else 200
    return render_template("auth/password.html", form=form), status
