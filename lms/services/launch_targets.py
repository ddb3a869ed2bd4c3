"""What a launch from another system opens: a course (or one of its modules) or a scenario.

LTI links, SCORM packages and cmi5 packages all name their content the same way, as a target
string: "course:<id>", "module:<course id>:<slug>" or "scenario:<slug>". This module lists the
targets an agency may offer (`catalogue`) and opens one for a person (`open_target`): a course
gets (or reuses) the person's assignment, a scenario resumes the person's attempt from the same
link or starts a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from lms.extensions import db
from lms.input import id_or_none
from lms.models import Assignment, Attempt, Course, ScenarioRecord, ScenarioVersion, User


class TargetError(ValueError):
    """A target that cannot be opened; the message is for the person launching."""


@dataclass
class CatalogueEntry:
    target: str
    title: str
    kind: str
    graded: bool


@dataclass
class Opened:
    """Where the launch goes, and the assignment or attempt it opened (if any)."""

    redirect_to: str
    assignment: Assignment | None = None
    attempt: Attempt | None = None


def parse_target(target: str | None) -> tuple[str, list[str]] | None:
    if not target:
        return None
    kind, _, rest = target.partition(":")
    if kind in ("course", "module", "scenario") and rest:
        return kind, rest.split(":")
    return None


def catalogue(agency_id: int) -> list[CatalogueEntry]:
    """What an agency may link or package: its published courses and scenarios."""
    from lms.services import catalog
    from lms.services.scenario_library import latest_published

    entries = []
    for course in db.session.scalars(catalog.courses_offered_to(agency_id).order_by(Course.title)):
        if catalog.published_version(course) is not None:
            entries.append(CatalogueEntry(f"course:{course.id}", course.title, "Course", True))
    seen = set()
    records = db.session.scalars(
        select(ScenarioRecord)
        .where((ScenarioRecord.agency_id == agency_id) | ScenarioRecord.agency_id.is_(None))
        .order_by(ScenarioRecord.title)
    )
    for record in records:
        if record.slug in seen:
            continue
        version: ScenarioVersion | None = latest_published(agency_id, record.slug)
        if version is not None:
            seen.add(record.slug)
            entries.append(CatalogueEntry(f"scenario:{record.slug}", version.title, "Scenario", True))
    return entries


def _open_assignment(user: User, course: Course, source: str) -> Assignment:
    from lms.services import learning

    found = db.session.scalar(
        select(Assignment)
        .where(
            Assignment.user_id == user.id, Assignment.course_id == course.id, Assignment.status != "cancelled"
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    try:
        return found or learning.assign_course(None, user, course, source=source)
    except learning.LearningError as error:
        raise TargetError(str(error)) from error


def open_target(
    user: User,
    agency_id: int,
    target: str | None,
    *,
    source: str,
    instructor: bool = False,
    resume: Callable[[ScenarioVersion], Attempt | None] | None = None,
    default: str = "main.index",
) -> Opened:
    """Open `target` for `user` of `agency_id`. Flushes.

    An instructor is shown a course without being assigned it. `resume` finds an attempt in
    progress from the same link (each caller knows what "the same link" means); without one a
    scenario starts a new attempt. An unknown or missing target goes to the `default` page.
    """
    from lms.services import attempts, catalog
    from lms.services.scenario_library import latest_published

    parsed = parse_target(target)
    opened = Opened(url_for(default))
    if parsed is not None and parsed[0] in ("course", "module"):
        course_id = id_or_none(parsed[1][0])  # a hand-set target may name an id no column holds
        course = db.session.get(Course, course_id) if course_id else None
        if (
            course is None
            or course.agency_id not in (None, agency_id)
            or catalog.published_version(course) is None
        ):
            raise TargetError("The linked course is not available in Ripple.")
        if not instructor:
            opened.assignment = _open_assignment(user, course, source)
            opened.redirect_to = url_for("learn.assignment", assignment_id=opened.assignment.id)
            if parsed[0] == "module" and len(parsed[1]) > 1:
                opened.redirect_to += f"#module-{parsed[1][1]}"
    elif parsed is not None and parsed[0] == "scenario":
        version = latest_published(agency_id, parsed[1][0])
        if version is None:
            raise TargetError("The linked scenario is not available in Ripple.")
        opened.attempt = (resume(version) if resume else None) or attempts.start_direct(user, version)
        opened.redirect_to = url_for("play.attempt", attempt_id=opened.attempt.id)
    db.session.flush()
    return opened
