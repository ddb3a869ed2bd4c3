"""The agency roster: finding people, changing their status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import Agency, RoleGrant, Unit, User
from lms.services import audit
from lms.services.scoping import NotFound, scoped


def visible_agency(actor: User, agency_id: int) -> Agency:
    """The agency if the actor may see it (their own, or any for platform admins)."""
    agency = db.session.get(Agency, agency_id)
    if agency is None or not (actor.is_platform_admin or actor.agency_id == agency.id):
        raise NotFound(f"Agency {agency_id}")
    return agency


def unit_subtree_ids(agency_id: int, root_id: int) -> list[int]:
    """The unit and every unit below it (one query, then walked in memory)."""
    rows = db.session.execute(select(Unit.id, Unit.parent_id).where(Unit.agency_id == agency_id)).all()
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in rows:
        children.setdefault(parent_id, []).append(unit_id)
    found, stack = [], [root_id]
    while stack:
        unit_id = stack.pop()
        found.append(unit_id)
        stack.extend(children.get(unit_id, []))
    return found


@dataclass(frozen=True)
class RosterPage:
    people: list[User]
    total: int
    page: int
    pages: int


def search_people(
    actor: User,
    agency: Agency,
    *,
    q: str = "",
    unit_id: int | None = None,
    role: str = "",
    status: str = "active",
    page: int = 1,
    per_page: int = 50,
) -> RosterPage:
    """People of one agency matching the roster filters, a page at a time."""
    stmt = scoped(User, actor).where(User.agency_id == agency.id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.name).like(like),
                func.lower(User.email).like(like),
                func.lower(User.badge_number).like(like),
            )
        )
    if unit_id is not None:
        stmt = stmt.where(User.unit_id.in_(unit_subtree_ids(agency.id, unit_id)))
    if role:
        stmt = stmt.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == role)))
    if status == "active":
        stmt = stmt.where(User.active.is_(True))
    elif status == "inactive":
        stmt = stmt.where(User.active.is_(False))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    people = db.session.scalars(
        stmt.options(selectinload(User.unit), selectinload(User.role_grants))
        .order_by(User.name, User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return RosterPage(list(people), total, page, pages)


def unit_tree(agency: Agency) -> list[tuple[Unit, int, int]]:
    """Units in tree order as (unit, depth, active headcount), from two queries."""
    units = db.session.scalars(select(Unit).where(Unit.agency_id == agency.id).order_by(Unit.name)).all()
    counts = dict(
        db.session.execute(
            select(User.unit_id, func.count())
            .where(User.agency_id == agency.id, User.active.is_(True))
            .group_by(User.unit_id)
        ).all()
    )
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[Unit, int, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            ordered.append((unit, depth, counts.get(unit.id, 0)))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def set_active(actor: User, person: User, active: bool, reason: str) -> None:
    """Deactivate or reactivate a person. People are never deleted: their records stay."""
    if person.active == active:
        return
    if person.id == actor.id and not active:
        raise ValueError("You cannot deactivate your own account.")
    audit.record(
        actor,
        "user.activated" if active else "user.deactivated",
        person,
        summary=f"{person.name}: {reason}",
        before={"active": person.active},
        after={"active": active},
    )
    person.active = active
    db.session.flush()
