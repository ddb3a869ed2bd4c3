"""Active time on task: crediting visible-page heartbeats, and reading the totals back.

While an officer has an item page visible and is using it, the page's heartbeat
(``static/js/heartbeat.js``) posts every 30 seconds, and once more when the page is left. A
beat claims the active seconds the page counted since its previous beat; the server credits
the least of that claim, the time since the person's previous beat on any page (so two tabs,
a replayed or a duplicated beat never count the same minute twice) and ``CAP_SECONDS``. The
first beat of a page only starts its clock. What is credited is what the server's clock saw.

The transcript, the coordinator's person page and the exports read the totals here; the
measured median of a scenario version (``lms.seat_time``) reads its completed attempts' time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from lms import seat_time as st
from lms.course_format import CourseSpec
from lms.extensions import db
from lms.input import MAX_ID
from lms.models import ActiveTime, Assignment, Attempt, ScenarioVersion, User
from lms.models.types import utcnow
from lms.services import learning
from lms.services.scenario_library import latest_published, scenario_of
from lms.services.scoping import NotFound

__all__ = [
    "CAP_SECONDS",
    "MAX_CLAIM_SECONDS",
    "Beat",
    "BeatRefused",
    "CourseTime",
    "course_times_for",
    "measured_minutes",
    "parse_beat",
    "record_beat",
    "scenario_times_for",
    "seconds_by_assignment",
    "seconds_by_assignment_item",
    "seconds_by_item",
]

CAP_SECONDS = 45  # the most one beat credits: a 30 s interval and some slack for a slow network
MAX_CLAIM_SECONDS = 600  # a larger claim is not a heartbeat at all: refused, not clamped
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEBRIEF_PLACE = "/debrief"  # an attempt's time after completion: credited, never in the median
_DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() accepts "²", int() does not


class BeatRefused(ValueError):
    """The beat is malformed; the message says which field and why."""


@dataclass(frozen=True)
class Beat:
    """A parsed heartbeat: an assignment's item, or a scenario attempt, and the seconds claimed."""

    active_seconds: int
    assignment_id: int | None = None
    item_slug: str | None = None
    attempt_id: int | None = None


