"""Scenarios as the app stores them, and officers' attempts at them.

The engine (`scenarios` package) is pure; here a scenario's YAML is kept per immutable
version, and an attempt is stored as (scenario version, seed, decisions), from which the
engine replays it exactly. Decisions are rows, one per decision point, unique per attempt,
so a double-submitted form or a second tab can never record a decision twice or change one.
Grades are append-only: an instructor's override is a new row beside the original.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.people import User
from lms.models.types import UTCDateTime, utcnow


class ScenarioRecord(db.Model):
    """A scenario's identity. Null agency: the platform library, shared with every agency."""

    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("agency_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[ScenarioVersion]] = relationship(
        back_populates="scenario", order_by="ScenarioVersion.number"
    )


class ScenarioVersion(db.Model):
    """One version of a scenario's YAML; published versions are never edited."""

    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published
    source_text: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Derived, not edited: the expert-path and no-partnership reference runs, which depend only
    # on the YAML: the debrief's bands and the reference means every grade is scored against
    # (keys name their runs and seed). The first grading stores them (on a worker when there is
    # one), so web processes read them instead of simulating. Deferred: clicks never load them.
    reference_summaries: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)

    scenario: Mapped[ScenarioRecord] = relationship(back_populates="versions")


class Attempt(db.Model):
    """One officer's attempt at one scenario version, replayable from its seed and decisions."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scenario_version_id: Mapped[int] = mapped_column(ForeignKey("scenario_versions.id"), index=True)
    # The course item this attempt counts for; null for an instructor's direct play.
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    item_slug: Mapped[str | None] = mapped_column(String(100))
    number: Mapped[int] = mapped_column(Integer, default=1)
    # Fixed when the attempt starts, so luck cannot be re-rolled by restarting.
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="in_progress", index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    scenario_version: Mapped[ScenarioVersion] = relationship()
    decisions: Mapped[list[AttemptDecision]] = relationship(
        order_by="AttemptDecision.index", lazy="selectin", back_populates="attempt"
    )
    grades: Mapped[list[AttemptGrade]] = relationship(
        order_by="AttemptGrade.id", lazy="selectin", back_populates="attempt"
    )

    @property
    def choices(self) -> list[list[str]]:
        """The decisions in the engine's format: option ids per decision point."""
        return [list(decision.option_ids) for decision in self.decisions]

    @property
    def grade(self) -> AttemptGrade | None:
        """The grade in force: the latest one (an override supersedes the automatic grade)."""
        return self.grades[-1] if self.grades else None


class AttemptDecision(db.Model):
    """One decision of an attempt. Unique per (attempt, index): it can be made only once."""

    __tablename__ = "attempt_decisions"
    __table_args__ = (UniqueConstraint("attempt_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    option_ids: Mapped[list[str]] = mapped_column(JSON)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="decisions")


class AttemptGrade(db.Model):
    """A grade of an attempt: automatic, or an instructor's override with its reason."""

    __tablename__ = "attempt_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="auto")  # auto | override
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool]
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="grades")
    graded_by: Mapped[User | None] = relationship()
