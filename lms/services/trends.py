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

from sqlalchemy import and_, case, func, or_, select

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
        """ "2026-03", the form the bar-chart macro shortens to "03/26"."""
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


def trends(agency: Agency, filters: Filters, today: date | None = None) -> Trends:
    """Month-by-month figures for the agency, or for `filters.unit_id` with its sub-units,
    optionally one course and one rank (active officers in scope, as the dashboard counts).

    Three queries whatever the agency's size: the units, then one aggregate row each over the
    assignments and the certificates of the officers in scope.
    """
    today = today or date.today()
    units = list(db.session.scalars(select(Unit).where(Unit.agency_id == agency.id)))
    root = next((u for u in units if u.id == filters.unit_id), None) if filters.unit_id else None
    officers = _officer_scope(agency, filters, _subtree(units, root.id) if root else None)
    starts = month_starts(today)

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    done = Assignment.status == "completed"
    columns = []
    for start, following in zip(starts, starts[1:], strict=False):
        begin, end = start_of(start), start_of(following)
        in_month = and_(done, Assignment.completed_at >= begin, Assignment.completed_at < end)
        if following <= today:  # a past month: as things stood at midnight after its last day
            due = and_(Assignment.due_on >= start, Assignment.due_on < following)
            due_done = and_(due, done, Assignment.completed_at < end)
            overdue = and_(
                Assignment.due_on < following,
                Assignment.assigned_at < end,
                or_(Assignment.status == "assigned", and_(done, Assignment.completed_at >= end)),
            )
        else:  # this month, so far: what was due up to today, and what is overdue now
            due = and_(Assignment.due_on >= start, Assignment.due_on <= today)
            due_done = and_(due, done)
            overdue = and_(Assignment.status == "assigned", Assignment.due_on < today)
        columns += [
            count(in_month),
            count(due),
            count(due_done),
            count(overdue),
            func.count(func.distinct(case((overdue, Assignment.user_id)))),
        ]
    course = [Assignment.course_id == filters.course_id] if filters.course_id else []
    figures = list(
        _rows(
            select(*columns).where(
                Assignment.agency_id == agency.id,
                Assignment.status.in_(COUNTED),
                Assignment.user_id.in_(officers),
                *course,
            )
        ).one()
    )
    cert_course = [Certificate.course_id == filters.course_id] if filters.course_id else []
    expired = list(
        _rows(
            select(
                *[
                    count(
                        and_(Certificate.expires_on >= start, Certificate.expires_on < add_months(start, 1))
                    )
                    for start in starts[:-1]
                ]
            ).where(
                Certificate.agency_id == agency.id,
                Certificate.revoked_at.is_(None),
                Certificate.expires_on >= starts[0],
                Certificate.expires_on < today,
                Certificate.user_id.in_(officers),
                *cert_course,
            )
        ).one()
    )
    months = [
        Month(start, *(int(v or 0) for v in figures[5 * i : 5 * i + 5]), int(expired[i] or 0))
        for i, start in enumerate(starts[:-1])
    ]
    return Trends(agency, filters, root, months, today)
