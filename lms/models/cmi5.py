"""cmi5 sessions: Ripple as the assignable unit (AU) of a cmi5 package.

- `Cmi5Session`: one launch from the LMS (one cmi5 "AU session"): the LMS's endpoint and the
  auth token fetched once for it, the registration, the session id from the launch data's
  context template, the launch data itself, and what it opened. The token never leaves the
  server.
- `Cmi5Statement`: the statements Ripple makes in a session, in order (`seq`): queued in the
  transaction that decides them and sent to the LMS's LRS oldest first, each with an
  idempotent PUT by statement id, so a failed send is retried without loss or duplicates.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.packaging import DispatchPackage, PackageLearner
from lms.models.people import User
from lms.models.types import UTCDateTime, utcnow

LAUNCH_MODES = ("Normal", "Browse", "Review")
MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")


class Cmi5Session(db.Model):
    __tablename__ = "cmi5_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("dispatch_packages.id"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("package_learners.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the fetch URL: a launch URL is good for one session (the LMS's token is too).
    fetch_digest: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint: Mapped[str] = mapped_column(String(2000))
    auth_token: Mapped[str] = mapped_column(Text)
    registration: Mapped[str] = mapped_column(String(36), index=True)
    activity_id: Mapped[str] = mapped_column(String(2000))
    # The actor exactly as launched (every statement repeats it).
    actor: Mapped[dict] = mapped_column(JSON)
    session_key: Mapped[str] = mapped_column(String(255))
    launch_mode: Mapped[str] = mapped_column(String(16))
    move_on: Mapped[str] = mapped_column(String(32))
    mastery_score: Mapped[float | None] = mapped_column(Float)
    return_url: Mapped[str | None] = mapped_column(String(2000))
    context_template: Mapped[dict] = mapped_column(JSON, default=dict)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    initialized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Delivery: when the periodic job tries the pending statements again, and why the last try failed.
    delivery_failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    delivery_error: Mapped[str | None] = mapped_column(String(1000))

    package: Mapped[DispatchPackage] = relationship()
    learner: Mapped[PackageLearner] = relationship()
    user: Mapped[User] = relationship()
    statements: Mapped[list[Cmi5Statement]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Cmi5Statement.seq"
    )

    @property
    def normal(self) -> bool:
        return self.launch_mode == "Normal"


class Cmi5Statement(db.Model):
    __tablename__ = "cmi5_statements"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cmi5_sessions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    verb: Mapped[str] = mapped_column(String(32))
    # What the statement reports ("grade:<id>", "completion:<id>"), so a result is said once.
    source: Mapped[str | None] = mapped_column(String(64))
    statement: Mapped[dict] = mapped_column(JSON)
    # pending | delivered
    status: Mapped[str] = mapped_column(String(16), default="pending")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[Cmi5Session] = relationship(back_populates="statements")
