"""State standards: hours by category against the mandate's cycle, wherever hours are counted.

Credit comes from two places: online course completions (`Completion`, credited when the course
is completed) and classroom or external sessions (`SessionAttendance`, credited on the
session's last day, voided rows excluded). Every count of hours (the compliance overview, the
officer lists and page, the mandate export, the unit table) goes through `credit_by_person`,
so a session counts everywhere a course does. Two grouped queries, whatever the agency's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Agency, Completion, Mandate, SessionAttendance, Unit, User

Hours = dict[str, float]  # category as written -> hours


def category_key(category: str | None) -> str:
    """Categories match whatever their case and spacing ("Use of force" = "use of force ")."""
    return " ".join((category or "").split()).casefold()


def cycle_for(mandate: Mandate | None, today: date) -> tuple[date, date]:
    """The mandate cycle containing `today` ([start, end)), or the last twelve months without one."""
    from lms.services.compliance import current_cycle

    if mandate is None:
        return today - timedelta(days=365), today + timedelta(days=1)
    return current_cycle(mandate, today)


def mandate_of(agency_id: int) -> Mandate | None:
    return db.session.scalar(select(Mandate).where(Mandate.agency_id == agency_id))


def credit_by_person(
    agency_id: int, start: date, end: date | None = None, *, user_ids: Iterable[int] | None = None
) -> dict[int, Hours]:
    """Hours per person and category credited in [start, end): course completions and session
    attendance together (voided sessions count for no one). Two grouped queries."""
    from lms.services.compliance import start_of

    ids = list(user_ids) if user_ids is not None else None
    found: dict[int, Hours] = defaultdict(lambda: defaultdict(float))
    if ids is not None and not ids:
        return found
    courses = select(Completion.user_id, Completion.category, func.sum(Completion.credit_hours)).where(
        Completion.agency_id == agency_id, Completion.completed_at >= start_of(start)
    )
    sessions = select(
        SessionAttendance.user_id, SessionAttendance.category, func.sum(SessionAttendance.hours)
    ).where(
        SessionAttendance.agency_id == agency_id,
        SessionAttendance.voided_at.is_(None),
        SessionAttendance.credited_on >= start,
    )
    if end is not None:
        courses = courses.where(Completion.completed_at < start_of(end))
        sessions = sessions.where(SessionAttendance.credited_on < end)
    if ids is not None:
        courses = courses.where(Completion.user_id.in_(ids))
        sessions = sessions.where(SessionAttendance.user_id.in_(ids))
    for stmt in (
        courses.group_by(Completion.user_id, Completion.category),
        sessions.group_by(SessionAttendance.user_id, SessionAttendance.category),
    ):
        for user_id, category, hours in db.session.execute(stmt):
            found[user_id][category or ""] += float(hours or 0)
    return found


@dataclass(frozen=True)
class MinimumStanding:
    category: str
    hours: float
    required: float

    @property
    def met(self) -> bool:
        return self.hours >= self.required - 1e-9

    @property
    def missing(self) -> float:
        return max(0.0, self.required - self.hours)


@dataclass(frozen=True)
class Standing:
    """One officer's (or one sum's) hours against the mandate for a cycle."""

    total: float
    required: float | None  # None: no mandate set
    minimums: list[MinimumStanding]
    by_category: list[tuple[str, float]]  # every category with hours, most first

    @property
    def met(self) -> bool:
        return (
            self.required is not None
            and self.total >= self.required - 1e-9
            and all(m.met for m in self.minimums)
        )

    @property
    def missing(self) -> float:
        return max(0.0, (self.required or 0) - self.total)

    @property
    def other_categories(self) -> list[tuple[str, float]]:
        """Categories with hours that no minimum names."""
        named = {category_key(m.category) for m in self.minimums}
        return [(name, hours) for name, hours in self.by_category if category_key(name) not in named]


def standing(mandate: Mandate | None, hours: Hours | None) -> Standing:
    """The hours (per category) measured against the mandate's total and every category minimum."""
    hours = hours or {}
    merged: dict[str, list] = {}
    for category, value in hours.items():
        key = category_key(category)
        if key in merged:
            merged[key][1] += value
        else:
            merged[key] = [category.strip() or "No category", value]
    minimums = [
        MinimumStanding(m.category, merged.get(category_key(m.category), [m.category, 0.0])[1], m.hours)
        for m in (mandate.minimums if mandate else [])
    ]
    return Standing(
        total=sum(hours.values()),
        required=mandate.hours if mandate else None,
        minimums=minimums,
        by_category=sorted(((name, value) for name, value in merged.values()), key=lambda x: (-x[1], x[0])),
    )


