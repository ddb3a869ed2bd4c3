"""Cookies and framing for sessions that began with an LTI, SCORM or cmi5 launch.

A launch usually runs in the platform's iframe, a third-party context. Browsers that block
third-party cookies (Safari, Firefox, Chrome with the setting on, private windows) still keep a
*partitioned* cookie (CHIPS), stored under the platform's site and sent only inside its pages.
So a launched session's cookie is `SameSite=None; Secure; Partitioned` (HTTPS, and loopback
addresses, which browsers treat as secure); an LTI launch opened in a top-level window keeps an
ordinary first-party cookie (`SameSite=None; Secure`), and other sessions keep `Lax`. Sessions
opened from a package (`session["package"]` for SCORM, lms/packaging/reporting.py, whose framing
rule is the package's own; `session["cmi5"]`) get `SameSite=None; Secure`, not yet partitioned:
the package's launch sets an ordinary cookie before the session knows it is a package's, and
two cookies of one name (one partitioned) lose the session.

When an LTI launch showed that the browser keeps no cookie of ours in the frame (it was
confirmed by platform storage and no login cookie came back), the pages carry the session
instead: a frame token (`services/lti_storage.frame_token`) on our own links and forms, taken
only from requests our own pages make, with no cookie, and rebuilt into a session that is never
saved.

Launched pages may be framed by the launching platform's origin (LTI) or the package's LMS
origins (cmi5) in addition to LMS_FRAME_ORIGINS.
"""

from __future__ import annotations

from flask import Flask, session
from flask.sessions import SecureCookieSession
from flask_login import current_user

from lms.extensions import db, login_manager
from lms.models import LtiLaunch
from lms.security import RippleSessionInterface, content_security_policy
from lms.services import lti_storage


class FrameSession(SecureCookieSession):
    """A session carried by a frame token instead of a cookie: rebuilt on every request from the
    token, never written to a cookie (unless someone signs in afresh in it)."""

    frame: tuple[str, int, int] | None = None


def _launched() -> dict | None:
    lti = session.get("lti") if session else None
    return lti if isinstance(lti, dict) else None


def _packaged() -> bool:
    """Whether this session was opened from a SCORM or cmi5 package (always in the LMS's frame)."""
    return bool(session and (session.get("package") or session.get("cmi5")))


class LtiAwareSessionInterface(RippleSessionInterface):
    def _cross_site(self) -> bool:
        return (_launched() is not None or _packaged()) and lti_storage.cross_site_cookies_possible()

    def get_cookie_samesite(self, app: Flask):
        if self._cross_site():
            return "None"
        return super().get_cookie_samesite(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return self._cross_site() or super().get_cookie_secure(app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        lti = _launched()
        if lti is not None and lti.get("partitioned") and self._cross_site():
            return True
        return super().get_cookie_partitioned(app)

    def open_session(self, app: Flask, request):
        token = request.args.get(lti_storage.FRAME_PARAM)
        if token and request.cookies.get(self.get_cookie_name(app)) is None:
            found = lti_storage.read_frame_token(token)
            if found is not None and lti_storage.frame_request_allowed():
                frame_session = FrameSession({"csrf_token": lti_storage.frame_csrf_secret(found[0])})
                frame_session.frame = found
                return frame_session
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if isinstance(session, FrameSession) and "_user_id" not in session:
            return  # the page carries this session; a Set-Cookie would be refused anyway
        super().save_session(app, session, response)


def _frame_user(_request):
    """Flask-Login's request loader: the person a frame session's token signs in, if any."""
    current = session._get_current_object() if session is not None else None
    if not isinstance(current, FrameSession) or current.frame is None:
        return None
    session_id, launch_id, user_id = current.frame
    user = lti_storage.frame_user(session_id, launch_id, user_id)
    if user is None:
        current.frame = None
        return None
    launch = db.session.get(LtiLaunch, launch_id)
    current["lti"] = lti_storage.launch_session_data(
        launch, lti_storage.Method.PLATFORM_STORAGE, partitioned=False
    )
    return user


def install(app: Flask) -> None:
    app.session_interface = LtiAwareSessionInterface()
    login_manager.request_loader(_frame_user)
    app.context_processor(lambda: {"lti_kept_safe_words": lti_storage.METHOD_WORDS})

    @app.after_request
    def frame_for_platform(response):
        lti = _launched()
        cmi5 = session.get("cmi5") if session else None
        launched = [lti.get("frame_origin")] if lti else []
        launched += (cmi5.get("frame_origins") or []) if isinstance(cmi5, dict) else []
        launched = [origin for origin in launched if isinstance(origin, str) and origin]
        if launched and "Content-Security-Policy" not in response.headers:
            origins = list(dict.fromkeys([*app.config["LMS_FRAME_ORIGINS"], *launched]))
            response.headers["Content-Security-Policy"] = content_security_policy(origins)
        current = session._get_current_object() if session is not None else None
        if (
            isinstance(current, FrameSession)
            and current.frame is not None
            and "_user_id" not in current
            and current_user.is_authenticated
            and current_user.current_session is not None
        ):
            launch = db.session.get(LtiLaunch, current.frame[1])
            token = lti_storage.frame_token(current_user.current_session, launch)
            lti_storage.carry_frame_token(response, token)
            response.headers["Referrer-Policy"] = "same-origin"
        return response
