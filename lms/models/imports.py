"""Roster imports: each upload is kept with its plan, so a dry run can be applied later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.people import User
from lms.models.types import UTCDateTime, utcnow


class RosterImport(db.Model):
    """One uploaded roster file: checked (dry run), then applied all at once or not at all."""

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # checked | applied | rejected
    status: Mapped[str] = mapped_column(String(16), default="checked")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # add_update (the default: people missing from the file are left alone) | full_sync
    # (people missing from the file are deactivated).
    mode: Mapped[str] = mapped_column(String(16), default="add_update", server_default="add_update")
    # The ids of the people this import added, once applied: "invite everyone new".
    added_user_ids: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User | None] = relationship()
