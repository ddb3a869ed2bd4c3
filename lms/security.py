"""HTTP hardening: security headers and cookies that are Secure whenever HTTPS is used."""

from __future__ import annotations

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface


class RippleSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure on any request served over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def content_security_policy(frame_origins: list[str]) -> str:
    ancestors = " ".join(["'self'", *frame_origins])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        ]
    )


def must_not_be_stored(response) -> bool:
    """Whether a response may hold personal data that no browser or proxy cache should keep:
    every page for a signed-in user, every download, and every API answer. Static assets are
    the same for everyone and keep their caching."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        return False
    if "attachment" in response.headers.get("Content-Disposition", ""):
        return True
    if request.blueprint == "api":
        return True
    # The session says who is signed in without asking the database (which may be what failed).
    return "_user_id" in session


def init_app(app: Flask) -> None:
    app.session_interface = RippleSessionInterface()
    csp = content_security_policy(app.config["LMS_FRAME_ORIGINS"])

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if must_not_be_stored(response):
            response.headers["Cache-Control"] = "no-store"
        return response
