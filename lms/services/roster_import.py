"""Roster import from CSV: a dry run that shows every change and every bad row, then an
all-or-nothing apply. Re-importing the same file changes nothing. People missing from the
file are deactivated, never deleted, so their training records stay.

The file has a header row. Required columns: badge_number, name, email. Optional: rank,
unit (a unit code of the agency), supervisor_badge, hire_date (YYYY-MM-DD), status
(active or inactive). Column names are matched without regard to case or spaces.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from lms.extensions import db
from lms.input import control_character, text_problem
from lms.models import Agency, Role, RoleGrant, RosterImport, Unit, User
from lms.models.types import utcnow
from lms.services import audit

REQUIRED = ("badge_number", "name", "email")
OPTIONAL = ("rank", "unit", "supervisor_badge", "hire_date", "status")
ALIASES = {
    "badge": "badge_number",
    "badge_no": "badge_number",
    "unit_code": "unit",
    "supervisor": "supervisor_badge",
    "full_name": "name",
    "e-mail": "email",
    "email_address": "email",
    "hired": "hire_date",
}
TRACKED = ("name", "email", "rank", "unit_id", "supervisor_id", "hire_date", "active")
# The column each text column of the file is stored in (or matched against): the dry run checks
# the same limits the database has (length, required), so apply never meets a surprise.
STORED_IN = {
    "badge_number": User.badge_number,
    "name": User.name,
    "email": User.email,
    "rank": User.rank,
    "unit": Unit.code,
    "supervisor_badge": User.badge_number,
}
MAX_ROWS = 50_000


class RosterFileError(ValueError):
    """The file as a whole cannot be read (not CSV, not UTF-8, no header ...)."""


@dataclass
class RowProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass
class RosterRow:
    line: int
    badge_number: str
    name: str
    email: str
    rank: str | None
    unit_code: str | None
    supervisor_badge: str | None
    hire_date: date | None
    active: bool


@dataclass
class Change:
    badge_number: str
    name: str
    fields: dict[str, list] = field(default_factory=dict)  # field -> [before, after]


@dataclass
class RosterPlan:
    rows: int = 0
    create: list[Change] = field(default_factory=list)
    update: list[Change] = field(default_factory=list)
    unchanged: int = 0
    deactivate: list[Change] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.update) + len(self.deactivate)

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "create": len(self.create),
            "update": len(self.update),
            "unchanged": self.unchanged,
            "deactivate": len(self.deactivate),
            "problems": len(self.problems),
        }

    def to_dict(self) -> dict:
        return asdict(self)


def _header_name(raw: str) -> str:
    key = raw.strip().lower().replace(" ", "_")
    return ALIASES.get(key, key)


def _parse_date(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f'"{text}" is not a date; use YYYY-MM-DD, e.g. 2021-03-15')


def read_rows(content: str) -> tuple[list[RosterRow], list[RowProblem]]:
    """Parse the CSV text into rows, collecting every problem that needs no database."""
    if not content.strip():
        raise RosterFileError("The file is empty.")
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    try:
        header = next(reader)
    except csv.Error as error:
        raise RosterFileError(f"line 1: this is not a readable CSV file ({error}).") from error
    names = [_header_name(h) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise RosterFileError(
            f"line 1: the header is missing the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}. "
            f"Required: {', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)}."
        )
    duplicates = sorted({n for n in names if names.count(n) > 1 and n})
    if duplicates:
        raise RosterFileError(f"line 1: the column {', '.join(duplicates)} appears twice in the header.")
    rows, problems = [], []
    seen_badges: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    read_up_to = reader.line_num
    try:
        for record in reader:
            # The line the row starts on: a quoted cell may span several.
            line, read_up_to = read_up_to + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise RosterFileError(
                    f"The file has more than {MAX_ROWS:,} rows; split it into smaller files."
                )
            if len(record) != len(names):
                problems.append(
                    RowProblem(line, "row", f"has {len(record)} fields but the header has {len(names)}")
                )
                continue
            values = {name: cell.strip() for name, cell in zip(names, record, strict=True)}
            row_problems = _cell_problems(line, values)
            flagged = {problem.column for problem in row_problems}  # checked no further
            badge, email = values["badge_number"], values["email"]
            if badge in seen_badges:
                row_problems.append(
                    RowProblem(
                        line, "badge_number", f'duplicate badge "{badge}" (also on line {seen_badges[badge]})'
                    )
                )
            if email and "email" not in flagged:
                try:
                    email = validate_email(
                        email, check_deliverability=False, test_environment=True
                    ).normalized.lower()
                except EmailNotValidError as error:
                    row_problems.append(
                        RowProblem(
                            line, "email", f'"{values["email"]}" is not a valid email address: {error}'
                        )
                    )
                else:
                    if email in seen_emails:
                        row_problems.append(
                            RowProblem(line, "email", f"{email} is also on line {seen_emails[email]}")
                        )
            hire = None
            if values.get("hire_date") and "hire_date" not in flagged:
                try:
                    hire = _parse_date(values["hire_date"])
                except ValueError as error:
                    row_problems.append(RowProblem(line, "hire_date", str(error)))
            status = (values.get("status") or "active").lower()
            if status not in ("active", "inactive") and "status" not in flagged:
                row_problems.append(
                    RowProblem(line, "status", f'"{values["status"]}" must be active or inactive')
                )
            if row_problems:
                problems.extend(row_problems)
            else:
                rows.append(RosterRow(
                    line, badge, values["name"], email, values.get("rank") or None, values.get("unit") or None,
                    values.get("supervisor_badge") or None, hire, status == "active",
                ))  # fmt: skip
            seen_badges.setdefault(badge, line)
            if email:
                seen_emails.setdefault(email, line)
    except csv.Error as error:
        raise RosterFileError(f"line {reader.line_num}: the CSV is malformed ({error}).") from error
    return rows, problems


def _cell_problems(line: int, values: dict[str, str]) -> list[RowProblem]:
    """Every cell is one line without control characters; text cells fit their column."""
    problems = []
    for column, value in values.items():
        if column in STORED_IN:
            problem = text_problem(STORED_IN[column], value, required=column in REQUIRED)
        else:
            bad = control_character(value, single_line=True)
            problem = f"contains a line break or control character ({bad})" if bad else None
        if problem:
            problems.append(RowProblem(line, column or "row", problem))
    return problems


def decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            "The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8”."
        ) from error
    for number, line in enumerate(text.split("\n"), start=1):  # (splitlines would drop \x0b ...)
        bad = control_character(line)
        if bad:
            raise RosterFileError(
                f"line {number}: contains a control character ({bad}); this is not a CSV file."
            )
    return text


def plan(actor: User | None, agency: Agency, content: str) -> RosterPlan:
    """Work out what importing `content` into `agency` would change. Writes nothing."""
    rows, problems = read_rows(content)
    result = RosterPlan(rows=len(rows) + len({p.line for p in problems}), problems=problems)
    units = {u.code: u.id for u in db.session.scalars(select(Unit).where(Unit.agency_id == agency.id))}
    unit_codes = {v: k for k, v in units.items()}
    people = {
        u.badge_number: u
        for u in db.session.scalars(select(User).where(User.agency_id == agency.id))
        if u.badge_number
    }
    by_email = {u.email.lower(): u for u in people.values()}
    file_badges = {row.badge_number for row in rows}
    taken = _emails_of_other_accounts([row.email for row in rows], agency.id)
    for row in rows:
        if row.unit_code and row.unit_code not in units:
            known = ", ".join(sorted(units)) or "none yet"
            result.problems.append(
                RowProblem(row.line, "unit", f'unknown unit "{row.unit_code}"; this agency has: {known}')
            )
        if (
            row.supervisor_badge
            and row.supervisor_badge not in file_badges
            and row.supervisor_badge not in people
        ):
            result.problems.append(
                RowProblem(row.line, "supervisor_badge", f'no one has badge "{row.supervisor_badge}"')
            )
        if row.supervisor_badge == row.badge_number:
            result.problems.append(
                RowProblem(row.line, "supervisor_badge", "a person cannot supervise themselves")
            )
        if row.email in taken:
            holder = taken[row.email]
            result.problems.append(
                RowProblem(
                    row.line,
                    "email",
                    f"{row.email} already belongs to {holder}, who has no badge number, in this agency"
                    if holder
                    else f"{row.email} cannot be used for this person; give their own work address",
                )
            )
        owner = by_email.get(row.email)
        if owner is not None and owner.badge_number != row.badge_number:
            result.problems.append(
                RowProblem(row.line, "email", f"{row.email} already belongs to badge {owner.badge_number}")
            )
    result.problems.sort(key=lambda p: p.line)
    supervisors = {u.id: u.badge_number for u in people.values()}
    for row in rows:
        target = {
            "name": row.name,
            "email": row.email,
            "rank": row.rank,
            "unit": row.unit_code,
            "supervisor_badge": row.supervisor_badge,
            "hire_date": row.hire_date.isoformat() if row.hire_date else None,
            "active": row.active,
        }
        person = people.get(row.badge_number)
        if person is None:
            result.create.append(
                Change(row.badge_number, row.name, {k: [None, v] for k, v in target.items() if v is not None})
            )
            continue
        current = {
            "name": person.name,
            "email": person.email.lower(),
            "rank": person.rank,
            "unit": unit_codes.get(person.unit_id),
            "supervisor_badge": supervisors.get(person.supervisor_id),
            "hire_date": person.hire_date.isoformat() if person.hire_date else None,
            "active": person.active,
        }
        diff = {k: [current[k], v] for k, v in target.items() if current[k] != v}
        if diff:
            result.update.append(Change(row.badge_number, row.name, diff))
        else:
            result.unchanged += 1
    for badge, person in sorted(people.items()):
        if badge not in file_badges and person.active and person.has_role(Role.OFFICER):
            if actor is not None and person.id == actor.id:
                result.warnings.append(
                    f"You ({person.name}, badge {badge}) are not in the file; your account stays active."
                )
                continue
            result.deactivate.append(Change(badge, person.name, {"active": [True, False]}))
    return result


def _emails_of_other_accounts(emails: list[str], agency_id: int) -> dict[str, str | None]:
    """Which of `emails` belong to an account the import cannot match by badge number: the
    holder's name when it is this agency's own person without a badge number, None when the
    account is another agency's or the platform's (whose holder is not shown, nor whether it
    exists: the row only "cannot be used")."""
    taken: dict[str, str | None] = {}
    for start in range(0, len(emails), 900):  # keep under every database's bound-parameter limit
        chunk = emails[start : start + 900]
        for email, holder_agency, name in db.session.execute(
            select(func.lower(User.email), User.agency_id, User.name).where(
                func.lower(User.email).in_(chunk),
                (User.agency_id != agency_id)
                | User.agency_id.is_(None)
                | User.badge_number.is_(None)
                | (User.badge_number == ""),
            )
        ):
            taken[email] = name if holder_agency == agency_id else None
    return taken


def check(actor: User | None, agency: Agency, filename: str, raw: bytes) -> tuple[RosterImport, RosterPlan]:
    """The dry run: keep the upload and its plan, change nothing else."""
    content = decode(raw)
    result = plan(actor, agency, content)
    record = RosterImport(
        agency_id=agency.id,
        uploaded_by_id=actor.id if actor else None,
        filename="".join(c for c in filename if not control_character(c, single_line=True))[:255]
        or "roster.csv",
        content=content,
        sha256=hashlib.sha256(raw).hexdigest(),
        status="checked",
        summary=result.summary(),
    )
    db.session.add(record)
    db.session.flush()
    return record, result


def apply(actor: User | None, record: RosterImport) -> RosterPlan:
    """Apply a checked import, all or nothing. The plan is worked out again first, so a
    roster changed since the dry run is applied as it now stands."""
    if record.status == "applied":
        raise ValueError("This import was already applied.")
    agency = db.session.get(Agency, record.agency_id)
    result = plan(actor, agency, record.content)
    if not result.ok:
        raise ValueError(f"The file has {len(result.problems)} problem(s); fix them and upload it again.")
    rows, _ = read_rows(record.content)
    units = {u.code: u.id for u in db.session.scalars(select(Unit).where(Unit.agency_id == agency.id))}
    people = {
        u.badge_number: u
        for u in db.session.scalars(select(User).where(User.agency_id == agency.id))
        if u.badge_number
    }
    for row in rows:
        person = people.get(row.badge_number)
        if person is None:
            person = User(agency_id=agency.id, badge_number=row.badge_number, email=row.email, name=row.name)
            person.role_grants = [RoleGrant(role=Role.OFFICER.value)]
            db.session.add(person)
            people[row.badge_number] = person
        if person.email.lower() != row.email:
            person.email = row.email
        person.name, person.rank = row.name, row.rank
        person.unit_id = units.get(row.unit_code) if row.unit_code else None
        person.hire_date, person.active = row.hire_date, row.active
    db.session.flush()
    for row in rows:
        supervisor = people.get(row.supervisor_badge) if row.supervisor_badge else None
        people[row.badge_number].supervisor_id = supervisor.id if supervisor else None
    gone = {change.badge_number for change in result.deactivate}
    for badge in gone:
        people[badge].active = False
    record.status = "applied"
    record.applied_at = utcnow()
    record.summary = result.summary()
    db.session.flush()
    audit.record(
        actor,
        "roster.imported",
        record,
        summary=f"{record.filename}: {result.summary()}",
        after=result.summary(),
        agency_id=agency.id,
    )
    from lms.services.rules import apply_rules  # newcomers get what their unit and rank require

    apply_rules(actor, agency)
    return result
