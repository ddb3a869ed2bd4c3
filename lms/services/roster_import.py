"""Roster import from CSV: a dry run that shows every change and every bad row, in plain
words, then an all-or-nothing apply. Re-importing the same file changes nothing.

Two modes, chosen on upload and kept on the RosterImport: "add and update only" (the
default) adds the people in the file and updates those already known, and leaves everyone
else as they are; "full sync" also deactivates the people missing from the file (never
deletes them, so their training records stay). A file of four new hires in the default mode
therefore never touches the other officers.

A plan that would deactivate more than DEACTIVATION_GUARD (10%) of the agency's active
people, however it gets there (full sync, or rows marked inactive), is applied only with a
typed confirmation: the number of people it deactivates, or the agency's name. The check is
made again on apply, server-side, so a form posted without it changes nothing.

The file has a header row. Required columns: badge_number, name, email. Optional: rank,
unit (a unit of the agency, by code or by name, without regard to case or spacing),
supervisor_badge, hire_date (YYYY-MM-DD), status (active or inactive). Column names are
matched without regard to case or spaces.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from lms.dates import day
from lms.extensions import db
from lms.input import control_character, text_problem
from lms.models import Agency, Role, RoleGrant, RosterImport, Unit, User
from lms.models.types import utcnow
from lms.services import audit
from lms.wording import quantity

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
ADD_UPDATE, FULL_SYNC = "add_update", "full_sync"
MODES = {
    ADD_UPDATE: "Add and update only: people not in the file are left as they are",
    FULL_SYNC: "Full sync: people not in the file are deactivated",
}
# A plan deactivating more than this share of the active people needs a typed confirmation.
DEACTIVATION_GUARD = 0.10
FIELD_LABELS = {
    "name": "Name",
    "email": "Email",
    "rank": "Rank",
    "unit": "Unit",
    "supervisor_badge": "Supervisor",
    "hire_date": "Hire date",
}


class RosterFileError(ValueError):
    """The file as a whole cannot be read (not CSV, not UTF-8, no header ...)."""


class ConfirmationNeeded(ValueError):
    """The plan deactivates many people and the typed confirmation is missing or wrong."""


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
    words: list[str] = field(default_factory=list)  # the change in plain words, for people


@dataclass
class RosterPlan:
    rows: int = 0
    create: list[Change] = field(default_factory=list)
    update: list[Change] = field(default_factory=list)
    unchanged: int = 0
    deactivate: list[Change] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mode: str = ADD_UPDATE
    active_people: int = 0  # the agency's active people before the import
    left_alone: int = 0  # people not in the file whom add-and-update leaves as they are

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.update) + len(self.deactivate)

    @property
    def deactivating(self) -> int:
        """Everyone the plan deactivates: missing from a full sync, or marked inactive."""
        marked = sum(1 for change in self.update if change.fields.get("active") == [True, False])
        return len(self.deactivate) + marked

    @property
    def needs_confirmation(self) -> bool:
        return self.deactivating > 0 and self.deactivating > DEACTIVATION_GUARD * self.active_people

    def confirmed_by(self, typed: str | None, agency: Agency) -> bool:
        """Whether `typed` is the number of people deactivated or the agency's name."""
        if not self.needs_confirmation:
            return True
        typed = _squeeze(typed or "")
        return bool(typed) and typed in (str(self.deactivating), _squeeze(agency.name))

    def action_words(self) -> str:
        """What applying does, for the button: "Add 4 people and deactivate 41"."""
        parts = []
        if self.create:
            parts.append(f"add {_people(len(self.create))}")
        if self.update:
            parts.append(f"update {_people(len(self.update))}")
        if self.deactivate:
            parts.append(f"deactivate {_people(len(self.deactivate))} not in the file")
        text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return text[:1].upper() + text[1:]

    def summary(self) -> dict:
        return {
            "mode": self.mode,
            "rows": self.rows,
            "create": len(self.create),
            "update": len(self.update),
            "unchanged": self.unchanged,
            "deactivate": len(self.deactivate),
            "problems": len(self.problems),
        }

    def to_dict(self) -> dict:
        return asdict(self)


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _squeeze(text: str) -> str:
    """Text compared without regard to case or spacing: " north  precinct" is "North Precinct"."""
    return " ".join(text.split()).casefold()


