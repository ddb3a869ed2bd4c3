"""LTI views: thin wrappers over `services.lti`. A rejected login or launch gets a clear page
(400) naming the failed check, and a log line; nothing of it is stored."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user
from pylti1p3.exception import LtiException

from lms.access import public, roles_required, sign_in
from lms.extensions import db
from lms.lti import bp
from lms.models import LtiKey, LtiLaunch, Role
from lms.security import content_security_policy
from lms.services import launch_targets, lti, lti_deployments, lti_storage
from lms.services.lti_storage import Method
from lms.verify import limiter

BAD_INPUT = (lti.LaunchError, LtiException, KeyError, ValueError, TypeError)


def _rejected(step: str, error: Exception):
    db.session.rollback()
    reason = str(error) or type(error).__name__
    current_app.logger.warning("LTI %s rejected from %s: %s", step, request.remote_addr, reason)
    browser_check = None
    if isinstance(error, lti_storage.NotThisBrowser):
        proof = "platform storage" if request.endpoint == "lti.launch_confirm" else "a sign-in cookie"
        browser_check = f"{proof} set when the launch started"
    response = make_response(
        render_template("lti/error.html", step=step, reason=reason, browser_check=browser_check), 400
    )
    # Shown in the platform's iframe: let the platform whose login this was frame it.
    registration = lti.launch_registration(request.form.get("state")) if step == "launch" else None
    return _framed_by(registration, response) if registration is not None else response


def _framed_by(registration, response):
    """Our own pages of the launch flow run in the platform's iframe: let its origin frame them."""
    response.headers["Content-Security-Policy"] = content_security_policy(
        lti_storage.trusted_origins(registration)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _awaiting_approval(pending: lti_deployments.DeploymentPending):
    """The page a launch from a held deployment gets, framable by the launching platform."""
    response = current_app.make_response(
        (render_template("lti/deployment_pending.html", reason=str(pending)), 403)
    )
    origin = urlsplit(pending.registration.auth_login_url)
    frame_origins = [*current_app.config["LMS_FRAME_ORIGINS"], f"{origin.scheme}://{origin.netloc}"]
    response.headers["Content-Security-Policy"] = content_security_policy(frame_origins)
    return response


@bp.route("/jwks.json")
@public
def jwks_json():
    keys = lti.jwks()
    db.session.commit()  # the first request creates our first key
    return keys


def _login_rate_limit() -> str:
    return current_app.config["LTI_LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_rate_limit, key_func=get_remote_address)  # each login stores two rows
def login():
    params = {
        key: value for key, value in (request.form if request.method == "POST" else request.args).items()
    }
    try:
        start = lti.login_start(params)
    except BAD_INPUT as error:
        return _rejected("login", error)
    db.session.commit()
    if start.binding.storage:
        origin = lti_storage.platform_origin(start.registration)
        response = _framed_by(
            start.registration,
            make_response(
                render_template(
                    "lti/login_storage.html",
                    registration=start.registration,
                    target=start.binding.storage if start.binding.storage != "probe" else None,
                    platform_origin=origin,
                    trusted_origins=lti_storage.trusted_origins(start.registration),
                    state=start.state,
                    nonce=start.nonce,
                    next_url=start.url,
                )
            ),
        )
    else:
        response = redirect(start.url)
    lti_storage.set_login_cookie(response, start.state, start.binding.secret)
    return response


@bp.route("/launch", methods=["POST"])
@public
def launch():
    return _launch(confirm=False)


@bp.route("/launch/confirm", methods=["POST"])
@public
def launch_confirm():
    """The platform-storage check's answer, posted by our own launch page (never another site)."""
    if not lti_storage.same_origin_post():
        return _rejected(
            "launch",
            lti_storage.NotThisBrowser("This confirmation did not come from Ripple's own launch page."),
        )
    return _launch(confirm=True)


def _launch(*, confirm: bool):
    form = {key: request.form.get(key, "") for key in ("id_token", "state")}
    state = form["state"] or None
    proof = lti_storage.proof_from_request(state, confirm=confirm)
    try:
        claims, registration = lti.validate_launch(form, proof)
        result = lti.handle_launch(claims, registration)
    except lti_deployments.DeploymentPending as pending:
        db.session.commit()  # the pending deployment, for the coordinator to approve
        return _awaiting_approval(pending)
    except lti_storage.StorageCheck as check:
        db.session.rollback()
        return _storage_check(check, form["id_token"])
    except lti_storage.NewWindow as fallback:
        db.session.rollback()
        return _new_window(fallback, state)
    except BAD_INPUT as error:
        return _rejected("launch", error)
    method = Method(claims["ripple:kept_safe_by"])
    sign_in(result.user, via="lti")  # a new session record; never inherits an earlier session
    db.session.commit()
    presentation = claims.get(lti.CLAIM + "launch_presentation") or {}
    return_url = presentation.get("return_url")
    session["lti"] = lti_storage.launch_session_data(
        result.launch,
        method,
        # A top-level window (the new-window relaunch) keeps an ordinary first-party cookie.
        partitioned=request.headers.get("Sec-Fetch-Dest") != "document",
        return_url=return_url if isinstance(return_url, str) else None,
    )
    target = result.redirect_to
    if method is Method.PLATFORM_STORAGE:
        # No cookie of ours came back in this frame: the pages carry the session instead.
        token = lti_storage.frame_token(result.user.current_session, result.launch)
        target = lti_storage.with_frame_token(target, token)
    response = redirect(target)
    if state:
        lti_storage.clear_login_cookie(response, state)
    return response


def _registration_for(state: str | None):
    row = lti.launch_registration(state)
    if row is None:  # the state vanished between the two steps: say so plainly
        raise lti.LaunchError("Unknown or expired state: start the launch again from the platform")
    return row


def _storage_check(check: lti_storage.StorageCheck, id_token: str):
    try:
        registration = _registration_for(check.state)
    except lti.LaunchError as error:
        return _rejected("launch", error)
    page = render_template(
        "lti/launch_check.html",
        registration=registration,
        target=check.target,
        platform_origin=check.platform_origin,
        trusted_origins=lti_storage.trusted_origins(registration),
        state=check.state,
        nonce=check.nonce,
        id_token=id_token,
        relaunch_url=check.relaunch_url,
    )
    return _framed_by(registration, make_response(page))


def _new_window(fallback: lti_storage.NewWindow, state: str | None):
    try:
        registration = _registration_for(state)
    except lti.LaunchError as error:
        return _rejected("launch", error)
    current_app.logger.info("LTI launch from %s needs a new window: %s", request.remote_addr, fallback.reason)
    page = render_template(
        "lti/new_window.html",
        registration=registration,
        reason=fallback.reason,
        kept_safe=lti_storage.METHOD_WORDS[Method.NEW_WINDOW],
        relaunch_url=fallback.relaunch_url,
        top_level=request.headers.get("Sec-Fetch-Dest") == "document",
    )
    return _framed_by(registration, make_response(page))


def _current_launch() -> LtiLaunch | None:
    lti_session = session.get("lti") or {}
    launch_id = lti_session.get("launch_id") if isinstance(lti_session, dict) else None
    launch = db.session.get(LtiLaunch, launch_id) if isinstance(launch_id, int) else None
    if launch is None or launch.user_id != current_user.id:
        return None
    return launch


@bp.route("/context")
def context_page():
    launch = _current_launch()
    return render_template(
        "lti/context.html",
        launch=launch,
        target=launch_targets.parse_target(launch.target) if launch else None,
        instructor=launch is not None and lti._is_instructor(launch.roles or []),  # noqa: SLF001
    )


@bp.route("/context/roster", methods=["POST"])
@roles_required(Role.INSTRUCTOR)
def sync_roster():
    launch = _current_launch()
    if launch is None:
        abort(404)
    try:
        result = lti.sync_roster(current_user, launch)
    except lti.LaunchError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("lti.context_page"))
    db.session.commit()
    flash(f"Roster synced: {result.linked} members, {result.created} new to Ripple.", "success")
    return redirect(url_for("lti.context_page"))


@bp.route("/deep-link", methods=["GET", "POST"])
@roles_required(Role.INSTRUCTOR)
def deep_link():
    launch = _current_launch()
    if launch is None or launch.message_type != "LtiDeepLinkingRequest":
        flash(
            "Open Ripple from your learning platform's “add content” to link courses and scenarios.", "info"
        )
        return redirect(url_for("lti.context_page"))
    entries = launch_targets.catalogue(launch.agency_id)
    if request.method == "POST":
        try:
            return_url, token = lti.deep_link_response(launch, request.form.getlist("target"))
        except lti.LaunchError as error:
            return render_template(
                "lti/deep_link.html", launch=launch, entries=entries, error=str(error)
            ), 400
        db.session.commit()
        target = urlsplit(return_url)
        response = current_app.make_response(
            render_template("lti/deep_link_return.html", return_url=return_url, token=token, launch=launch)
        )
        # The form posts back to the platform: allow that origin as a form target.
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"form-action 'self' {target.scheme}://{target.netloc}; frame-ancestors 'self' "
            + " ".join(current_app.config["LMS_FRAME_ORIGINS"] + [session["lti"]["frame_origin"]])
        )
        return response
    return render_template("lti/deep_link.html", launch=launch, entries=entries, error=None)


@bp.route("/keys", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def keys():
    if request.method == "POST":
        key = lti.rotate_keys(current_user)
        db.session.commit()
        flash(
            f"New signing key {key.kid} in use; the previous key stays published for a grace period.",
            "success",
        )
        return redirect(url_for("lti.keys"))
    published = lti.published_keys()
    db.session.commit()
    retired = db.session.scalars(
        db.select(LtiKey).where(LtiKey.retired_at.is_not(None)).order_by(LtiKey.id)
    ).all()
    return render_template(
        "lti/keys.html", keys=published, retired=retired, grace=current_app.config["LTI_KEY_GRACE_DAYS"]
    )