@dataclass(frozen=True)
class OfficerStanding:
    cycle: tuple[date, date]
    mandate: Mandate | None
    standing: Standing


def officer_standing(person: User, today: date | None = None) -> OfficerStanding:
    """An officer's hours by category in the current cycle against the mandate (three queries)."""
    today = today or date.today()
    mandate = mandate_of(person.agency_id)
    cycle = cycle_for(mandate, today)
    hours = credit_by_person(person.agency_id, cycle[0], cycle[1], user_ids=[person.id])
    return OfficerStanding(cycle, mandate, standing(mandate, hours.get(person.id)))


@dataclass
class UnitStanding:
    unit: Unit | None  # None: people with no unit
    depth: int
    officers: int = 0
    met: int = 0
    hours: float = 0.0
    minimums_met: dict[str, int] = field(default_factory=dict)  # mandate category -> officers meeting it
    by_category: dict[str, float] = field(default_factory=dict)  # category key -> hours

    def add(self, other: UnitStanding) -> None:
        self.officers += other.officers
        self.met += other.met
        self.hours += other.hours
        for key, value in other.minimums_met.items():
            self.minimums_met[key] = self.minimums_met.get(key, 0) + value
        for key, value in other.by_category.items():
            self.by_category[key] = self.by_category.get(key, 0.0) + value

    @property
    def average(self) -> float:
        return self.hours / self.officers if self.officers else 0.0


@dataclass(frozen=True)
class UnitTable:
    agency: Agency
    mandate: Mandate | None
    cycle: tuple[date, date]
    categories: list[tuple[str, str]]  # (key, name) of every category with hours or a minimum
    rows: list[UnitStanding]  # every unit, in tree order, each rolled up with the units below it
    total: UnitStanding


def unit_table(agency: Agency, today: date | None = None) -> UnitTable:
    """Per unit (with its sub-units): active officers, how many meet the mandate and each category
    minimum, and hours by category in the current cycle. A fixed number of queries."""
    from lms.services.compliance import _people
    from lms.services.roster import unit_tree

    today = today or date.today()
    mandate = mandate_of(agency.id)
    cycle = cycle_for(mandate, today)
    tree = unit_tree(agency)
    unit_of = {user_id: unit_id for user_id, unit_id, _, is_officer in _people(agency) if is_officer}
    credit = credit_by_person(agency.id, cycle[0], cycle[1])
    names: dict[str, str] = {
        category_key(m.category): m.category for m in (mandate.minimums if mandate else [])
    }
    direct: dict[int | None, UnitStanding] = defaultdict(lambda: UnitStanding(None, 0))
    for user_id, unit_id in unit_of.items():
        hours = credit.get(user_id, {})
        mine = standing(mandate, hours)
        row = direct[unit_id]
        row.officers += 1
        row.met += mine.met
        row.hours += mine.total
        for minimum in mine.minimums:
            key = category_key(minimum.category)
            row.minimums_met[key] = row.minimums_met.get(key, 0) + minimum.met
        for category, value in hours.items():
            key = category_key(category)
            names.setdefault(key, category.strip() or "No category")
            row.by_category[key] = row.by_category.get(key, 0.0) + value
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit, _depth, _count in tree:
        children[unit.parent_id].append(unit.id)
    rolled: dict[int, UnitStanding] = {}

    def roll(unit_id: int) -> UnitStanding:
        total = UnitStanding(None, 0)
        total.add(direct.get(unit_id, UnitStanding(None, 0)))
        for child in children[unit_id]:
            total.add(roll(child))
        rolled[unit_id] = total
        return total

    for top in children[None]:
        roll(top)
    rows = []
    for unit, depth, _count in tree:
        row = rolled.get(unit.id, UnitStanding(None, 0))
        row.unit, row.depth = unit, depth
        rows.append(row)
    if direct.get(None) and direct[None].officers:
        rows.append(direct[None])
    total = UnitStanding(None, 0)
    for row in direct.values():
        total.add(row)
    minimum_keys = [category_key(m.category) for m in (mandate.minimums if mandate else [])]
    others = sorted((k for k in names if k not in minimum_keys), key=lambda k: names[k].casefold())
    return UnitTable(agency, mandate, cycle, [(k, names[k]) for k in minimum_keys + others], rows, total)


