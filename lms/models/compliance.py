"""Agency compliance: assignment rules, the state's in-service mandate, and the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.courses import Course
from lms.models.people import Unit, User
from lms.models.training import MandateMinimum
from lms.models.types import UTCDateTime, utcnow


class AssignmentRule(db.Model):
    """Assign a course to everyone matching a unit (with its sub-units) and/or ranks.

    Officers who later join a matching unit or rank get the assignment when rules are
    applied (after imports, on changes and daily); officers who move keep what they did.
    """

    __tablename__ = "assignment_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # None: the whole agency
    ranks: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every rank
    # Due either on a fixed date, or a number of days after hire or after assignment.
    due_on: Mapped[date | None] = mapped_column(Date)
    due_days: Mapped[int | None] = mapped_column(Integer)
    due_from: Mapped[str] = mapped_column(String(16), default="assignment")  # assignment | hire
    recurrence: Mapped[str] = mapped_column(String(16), default="none")  # none | yearly | on_expiry
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship()
    unit: Mapped[Unit | None] = relationship()


class Mandate(db.Model):
    """An agency's state in-service requirement, e.g. 40 hours a year, or 24 hours per two
    years of which at least 2 in strategic communications and 4 in use of force (`minimums`)."""

    __tablename__ = "mandates"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    hours: Mapped[float] = mapped_column(Float)
    cycle_months: Mapped[int] = mapped_column(Integer, default=12)
    cycle_start: Mapped[date] = mapped_column(Date)  # the first day of some cycle

    minimums: Mapped[list[MandateMinimum]] = relationship(
        cascade="all, delete-orphan", order_by="MandateMinimum.category", lazy="selectin"
    )


class OutboxMessage(db.Model):
    """A reminder or notice to one person. The key makes re-running the same day send nothing twice."""

    __tablename__ = "outbox_messages"
    __table_args__ = (UniqueConstraint("dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    to_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery: Mapped[str] = mapped_column(String(16), default="outbox")  # outbox | smtp | failed

    user: Mapped[User] = relationship()
