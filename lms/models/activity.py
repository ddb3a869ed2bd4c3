"""Active time on task: what the visible-page heartbeats add up to, per person and item.

One row per place an officer spends time: a course item of an assignment (a lesson or a
knowledge check), or a scenario attempt (its play and debrief pages; with its assignment and
item when it counts for a course). Only the server's clock moves ``seconds`` on: each beat
adds at most the time since the person's previous beat, capped (``lms.services.time_on_task``),
so what the transcript shows can be evidenced to a standards body.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.models.types import UTCDateTime, utcnow


class ActiveTime(db.Model):
    """Seconds of active, visible time one person spent on one item (or one scenario attempt)."""

    __tablename__ = "active_time"
    __table_args__ = (UniqueConstraint("user_id", "place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    item_slug: Mapped[str | None] = mapped_column(String(100))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"), index=True)
    # "a<assignment>/<item>" or "t<attempt>": unique per person, whatever is null
    place: Mapped[str] = mapped_column(String(160))
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    beats: Mapped[int] = mapped_column(Integer, default=0)
    first_beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