# --- The state records export: one row per completed training per officer -----------------

STATE_RECORD_HEADER = (
    "officer badge",
    "officer name",
    "course title",
    "description",
    "start date",
    "end date",
    "category",
    "hours",
    "provider",
    "delivery method",
    "active minutes",  # time on task recorded for an online completion; blank for sessions
)
ONLINE_PROVIDER = "Ripple online"


def state_record_rows(agency: Agency) -> list[tuple]:
    """Every completed course and every attended (not voided) session of the agency's people,
    in the shape state records systems ask for; by officer name, then date. Five queries.

    An online completion carries the active minutes recorded for its assignment (see
    ``time_on_task``), blank when none was recorded; a classroom or external session has none."""
    from lms.models import Assignment, Course, CourseVersion, ItemCompletion, TrainingSession
    from lms.services.time_on_task import seconds_by_assignment

    first_item = (
        select(ItemCompletion.assignment_id, func.min(ItemCompletion.completed_at).label("started"))
        .where(ItemCompletion.agency_id == agency.id)
        .group_by(ItemCompletion.assignment_id)
        .subquery()
    )
    courses = db.session.execute(
        select(
            User.id, User.badge_number, User.name, Completion.course_version_id, Course.agency_id,
            Completion.category, Completion.credit_hours, Completion.completed_at, first_item.c.started,
            Assignment.assigned_at, Completion.assignment_id,
        )
        .join(User, User.id == Completion.user_id)
        .join(Course, Course.id == Completion.course_id)
        .join(Assignment, Assignment.id == Completion.assignment_id)
        .outerjoin(first_item, first_item.c.assignment_id == Completion.assignment_id)
        .where(Completion.agency_id == agency.id)
    ).all()  # fmt: skip
    versions = {
        version_id: (title, (content or {}).get("summary") or "")
        for version_id, title, content in db.session.execute(
            select(CourseVersion.id, CourseVersion.title, CourseVersion.content).where(
                CourseVersion.id.in_({row[3] for row in courses})
            )
        )
    } if courses else {}  # fmt: skip
    active = seconds_by_assignment({row[-1] for row in courses}) if courses else {}
    found = []
    for (
        user_id,
        badge,
        name,
        version_id,
        owner,
        category,
        hours,
        completed,
        started,
        assigned,
        assignment_id,
    ) in courses:
        title, summary = versions[version_id]
        seconds = active.get(assignment_id)
        start = (started or assigned or completed).date()
        found.append((
            (name, user_id, completed.date()),
            (badge or "", name, title, summary, min(start, completed.date()),
             completed.date(), category, float(hours),
             agency.name if owner else ONLINE_PROVIDER, "online",
             round(seconds / 60, 1) if seconds else None),
        ))  # fmt: skip
    for user_id, badge, name, session in db.session.execute(
        select(User.id, User.badge_number, User.name, TrainingSession)
        .join(SessionAttendance, SessionAttendance.user_id == User.id)
        .join(TrainingSession, TrainingSession.id == SessionAttendance.session_id)
        .where(SessionAttendance.agency_id == agency.id, SessionAttendance.voided_at.is_(None))
    ):
        found.append((
            (name, user_id, session.ends_on),
            (badge or "", name, session.title, session.description, session.starts_on,
             session.ends_on, session.category, float(session.hours),
             session.provider or agency.name, session.delivery, None),
        ))  # fmt: skip
    found.sort(key=lambda pair: (pair[0][0].casefold(), pair[0][1], pair[0][2]))
    return [row for _, row in found]


# --- The course file: what a standards body asks to see of a delivered course ---------------


@dataclass(frozen=True)
class RosterEntry:
    officer: User
    completed_on: date | None
    results: list[tuple[str, str]]  # (assessment, result in words)
    hours: float


@dataclass(frozen=True)
class CourseFile:
    title: str
    description: str
    category: str
    hours: float
    provider: str
    instructor: str
    delivery: str  # online | classroom | external
    dates: tuple[date | None, date | None]
    location: str
    objectives: list[str]
    outline: list[tuple[str, list[str]]]  # module title, its items' titles
    instruments: list[str]  # assessments: knowledge checks and scenarios with their pass marks
    roster: list[RosterEntry]