def summary_words(summary: dict) -> str:
    """A stored import summary in plain words: "4 added, 1 updated, 41 deactivated, ..."."""
    parts = [
        f"{summary.get('create', 0)} added",
        f"{summary.get('update', 0)} updated",
        f"{summary.get('deactivate', 0)} deactivated",
        f"{summary.get('unchanged', 0)} unchanged",
    ]
    if summary.get("problems"):
        parts.append(f"{summary['problems']} with problems")
    mode = "full sync" if summary.get("mode") == FULL_SYNC else "add and update only"
    return f"{', '.join(parts)} ({mode})"


class _Units:
    """The agency's units, found by code or by name without regard to case or spacing."""

    def __init__(self, agency: Agency):
        self.all = list(db.session.scalars(select(Unit).where(Unit.agency_id == agency.id)))
        self.by_id = {unit.id: unit for unit in self.all}
        self.by_code = {_squeeze(unit.code): unit for unit in self.all}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in self.all:
            self.by_name.setdefault(_squeeze(unit.name), []).append(unit)

    def find(self, text: str) -> tuple[Unit | None, str | None]:
        """The unit `text` names, or None and what is wrong."""
        key = _squeeze(text)
        if key in self.by_code:
            return self.by_code[key], None
        named = self.by_name.get(key, [])
        if len(named) == 1:
            return named[0], None
        if named:
            candidates = ", ".join(f"{u.name} (code {u.code})" for u in sorted(named, key=lambda u: u.code))
            return None, f'"{text}" is the name of {len(named)} units: {candidates}; give the code instead'
        known = ", ".join(f"{u.code} ({u.name})" for u in sorted(self.all, key=lambda u: u.code))
        return None, f'unknown unit "{text}"; this agency has: {known or "no units yet"}'

    def name(self, unit_id: int | None) -> str | None:
        return self.by_id[unit_id].name if unit_id in self.by_id else None


def _words(fields: dict[str, list], supervisor_names: dict[str, str], *, new: bool) -> list[str]:
    """A change in plain words: "Rank: Officer → Sergeant", "Reactivate"."""

    def shown(name: str, value) -> str:
        if value is None:
            return "none"
        if name == "supervisor_badge":
            holder = supervisor_names.get(value)
            return f"{holder} (badge {value})" if holder else f"badge {value}"
        if name == "hire_date":
            return day(date.fromisoformat(value))
        return str(value)

    words = []
    for name, (before, after) in fields.items():
        if name == "active":
            if new:
                words.append("Added as deactivated" if not after else "")
            else:
                words.append("Reactivate" if after else "Deactivate (marked inactive in the file)")
        elif new:
            words.append(f"{FIELD_LABELS[name]}: {shown(name, after)}")
        else:
            words.append(f"{FIELD_LABELS[name]}: {shown(name, before)} → {shown(name, after)}")
    return [w for w in words if w]


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