def _int_field(form: Mapping[str, str], name: str, *, required: bool, low: int, high: int) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            raise BeatRefused(f"{name}: is required")
        return None
    if not _DIGITS.fullmatch(raw):
        raise BeatRefused(f"{name}: must be a whole number, got {raw[:20]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise BeatRefused(f"{name}: must be between {low} and {high}, got {value}")
    return value


def parse_beat(form: Mapping[str, str]) -> Beat:
    """A Beat from the posted fields ``active``, and ``assignment`` + ``item`` or ``attempt``."""
    active = _int_field(form, "active", required=True, low=0, high=MAX_CLAIM_SECONDS)
    assignment = _int_field(form, "assignment", required=False, low=1, high=MAX_ID)
    attempt = _int_field(form, "attempt", required=False, low=1, high=MAX_ID)
    item = (form.get("item") or "").strip() or None
    if item is not None and (len(item) > 100 or not _SLUG.match(item)):
        raise BeatRefused("item: must be an item slug (lower-case letters, digits and hyphens)")
    if attempt is None and (assignment is None or item is None):
        raise BeatRefused("a beat names a scenario attempt, or an assignment and one of its items")
    return Beat(active_seconds=active or 0, assignment_id=assignment, item_slug=item, attempt_id=attempt)


def _attempt_place(attempt: Attempt, now: datetime) -> str:
    """An attempt's play time, until it is completed; its debrief's time after that."""
    if attempt.status == "completed" and (attempt.completed_at is None or now >= attempt.completed_at):
        return f"t{attempt.id}{DEBRIEF_PLACE}"
    return f"t{attempt.id}"


def _place(
    actor: User, beat: Beat, now: datetime
) -> tuple[str, Assignment | None, str | None, Attempt | None]:
    """Where the beat belongs, or NotFound if it is not the actor's own item or attempt."""
    if beat.attempt_id is not None:
        attempt = db.session.get(Attempt, beat.attempt_id)
        if attempt is None or attempt.user_id != actor.id:
            raise NotFound(f"Attempt {beat.attempt_id}")
        if beat.assignment_id is not None and beat.assignment_id != attempt.assignment_id:
            raise BeatRefused("assignment: is not the assignment this attempt counts for")
        assignment = db.session.get(Assignment, attempt.assignment_id) if attempt.assignment_id else None
        if assignment is not None and attempt.item_slug:
            _require_usable(assignment, attempt.item_slug)
        return _attempt_place(attempt, now), assignment, attempt.item_slug, attempt
    assignment = db.session.get(Assignment, beat.assignment_id)
    if assignment is None or assignment.user_id != actor.id:
        raise NotFound(f"Assignment {beat.assignment_id}")
    _require_usable(assignment, beat.item_slug or "")
    return f"a{assignment.id}/{beat.item_slug}", assignment, beat.item_slug, None


def _require_usable(assignment: Assignment, item_slug: str) -> None:
    """Time counts only on an item the officer may use: of an assignment not cancelled, and
    unlocked (NotFound for an item the course does not have, else BeatRefused)."""
    if assignment.status == "cancelled":
        raise BeatRefused("assignment: was cancelled, so its time is not credited")
    try:
        unlocked = learning.item_unlocked(assignment, item_slug)
    except learning.UnknownItem:
        raise NotFound(f"Item {item_slug}") from None
    if not unlocked:
        raise BeatRefused(
            "item: is locked until the items before it are finished, so its time is not credited"
        )


def record_beat(actor: User, beat: Beat, *, now: datetime | None = None) -> int:
    """Credit one heartbeat of the actor's own page; returns the seconds credited.

    Raises NotFound for another person's (or a missing) item or attempt. Flushes.
    """
    now = now or utcnow()
    # One person's beats one at a time (a row lock on PostgreSQL), so two tabs cannot both
    # credit the same seconds.
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    place, assignment, item_slug, attempt = _place(actor, beat, now)
    row = db.session.scalar(
        select(ActiveTime).where(ActiveTime.user_id == actor.id, ActiveTime.place == place)
    )
    previous = db.session.scalar(
        select(func.max(ActiveTime.last_beat_at)).where(ActiveTime.user_id == actor.id)
    )
    if row is None:
        row = ActiveTime(
            agency_id=assignment.agency_id if assignment else (attempt.agency_id if attempt else None),
            user_id=actor.id,
            assignment_id=assignment.id if assignment else None,
            item_slug=item_slug,
            attempt_id=attempt.id if attempt else None,
            place=place,
            seconds=0,
            beats=0,
            first_beat_at=now,
            last_beat_at=now,
        )
        db.session.add(row)
        credited = 0  # a page's first beat starts its clock
    else:
        since = max(0.0, (now - previous).total_seconds()) if previous else 0.0
        credited = int(min(beat.active_seconds, since, CAP_SECONDS))
    row.seconds += credited
    row.beats += 1
    row.last_beat_at = max(row.last_beat_at, now)
    db.session.flush()
    return credited


# --- reading it back ---------------------------------------------------------------------


def seconds_by_item(assignment: Assignment) -> dict[str, int]:
    """Active seconds per item slug of one assignment (scenario attempts summed per item)."""
    rows = db.session.execute(
        select(ActiveTime.item_slug, func.sum(ActiveTime.seconds))
        .where(ActiveTime.assignment_id == assignment.id, ActiveTime.item_slug.is_not(None))
        .group_by(ActiveTime.item_slug)
    )
    return {slug: int(total or 0) for slug, total in rows}


def seconds_by_assignment(assignment_ids: Iterable[int]) -> dict[int, int]:
    """Active seconds per assignment."""
    ids = list(assignment_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ActiveTime.assignment_id, func.sum(ActiveTime.seconds))
        .where(ActiveTime.assignment_id.in_(ids))
        .group_by(ActiveTime.assignment_id)
    )
    return {assignment_id: int(total or 0) for assignment_id, total in rows}


@dataclass(frozen=True)
class ItemTime:
    slug: str
    title: str
    kind: str
    seconds: int

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True)
class CourseTime:
    """One assignment's active time, item by item in course order."""

    assignment: Assignment
    title: str
    items: tuple[ItemTime, ...]

    @property
    def seconds(self) -> int:
        return sum(item.seconds for item in self.items)

    @property
    def minutes(self) -> float:
        return self.seconds / 60


def seconds_by_assignment_item(assignment_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """Active seconds per (assignment, item slug), in one query for all the assignments."""
    ids = list(assignment_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ActiveTime.assignment_id, ActiveTime.item_slug, func.sum(ActiveTime.seconds))
        .where(ActiveTime.assignment_id.in_(ids), ActiveTime.item_slug.is_not(None))
        .group_by(ActiveTime.assignment_id, ActiveTime.item_slug)
    )
    return {(assignment_id, slug): int(total or 0) for assignment_id, slug, total in rows}


