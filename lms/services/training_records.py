"""Classroom and external training: recording a delivered session, its attendees' credit, its
sign-in sheet; editing and voiding it with a reason. Every change is audit-logged.

Credit is one `SessionAttendance` row per attendee, read by every hours count beside course
completions (services/standards.py), so nothing that counts hours needs to know about sessions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from lms.downloads import safe_filename
from lms.extensions import db
from lms.models import (
    DELIVERY_METHODS,
    Agency,
    Course,
    Role,
    RoleGrant,
    SessionAttendance,
    TrainingSession,
    Unit,
    User,
)
from lms.models.types import utcnow
from lms.services import audit
from lms.services.roster import unit_subtree_ids

SHEET_MAX_BYTES = 5 * 1024 * 1024
# Extension -> (stored content type, how the file must begin). CSV is checked as text instead.
SHEET_TYPES = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "csv": ("text/csv", ()),
}
MAX_HOURS = 200.0
_BADGE_SPLIT = re.compile(r"[\s,;]+")


class TrainingRecordError(ValueError):
    """A session that cannot be recorded as given; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SessionSpec:
    title: str
    starts_on: date
    ends_on: date
    hours: float
    category: str = ""
    course_id: int | None = None
    description: str = ""
    delivery: str = "classroom"
    provider: str = ""
    instructor: str = ""
    location: str = ""
    unit_id: int | None = None  # everyone active in this unit and the units below it
    badges: str = ""  # badge numbers typed, separated by commas, spaces or lines
    sheet: tuple[str, bytes] | None = None  # (file name, contents) of the sign-in sheet


def check_sheet(filename: str, data: bytes) -> tuple[str, str]:
    """The (safe file name, content type) of an acceptable sign-in sheet, or TrainingRecordError:
    a PDF, PNG or JPEG whose contents are what its name says, or a UTF-8 CSV, at most 5 MB."""
    name = safe_filename((filename or "").replace("\\", "/").rsplit("/", 1)[-1], "sign-in-sheet")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in SHEET_TYPES:
        raise TrainingRecordError(
            "The sign-in sheet must be a PDF, a PNG or JPEG image, or a CSV file.", "sheet"
        )
    if not data:
        raise TrainingRecordError("The sign-in sheet file is empty.", "sheet")
    if len(data) > SHEET_MAX_BYTES:
        raise TrainingRecordError(
            f"The sign-in sheet is {len(data) / 1024 / 1024:.1f} MB; it may be at most 5 MB.", "sheet"
        )
    content_type, signatures = SHEET_TYPES[extension]
    if signatures and not data.startswith(signatures):
        raise TrainingRecordError(
            f"The file is named .{extension} but is not a {extension.upper()} file.", "sheet"
        )
    if extension == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TrainingRecordError("The CSV sign-in sheet must be UTF-8 text.", "sheet") from None
        if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
            raise TrainingRecordError("The CSV sign-in sheet holds control characters.", "sheet")
    return name, content_type


def _attendees(agency: Agency, spec: SessionSpec) -> list[User]:
    """The people a session is recorded for: the unit's active officers (with sub-units) and the
    badges typed. Unknown badges refuse the whole session, naming them."""
    badges = [b for b in _BADGE_SPLIT.split(spec.badges or "") if b]
    people: dict[int, User] = {}
    if badges:
        found = {
            (user.badge_number or "").casefold(): user
            for user in db.session.scalars(
                select(User).where(User.agency_id == agency.id, User.badge_number.is_not(None))
                .where(db.func.lower(User.badge_number).in_({b.casefold() for b in badges}))
            )
        }  # fmt: skip
        unknown = sorted({b for b in badges if b.casefold() not in found}, key=str.casefold)
        if unknown:
            raise TrainingRecordError(
                f"No one in {agency.name} has badge number{'s' if len(unknown) > 1 else ''} "
                + ", ".join(unknown)
                + ". Check the numbers; nothing was saved.",
                "badges",
            )
        inactive = sorted(u.badge_number for u in found.values() if not u.active)
        if inactive:
            raise TrainingRecordError(
                "Deactivated people cannot be credited: badge " + ", ".join(inactive) + ".", "badges"
            )
        people.update({user.id: user for user in found.values()})
    if spec.unit_id is not None:
        units = unit_subtree_ids(agency.id, spec.unit_id)
        for user in db.session.scalars(
            select(User).where(
                User.agency_id == agency.id, User.active.is_(True), User.unit_id.in_(units),
                User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == Role.OFFICER.value)),
            )
        ):  # fmt: skip
            people[user.id] = user
    if not people:
        raise TrainingRecordError(
            "Choose a unit or type at least one badge number: the session needs attendees.", "badges"
        )
    return sorted(people.values(), key=lambda u: (u.name.casefold(), u.id))


