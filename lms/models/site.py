"""Site-wide settings: one row, not owned by any agency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.models.types import UTCDateTime, utcnow


class SiteSettings(db.Model):
    """The one row (id 1) of what the whole site shares.

    `base_url` is the site's address as first derived without PUBLIC_BASE_URL (development and
    tests): the url_root of the first request that needed an absolute URL. Every later URL, in
    a request or outside one (the worker, the grading sweep, CLI commands), is built from it, so
    one attempt's xAPI statements, badge ids and verification links all name one site.
    PUBLIC_BASE_URL, when set, always wins over it (see lms.public_urls.base_url).
    """

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_url: Mapped[str] = mapped_column(String(500))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
