"""What the REST API reads and writes for an agency's records system.

Every query is scoped to the token's agency through `scoped()`. Lists are ordered by id and
paged with an opaque cursor (the last id seen), so a sync that pages while records are added
neither skips nor repeats any; `since` limits a list to records created or changed from that
moment, for incremental sync.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, func, or_, select

from lms.extensions import db
from lms.input import MAX_ID, BadInput, text_problem
from lms.models import ApiToken, Assignment, Certificate, Completion, Role, RoleGrant, Unit, User
from lms.services import audit
from lms.services.scoping import scoped

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class ApiInputError(BadInput):
    """Bad input from the client; `field` names the parameter or property at fault."""


@dataclass
class Page:
    data: list[dict[str, Any]]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, "next_cursor": self.next_cursor}


# The longest cursor this API gives out ({"after": 2147483647}, 28 characters), with room to
# spare; anything longer is not ours and is refused before it is decoded (a base64 of 3,000 `[`
# would otherwise reach json.loads and recurse past Python's limit).
MAX_CURSOR_LENGTH = 64


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ApiInputError("The cursor is not one this API gave out.", "cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiInputError("The cursor is not one this API gave out.", "cursor") from None
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_ID:
        raise ApiInputError("The cursor is not one this API gave out.", "cursor")
    return after


def parse_since(text: str | None) -> datetime | None:
    """An ISO 8601 date or date-time; a time without a zone is taken as UTC."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiInputError(
            "`since` must be an ISO 8601 date or date-time, e.g. 2026-01-31T00:00:00Z.", "since"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_limit(text: str | None) -> int:
    if text in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise ApiInputError(f"`limit` must be a whole number from 1 to {MAX_LIMIT}.", "limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiInputError(f"`limit` must be a whole number from 1 to {MAX_LIMIT}.", "limit")
    return limit


def _page(stmt: Select, model, cursor: str | None, limit: int, serialize) -> Page:
    after = decode_cursor(cursor)
    rows = list(db.session.scalars(stmt.where(model.id > after).order_by(model.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([serialize(row) for row in rows], encode_cursor(rows[-1].id) if more and rows else None)


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


# --- people -----------------------------------------------------------------------------


def person_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "badge_number": user.badge_number,
        "name": user.name,
        "email": user.email,
        "rank": user.rank,
        "unit_code": user.unit.code if user.unit else None,
        "hire_date": _iso(user.hire_date),
        "active": user.active,
        "roles": sorted(str(role) for role in user.roles),
        "created_at": _iso(user.created_at),
    }


def list_people(token: ApiToken, *, since=None, cursor=None, limit=DEFAULT_LIMIT, active=None) -> Page:
    stmt = scoped(User, token)
    if since is not None:
        stmt = stmt.where(User.created_at >= since)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return _page(stmt, User, cursor, limit, person_dict)


def get_person(token: ApiToken, person_id: int) -> User | None:
    if not 0 < person_id <= MAX_ID:
        return None
    return db.session.scalar(scoped(User, token).where(User.id == person_id))


PERSON_FIELDS = {"name", "email", "rank", "unit_code", "hire_date", "active"}
EMAIL_NOT_USABLE = "`email` cannot be used for this person; give their own work address."


def upsert_person(token: ApiToken, badge_number: str, body: Any) -> tuple[User, bool]:
    """Create or update the agency's person with this badge number. Returns (person, created).

    Changes only the fields given; a new person needs name and email and becomes an officer.
    """
    badge_number = (badge_number or "").strip()
    _check_text(User.badge_number, badge_number, "badge_number", required=True)
    if not isinstance(body, dict):
        raise ApiInputError("The request body must be a JSON object.")
    unknown = sorted(set(body) - PERSON_FIELDS)
    if unknown:
        raise ApiInputError(f"Unknown properties: {', '.join(unknown)}.", unknown[0])
    person = db.session.scalar(scoped(User, token).where(User.badge_number == badge_number))
    created = person is None
    if created and not {"name", "email"} <= set(body):
        raise ApiInputError(
            "A new person needs `name` and `email`.", "name" if "name" not in body else "email"
        )
    changes: dict[str, Any] = {}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str):
            raise ApiInputError("`name` must be a string.", "name")
        _check_text(User.name, name.strip(), "name")
        changes["name"] = name.strip()
    if "email" in body:
        email = body["email"]
        try:
            if not isinstance(email, str):
                raise EmailNotValidError("not a string")
            email = validate_email(
                email, check_deliverability=False, test_environment=True
            ).normalized.lower()
        except EmailNotValidError:
            raise ApiInputError("`email` must be a valid email address.", "email") from None
        holder = db.session.execute(
            select(User.agency_id, User.badge_number, User.name).where(
                func.lower(User.email) == email, User.id != (person.id if person else -1)
            )
        ).first()
        if holder is not None and holder.agency_id == token.agency_id:
            who = f"badge {holder.badge_number}" if holder.badge_number else holder.name
            raise ApiInputError(
                f"That email address already belongs to {who} in this agency.", "email", status=409
            )
        if holder is not None:
            # Another agency's (or the platform's) account: never attached, and never named, so
            # the answer tells nothing about who is where (no 409, no owner).
            raise ApiInputError(EMAIL_NOT_USABLE, "email")
        changes["email"] = email
    if "rank" in body:
        rank = body["rank"]
        if rank is not None and not isinstance(rank, str):
            raise ApiInputError("`rank` must be a string, or null.", "rank")
        rank = rank.strip() or None if isinstance(rank, str) else None
        _check_text(User.rank, rank, "rank")
        changes["rank"] = rank
    if "unit_code" in body:
        code = body["unit_code"]
        if code is None:
            changes["unit_id"] = None
        else:
            unit = db.session.scalar(
                select(Unit).where(Unit.agency_id == token.agency_id, Unit.code == str(code))
            )
            if unit is None:
                raise ApiInputError("`unit_code` names no unit of this agency.", "unit_code")
            changes["unit_id"] = unit.id
    if "hire_date" in body:
        raw = body["hire_date"]
        try:
            changes["hire_date"] = None if raw is None else date.fromisoformat(str(raw))
        except ValueError:
            raise ApiInputError("`hire_date` must be a date like 2024-05-01, or null.", "hire_date") from None
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise ApiInputError("`active` must be true or false.", "active")
        changes["active"] = body["active"]
    if created:
        person = User(agency_id=token.agency_id, badge_number=badge_number, email=changes["email"], name="")
        person.role_grants = [RoleGrant(role=Role.OFFICER.value)]
        db.session.add(person)
    before = {key: _plain(getattr(person, key)) for key in changes} if not created else None
    for key, value in changes.items():
        setattr(person, key, value)
    db.session.flush()
    audit.record(
        None,
        "person.created_via_api" if created else "person.updated_via_api",
        person,
        summary=f"{person.name} ({badge_number}) via API token {token.name}",
        before=before,
        after={key: _plain(value) for key, value in changes.items()},
        agency_id=token.agency_id,
    )
    return person, created


def _check_text(column, value: str | None, field: str, *, required: bool | None = None) -> None:
    """The same limits as the roster import: those of the column the value is stored in."""
    problem = text_problem(column, value, required=required)
    if problem:
        raise ApiInputError(f"`{field}` {problem}.", field)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


# --- learning records -----------------------------------------------------------------------


def assignment_dict(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.id,
        "person_id": a.user_id,
        "badge_number": a.user.badge_number,
        "course_id": a.course_id,
        "course_title": a.course.title,
        "course_version": a.course_version.number,
        "due_on": _iso(a.due_on),
        "status": a.status,
        "source": a.source,
        "assigned_at": _iso(a.assigned_at),
        "completed_at": _iso(a.completed_at),
    }


def list_assignments(
    token, *, since=None, cursor=None, limit=DEFAULT_LIMIT, status=None, person_id=None
) -> Page:
    stmt = scoped(Assignment, token)
    if since is not None:
        stmt = stmt.where(or_(Assignment.assigned_at >= since, Assignment.completed_at >= since))
    if status:
        if status not in ("assigned", "completed", "cancelled"):
            raise ApiInputError("`status` must be assigned, completed or cancelled.", "status")
        stmt = stmt.where(Assignment.status == status)
    if person_id is not None:
        stmt = stmt.where(Assignment.user_id == person_id)
    return _page(stmt, Assignment, cursor, limit, assignment_dict)


def completion_dict(c: Completion) -> dict[str, Any]:
    return {
        "id": c.id,
        "person_id": c.user_id,
        "assignment_id": c.assignment_id,
        "course_id": c.course_id,
        "course_title": c.course.title,
        "credit_hours": c.credit_hours,
        "category": c.category,
        "completed_at": _iso(c.completed_at),
    }


def list_completions(token, *, since=None, cursor=None, limit=DEFAULT_LIMIT, person_id=None) -> Page:
    stmt = scoped(Completion, token)
    if since is not None:
        stmt = stmt.where(Completion.completed_at >= since)
    if person_id is not None:
        stmt = stmt.where(Completion.user_id == person_id)
    return _page(stmt, Completion, cursor, limit, completion_dict)


def certificate_dict(c: Certificate) -> dict[str, Any]:
    return {
        "id": c.id,
        "person_id": c.user_id,
        "course_id": c.course_id,
        "course_title": c.course_title,
        "code": c.code,
        "credit_hours": c.credit_hours,
        "issued_on": _iso(c.issued_on),
        "expires_on": _iso(c.expires_on),
        "revoked_at": _iso(c.revoked_at),
        "revoked_reason": c.revoked_reason,
        "replaces_id": c.replaces_id,
        "created_at": _iso(c.created_at),
    }


def list_certificates(token, *, since=None, cursor=None, limit=DEFAULT_LIMIT, person_id=None) -> Page:
    stmt = scoped(Certificate, token)
    if since is not None:
        stmt = stmt.where(or_(Certificate.created_at >= since, Certificate.revoked_at >= since))
    if person_id is not None:
        stmt = stmt.where(Certificate.user_id == person_id)
    return _page(stmt, Certificate, cursor, limit, certificate_dict)