def _check(agency: Agency, spec: SessionSpec) -> Course | None:
    course = None
    if spec.course_id is not None:
        course = db.session.get(Course, spec.course_id)
        if course is None or course.agency_id not in (None, agency.id):
            raise TrainingRecordError("Choose a course from the list.", "course")
    if not (spec.title or "").strip() and course is None:
        raise TrainingRecordError("Give the session a title or choose its course.", "title")
    if spec.ends_on < spec.starts_on:
        raise TrainingRecordError("The end date is before the start date.", "ends_on")
    if spec.ends_on > date.today():
        raise TrainingRecordError(
            "Record a session once it has taken place: the end date is in the future.", "ends_on"
        )
    if not (0 < spec.hours <= MAX_HOURS):
        raise TrainingRecordError(f"Use more than 0 and at most {MAX_HOURS:g} hours.", "hours")
    if spec.delivery not in DELIVERY_METHODS:
        raise TrainingRecordError("Choose classroom or external.", "delivery")
    if (
        spec.unit_id is not None
        and db.session.scalar(select(Unit.id).where(Unit.id == spec.unit_id, Unit.agency_id == agency.id))
        is None
    ):
        raise TrainingRecordError("Choose a unit from the list.", "unit")
    return course


def _facts(session: TrainingSession) -> dict:
    return {
        "title": session.title,
        "course_id": session.course_id,
        "starts_on": session.starts_on.isoformat(),
        "ends_on": session.ends_on.isoformat(),
        "hours": session.hours,
        "category": session.category,
        "delivery": session.delivery,
        "provider": session.provider,
        "instructor": session.instructor,
        "location": session.location,
        "sign_in_sheet": session.sheet_name,
        "attendees": sorted(a.user.badge_number or f"#{a.user_id}" for a in session.attendances),
    }


def _apply(
    agency: Agency, session: TrainingSession, spec: SessionSpec, course: Course | None, people: list[User]
) -> None:
    session.course_id = course.id if course else None
    session.title = (spec.title or "").strip() or course.title
    session.description = (spec.description or "").strip()
    session.starts_on, session.ends_on, session.hours = spec.starts_on, spec.ends_on, float(spec.hours)
    session.category = (spec.category or "").strip() or _course_category(course)
    session.delivery = spec.delivery
    session.provider = (spec.provider or "").strip()
    session.instructor = (spec.instructor or "").strip()
    session.location = (spec.location or "").strip()
    if spec.sheet is not None:
        name, content_type = check_sheet(*spec.sheet)
        session.sheet_name, session.sheet_type, session.sheet_data = name, content_type, spec.sheet[1]
    current = {a.user_id: a for a in session.attendances}
    wanted = {p.id for p in people}
    for user_id, attendance in current.items():
        if user_id not in wanted:
            session.attendances.remove(attendance)
    for person in people:
        attendance = current.get(person.id)
        if attendance is None:
            attendance = SessionAttendance(agency_id=agency.id, user_id=person.id, user=person)
            session.attendances.append(attendance)
        attendance.hours, attendance.category, attendance.credited_on = (
            session.hours,
            session.category,
            session.ends_on,
        )


