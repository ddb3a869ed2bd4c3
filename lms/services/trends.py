"""Compliance over time: the last twelve months, month by month.

For each month: assignments completed in it, the share of what was due in it that was done by
the month's end, assignments and officers overdue at the month's end, and certificates that
expired in it. The current month counts up to today. Everything is read from the existing
records (assignments and certificates) in two aggregate queries with one conditional sum per
month and figure, so the cost does not grow with the number of months or round trips.

Only assignments whose status is "assigned" or "completed" count, named explicitly, so a
status added later (cancelled, excused ...) stays out until someone decides how it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, literal, or_, select

from lms.extensions import db
from lms.models import Agency, Assignment, Certificate, Unit
from lms.services.certificates import add_months
from lms.services.compliance import Filters, _officer_scope, _rows, _subtree, start_of

MONTHS = 12
COUNTED = ("assigned", "completed")


@dataclass(frozen=True)
class Month:
    start: date  # the first day of the month
    completed: int  # assignments completed in the month
    due: int  # assignments due in the month
    due_done: int  # ... of which completed by the month's end (by today for this month)
    overdue: int  # assignments overdue at the month's end
    officers_overdue: int  # officers with at least one of them
    expired: int  # certificates that expired in the month (not revoked)

    @property
    def label(self) -> str:
        """ "2026-03": a sortable key (charts show `name`)."""
        return f"{self.start:%Y-%m}"

    @property
    def name(self) -> str:
        """ "Mar 2026", for people."""
        return f"{self.start:%b %Y}"

    @property
    def completion_rate(self) -> float | None:
        """The share of the month's due assignments done by its end; None when none were due."""
        return self.due_done / self.due if self.due else None


@dataclass(frozen=True)
class Trends:
    agency: Agency
    filters: Filters
    root: Unit | None
    months: list[Month]  # oldest first, the current month last
    today: date


def month_starts(today: date, count: int = MONTHS) -> list[date]:
    """The first days of the last `count` months (the current one last), and of the next."""
    first = today.replace(day=1)
    return [add_months(first, i) for i in range(-(count - 1), 2)]


def _month_index(column, bounds):
    """The window's month that `column` falls in: 0 the oldest .. 11 this month; -1 before the
    window, 12 after it (and for NULL). Range tests on the column (no date functions), so the
    database can group by it cheaply and an index on the column still serves the filters;
    nested as a binary search, so a row costs about four comparisons instead of up to
    thirteen (a third of the trends page's time at 200,000 assignments)."""

    def first_above(low: int, high: int):
        # The answer is i - 1 for the first i in [low, high] with column < bounds[i]
        # (i = len(bounds) when there is none).
        if low == high:
            return literal(low - 1)
        middle = (low + high) // 2
        return case((column < bounds[middle], first_above(low, middle)), else_=first_above(middle + 1, high))

    return first_above(0, len(bounds))


def _grouped(stmt):
    """Counts of the rows of `stmt` per distinct combination of its columns. Grouped over a
    subquery's columns, as PostgreSQL needs: it does not see two CASEs with their own bound
    parameters as the same expression."""
    inner = stmt.subquery()
    return _rows(select(*inner.c, func.count()).group_by(*inner.c))


def trends(agency: Agency, filters: Filters, today: date | None = None) -> Trends:
    """Month-by-month figures for the agency, or for `filters.unit_id` with its sub-units,
    optionally one course and one rank (active officers in scope, as the dashboard counts).

    Four queries whatever the agency's size: the units; the assignments grouped by the months
    they were due and completed in; the assignments that were overdue at some month's end
    (grouped by officer and months, to count officers once); and the certificates.
    """
    today = today or date.today()
    units = list(db.session.scalars(select(Unit).where(Unit.agency_id == agency.id)))
    root = next((u for u in units if u.id == filters.unit_id), None) if filters.unit_id else None
    officers = _officer_scope(agency, filters, _subtree(units, root.id) if root else None)
    starts = month_starts(today)
    current = MONTHS - 1
    moments = [start_of(start) for start in starts]
    done = Assignment.status == "completed"
    due = _month_index(Assignment.due_on, starts)
    completed = case((done, _month_index(Assignment.completed_at, moments)))  # None: not completed
    due_by_today = case((Assignment.due_on <= today, 1), else_=0)
    scope = [
        Assignment.agency_id == agency.id,
        Assignment.status.in_(COUNTED),
        Assignment.user_id.in_(officers),
        *([Assignment.course_id == filters.course_id] if filters.course_id else []),
    ]
    figures = {name: [0] * MONTHS for name in ("completed", "due", "due_done", "overdue")}
    for due_month, done_month, by_today, n in _grouped(
        select(due.label("due"), completed.label("done"), due_by_today.label("by_today")).where(
            *scope, or_(Assignment.due_on >= starts[0], Assignment.completed_at >= moments[0])
        )
    ):
        if done_month is not None and 0 <= done_month < MONTHS:
            figures["completed"][done_month] += n
        if due_month is None or not 0 <= due_month < MONTHS:
            continue
        if due_month < current:  # a past month: done by midnight after its last day
            figures["due"][due_month] += n
            if done_month is not None and done_month <= due_month:
                figures["due_done"][due_month] += n
        elif by_today:  # this month, so far: what was due up to today
            figures["due"][due_month] += n
            if done_month is not None:
                figures["due_done"][due_month] += n
    # Overdue at the end of a past month m: due and assigned by then, not completed by then;
    # this month: open and past due today. Only such assignments are read, per officer.
    assigned = _month_index(Assignment.assigned_at, moments)
    now = case((and_(Assignment.status == "assigned", Assignment.due_on < today), 1), else_=0)
    late = [set() for _ in range(MONTHS)]
    for user_id, due_month, assigned_month, done_month, overdue_now, n in _grouped(
        select(
            Assignment.user_id,
            due.label("due"),
            assigned.label("assigned"),
            completed.label("done"),
            now.label("now"),
        ).where(
            *scope,
            or_(
                and_(
                    Assignment.due_on < starts[current],
                    Assignment.assigned_at < moments[current],
                    or_(Assignment.status == "assigned", Assignment.completed_at >= moments[1]),
                ),
                now == 1,
            ),
        )
    ):
        first = max(due_month, assigned_month, 0)
        last = min(current if done_month is None else done_month, current)  # months [first, last)
        for month in range(first, last):
            figures["overdue"][month] += n
            late[month].add(user_id)
        if overdue_now:
            figures["overdue"][current] += n
            late[current].add(user_id)
    cert_course = [Certificate.course_id == filters.course_id] if filters.course_id else []
    expired = [0] * MONTHS
    expiry_month = _month_index(Certificate.expires_on, starts)
    for month, n in _grouped(
        select(expiry_month.label("month")).where(
            Certificate.agency_id == agency.id,
            Certificate.revoked_at.is_(None),
            Certificate.expires_on >= starts[0],
            Certificate.expires_on < today,
            Certificate.user_id.in_(officers),
            *cert_course,
        )
    ):
        expired[month] += n
    months = [
        Month(
            start,
            figures["completed"][i],
            figures["due"][i],
            figures["due_done"][i],
            figures["overdue"][i],
            len(late[i]),
            expired[i],
        )
        for i, start in enumerate(starts[:-1])
    ]
    return Trends(agency, filters, root, months, today)