def _spec_parts(spec) -> tuple[list[str], list[tuple[str, list[str]]], list[str]]:
    objectives = [o.text for module in spec.modules for o in module.outcomes]
    outline = [(module.title, [item.title for item in module.items]) for module in spec.modules]
    instruments = []
    for _module, item in spec.items():
        if item.kind == "knowledge_check":
            instruments.append(
                f"{item.title}: knowledge check, {item.questions_per_attempt} questions"
                + (f", pass mark {item.pass_mark}%" if item.pass_mark is not None else "")
                + (" (final)" if item.summative else "")
            )
        elif item.kind == "scenario":
            instruments.append(f"{item.title}: graded scenario" + ("" if item.required else " (optional)"))
    return objectives, outline, instruments


def course_file(agency: Agency, course) -> CourseFile:
    """A delivered online course's file: the newest version's content, and every officer of the
    agency who completed it with their assessment results. Four queries."""
    from lms.models import CourseVersion, ItemCompletion
    from lms.services import catalog

    completions = db.session.execute(
        select(Completion, User)
        .join(User, User.id == Completion.user_id)
        .where(Completion.agency_id == agency.id, Completion.course_id == course.id)
        .order_by(User.name, Completion.completed_at)
    ).all()
    version = (
        db.session.get(CourseVersion, completions[-1][0].course_version_id)
        if completions
        else catalog.published_version(course)
    )
    spec = catalog.spec_of(version) if version else None
    graded = {item.slug: item.title for _, item in spec.items() if item.graded} if spec else {}
    scores: dict[int, dict[str, float | None]] = defaultdict(dict)
    if completions and graded:
        for assignment_id, slug, score in db.session.execute(
            select(ItemCompletion.assignment_id, ItemCompletion.item_slug, ItemCompletion.score).where(
                ItemCompletion.assignment_id.in_([c.assignment_id for c, _ in completions]),
                ItemCompletion.item_slug.in_(list(graded)),
            )
        ):
            scores[assignment_id][slug] = score
    roster = [
        RosterEntry(
            officer=person,
            completed_on=completion.completed_at.date(),
            results=[
                (title, "passed" + (f", {scores[completion.assignment_id][slug]:.0f}%" if scores[completion.assignment_id].get(slug) is not None else ""))
                if slug in scores[completion.assignment_id] else (title, "not taken")
                for slug, title in graded.items()
            ],
            hours=completion.credit_hours,
        )
        for completion, person in completions
    ]  # fmt: skip
    objectives, outline, instruments = _spec_parts(spec) if spec else ([], [], [])
    days = [entry.completed_on for entry in roster]
    return CourseFile(
        title=version.title if version else course.title,
        description=spec.summary if spec else "",
        category=version.category if version else "",
        hours=version.credit_hours if version else 0.0,
        provider=agency.name if course.agency_id else ONLINE_PROVIDER,
        instructor="Self-paced online course",
        delivery="online",
        dates=(min(days), max(days)) if days else (None, None),
        location="Online",
        objectives=objectives,
        outline=outline,
        instruments=instruments,
        roster=roster,
    )


def session_file(session) -> CourseFile:
    """A classroom or external session's file: its facts, the linked course's content if any,
    and the attendees credited (voided sessions show their attendees with no hours)."""
    from lms.services import catalog

    version = catalog.published_version(session.course) if session.course else None
    spec = catalog.spec_of(version) if version else None
    objectives, outline, instruments = _spec_parts(spec) if spec else ([], [], [])
    people = db.session.execute(
        select(SessionAttendance, User)
        .join(User, User.id == SessionAttendance.user_id)
        .where(SessionAttendance.session_id == session.id)
        .order_by(User.name)
    ).all()
    return CourseFile(
        title=session.title,
        description=session.description,
        category=session.category,
        hours=session.hours,
        provider=session.provider or "",
        instructor=session.instructor,
        delivery=session.delivery,
        dates=(session.starts_on, session.ends_on),
        location=session.location,
        objectives=objectives,
        outline=outline,
        instruments=instruments or ["Attendance, confirmed by the sign-in sheet"],
        roster=[
            RosterEntry(
                officer=person,
                completed_on=attendance.credited_on,
                results=[("Attendance", "voided" if attendance.voided_at else "attended")],
                hours=0.0 if attendance.voided_at else attendance.hours,
            )
            for attendance, person in people
        ],
    )


def delivered_course_ids(agency: Agency):
    """A SELECT of the ids of courses someone of the agency has completed (for course files)."""
    return select(Completion.course_id).where(Completion.agency_id == agency.id).distinct()
