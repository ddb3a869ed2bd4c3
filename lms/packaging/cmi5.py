"""cmi5 launch routes: thin wrappers over `services.packaging.cmi5`.

The LMS opens the package's launch URL (GET, with the cmi5 query parameters); a rejected
launch gets a clear page naming what is wrong (400, or 502 when the LMS or its LRS failed)
and nothing of it is stored. "Return to the learning platform" ends the cmi5 session
(`terminated`, the session's last statement) and moves the window on to the LMS's returnURL.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from lms.access import public, sign_in, sign_out
from lms.extensions import db
from lms.packaging import bp
from lms.services.packaging import cmi5
from lms.verify import limiter


def _refused(error: cmi5.Cmi5Error):
    db.session.rollback()
    status = 502 if isinstance(error, cmi5.LrsUnreachable) else 400
    current_app.logger.warning("cmi5 launch rejected from %s: %s", request.remote_addr, error)
    return render_template("packaging/cmi5_error.html", reason=str(error), status=status), status


def _marker() -> dict:
    marker = session.get("cmi5")
    return marker if isinstance(marker, dict) else {}


@bp.app_context_processor
def _launch_banner() -> dict:
    # The "Return to the learning platform" banner on every page of a cmi5 launch.
    marker = _marker() if current_user.is_authenticated else {}
    return {"cmi5_launch": marker or None}


def _launch_rate_limit() -> str:
    return current_app.config["PACKAGE_LAUNCH_RATE_LIMIT"]


@bp.route("/cmi5/<string(maxlength=64):key>/launch")
@public
@limiter.limit(_launch_rate_limit, key_func=get_remote_address)  # each launch calls the LMS twice
def cmi5_launch(key: str):
    try:
        package = cmi5.package_for_launch(key)
        params = cmi5.parse_launch(request.args)
        launched = cmi5.launch(package, params)
    except cmi5.LaunchUrlUsed as error:
        # The same browser reloading its own launch goes back to what it opened.
        again = (
            cmi5.session_of(current_user, _marker().get("session")) if current_user.is_authenticated else None
        )
        if again is not None and again.id == error.session.id and again.terminated_at is None:
            db.session.rollback()
            return redirect(cmi5.opened_url(again))
        return _refused(error)
    except cmi5.Cmi5Error as error:
        return _refused(error)
    sign_in(launched.user, via="cmi5")  # a new session record; never inherits an earlier one
    db.session.commit()
    session["cmi5"] = {
        "session": launched.session.id,
        "title": package.title[:200],
        "frame_origins": cmi5.frame_origins(launched.session),
    }
    return redirect(launched.redirect_to)


@bp.route("/cmi5/return", methods=["POST"])
def cmi5_return():
    row = cmi5.session_of(current_user, _marker().get("session"))
    if row is None:
        flash("No launch from your learning platform is open in this browser.", "info")
        return redirect(url_for("main.index"))
    cmi5.terminate(current_user, row)
    db.session.commit()
    outcome = cmi5.deliver(row)
    return_url = row.return_url
    sign_out("cmi5-returned")
    db.session.commit()
    # A page that moves on to the LMS rather than a redirect: browsers hold a form's redirect
    # to the CSP's form-action ('self'), and the LMS is another site.
    return render_template(
        "packaging/cmi5_returned.html",
        outcome=outcome,
        return_url=return_url,
        move_on=outcome.error is None and bool(return_url),
    )
