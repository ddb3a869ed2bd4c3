"""An officer's transcript: every completion, certificate and credit hour, with the active time
on task behind each course (``time_on_task``), so the hours can be evidenced; and the classroom
and external sessions they were credited for (``training_records``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from lms.extensions import db
from lms.models import Certificate, Completion, CourseVersion, SessionAttendance, TrainingSession, User
from lms.services import certificates, time_on_task
from lms.services.cells import csv_row


@dataclass(frozen=True)
class TranscriptRow:
    completion: Completion
    course_title: str
    category: str
    credit_hours: float
    certificate: Certificate | None
    certificate_status: str | None
    active_seconds: int = 0  # recorded active time on task in the course

    @property
    def active_minutes(self) -> float:
        return self.active_seconds / 60


@dataclass(frozen=True)
class SessionRow:
    """A classroom or external session the person was credited for (voided ones are left out)."""

    title: str
    category: str
    credit_hours: float
    starts_on: date
    ends_on: date
    provider: str


@dataclass(frozen=True)
class Transcript:
    user: User
    rows: list[TranscriptRow]
    certificates: list[Certificate]
    course_times: list[time_on_task.CourseTime] = field(default_factory=list)  # per assignment, per item
    sessions: list[SessionRow] = field(default_factory=list)

    @property
    def total_hours(self) -> float:
        return sum(row.credit_hours for row in self.rows) + self.session_hours

    @property
    def course_hours(self) -> float:
        return sum(row.credit_hours for row in self.rows)

    @property
    def session_hours(self) -> float:
        return sum(row.credit_hours for row in self.sessions)

    @property
    def total_active_minutes(self) -> float:
        return sum(row.active_minutes for row in self.rows)


def transcript_for(user: User, today: date | None = None, *, course_times: bool = True) -> Transcript:
    """The user's completions, newest first, each with its certificate in force (if any);
    with ``course_times``, every assignment's time per item too (the pages show it, the CSV
    does not)."""
    completions = db.session.execute(
        select(Completion, CourseVersion)
        .join(CourseVersion, Completion.course_version_id == CourseVersion.id)
        .where(Completion.user_id == user.id)
        .order_by(Completion.completed_at.desc(), Completion.id.desc())
    ).all()
    certs = certificates.certificates_for(user)
    by_completion: dict[int, Certificate] = {}
    for cert in sorted(certs, key=lambda c: c.id):  # the newest certificate of a completion wins
        by_completion[cert.completion_id] = cert
    active = time_on_task.seconds_by_assignment(completion.assignment_id for completion, _ in completions)
    rows = []
    for completion, version in completions:
        cert = by_completion.get(completion.id)
        rows.append(
            TranscriptRow(
                completion=completion,
                course_title=version.title,
                category=completion.category,
                credit_hours=completion.credit_hours,
                certificate=cert,
                certificate_status=certificates.status_of(cert, today) if cert else None,
                active_seconds=active.get(completion.assignment_id, 0),
            )
        )
    return Transcript(
        user=user,
        rows=rows,
        certificates=certs,
        course_times=time_on_task.course_times_for(user) if course_times else [],
        sessions=_session_rows(user),
    )


def _session_rows(user: User) -> list[SessionRow]:
    """The person's credited classroom and external sessions, newest first (one query)."""
    found = db.session.execute(
        select(SessionAttendance, TrainingSession)
        .join(TrainingSession, TrainingSession.id == SessionAttendance.session_id)
        .where(SessionAttendance.user_id == user.id, SessionAttendance.voided_at.is_(None))
        .order_by(TrainingSession.ends_on.desc(), TrainingSession.id.desc())
    ).all()
    agency_name = user.agency.name if user.agency else ""
    return [
        SessionRow(
            title=session.title,
            category=attendance.category,
            credit_hours=attendance.hours,
            starts_on=session.starts_on,
            ends_on=session.ends_on,
            provider=session.provider or agency_name,
        )
        for attendance, session in found
    ]


CSV_COLUMNS = (
    "completed_on",
    "course",
    "category",
    "credit_hours",
    "certificate_code",
    "certificate_status",
    "issued_on",
    "expires_on",
    "active_minutes",
)


def transcript_csv(transcript: Transcript) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in transcript.rows:
        cert = row.certificate
        writer.writerow(
            csv_row(
                (
                    row.completion.completed_at.date().isoformat(),
                    row.course_title,
                    row.category,
                    f"{row.credit_hours:g}",
                    cert.code if cert else "",
                    row.certificate_status or "",
                    cert.issued_on.isoformat() if cert else "",
                    cert.expires_on.isoformat() if cert and cert.expires_on else "",
                    f"{row.active_minutes:.1f}",
                )
            )
        )
    for session in transcript.sessions:  # no certificate, no time on task: it happened elsewhere
        writer.writerow(
            csv_row(
                (session.ends_on.isoformat(), session.title, session.category, f"{session.credit_hours:g}")
                + ("",) * 5
            )
        )
    return out.getvalue()
