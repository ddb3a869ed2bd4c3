"""Department compliance at a glance: completion, overdue, due soon, expiring certificates
and mandate hours, for the whole agency or a unit and its sub-units.

Every figure comes from a fixed number of aggregate queries, whatever the agency's size:
counts are grouped by unit in the database and rolled up the unit tree in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from lms import dates
from lms.extensions import db
from lms.models import (
    Agency,
    Assignment,
    Certificate,
    Course,
    Mandate,
    Role,
    RoleGrant,
    Unit,
    User,
)
from lms.services import certificates
from lms.services.certificates import add_months

STATUSES = {
    "": "Any status",
    "open": "Open",
    "overdue": "Overdue",
    "due_soon": "Due in 30 days",
    "completed": "Completed",
}


# Assignments nobody owes any more: cancelled, or excused by a coordinator (with a reason).
NOT_OWED = ("cancelled", "excused")


@dataclass(frozen=True)
class Filters:
    course_id: int | None = None
    rank: str | None = None
    unit_id: int | None = None
    status: str = ""


@dataclass
class Counts:
    officers: int = 0
    assignments: int = 0
    completed: int = 0
    overdue: int = 0
    due_soon: int = 0
    expiring_30: int = 0
    expiring_60: int = 0
    expiring_90: int = 0
    mandate_met: int = 0

    @property
    def completion_rate(self) -> float:
        return self.completed / self.assignments if self.assignments else 0.0

    @property
    def mandate_rate(self) -> float:
        return self.mandate_met / self.officers if self.officers else 0.0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class UnitRow:
    unit: Unit | None  # None: people with no unit
    depth: int
    counts: Counts
    has_children: bool


@dataclass
class Overview:
    agency: Agency
    filters: Filters
    root: Unit | None
    totals: Counts
    units: list[UnitRow]
    expirations_by_month: list[tuple[str, int]]
    mandate: Mandate | None
    cycle: tuple[date, date] | None
    courses: list[Course]
    ranks: list[str]
    today: date = field(default_factory=date.today)


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of `day`, for comparing dates with timestamps."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def current_cycle(mandate: Mandate, today: date) -> tuple[date, date]:
    """The mandate cycle containing `today`: [start, end)."""
    start = mandate.cycle_start
    while add_months(start, mandate.cycle_months) <= today:
        start = add_months(start, mandate.cycle_months)
    while start > today:
        start = add_months(start, -mandate.cycle_months)
    return start, add_months(start, mandate.cycle_months)


def _subtree(units: list[Unit], root_id: int | None) -> set[int] | None:
    if root_id is None:
        return None
    children = defaultdict(list)
    for unit in units:
        children[unit.parent_id].append(unit.id)
    found, stack = set(), [root_id]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children[current])
    return found


def _officer_scope(agency: Agency, filters: Filters, unit_ids: set[int] | None):
    """A SELECT of the ids of the active officers in scope."""
    stmt = select(User.id).where(
        User.agency_id == agency.id,
        User.active.is_(True),
        User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == Role.OFFICER.value)),
    )
    if unit_ids is not None:
        stmt = stmt.where(User.unit_id.in_(unit_ids))
    if filters.rank:
        stmt = stmt.where(User.rank == filters.rank)
    return stmt


def assignment_status_clause(status: str, today: date):
    soon = today + timedelta(days=30)
    return {
        "open": Assignment.status == "assigned",
        "overdue": and_(Assignment.status == "assigned", Assignment.due_on < today),
        "due_soon": and_(
            Assignment.status == "assigned", Assignment.due_on >= today, Assignment.due_on <= soon
        ),
        "completed": Assignment.status == "completed",
    }.get(status)


def _rows(stmt):
    """Plain rows through the session's connection: no ORM row processing for aggregates."""
    return db.session.connection().execute(stmt)


def _people(agency: Agency) -> list[tuple[int, int | None, str | None, bool]]:
    """(id, unit id, rank, holds the officer role) of every active person of the agency."""
    officer = select(RoleGrant.user_id).where(RoleGrant.role == Role.OFFICER.value).subquery()
    return [
        (user_id, unit_id, rank, is_officer is not None)
        for user_id, unit_id, rank, is_officer in _rows(
            select(User.id, User.unit_id, User.rank, officer.c.user_id)
            .outerjoin(officer, officer.c.user_id == User.id)
            .where(User.agency_id == agency.id, User.active.is_(True))
        )
    ]


