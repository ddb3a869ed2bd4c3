"""What each role sees on its home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Role, User


@dataclass
class AgencySummary:
    active_people: int
    inactive_people: int
    units: int


@dataclass
class Home:
    user: User
    sections: list[str] = field(default_factory=list)
    agency_summary: AgencySummary | None = None
    team: list[User] = field(default_factory=list)


def agency_summary(agency_id: int) -> AgencySummary:
    from lms.models import Unit

    active, inactive = 0, 0
    for is_active, count in db.session.execute(
        select(User.active, func.count()).where(User.agency_id == agency_id).group_by(User.active)
    ).all():
        if is_active:
            active = count
        else:
            inactive = count
    units = db.session.scalar(select(func.count()).select_from(Unit).where(Unit.agency_id == agency_id)) or 0
    return AgencySummary(active, inactive, units)


def home_for(user: User) -> Home:
    """The sections of the home page, one per role the user holds."""
    home = Home(user=user)
    if user.has_role(Role.OFFICER):
        home.sections.append("officer")
        home.team = list(
            db.session.scalars(
                select(User).where(User.supervisor_id == user.id, User.active.is_(True)).order_by(User.name)
            )
        )
    if user.has_role(Role.INSTRUCTOR):
        home.sections.append("instructor")
    if user.has_role(Role.COORDINATOR) and user.agency_id is not None:
        home.sections.append("coordinator")
        home.agency_summary = agency_summary(user.agency_id)
    if user.is_platform_admin:
        home.sections.append("admin")
    return home
