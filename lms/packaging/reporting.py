"""Ripple pages in a session opened from a SCORM package.

Such a session carries `session["package"]` (set when its launch token is redeemed): the launch,
the origin of the package page that framed Ripple, and the package's allowed origins. Its pages
may be framed by those origins only (frame-ancestors), and every page, once the launch has a
result (the scenario attempt graded, the course completion recorded), posts that result to the
package page at its origin (lms/static/js/package-report.js). Repeating the post on later pages
is harmless: the package writes the same values again. The cookie's SameSite=None on HTTPS is
lms/lti/cookies.py's, which knows both kinds of launched session.
"""

from __future__ import annotations

from flask import Flask, session
from flask_login import current_user

from lms.security import content_security_policy


def _marker() -> dict | None:
    marker = session.get("package") if session else None
    return marker if isinstance(marker, dict) else None


def install(app: Flask) -> None:
    @app.context_processor
    def package_report():
        marker = _marker()
        if marker is None or not current_user.is_authenticated:
            return {}
        from lms.services.packaging import packages

        launch = packages.launch_of_session(marker, current_user)
        message = packages.report_of(launch) if launch is not None else None
        if message is None:
            return {}
        return {"package_report": {"origin": launch.origin, "message": message}}

    @app.after_request
    def frame_for_package(response):
        marker = _marker()
        origins = marker.get("frame_origins") if marker else None
        if isinstance(origins, list) and "Content-Security-Policy" not in response.headers:
            allowed = [o for o in origins if isinstance(o, str) and o.startswith(("https://", "http://"))]
            response.headers["Content-Security-Policy"] = content_security_policy(allowed)
        return response
