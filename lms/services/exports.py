"""Compliance exports as CSV or XLSX, streamed row by row so a large agency never has to fit
in memory (XLSX through openpyxl's write-only mode)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import (
    ActiveTime,
    Agency,
    Assignment,
    Certificate,
    Course,
    CourseVersion,
    Mandate,
    Role,
    RoleGrant,
    Unit,
    User,
)
from lms.services import catalog, standards
from lms.services.cells import Percent, csv_row, xlsx_row

BATCH = 2000


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    header: tuple[str, ...]


REPORTS = {
    r.slug: r
    for r in (
        Report("completion", "Completion by course and unit", ("course", "unit", "officers assigned", "completed", "open", "overdue", "completion rate")),
        Report("overdue", "Overdue training", ("badge", "name", "email", "rank", "unit", "supervisor", "course", "due on", "days overdue")),
        Report("certifications", "Certifications with expiry", ("badge", "name", "unit", "course", "certificate code", "issued on", "expires on", "status")),
        Report("mandate-hours", "Mandate hours per officer for the cycle", ("badge", "name", "rank", "unit", "cycle start", "cycle end", "hours", "required", "category hours", "category required", "met")),
        Report("state-records", "Completed training for the state records system", standards.STATE_RECORD_HEADER),
        Report("time-on-task", "Active time on task per officer and item", ("badge", "name", "unit", "course", "status", "credit hours", "course active minutes", "item", "kind", "item active minutes")),
        Report("excused", "Excused training, with reasons", ("badge", "name", "unit", "course", "due on", "status", "excused on", "excused by", "reason")),
    )
}  # fmt: skip


def _units(agency: Agency) -> dict[int, str]:
    return {u.id: u.name for u in db.session.scalars(select(Unit).where(Unit.agency_id == agency.id))}


def rows(report: str, agency: Agency, today: date | None = None) -> Iterator[tuple]:
    """The report's rows, fetched in batches."""
    today = today or date.today()
    units = _units(agency)
    if report == "completion":
        stmt = (
            select(Course.title, User.unit_id, func.count(Assignment.id),
                   func.sum((Assignment.status == "completed").cast(db.Integer)),
                   func.sum((Assignment.status == "assigned").cast(db.Integer)),
                   func.sum(((Assignment.status == "assigned") & (Assignment.due_on < today)).cast(db.Integer)))
            .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
            .where(Assignment.agency_id == agency.id, Assignment.status.not_in(("cancelled", "excused")))
            .group_by(Course.title, User.unit_id).order_by(Course.title, User.unit_id)
        )  # fmt: skip
        for title, unit_id, total, done, open_, overdue in db.session.execute(stmt):
            yield (
                title,
                units.get(unit_id, "(no unit)"),
                total,
                done or 0,
                open_ or 0,
                overdue or 0,
                Percent((done or 0) / total) if total else None,
            )
    elif report == "overdue":
        supervisor = db.aliased(User)
        stmt = (
            select(User.badge_number, User.name, User.email, User.rank, User.unit_id, supervisor.name, Course.title, Assignment.due_on)
            .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
            .outerjoin(supervisor, supervisor.id == User.supervisor_id)
            .where(Assignment.agency_id == agency.id, Assignment.status == "assigned", Assignment.due_on < today)
            .order_by(Assignment.due_on, User.name)
            .execution_options(yield_per=BATCH)
        )  # fmt: skip
        for badge, name, email, rank, unit_id, sup, course, due in db.session.execute(stmt):
            yield (
                badge,
                name,
                email,
                rank,
                units.get(unit_id, ""),
                sup or "",
                course,
                due,
                (today - due).days,
            )
    elif report == "certifications":
        stmt = (
            select(User.badge_number, User.name, User.unit_id, Certificate.course_title, Certificate.code,
                   Certificate.issued_on, Certificate.expires_on, Certificate.revoked_at)
            .join(User, User.id == Certificate.user_id)
            .where(Certificate.agency_id == agency.id)
            .order_by(Certificate.expires_on.is_(None), Certificate.expires_on, User.name)
            .execution_options(yield_per=BATCH)
        )  # fmt: skip
        for badge, name, unit_id, course, code, issued, expires, revoked in db.session.execute(stmt):
            status = "revoked" if revoked else ("expired" if expires and expires < today else "valid")
            yield (
                badge,
                name,
                units.get(unit_id, ""),
                course,
                code,
                issued,
                expires,  # empty: the certificate does not expire
                status,
            )
    elif report == "mandate-hours":
        mandate = db.session.scalar(select(Mandate).where(Mandate.agency_id == agency.id))
        start, end = standards.cycle_for(mandate, today)
        credit = standards.credit_by_person(agency.id, start, end)
        stmt = (
            select(User.id, User.badge_number, User.name, User.rank, User.unit_id)
            .where(User.agency_id == agency.id, User.active.is_(True),
                   User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == Role.OFFICER.value)))
            .order_by(User.name).execution_options(yield_per=BATCH)
        )  # fmt: skip
        for user_id, badge, name, rank, unit_id in db.session.execute(stmt):
            mine = standards.standing(mandate, credit.get(user_id))
            yield (
                badge,
                name,
                rank,
                units.get(unit_id, ""),
                start,
                end,
                float(mine.total),
                float(mandate.hours) if mandate else None,
                "; ".join(f"{m.category}: {m.hours:g}" for m in mine.minimums),
                "; ".join(f"{m.category}: {m.required:g}" for m in mine.minimums),
                ("yes" if mine.met else "no") if mandate else "no mandate set",
            )
    elif report == "state-records":
        yield from standards.state_record_rows(agency)
    elif report == "time-on-task":
        yield from _time_on_task_rows(agency, units)
    elif report == "excused":
        by = db.aliased(User)
        stmt = (
            select(User.badge_number, User.name, User.unit_id, Course.title, Assignment.due_on,
                   Assignment.excused_at, by.name, Assignment.excused_reason)
            .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
            .outerjoin(by, by.id == Assignment.excused_by_id)
            .where(Assignment.agency_id == agency.id, Assignment.status == "excused")
            .order_by(User.name, User.id, Assignment.id)
            .execution_options(yield_per=BATCH)
        )  # fmt: skip
        for badge, name, unit_id, course, due, excused_at, by_name, reason in db.session.execute(stmt):
            yield (
                badge,
                name,
                units.get(unit_id, ""),
                course,
                due,
                "Excused",
                excused_at.date() if excused_at else None,
                by_name or "",
                reason or "",
            )
    else:
        raise KeyError(report)


