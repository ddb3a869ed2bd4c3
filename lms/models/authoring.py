"""Authoring: background jobs and scenario calibrations.

A `BackgroundJob` is the persisted state of one task run by `lms.tasks` (queued, running,
done or failed, with its progress), so a progress bar survives a page reload and a server
restart can mark jobs it lost as failed. A `CalibrationRun` is one calibration of a scenario
draft: which YAML it calibrated (by fingerprint), with how many runs, and its results. Its
sweep is split into `CalibrationPart`s of a few paths each, so several workers share it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.scenarios import ScenarioVersion
from lms.models.types import UTCDateTime, utcnow


class BackgroundJob(db.Model):
    """One run of a registered task: its name, arguments, state and progress."""

    __tablename__ = "background_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # queued | running | done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Touched whenever the job reports progress: a running job whose heartbeat stops was
    # lost (the server restarted) and is marked failed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class CalibrationRun(db.Model):
    """A calibration of one scenario version's YAML: every path (or a sample), N runs each."""

    __tablename__ = "calibration_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    scenario_version_id: Mapped[int] = mapped_column(ForeignKey("scenario_versions.id"), index=True)
    # The YAML calibrated: a draft edited afterwards no longer matches and needs a new calibration.
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    runs: Mapped[int] = mapped_column(Integer)
    sample: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer, default=1)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("background_jobs.id"))
    # {"note": ..., "paths": [{path, name, score, rubric, outcome, pass_probability, ...}], "flags": [...]}
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    job: Mapped[BackgroundJob | None] = relationship()
    scenario_version: Mapped[ScenarioVersion] = relationship()
    parts: Mapped[list[CalibrationPart]] = relationship(
        back_populates="calibration", order_by="CalibrationPart.index"
    )

    @property
    def status(self) -> str:
        return self.job.status if self.job is not None else "queued"


class CalibrationPart(db.Model):
    """A few of a calibration's paths, simulated by one task (one Celery task each with a broker).

    `rows` stays NULL until the part is done and is stored once: a task delivered twice (late
    acks: a worker died mid-part) stores nothing the second time. The part that finds no
    unfinished part left after storing its rows finalises the calibration (see
    lms.services.calibration).
    """

    __tablename__ = "calibration_parts"
    __table_args__ = (UniqueConstraint("calibration_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calibration_id: Mapped[int] = mapped_column(ForeignKey("calibration_runs.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    # The decision paths it covers, in the engine's format: [[option ids] per decision point] per path.
    paths: Mapped[list[list[list[str]]]] = mapped_column(JSON)
    # One calibration row per path ({path, decisions, name, score, ...}); NULL (never JSON null) until done.
    rows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    calibration: Mapped[CalibrationRun] = relationship(back_populates="parts")