def _course_category(course: Course | None) -> str:
    """A session of a course is in the course's category unless the coordinator says otherwise."""
    from lms.services import catalog

    version = catalog.published_version(course) if course else None
    return version.category if version else ""


def record_session(actor: User, agency: Agency, spec: SessionSpec) -> TrainingSession:
    """Record a delivered session and credit each attendee its hours in its category (counted
    toward the mandate on the session's last day). All or nothing: any problem raises
    TrainingRecordError before anything is written."""
    course = _check(agency, spec)
    people = _attendees(agency, spec)
    if spec.sheet is not None:
        check_sheet(*spec.sheet)
    session = TrainingSession(agency_id=agency.id, recorded_by_id=actor.id)
    _apply(agency, session, spec, course, people)
    db.session.add(session)
    db.session.flush()
    audit.record(
        actor,
        "training_session.recorded",
        session,
        summary=f"{session.title}: {session.hours:g} hours for {len(people)} "
        + ("person" if len(people) == 1 else "people"),
        after=_facts(session),
        agency_id=agency.id,
    )
    return session


def update_session(actor: User, session: TrainingSession, spec: SessionSpec, reason: str) -> TrainingSession:
    """Correct a recorded session (its facts, attendees or sheet); the reason goes in the audit
    log with what changed. A voided session cannot be edited."""
    if session.voided_at is not None:
        raise TrainingRecordError("This session was voided; it cannot be edited.")
    if not (reason or "").strip():
        raise TrainingRecordError("Give a reason for the change; it is kept in the audit log.", "reason")
    agency = db.session.get(Agency, session.agency_id)
    course = _check(agency, spec)
    people = _attendees(agency, spec)
    if spec.sheet is not None:
        check_sheet(*spec.sheet)
    before = _facts(session)
    _apply(agency, session, spec, course, people)
    session.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "training_session.edited",
        session,
        summary=f"{session.title}: {reason.strip()}",
        before=before,
        after=_facts(session),
        agency_id=session.agency_id,
    )
    return session


def void_session(actor: User, session: TrainingSession, reason: str) -> TrainingSession:
    """Withdraw a session's credit from every attendee (rows are kept, marked void), with a reason."""
    if session.voided_at is not None:
        raise TrainingRecordError("This session is already voided.")
    if not (reason or "").strip():
        raise TrainingRecordError("Give a reason; it is kept in the audit log.", "reason")
    now = utcnow()
    session.voided_at, session.voided_reason, session.voided_by_id = now, reason.strip(), actor.id
    for attendance in session.attendances:
        attendance.voided_at = now
    db.session.flush()
    audit.record(
        actor,
        "training_session.voided",
        session,
        summary=f"{session.title}: {reason.strip()}",
        before={"voided": False},
        after={"voided": True, "reason": reason.strip()},
        agency_id=session.agency_id,
    )
    return session


def sessions_of(agency: Agency, *, limit: int = 100, offset: int = 0) -> list[tuple[TrainingSession, int]]:
    """The agency's sessions, newest first, each with its number of attendees (two queries)."""
    sessions = list(
        db.session.scalars(
            select(TrainingSession)
            .where(TrainingSession.agency_id == agency.id)
            .order_by(TrainingSession.ends_on.desc(), TrainingSession.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    counts = dict(
        db.session.execute(
            select(SessionAttendance.session_id, db.func.count())
            .where(SessionAttendance.session_id.in_([s.id for s in sessions]))
            .group_by(SessionAttendance.session_id)
        ).all()
    ) if sessions else {}  # fmt: skip
    return [(s, counts.get(s.id, 0)) for s in sessions]


def sessions_for(person: User) -> list[tuple[TrainingSession, SessionAttendance]]:
    """The sessions a person attended, newest first (voided ones included, marked)."""
    return list(
        db.session.execute(
            select(TrainingSession, SessionAttendance)
            .join(SessionAttendance, SessionAttendance.session_id == TrainingSession.id)
            .where(SessionAttendance.user_id == person.id)
            .order_by(TrainingSession.ends_on.desc(), TrainingSession.id.desc())
        ).tuples()
    )