def _time_on_task_rows(agency: Agency, units: dict[int, str]) -> Iterator[tuple]:
    """One row per officer, course and item with recorded active time (see time_on_task)."""
    per_item = (
        select(ActiveTime.assignment_id, ActiveTime.item_slug, func.sum(ActiveTime.seconds).label("seconds"))
        .where(ActiveTime.agency_id == agency.id, ActiveTime.assignment_id.is_not(None))
        .group_by(ActiveTime.assignment_id, ActiveTime.item_slug)
        .subquery()
    )
    stmt = (
        select(User.badge_number, User.name, User.unit_id, Assignment.id, Assignment.status,
               Assignment.course_version_id, per_item.c.item_slug, per_item.c.seconds)
        .join(Assignment, Assignment.id == per_item.c.assignment_id)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.agency_id == agency.id)
        .order_by(User.name, User.id, Assignment.id)
    )  # fmt: skip
    found = db.session.execute(stmt).all()
    totals: dict[int, int] = {}
    for *_, assignment_id, _status, _version, _slug, seconds in found:
        totals[assignment_id] = totals.get(assignment_id, 0) + int(seconds or 0)
    specs: dict[int, Any] = {}
    for badge, name, unit_id, assignment_id, status, version_id, slug, seconds in found:
        if version_id not in specs:
            version = db.session.get(CourseVersion, version_id)
            specs[version_id] = (version, catalog.spec_of(version))
        version, spec = specs[version_id]
        item = spec.item(slug) if slug else None
        yield (
            badge,
            name,
            units.get(unit_id, ""),
            version.title,
            status,
            float(version.credit_hours),
            round(totals[assignment_id] / 60, 1),
            item.title if item else slug,
            item.kind if item else "",
            round(int(seconds or 0) / 60, 1),
        )


def stream_csv(report: str, agency: Agency) -> Iterator[str]:
    """CSV text in chunks, header first; text that starts like a formula is made plain."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORTS[report].header)
    for count, row in enumerate(rows(report, agency), start=1):
        writer.writerow(csv_row(row))
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


XLSX_DATE_FORMATS = {"en-US": "mmm d, yyyy", "en-GB": "d mmm yyyy"}
WIDTH_SAMPLE = 500  # rows read ahead to fit the columns; the rest stream through unmeasured
MIN_WIDTH, MAX_WIDTH = 8, 60


def _shown_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return 12  # "Dec 12, 2026"
    if isinstance(value, float):
        return len(f"{value:g}") + (1 if isinstance(value, Percent) else 0)
    return max((len(line) for line in str(value).splitlines()), default=0)


def column_widths(header: tuple[str, ...], sample: list[tuple]) -> list[int]:
    """Widths fitted to the header and the first rows, within bounds (a long title wraps
    nothing; it is cut off at MAX_WIDTH characters on screen, not in the cell)."""
    widest = [len(name) for name in header]
    for row in sample:
        for index, value in enumerate(row):
            widest[index] = max(widest[index], _shown_width(value))
    return [min(max(width + 2, MIN_WIDTH), MAX_WIDTH) for width in widest]


def xlsx_file(report: str, agency: Agency):
    """An XLSX workbook in a temporary file (write-only mode: rows are not kept in memory).

    Dates are date cells in the agency's style, hours and counts are numbers, the header is
    bold, frozen and filtered, and the columns fit their content (measured on the first
    WIDTH_SAMPLE rows, read ahead before any row is written, as write-only mode requires).
    Text is always a string cell, never a formula."""
    from itertools import chain, islice

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    header = REPORTS[report].header
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(REPORTS[report].title[:31])
    found = rows(report, agency)
    sample = list(islice(found, WIDTH_SAMPLE))
    for index, width in enumerate(column_widths(header, sample), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    heading = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    date_format = XLSX_DATE_FORMATS.get(agency.date_style, XLSX_DATE_FORMATS["en-US"])
    count = 0
    for count, row in enumerate(chain(sample, found), start=1):  # noqa: B007 (the count is used below)
        sheet.append(xlsx_row(sheet, row, date_format=date_format))
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (send_file closes it after the response)
    workbook.save(handle)
    handle.seek(0)
    return handle
