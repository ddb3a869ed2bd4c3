from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.access import public, sign_in, sign_out
from lms.auth import bp
from lms.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    SetPasswordForm,
    SignInForm,
    SignOutEverywhereForm,
)
from lms.extensions import db
from lms.models import LinkPurpose
from lms.services import accounts, invitations, reminders, sessions


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect to another host after sign-in.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


def _minutes(n: int) -> str:
    return f"{n} minute{'s' if n != 1 else ''}"


def _seconds(n: int) -> str:
    return f"{n} second{'s' if n != 1 else ''}"


_warned_forwarded_for = False


def _warn_if_proxy_untrusted() -> None:
    """Log once per process when a proxy's X-Forwarded-For arrives but TRUSTED_PROXIES=0:
    every client then shares the proxy's address, and the sign-in limits count them as one."""
    global _warned_forwarded_for
    if (
        _warned_forwarded_for
        or current_app.config["TRUSTED_PROXIES"]
        or "X-Forwarded-For" not in request.headers
    ):
        return
    _warned_forwarded_for = True
    current_app.logger.warning(
        "A request arrived with X-Forwarded-For but TRUSTED_PROXIES=0: sign-in limits count every "
        "client behind that proxy as %s. Set TRUSTED_PROXIES to the number of proxies in front of Ripple.",
        request.remote_addr,
    )


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        _warn_if_proxy_untrusted()
        result = accounts.authenticate(
            form.email.data,
            form.password.data,
            address=request.remote_addr,
            policy=accounts.SignInPolicy.from_config(current_app.config),
        )
        if result.outcome == "ok":
            sign_in(result.user, via="password")
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        db.session.commit()  # the failure counts, whatever else the request does
        error = {
            "invalid": "That email and password do not match an account. Check both and try again.",
            "locked": (
                "Too many failed sign-ins with this email address from your network. For your "
                f"security, sign-in is paused for {_minutes(result.minutes_left)}."
            ),
            "slowed": (
                "Many sign-ins from your network have failed recently. For your security, wait "
                f"{_seconds(result.seconds_left)} before trying this email address again."
            ),
            "inactive": "This account is deactivated. Please contact your agency's training coordinator.",
        }[result.outcome]
    status = 200 if error is None and not form.errors else 401 if error else 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/sign-out", methods=["POST"])
@public
def logout():
    sign_out()
    db.session.commit()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


def _password_page(form, status=200):
    return render_template(
        "auth/password.html",
        form=form,
        everywhere=SignOutEverywhereForm(),
        live=sessions.live_for(current_user),
        current=current_user.current_session,
        describe_browser=sessions.describe_browser,
    ), status


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                policy=accounts.SignInPolicy.from_config(current_app.config),
            )
        except accounts.AccountError as error:
            db.session.commit()  # only the failure count: nothing else was changed
            form[error.field or "new_password"].errors.append(str(error))
            return _password_page(form, 400)
        # Every session ended with the change; this browser goes on in a new one.
        previous = current_user.current_session
        sign_in(current_user._get_current_object(), via=previous.via if previous else "password")
        db.session.commit()
        flash("Your password has been changed. Your other sessions were signed out.", "success")
        return redirect(url_for("main.index"))
    return _password_page(form, 400 if form.errors else 200)


@bp.route("/sign-out-everywhere", methods=["POST"])
def sign_out_everywhere():
    if not SignOutEverywhereForm().validate_on_submit():
        return redirect(url_for("auth.change_password"))
    sessions.end_all(current_user, "signed-out-everywhere")
    sign_out("signed-out-everywhere")
    db.session.commit()
    flash("You have signed out everywhere, on this device too.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        _warn_if_proxy_untrusted()
        queued = invitations.request_reset(
            form.email.data,
            address=request.remote_addr,
            policy=accounts.SignInPolicy.from_config(current_app.config),
        )
        invitations.send([queued] if queued else [], reminders.MailSettings.from_config(current_app.config))
        db.session.commit()
        # The same page whether or not the address has an account.
        return render_template("auth/forgot_password.html", form=form, sent=True)
    return render_template("auth/forgot_password.html", form=form, sent=False), 400 if form.errors else 200


# A link that cannot be used: unknown, used / expired / newer one sent, account deactivated.
_LINK_STATUS = {"unknown": 404, "used": 410, "expired": 410, "ended": 410, "inactive": 403}


def _set_password(token: str, purpose: LinkPurpose):
    try:
        link = invitations.open_link(token, purpose)
    except invitations.LinkProblem as problem:
        return render_template(
            "auth/link_problem.html", problem=problem, purpose=purpose.value
        ), _LINK_STATUS[problem.reason]
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            person = invitations.redeem(token, purpose, form.new_password.data)
        except invitations.LinkProblem as problem:
            db.session.rollback()
            return render_template(
                "auth/link_problem.html", problem=problem, purpose=purpose.value
            ), _LINK_STATUS[problem.reason]
        except accounts.AccountError as error:
            form.new_password.errors.append(str(error))
        else:
            if current_user.is_authenticated:
                sign_out("switched-account")
            sign_in(person, via="password")
            db.session.commit()
            flash(
                "Welcome to Ripple: your password is set and you are signed in."
                if purpose is LinkPurpose.INVITE
                else "Your password has been reset and you are signed in. Your other sessions were signed out.",
                "success",
            )
            return redirect(url_for("main.index"))
    return render_template(
        "auth/set_password.html", form=form, person=link.user, purpose=purpose.value, link=link
    ), 400 if form.errors else 200


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    return _set_password(token, LinkPurpose.INVITE)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    return _set_password(token, LinkPurpose.RESET)