def overview(agency: Agency, filters: Filters, today: date | None = None) -> Overview:
    """The dashboard's figures for the agency, or for `filters.unit_id` and the units below it.

    Officers in scope are read once (id -> unit); assignments, certificates and hours are
    aggregated per person in the database without joins, and summed per unit here: a fixed
    number of queries whose cost grows with the rows, not with round trips.
    """
    today = today or date.today()
    units = list(db.session.scalars(select(Unit).where(Unit.agency_id == agency.id).order_by(Unit.name)))
    by_id = {u.id: u for u in units}
    root = by_id.get(filters.unit_id) if filters.unit_id else None
    scope_units = _subtree(units, root.id) if root else None
    people = _people(agency)
    ranks = sorted({rank for _, _, rank, _ in people if rank})
    unit_of = {
        user_id: unit_id
        for user_id, unit_id, rank, is_officer in people
        if is_officer
        and (scope_units is None or unit_id in scope_units)
        and (not filters.rank or rank == filters.rank)
    }
    per_unit: dict[int | None, Counts] = defaultdict(Counts)
    for unit_id in unit_of.values():
        per_unit[unit_id].officers += 1

    soon = today + timedelta(days=30)
    course_clause = [Assignment.course_id == filters.course_id] if filters.course_id else []
    for user_id, total, completed, overdue, due_soon in _rows(
        select(
            Assignment.user_id,
            func.count(),
            func.sum(case((Assignment.status == "completed", 1), else_=0)),
            func.sum(case((and_(Assignment.status == "assigned", Assignment.due_on < today), 1), else_=0)),
            func.sum(case((and_(Assignment.status == "assigned", Assignment.due_on >= today, Assignment.due_on <= soon), 1), else_=0)),
        )
        .where(Assignment.agency_id == agency.id, Assignment.status.not_in(NOT_OWED), *course_clause)
        .group_by(Assignment.user_id)
    ):  # fmt: skip
        if user_id not in unit_of:
            continue
        c = per_unit[unit_of[user_id]]
        c.assignments += total
        c.completed += completed or 0
        c.overdue += overdue or 0
        c.due_soon += due_soon or 0

    # Certificates: one row per person, with the 30/60/90-day windows and the next twelve
    # months as conditional sums, so the row count never exceeds the headcount.
    cert_course = [Certificate.course_id == filters.course_id] if filters.course_id else []
    first = today.replace(day=1)
    month_starts = [add_months(first, i) for i in range(13)]
    windows = [today + timedelta(days=d) for d in (30, 60, 90)]

    def within(low, high):
        return func.sum(
            case((and_(Certificate.expires_on >= low, Certificate.expires_on < high), 1), else_=0)
        )

    window_sums = [within(today, end + timedelta(days=1)) for end in windows]
    month_sums = [within(max(month_starts[i], today), month_starts[i + 1]) for i in range(12)]
    months = [0] * 12
    for user_id, *counts in _rows(
        select(Certificate.user_id, *window_sums, *month_sums)
        .where(Certificate.agency_id == agency.id, Certificate.revoked_at.is_(None), Certificate.expires_on >= today,
               Certificate.expires_on < month_starts[12], certificates.not_renewed(), *cert_course)
        .group_by(Certificate.user_id)
    ):  # fmt: skip
        if user_id not in unit_of:
            continue
        c = per_unit[unit_of[user_id]]
        c.expiring_30 += counts[0] or 0
        c.expiring_60 += counts[1] or 0
        c.expiring_90 += counts[2] or 0
        for i in range(12):
            months[i] += counts[3 + i] or 0

    mandate = db.session.scalar(select(Mandate).where(Mandate.agency_id == agency.id))
    cycle = current_cycle(mandate, today) if mandate else None
    if mandate:
        # Course completions and classroom/external sessions together, against the total and
        # every category minimum (services/standards.py).
        from lms.services import standards

        credit = standards.credit_by_person(agency.id, cycle[0], cycle[1])
        for user_id, hours in credit.items():
            if user_id in unit_of and standards.standing(mandate, hours).met:
                per_unit[unit_of[user_id]].mandate_met += 1

    # Roll the direct counts up the tree: each unit shows itself plus everything below it.
    children = defaultdict(list)
    for unit in units:
        children[unit.parent_id].append(unit)
    rolled: dict[int, Counts] = {}

    def roll(unit: Unit) -> Counts:
        total = Counts()
        total.add(per_unit.get(unit.id, Counts()))
        for child in children[unit.id]:
            total.add(roll(child))
        rolled[unit.id] = total
        return total

    for top in children[None]:
        roll(top)
    totals = Counts()
    if root is None:
        for counts in per_unit.values():
            totals.add(counts)
        listed = [(u, 0) for u in children[None]]
        if per_unit.get(None, Counts()).officers:
            listed.append((None, 0))
    else:
        totals = rolled[root.id]
        listed = [(child, 1) for child in children[root.id]]
    unit_rows = [
        UnitRow(u, depth, rolled[u.id] if u is not None else per_unit[None], bool(u and children[u.id]))
        for u, depth in listed
    ]
    ahead = [dates.month(m) for m in month_starts[:12]]  # chart labels people read: "Dec 2026"
    courses = list(db.session.scalars(
        select(Course).where((Course.agency_id == agency.id) | Course.agency_id.is_(None)).order_by(Course.title)
    ))  # fmt: skip
    return Overview(
        agency,
        filters,
        root,
        totals,
        unit_rows,
        list(zip(ahead, months, strict=True)),
        mandate,
        cycle,
        courses,
        ranks,
        today,
    )


