"""Packages an agency imports into a learning platform that does not speak LTI.

- `DispatchPackage`: a SCORM 1.2, SCORM 2004 (3rd edition) or cmi5 package for one published
  course or scenario of one agency. Its public `key` appears in the package's files; it can be
  revoked at once, has an optional seat limit and the LMS origins allowed to host it.
- `PackageLearner`: a learner of the importing LMS (its own learner id, per package) linked to
  one of our people in the package's agency. Matching is by (package, learner id), never by
  name or email: all learning state stays in Ripple.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.people import User
from lms.models.types import UTCDateTime, utcnow

PACKAGE_KINDS = ("scorm12", "scorm2004", "cmi5")


class DispatchPackage(db.Model):
    __tablename__ = "dispatch_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # scorm12 | scorm2004 | cmi5
    kind: Mapped[str] = mapped_column(String(16))
    # What it opens, as in LTI links: "course:<id>" or "scenario:<slug>".
    target: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200))
    # Random, public (it is in the package's files), unique; names the package in launch URLs.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # None: no limit. Each distinct learner id takes one seat.
    seat_limit: Mapped[int | None] = mapped_column(Integer)
    # Origins (scheme://host[:port]) of the LMS pages allowed to host the package.
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    learners: Mapped[list[PackageLearner]] = relationship(
        back_populates="package", cascade="all, delete-orphan", order_by="PackageLearner.id"
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class PackageLearner(db.Model):
    __tablename__ = "package_learners"
    __table_args__ = (UniqueConstraint("package_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("dispatch_packages.id"), index=True)
    # The LMS's own id for the learner (SCORM cmi.core.student_id / cmi.learner_id, cmi5 actor).
    learner_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    package: Mapped[DispatchPackage] = relationship(back_populates="learners")
    user: Mapped[User] = relationship()


class PackageLaunch(db.Model):
    """One launch of a package from an LMS page: the single-use, short-lived token Ripple issued
    for it (stored as a SHA-256 hash), and once redeemed the person, attempt or assignment it
    opened, so the pages of that session know what to report back to the package."""

    __tablename__ = "package_launches"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("dispatch_packages.id"), index=True)
    learner_id: Mapped[str] = mapped_column(String(255))
    learner_name: Mapped[str] = mapped_column(String(200), default="")
    # The origin (scheme://host[:port]) of the package page that asked; reports go only there.
    origin: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)

    package: Mapped[DispatchPackage] = relationship()
