"""Courses, their immutable versions, assignments and the learning records under them.

A course's content (modules, lessons, knowledge checks, scenario items) is stored whole in
each `CourseVersion` as the course file format (`lms.course_format`), so a published version
never changes and officers in progress keep the version they started. Records of learning
(`ItemCompletion`, `CheckAttempt`, `Completion`, `Certificate`) are append-only history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, with_loader_criteria

from lms.extensions import db
from lms.models.people import User
from lms.models.types import UTCDateTime, utcnow


class Course(db.Model):
    """A course's identity. Null agency: the platform library, offered to every agency."""

    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("agency_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[CourseVersion]] = relationship(
        back_populates="course", order_by="CourseVersion.number"
    )


class CourseVersion(db.Model):
    """One version of a course's content: a draft, or published and then never edited."""

    __tablename__ = "course_versions"
    __table_args__ = (UniqueConstraint("course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published | retired
    # The whole course in the course file format (lms.course_format.course_to_data).
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100), default="")
    credit_hours: Mapped[float] = mapped_column(Float, default=0.0)
    certificate_valid_months: Mapped[int | None] = mapped_column(Integer)
    renewal_course_slug: Mapped[str | None] = mapped_column(String(100))
    renewal_window_days: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[Course] = relationship(back_populates="versions")


class Assignment(db.Model):
    """A course assigned to one officer, with a due date; pinned to a course version."""

    __tablename__ = "assignments"
    # Covers the compliance dashboard's per-officer aggregation and the month-by-month trends,
    # so neither reads the table.
    __table_args__ = (
        Index(
            "ix_assignments_dashboard",
            "agency_id",
            "user_id",
            "status",
            "due_on",
            "course_id",
            "completed_at",
            "assigned_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    # manual | rule | renewal | self
    source: Mapped[str] = mapped_column(String(16), default="manual")
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("assignment_rules.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # assigned | completed | cancelled | excused (waived by a coordinator, with a reason:
    # no longer open or overdue in any figure, but kept and shown as "Excused")
    status: Mapped[str] = mapped_column(String(16), default="assigned", index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    excused_reason: Mapped[str | None] = mapped_column(Text)
    excused_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    excused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()
    course_version: Mapped[CourseVersion] = relationship()


class DueDateChange(db.Model):
    """A due date moved by a coordinator, with the reason given: kept as history, never edited."""

    __tablename__ = "due_date_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    old_due_on: Mapped[date | None] = mapped_column(Date)
    new_due_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemCompletion(db.Model):
    """An item of an assignment done (a lesson read, a check or scenario passed). Appended once."""

    __tablename__ = "item_completions"
    __table_args__ = (UniqueConstraint("assignment_id", "item_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    item_slug: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    # What the completion rests on, e.g. {"check_attempt": 12} or {"attempt": 7}.
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckAttempt(db.Model):
    """One submitted knowledge check. Never edited."""

    __tablename__ = "check_attempts"
    __table_args__ = (UniqueConstraint("assignment_id", "item_slug", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    item_slug: Mapped[str] = mapped_column(String(100))
    number: Mapped[int] = mapped_column(Integer)
    responses: Mapped[dict[str, Any]] = mapped_column(JSON)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Completion(db.Model):
    """A course completed: recorded once, with its date and the attempts it rests on.

    When a grade it rests on is overridden to a fail, the completion is withdrawn, not deleted
    (its certificate and the audit log still point at it): a withdrawn completion is left out
    of every ORM query (lms.services.withdrawn) so its hours no longer count anywhere.
    """

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    credit_hours: Mapped[float] = mapped_column(Float, default=0.0)
    category: Mapped[str] = mapped_column(String(100), default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    course: Mapped[Course] = relationship()


class Certificate(db.Model):
    """A certificate earned by a completion. Revocation is recorded, never a deletion;
    a reissue is a new certificate that names the one it replaces."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("completions.id"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    recipient_name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(200))
    credit_hours: Mapped[float] = mapped_column(Float, default=0.0)
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()


# --- withdrawn completions ---------------------------------------------------------------
# A withdrawn completion must stop counting everywhere at once (hours, compliance, exports,
# transcripts, the API), including queries written later by people who never heard of
# withdrawal; so it is left out of every ORM SELECT here, once, rather than in each query.
# The few places that must still see it (the certificate it earned, re-completing the same
# assignment) ask with `.execution_options(include_withdrawn=True)`.
INCLUDE_WITHDRAWN = "include_withdrawn"


@event.listens_for(Session, "do_orm_execute")
def _leave_out_withdrawn_completions(state) -> None:
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get(INCLUDE_WITHDRAWN, False)
    ):
        state.statement = state.statement.options(
            with_loader_criteria(Completion, Completion.withdrawn_at.is_(None), include_aliases=True)
        )