@dataclass
class OfficerStatus:
    officer: User
    open: int
    overdue: int
    completed: int
    next_due: date | None
    hours: float
    overdue_courses: list[str] = field(default_factory=list)


def officers_in(
    agency: Agency,
    filters: Filters,
    *,
    direct_unit_only: bool,
    today: date | None = None,
    limit: int = 200,
    offset: int = 0,
    only_ids: list[int] | None = None,
) -> tuple[list[OfficerStatus], int]:
    """Officers in scope with their assignment counts and cycle hours (one page; three queries)."""
    today = today or date.today()
    stmt = _officer_scope(
        agency,
        filters,
        {filters.unit_id}
        if direct_unit_only and filters.unit_id
        else (
            _subtree(
                list(db.session.scalars(select(Unit).where(Unit.agency_id == agency.id))), filters.unit_id
            )
            if filters.unit_id
            else None
        ),
    )
    if only_ids is not None:
        stmt = stmt.where(User.id.in_(only_ids))
    clause = assignment_status_clause(filters.status, today)
    if clause is not None:
        matching = select(Assignment.user_id).where(Assignment.agency_id == agency.id, clause)
        if filters.course_id:
            matching = matching.where(Assignment.course_id == filters.course_id)
        stmt = stmt.where(User.id.in_(matching))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    people = list(db.session.scalars(
        select(User).options(joinedload(User.unit)).where(User.id.in_(stmt)).order_by(User.name, User.id)
        .limit(limit).offset(offset)
    ))  # fmt: skip
    ids = [p.id for p in people]
    counts: dict[int, list] = {i: [0, 0, 0, None] for i in ids}
    overdue_titles: dict[int, list[str]] = defaultdict(list)
    if ids:
        course_clause = [Assignment.course_id == filters.course_id] if filters.course_id else []
        for user_id, status, due_on, title in db.session.execute(
            select(Assignment.user_id, Assignment.status, Assignment.due_on, Course.title)
            .join(Course, Course.id == Assignment.course_id)
            .where(Assignment.user_id.in_(ids), Assignment.status.not_in(NOT_OWED), *course_clause)
            .order_by(Assignment.due_on)
        ):
            row = counts[user_id]
            if status == "completed":
                row[2] += 1
            else:
                row[0] += 1
                if due_on is not None and due_on < today:
                    row[1] += 1
                    overdue_titles[user_id].append(title)
                if due_on is not None and (row[3] is None or due_on < row[3]):
                    row[3] = due_on
    mandate = db.session.scalar(select(Mandate).where(Mandate.agency_id == agency.id))
    hours: dict[int, float] = {}
    if ids:
        from lms.services import standards

        since = current_cycle(mandate, today)[0] if mandate else today - timedelta(days=365)
        hours = {
            user_id: sum(by_category.values())
            for user_id, by_category in standards.credit_by_person(agency.id, since, user_ids=ids).items()
        }
    return [
        OfficerStatus(p, *counts[p.id], float(hours.get(p.id) or 0), overdue_titles[p.id]) for p in people
    ], total