def course_time(assignment: Assignment, seconds: Mapping[str, int] | None = None) -> CourseTime:
    """One assignment's time per item; ``seconds`` per item slug if already read."""
    spec = learning.spec_for(assignment)
    seconds = seconds_by_item(assignment) if seconds is None else seconds
    items = tuple(
        ItemTime(slug=item.slug, title=item.title, kind=item.kind, seconds=seconds.get(item.slug, 0))
        for _, item in spec.items()
    )
    return CourseTime(assignment=assignment, title=spec.title, items=items)


def course_times_for(user: User) -> list[CourseTime]:
    """The user's assignments (not cancelled) with their active time per item: a fixed number
    of queries however many assignments there are."""
    assignments = learning.assignments_for(user)
    found = seconds_by_assignment_item(a.id for a in assignments)
    by_assignment: dict[int, dict[str, int]] = {}
    for (assignment_id, slug), total in found.items():
        by_assignment.setdefault(assignment_id, {})[slug] = total
    return [course_time(a, by_assignment.get(a.id, {})) for a in assignments]


def measured_minutes(version: ScenarioVersion) -> list[float]:
    """Active play minutes behind the version's measured median (``lms.seat_time``): one per
    officer, their first completed course attempt (staff and direct plays do not count), its
    time up to completion only (the debrief's, now or weeks later, is kept apart). Attempts
    without recorded play time are left out."""
    completed = db.session.execute(
        select(Attempt.id, Attempt.user_id, Attempt.completed_at)
        .where(
            Attempt.scenario_version_id == version.id,
            Attempt.status == "completed",
            Attempt.assignment_id.is_not(None),
        )
        .order_by(Attempt.completed_at, Attempt.id)
    ).all()
    first: dict[int, tuple[int, datetime | None]] = {}
    for attempt_id, user_id, completed_at in completed:
        first.setdefault(user_id, (attempt_id, completed_at))
    if not first:
        return []
    completed_at = dict(first.values())
    rows = db.session.execute(
        select(ActiveTime.attempt_id, ActiveTime.seconds, ActiveTime.last_beat_at).where(
            ActiveTime.attempt_id.in_(completed_at), ActiveTime.place.not_like(f"%{DEBRIEF_PLACE}")
        )
    )
    out = []
    for attempt_id, seconds, last_beat_at in rows:
        done_at = completed_at[attempt_id]
        # a row from before debrief time was kept apart also holds the debrief's: leave it out
        if done_at is not None and last_beat_at > done_at + timedelta(seconds=CAP_SECONDS):
            continue
        if seconds > 0:
            out.append(seconds / 60)
    return out


def scenario_times_for(
    agency_id: int | None, slugs: Iterable[str], policy: st.SeatTimePolicy = st.DEFAULT_SEAT_TIME
) -> dict[str, st.ScenarioTime]:
    """Each scenario's minutes as the agency would play it: the newest published version's
    measured median, else its content estimate; a slug with no published version is left
    out (the estimate then looks in the built-in library, else counts the default)."""
    out: dict[str, st.ScenarioTime] = {}
    for slug in dict.fromkeys(slugs):
        version = latest_published(agency_id, slug)
        if version is None:
            continue
        try:
            scenario = scenario_of(version)
        except Exception:  # a stored version that no longer parses still has measured time
            scenario = None
        out[slug] = st.scenario_time(scenario, policy, measured_minutes(version))
    return out


class AgencyScenarioTimes(Mapping[str, st.ScenarioTime]):
    """Scenario times looked up on demand, as one agency would play each scenario: what the
    course format's hours check is given while a course is imported or edited."""

    def __init__(self, agency_id: int | None, policy: st.SeatTimePolicy = st.DEFAULT_SEAT_TIME):
        self.agency_id = agency_id
        self.policy = policy
        self._found: dict[str, st.ScenarioTime | None] = {}

    def __getitem__(self, slug: str) -> st.ScenarioTime:
        if slug not in self._found:
            self._found[slug] = scenario_times_for(self.agency_id, [slug], self.policy).get(slug)
        found = self._found[slug]
        if found is None:
            raise KeyError(slug)
        return found

    def __iter__(self):
        return (slug for slug, found in self._found.items() if found is not None)

    def __len__(self) -> int:
        return sum(found is not None for found in self._found.values())


def course_estimate(spec: CourseSpec, agency_id: int | None) -> st.CourseEstimate:
    """The course's seat-time estimate with its scenarios timed as the agency plays them."""
    return st.estimate(spec, scenario_times_for(agency_id, spec.scenario_slugs, spec.seat_time))