def plan(actor: User | None, agency: Agency, content: str, mode: str = ADD_UPDATE) -> RosterPlan:
    """Work out what importing `content` into `agency` in `mode` would change. Writes nothing."""
    if mode not in MODES:
        raise ValueError(f"unknown roster import mode {mode!r}")
    rows, problems = read_rows(content)
    result = RosterPlan(rows=len(rows) + len({p.line for p in problems}), problems=problems, mode=mode)
    units = _Units(agency)
    people = {
        u.badge_number: u
        for u in db.session.scalars(select(User).where(User.agency_id == agency.id))
        if u.badge_number
    }
    result.active_people = db.session.scalar(
        select(func.count()).select_from(User).where(User.agency_id == agency.id, User.active.is_(True))
    )
    by_email = {u.email.lower(): u for u in people.values()}
    file_badges = {row.badge_number for row in rows}
    taken = _emails_of_other_accounts([row.email for row in rows], agency.id)
    row_units: dict[int, int | None] = {}  # line -> unit id
    for row in rows:
        if row.unit_code:
            unit, problem = units.find(row.unit_code)
            if problem:
                result.problems.append(RowProblem(row.line, "unit", problem))
            row_units[row.line] = unit.id if unit else None
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
    # Supervisors by badge, for the plain words: the file's names win (they are what will be).
    names = {badge: person.name for badge, person in people.items()} | {r.badge_number: r.name for r in rows}
    for row in rows:
        target = {
            "name": row.name,
            "email": row.email,
            "rank": row.rank,
            "unit": units.name(row_units.get(row.line)),
            "supervisor_badge": row.supervisor_badge,
            "hire_date": row.hire_date.isoformat() if row.hire_date else None,
            "active": row.active,
        }
        person = people.get(row.badge_number)
        if person is None:
            fields = {k: [None, v] for k, v in target.items() if v is not None}
            result.create.append(Change(row.badge_number, row.name, fields, _words(fields, names, new=True)))
            continue
        current = {
            "name": person.name,
            "email": person.email.lower(),
            "rank": person.rank,
            "unit": units.name(person.unit_id),
            "supervisor_badge": supervisors.get(person.supervisor_id),
            "hire_date": person.hire_date.isoformat() if person.hire_date else None,
            "active": person.active,
        }
        if row_units.get(row.line) != person.unit_id and target["unit"] == current["unit"]:
            # Two units of the same name: the plan says which by code.
            target["unit"] = f"{target['unit']} ({units.by_id[row_units[row.line]].code})"
        diff = {k: [current[k], v] for k, v in target.items() if current[k] != v}
        if diff:
            result.update.append(Change(row.badge_number, row.name, diff, _words(diff, names, new=False)))
        else:
            result.unchanged += 1
    for badge, person in sorted(people.items()):
        if badge in file_badges or not person.active or not person.has_role(Role.OFFICER):
            continue
        if mode == ADD_UPDATE:
            result.left_alone += 1
            continue
        if actor is not None and person.id == actor.id:
            result.warnings.append(
                f"You ({person.name}, badge {badge}) are not in the file; your account stays active."
            )
            continue
        result.deactivate.append(
            Change(badge, person.name, {"active": [True, False]}, ["Deactivate: not in the file"])
        )
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


def check(
    actor: User | None, agency: Agency, filename: str, raw: bytes, mode: str = ADD_UPDATE
) -> tuple[RosterImport, RosterPlan]:
    """The dry run: keep the upload, its mode and its plan, change nothing else."""
    content = decode(raw)
    result = plan(actor, agency, content, mode)
    record = RosterImport(
        agency_id=agency.id,
        uploaded_by_id=actor.id if actor else None,
        filename="".join(c for c in filename if not control_character(c, single_line=True))[:255]
        or "roster.csv",
        content=content,
        sha256=hashlib.sha256(raw).hexdigest(),
        status="checked",
        mode=mode,
        summary=result.summary(),
    )
    db.session.add(record)
    db.session.flush()
    return record, result


def apply(actor: User | None, record: RosterImport, confirmation: str | None = None) -> RosterPlan:
    """Apply a checked import in its mode, all or nothing. The plan is worked out again first,
    so a roster changed since the dry run is applied as it now stands; a plan that deactivates
    more than DEACTIVATION_GUARD of the active people needs `confirmation` (the number of
    people it deactivates, or the agency's name), else ConfirmationNeeded and nothing changes."""
    if record.status == "applied":
        raise ValueError("This import was already applied.")
    agency = db.session.get(Agency, record.agency_id)
    result = plan(actor, agency, record.content, record.mode)
    if not result.ok:
        raise ValueError(
            f"The file has {quantity(len(result.problems), 'problem')}; fix them and upload it again."
        )
    if not result.confirmed_by(confirmation, agency):
        raise ConfirmationNeeded(
            f"This import would deactivate {_people(result.deactivating)} of {result.active_people} "
            f"active. To apply it, type {result.deactivating} or the agency's name ({agency.name}) "
            "in the confirmation box."
        )
    rows, _ = read_rows(record.content)
    units = _Units(agency)
    added: list[User] = []
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
            added.append(person)
        if person.email.lower() != row.email:
            person.email = row.email
        person.name, person.rank = row.name, row.rank
        person.unit_id = units.find(row.unit_code)[0].id if row.unit_code else None
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
    record.added_user_ids = [person.id for person in added]
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
