"""Friendly error pages; every failure rolls back the request's unfinished changes."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

import scenarios as engine
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


# When a 429 comes from no rate limiter that knows its window (a plain abort(429)).
DEFAULT_RETRY_AFTER = 60


def retry_after_seconds(error: Exception | None = None) -> int:
    """Seconds until a refused request may be tried again, for the `Retry-After` header: the
    window of the rate limit this request breached, else the error's own `retry_after`, else
    DEFAULT_RETRY_AFTER."""
    own = getattr(error, "retry_after", None)
    if isinstance(own, int | float) and own > 0:
        return math.ceil(own)
    for limiter in current_app.extensions.get("limiter", ()):
        try:
            breached = limiter.current_limit
            if breached is not None and breached.breached:
                window = breached.limit.get_expiry()  # reset_at is rounded up a second
                return max(1, min(window, math.ceil(breached.reset_at - time.time())))
        except Exception:  # the counters' storage is away: fall back to the default
            continue
    return DEFAULT_RETRY_AFTER


def render_error(status: int, title: str | None = None, detail: str | None = None, headers=None):
    default_title, default_detail = MESSAGES.get(status, MESSAGES[500])
    title, detail = title or default_title, detail or default_detail
    if wants_json():
        return {"error": title, "detail": detail, "status": status}, status, headers or {}
    page = render_template("errors/error.html", status=status, title=title, detail=detail)
    return page, status, headers or {}


def _limit_message(error: Exception) -> str | None:
    """The explanation a rate limit was given (`@limiter.limit(..., error_message=...)`), if any."""
    message = getattr(getattr(error, "limit", None), "error_message", None)
    return message() if callable(message) else message


def _wait_phrase(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


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
        if error.code == 429:
            seconds = retry_after_seconds(error)
            why = _limit_message(error)
            return render_error(
                429,
                detail=f"{why + ' ' if why else ''}Please wait {_wait_phrase(seconds)} and try again.",
                headers={"Retry-After": str(seconds)},
            )
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

    @app.errorhandler(engine.EventBudgetExceeded)
    def scenario_explodes(error: engine.EventBudgetExceeded):
        # Only a version published before publishing checked its runs can get here: its
        # simulation stops at the event budget instead of hanging, and the page says so.
        db.session.rollback()
        app.logger.warning("event budget exceeded on %s %s: %s", request.method, request.path, error)
        return render_error(
            422,
            "This scenario can't be simulated",
            "Its simulation stopped because incidents keep multiplying beyond what a run may use. "
            "Nothing you entered was lost; please tell your instructor, who can correct and republish it.",
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
