"""Cookies and framing for sessions that began with an LTI, SCORM or cmi5 launch.

A launch usually runs in the platform's iframe, a third-party context where browsers send only
`SameSite=None; Secure` cookies. Sessions started by a launch get that cookie on HTTPS (other
sessions keep `Lax`), and their pages may be framed by the launching platform's origin (LTI)
or the package's LMS origins (cmi5) in addition to LMS_FRAME_ORIGINS. The launch's state lives
server-side, not in the cookie. Sessions opened from a SCORM package (`session["package"]`,
lms/packaging/reporting.py) get the same cookie; their framing rule is the package's own.
"""

from __future__ import annotations

from flask import Flask, request, session

from lms.security import RippleSessionInterface, content_security_policy


class LtiAwareSessionInterface(RippleSessionInterface):
    def get_cookie_samesite(self, app: Flask):
        if (session.get("lti") or session.get("package") or session.get("cmi5")) and request.is_secure:
            return "None"
        return super().get_cookie_samesite(app)


def install(app: Flask) -> None:
    app.session_interface = LtiAwareSessionInterface()

    @app.after_request
    def frame_for_platform(response):
        lti = session.get("lti") if session else None
        cmi5 = session.get("cmi5") if session else None
        launched = [lti.get("frame_origin")] if isinstance(lti, dict) else []
        launched += (cmi5.get("frame_origins") or []) if isinstance(cmi5, dict) else []
        launched = [origin for origin in launched if isinstance(origin, str) and origin]
        if launched and "Content-Security-Policy" not in response.headers:
            origins = list(dict.fromkeys([*app.config["LMS_FRAME_ORIGINS"], *launched]))
            response.headers["Content-Security-Policy"] = content_security_policy(origins)
        return response
