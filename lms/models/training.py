"""Training delivered outside Ripple's online courses: classroom sessions and external
courses, each with its attendees' credit, and the state's category minimums of a mandate."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.courses import Course
from lms.models.people import User
from lms.models.types import UTCDateTime, utcnow

DELIVERY_METHODS = {"classroom": "Classroom", "external": "External course"}


class TrainingSession(db.Model):
    """One delivered session of classroom or external training, recorded by a coordinator.

    Its attendees' credit lives in `SessionAttendance`; a voided session keeps its rows (and
    their history in the audit log) but counts for no one.
    """

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id")
    )  # a session of a course, or a free title
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(100), default="")
    delivery: Mapped[str] = mapped_column(String(16), default="classroom")  # classroom | external
    provider: Mapped[str] = mapped_column(String(200), default="")
    instructor: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    sheet_name: Mapped[str | None] = mapped_column(String(200))
    sheet_type: Mapped[str | None] = mapped_column(String(100))
    # Kept in the database (backed up with everything else, never a path on disk); deferred so
    # lists of sessions never read it.
    sheet_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    course: Mapped[Course | None] = relationship()
    attendances: Mapped[list[SessionAttendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionAttendance.id"
    )


class SessionAttendance(db.Model):
    """One officer's credit for a session. Hours, category and date are copied from the session
    (as a `Completion` copies its course's), so every hours query reads this table alone."""

    __tablename__ = "session_attendances"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    hours: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(100), default="")
    credited_on: Mapped[date] = mapped_column(Date, index=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[TrainingSession] = relationship(back_populates="attendances")
    user: Mapped[User] = relationship()


class MandateMinimum(db.Model):
    """A category minimum of the agency's mandate, e.g. at least 4 of the 24 hours in use of force."""

    __tablename__ = "mandate_minimums"
    __table_args__ = (UniqueConstraint("mandate_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    mandate_id: Mapped[int] = mapped_column(ForeignKey("mandates.id"), index=True)
    category: Mapped[str] = mapped_column(String(100))
    hours: Mapped[float] = mapped_column(Float)