def save_mandate(
    actor: User,
    agency: Agency,
    *,
    hours: float,
    cycle_months: int,
    cycle_start: date,
    minimums: list[tuple[str, float]] | None = None,
) -> Mandate:
    """Set the agency's in-service requirement: total hours per cycle and any category minimums
    (category, hours), e.g. 24 hours per 24 months with 4 in "Use of force" (audit-logged with
    before and after)."""
    from lms.models import MandateMinimum
    from lms.services import audit

    minimums = minimums or []
    mandate = db.session.scalar(select(Mandate).where(Mandate.agency_id == agency.id))
    before = None
    if mandate is None:
        mandate = Mandate(agency_id=agency.id)
        db.session.add(mandate)
    else:
        before = _mandate_facts(mandate)
    mandate.hours, mandate.cycle_months, mandate.cycle_start = hours, cycle_months, cycle_start
    mandate.minimums.clear()
    db.session.flush()  # the old rows go before new ones may reuse their categories
    mandate.minimums.extend(
        MandateMinimum(agency_id=agency.id, category=category, hours=minimum)
        for category, minimum in minimums
    )
    db.session.flush()
    after = _mandate_facts(mandate)
    audit.record(
        actor,
        "mandate.saved",
        mandate,
        summary=f"{hours:g} hours per {cycle_months} months"
        + "".join(f", at least {minimum:g} in {category}" for category, minimum in minimums),
        before=before,
        after=after,
        agency_id=agency.id,
    )
    return mandate


def _mandate_facts(mandate: Mandate) -> dict:
    return {
        "hours": mandate.hours,
        "cycle_months": mandate.cycle_months,
        "cycle_start": mandate.cycle_start.isoformat(),
        "minimums": {m.category: m.hours for m in mandate.minimums},
    }


def team_status(supervisor: User, reports: list[User], today: date | None = None) -> list[OfficerStatus]:
    """A supervisor's direct reports with their training status (same figures as the dashboard)."""
    agency = db.session.get(Agency, supervisor.agency_id)
    rows, _ = officers_in(
        agency,
        Filters(),
        direct_unit_only=False,
        today=today,
        limit=len(reports),
        only_ids=[r.id for r in reports],
    )
    return rows


@dataclass
class OfficerRecord:
    """Everything a coordinator sees on one officer's page."""

    courses: list  # learning.CourseProgress, open ones first
    attempts: list  # scenario Attempts, newest first
    certificates: list  # (Certificate, status)
    hours: float
    cycle: tuple[date, date] | None
    mandate: Mandate | None
    standing: object = None  # standards.Standing: hours by category against the mandate
    sessions: list = field(default_factory=list)  # (TrainingSession, SessionAttendance), newest first


def officer_record(person: User, today: date | None = None) -> OfficerRecord:
    from lms.models import Attempt
    from lms.services import certificates, learning

    today = today or date.today()
    mandate = db.session.scalar(select(Mandate).where(Mandate.agency_id == person.agency_id))
    cycle = current_cycle(mandate, today) if mandate else None
    from lms.services import standards, training_records

    since = cycle[0] if cycle else today - timedelta(days=365)
    credit = standards.credit_by_person(person.agency_id, since, user_ids=[person.id]).get(person.id, {})
    hours = sum(credit.values())
    attempts = list(db.session.scalars(
        select(Attempt).where(Attempt.user_id == person.id).order_by(Attempt.started_at.desc()).limit(50)
    ))  # fmt: skip
    return OfficerRecord(
        courses=[learning.progress(a) for a in learning.assignments_for(person)],
        attempts=attempts,
        certificates=[(c, certificates.status_of(c, today)) for c in certificates.certificates_for(person)],
        hours=float(hours or 0),
        cycle=cycle,
        mandate=mandate,
        standing=standards.standing(mandate, credit),
        sessions=training_records.sessions_for(person),
    )
