"""Absolute URLs that leave the site: Open Badges ids, the verification link in a certificate's
QR code and PDF, the API's server address, the addresses shown for other systems to call, and
the ids in xAPI statements (lms.services.xapi).

They are built from PUBLIC_BASE_URL, never from the request's `Host` header, which any client
sets as it likes: otherwise `Host: evil.example` would get badge documents (cached publicly)
whose ids and images point at evil.example. Without PUBLIC_BASE_URL (development and tests
only: the app refuses to start without it elsewhere, see `lms.config.settle_public_base_url`)
the site's address is derived once, from the first request served, and stored
(SiteSettings.base_url): every later URL, in a request or outside one (the Celery worker, the
grading sweep, CLI commands), is built from that stored address, so an attempt's statements
queued by the worker name the same person, registration and activities as those queued in the
request, and a badge id made by a CLI command matches the one the badge page shows.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from lms.extensions import db

# Outside a request, with nothing stored yet and no PUBLIC_BASE_URL (nothing has needed a
# public URL in a request so far): the development server's usual name.
FALLBACK_BASE_URL = "http://localhost"
SITE_ROW = 1


def init_app(app) -> None:
    app.before_request(remember_base_url)


def remember_base_url() -> None:
    """Without PUBLIC_BASE_URL, record the site's address from the first request served, in
    its own small commit before the view runs (nothing else is in the session yet), so even a
    page that only shows a link, and commits nothing, settles the address for everyone after."""
    if current_app.config.get("PUBLIC_BASE_URL") or request.endpoint in (None, "static"):
        return
    from lms.models import SiteSettings

    try:
        if db.session.get(SiteSettings, SITE_ROW) is None:
            _store(request.url_root.rstrip("/")[:500])
            db.session.commit()
    except SQLAlchemyError:  # never fail a page over this: base_url() derives it again
        db.session.rollback()
        current_app.logger.exception("could not record the site's address")


def _store(derived: str) -> str:
    """Store `derived` as the site's address unless another request stored one first; returns
    the address in force."""
    from lms.models import SiteSettings

    try:
        with db.session.begin_nested():
            db.session.add(SiteSettings(id=SITE_ROW, base_url=derived))
    except IntegrityError:  # a concurrent first request stored its address first: use that one
        stored = db.session.get(SiteSettings, SITE_ROW, populate_existing=True)
        if stored is not None:
            return stored.base_url
    return derived


def base_url() -> str:
    """This site's public address (scheme, host and any path prefix), without a trailing slash.

    PUBLIC_BASE_URL when set; else the stored address (recorded by the first request served,
    see remember_base_url); else, in a request, the request's own address, stored with the
    request's work; else FALLBACK_BASE_URL.
    """
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured
    from lms.models import SiteSettings

    stored = db.session.get(SiteSettings, SITE_ROW)
    if stored is not None:
        return stored.base_url
    if not has_request_context():
        return FALLBACK_BASE_URL
    # Only when remember_base_url could not record it (or in a test_request_context): the
    # request's own address, not stored here. Storing it in this request's transaction would
    # hold the row's insert lock until the request ends, and on PostgreSQL a concurrent first
    # request (remember_base_url, inserting the same row) would wait on it.
    return request.url_root.rstrip("/")[:500]


def public_url(endpoint: str, **values) -> str:
    """The absolute public URL of `endpoint`, like `url_for(..., _external=True)`, but the same
    in a request and outside one: base_url() and the endpoint's path in the app."""
    base = base_url()
    parts = urlsplit(base)
    app = current_app
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind(
        parts.netloc or "localhost", script_name="/", url_scheme=parts.scheme or "http"
    )
    return base + adapter.build(endpoint, values)
