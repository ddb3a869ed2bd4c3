"""What an officer can do after an attempt: try again, the next item, the course, the certificate."""

from __future__ import annotations

from dataclasses import dataclass

from lms.extensions import db
from lms.models import Assignment, Attempt, Certificate, Role, User
from lms.services import learning


@dataclass
class NextSteps:
    assignment_id: int | None = None
    course_title: str | None = None
    item_slug: str | None = None  # the attempt's item: "Try again" starts it
    try_again: bool = False
    attempts_left: int | None = None  # None: no limit (or not the player's own course attempt)
    next_item_slug: str | None = None
    next_item_title: str | None = None
    certificate: Certificate | None = None  # the course is complete and this is its certificate
    library: bool = False  # an instructor's own play outside a course: back to the scenario library


def for_attempt(actor: User, attempt: Attempt) -> NextSteps:
    """The ways on from `attempt` for `actor`. A course attempt: "Try again" when it is the
    actor's own, the assignment is open, the item is not passed yet and its attempts rule
    leaves one (as on the item's page); the next item
    of the course when it is open to them; the course; and the certificate once the course is
    complete. A direct play (no assignment): the scenario library, for instructors."""
    if attempt.assignment_id is None:
        return NextSteps(library=attempt.user_id == actor.id and actor.has_role(Role.INSTRUCTOR))
    assignment = db.session.get(Assignment, attempt.assignment_id)
    if assignment is None or assignment.user_id != actor.id:
        return NextSteps()
    course = learning.progress(assignment)
    entry = course.items.get(attempt.item_slug)
    steps = NextSteps(
        assignment_id=assignment.id,
        course_title=course.spec.title,
        item_slug=attempt.item_slug,
        certificate=course.certificate if course.complete else None,
    )
    if entry is not None and assignment.status != "cancelled" and attempt.status == "completed":
        allowed = entry.attempts_allowed
        steps.attempts_left = None if allowed is None else max(0, allowed - entry.attempts_used)
        steps.try_again = (
            entry.unlocked and not entry.done and (allowed is None or entry.attempts_used < allowed)
        )
    order = [i for m in course.modules for i in m.items]
    slugs = [i.item.slug for i in order]
    if attempt.item_slug in slugs:
        following = order[slugs.index(attempt.item_slug) + 1 :]
        upcoming = next((i for i in following if i.unlocked and not i.done), None)
        if upcoming is not None:
            steps.next_item_slug, steps.next_item_title = upcoming.item.slug, upcoming.item.title
    return steps
