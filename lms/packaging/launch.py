"""What a SCORM package's page calls from inside the LMS.

POST /packages/<key>/launch: the package page posts the learner's id and name into its iframe.
Ripple checks the package is active and the page's Origin (or Referer) is one the package
allows, and answers with a redirect to the redemption URL carrying a single-use, short-lived
token. GET /packages/<key>/enter redeems it: only that signs the person in, marks the session as
a package session (its pages may be framed by the package's origins only, and report their
result to the package's page) and opens the course or scenario. A refusal is a page saying
why and what to do; nothing of it is stored.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address

from lms.access import public, sign_in
from lms.extensions import db
from lms.packaging import bp
from lms.packaging.forms import LaunchForm
from lms.services.packaging import packages
from lms.verify import limiter


def _refused(error: packages.LaunchRefused):
    db.session.rollback()
    current_app.logger.warning("Package launch refused from %s: %s", request.remote_addr, error)
    response = current_app.make_response(
        (render_template("packaging/launch_error.html", reason=str(error)), 400)
    )
    # The refusal shows inside the LMS that framed it, whichever that is: it says what went
    # wrong and offers nothing to click, so there is nothing to trick anyone into.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors *"
    )
    return response


def _launch_rate_limit() -> str:
    return current_app.config["PACKAGE_LAUNCH_RATE_LIMIT"]


@bp.route("/packages/<package_key>/launch", methods=["POST"])
@public
@limiter.limit(_launch_rate_limit, key_func=get_remote_address)  # each launch stores a token
def launch(package_key: str):
    form = LaunchForm()
    origin = packages.origin_of(request.headers.get("Origin")) or packages.origin_of(
        request.headers.get("Referer")
    )
    try:
        _, token = packages.issue_launch(package_key, origin, form.learner_id.data, form.learner_name.data)
    except packages.LaunchRefused as error:
        return _refused(error)
    db.session.commit()
    return redirect(url_for("packaging.enter", package_key=package_key, token=token), code=303)


@bp.route("/packages/<package_key>/enter")
@public
def enter(package_key: str):
    try:
        launch, user, redirect_to = packages.redeem_launch(package_key, request.args.get("token"))
    except packages.LaunchRefused as error:
        return _refused(error)
    sign_in(user, via="package")  # a new session record; never inherits an earlier session
    db.session.commit()
    session["package"] = {
        "launch_id": launch.id,
        "origin": launch.origin,
        "frame_origins": list(launch.package.allowed_origins),
    }
    return redirect(redirect_to)
