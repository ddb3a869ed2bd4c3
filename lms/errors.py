"""Friendly error pages; every failure rolls back the request's unfinished changes."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from lms.extensions import db

MESSAGES = {
    400: ("Something in that request was not right", "Please go back and try again."),
    403: ("You don't have access to this page", "Your role does not include this page."),
    404: ("We couldn't find that page", "The address may be mistyped, or the record is not yours to see."),
    405: ("That action isn't available here", "Please go back and use the buttons on the page."),
    413: ("That file is too large", "Please upload a smaller file."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: ("Something went wrong on our side", "Nothing you entered was saved. Please try again."),
    503: (
        "Ripple is briefly unavailable",
        "We can't reach our database right now. Nothing you entered was saved; please try again in a moment.",
    ),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def render_error(status: int, title: str | None = None, detail: str | None = None):
    default_title, default_detail = MESSAGES.get(status, MESSAGES[500])
    title, detail = title or default_title, detail or default_detail
    if wants_json():
        return {"error": title, "detail": detail, "status": status}, status
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        return render_error(
            400,
            "This form has expired",
            "For your security, forms expire when you sign out or stay idle. "
            "Please reload the page and submit it again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        return render_error(error.code or 500)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: OperationalError | InterfaceError):
        # A lost or refused connection (a restart, a failover): tell the user to retry; the pool
        # pre-pings, so the next request after the database is back simply works.
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; rollback may fail too
            db.session.remove()
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
        title, detail = MESSAGES[503]
        headers = {"Retry-After": "5"}
        if wants_json():
            return {"error": title, "detail": detail, "status": 503}, 503, headers
        # A page of its own, rendered without the context processors: the usual layout, and
        # Flask-Login's `current_user`, would ask the database who is signed in.
        page = app.jinja_env.get_template("errors/unavailable.html").render(title=title, detail=detail)
        return page, 503, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
