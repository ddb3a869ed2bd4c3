"""Absolute URLs that leave the site: Open Badges ids, the verification link in a certificate's
QR code and PDF, the API's server address, the addresses shown for other systems to call.

They are built from PUBLIC_BASE_URL, never from the request's `Host` header, which any client
sets as it likes: otherwise `Host: evil.example` would get badge documents (cached publicly)
whose ids and images point at evil.example. Without PUBLIC_BASE_URL (development and tests
only: the app refuses to start without it elsewhere, see `lms.config.settle_public_base_url`)
the request's own address is used.
"""

from __future__ import annotations

from flask import current_app, url_for


def public_url(endpoint: str, **values) -> str:
    """The absolute public URL of `endpoint`, like `url_for(..., _external=True)`."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return url_for(endpoint, _external=True, **values)
    return base + url_for(endpoint, **values)
