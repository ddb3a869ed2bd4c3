"""What each role sees on its home page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Role, User
from lms.models.types import utcnow


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
    training: list = field(default_factory=list)  # learning.CourseProgress of open assignments
    certificates: list = field(default_factory=list)  # (Certificate, status) pairs
    to_review: list = field(default_factory=list)  # recent finished scenario attempts of the agency
    warnings: list[str] = field(default_factory=list)  # background work that is stuck, for staff
    board: object = None  # today.Figures of the agency, for coordinators
    over_hours: list = field(default_factory=list)  # authoring.HoursRecheck: hours to lower


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


def my_training(user: User) -> tuple[list, list]:
    """The officer's open courses (with progress and due dates) and certificates with status."""
    from lms.services import certificates, learning

    training = [learning.progress(a) for a in learning.assignments_for(user) if a.status == "assigned"]
    certs = [(c, certificates.status_of(c)) for c in certificates.certificates_for(user)]
    return training, certs


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
        home.training, home.certificates = my_training(user)
    if user.has_role(Role.INSTRUCTOR):
        from lms.services.attempts import attempts_for_review

        home.sections.append("instructor")
        home.to_review = attempts_for_review(user, limit=5)
    if user.has_role(Role.COORDINATOR) and user.agency_id is not None:
        home.sections.append("coordinator")
        home.agency_summary = agency_summary(user.agency_id)
        from lms.models import Agency
        from lms.services import today

        home.board = today.figures(today.Scope(db.session.get(Agency, user.agency_id)))
    if user.is_platform_admin:
        home.sections.append("admin")
    if user.agency_id is not None and user.has_role(Role.INSTRUCTOR, Role.COORDINATOR):
        from lms.services.authoring import courses_over_their_hours

        home.over_hours = courses_over_their_hours(user)
    if user.has_role(Role.INSTRUCTOR, Role.COORDINATOR, Role.ADMIN):
        home.warnings = background_warnings(user)
    return home


GRADING_LATE = timedelta(minutes=3)


def background_warnings(user: User) -> list[str]:
    """What staff should know about work that is not getting done: grades waiting too long
    (workers down or the broker unreachable). Scoped to the user's agency."""
    from lms.models import Attempt
    from lms.services.attempts import finished_at
    from lms.services.scoping import scoped

    warnings = []
    # One count, however long the queue: attempts waiting whose last decision is that old.
    late = db.session.scalar(
        scoped(Attempt, user)
        .where(Attempt.status == "grading", finished_at() < utcnow() - GRADING_LATE)
        .with_only_columns(func.count(Attempt.id))
    )
    if late:
        warnings.append(
            f"{late} scenario attempt{'s are' if late != 1 else ' is'} waiting more than "
            f"{int(GRADING_LATE.total_seconds() // 60)} minutes for a grade: the grading workers may be down. "
            "They will be graded as soon as a worker or `flask attempts grade-pending` runs."
        )
    if user.is_platform_admin:
        warnings += periodic_warnings()
    return warnings


def periodic_warnings() -> list[str]:
    """Periodic jobs (reminders, deliveries, the grade sweep ...) that keep failing: for admins."""
    from lms import schedule

    return [
        f'The periodic job "{job.name}" has failed {job.failures} times in a row '
        f"(last error: {job.last_error}). It is retried every {schedule.RETRY_AFTER.seconds // 60} minutes."
        for job in schedule.status()
        if job.failures >= 2
    ]
