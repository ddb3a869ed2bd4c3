"""Scheduled reports: a coordinator's standing request for a report by email, weekly or monthly."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.people import User
from lms.models.types import UTCDateTime, utcnow


class ReportSubscription(db.Model):
    """One report (the compliance summary or an export) sent to some of the agency's staff.

    `day` is a weekday (0 Monday .. 6 Sunday) for weekly reports and a day of the month
    (1..31; short months use their last day) for monthly ones. Each scheduled date is sent
    once: the outbox key names the subscription, the date and the recipient.
    """

    __tablename__ = "report_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    report: Mapped[str] = mapped_column(String(32))  # "summary" or an exports.REPORTS slug
    frequency: Mapped[str] = mapped_column(String(16))  # weekly | monthly
    day: Mapped[int] = mapped_column(Integer)
    recipient_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The first date it may be sent for: a new subscription never sends a past period.
    starts_on: Mapped[date] = mapped_column(Date)
    last_sent_on: Mapped[date | None] = mapped_column(Date)

    created_by: Mapped[User | None] = relationship()
