"""The training commander's "Today" board: what needs doing, counted and listed, and the
actions taken from it (remind now, extend a due date, excuse, assign a course).

A board is for the whole agency (a coordinator) or for one supervisor's direct reports.
Every figure is one aggregate query over the people in scope, and every list one page of
rows plus its count, so the board costs the same number of queries for 40 or 10,000 officers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from lms import dates
from lms.extensions import db
from lms.input import visible_text
from lms.models import (
    Agency,
    Assignment,
    Attempt,
    AttemptGrade,
    Certificate,
    Course,
    DueDateChange,
    GradeDelivery,
    OutboxMessage,
    Role,
    RoleGrant,
    ScenarioVersion,
    User,
    XapiStatement,
)
from lms.models.types import utcnow
from lms.services import audit, certificates, learning
from lms.services.compliance import start_of

PAGE_SIZE = 50
REASON_MAX = 500
FAILED_WITHIN_DAYS = 30
# Due dates set from the board stay within reach: a typo such as 9999-12-31 would hide an
# assignment from every overdue figure for good.
LATEST_DUE_YEARS = 5


@dataclass(frozen=True)
class ListSpec:
    """A list behind one of the board's figures, and the words for what it counts."""

    heading: str
    one: str  # "assignment past its due date"
    many: str  # "assignments past their due date"
    date_label: str  # the heading of its date column

    def counts(self, n: int) -> str:
        return f"{n} {self.one if n == 1 else self.many}"


LISTS = {
    "overdue": ListSpec("Overdue", "assignment past its due date", "assignments past their due date", "Due"),
    "due_week": ListSpec("Due this week", "assignment due in the next 7 days", "assignments due in the next 7 days", "Due"),
    "expiring_30": ListSpec("Expiring in 30 days", "certificate expiring in the next 30 days", "certificates expiring in the next 30 days", "Expires"),
    "expiring_60": ListSpec("Expiring in 60 days", "certificate expiring in the next 60 days", "certificates expiring in the next 60 days", "Expires"),
    "expiring_90": ListSpec("Expiring in 90 days", "certificate expiring in the next 90 days", "certificates expiring in the next 90 days", "Expires"),
    "failed": ListSpec(
        "Failed scenarios",
        f"scenario attempt failed in the last {FAILED_WITHIN_DAYS} days and not passed since",
        f"scenario attempts failed in the last {FAILED_WITHIN_DAYS} days and not passed since",
        "Due",
    ),
    "unassigned": ListSpec("Nothing assigned", "officer who has never been assigned any training", "officers who have never been assigned any training", "Due"),
}  # fmt: skip
ASSIGNMENT_LISTS = ("overdue", "due_week")
# Open or done: what a completion figure counts. Cancelled and excused work is not owed.
COUNTED = ("assigned", "completed")
# Who has been assigned training: excused work was assigned (and then waived), cancelled was not.
WAS_ASSIGNED = (*COUNTED, "excused")
# What can be done from each list: its rows are assignments, people, or (failed scenarios)
# an assignment where the attempt belongs to one, so all three kinds of action fit.
ACTIONS_OF = {key: ("remind", "extend", "excuse") for key in ASSIGNMENT_LISTS} | {
    "failed": ("remind", "extend", "assign")
}


class BoardError(ValueError):
    """An action refused; `field` names the form field at fault. Nothing was changed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Scope:
    """Whose training the board shows: an agency's officers, or one supervisor's reports."""

    agency: Agency
    supervisor: User | None = None

    def people(self):
        """A SELECT of the ids of the active people in scope."""
        stmt = select(User.id).where(User.agency_id == self.agency.id, User.active.is_(True))
        if self.supervisor is not None:
            return stmt.where(User.supervisor_id == self.supervisor.id)
        return stmt.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == Role.OFFICER.value)))


@dataclass
class Figures:
    officers: int = 0
    assignments: int = 0
    completed: int = 0
    overdue: int = 0
    due_week: int = 0
    expiring_30: int = 0
    expiring_60: int = 0
    expiring_90: int = 0
    failed: int = 0
    unassigned: int = 0
    deliveries: int | None = None  # agency boards only

    def count(self, key: str) -> int:
        return getattr(self, key)


@dataclass
class Row:
    """One line of a list: who, which course, and the date that matters."""

    officer: User
    course_title: str
    on: date | None
    assignment_id: int | None = None
    certificate_id: int | None = None
    note: str = ""


def figures(scope: Scope, today: date | None = None) -> Figures:
    """The board's counts (six queries whatever the size of the agency)."""
    today = today or date.today()
    people = scope.people()
    week = today + timedelta(days=7)
    found = Figures()
    found.officers = db.session.scalar(select(func.count()).select_from(people.subquery())) or 0
    open_ = Assignment.status == "assigned"
    total, completed, overdue, due_week = db.session.execute(
        select(
            func.count(),
            func.sum(case((Assignment.status == "completed", 1), else_=0)),
            func.sum(case((and_(open_, Assignment.due_on < today), 1), else_=0)),
            func.sum(case((and_(open_, Assignment.due_on >= today, Assignment.due_on <= week), 1), else_=0)),
        ).where(
            Assignment.agency_id == scope.agency.id,
            Assignment.status.in_(COUNTED),
            Assignment.user_id.in_(people),
        )
    ).one()
    found.assignments, found.completed = total or 0, completed or 0
    found.overdue, found.due_week = overdue or 0, due_week or 0

    def within(days: int):
        return func.sum(case((Certificate.expires_on <= today + timedelta(days=days), 1), else_=0))

    e30, e60, e90 = db.session.execute(
        select(within(30), within(60), within(90)).where(*_expiring(scope, today, 90))
    ).one()
    found.expiring_30, found.expiring_60, found.expiring_90 = e30 or 0, e60 or 0, e90 or 0
    found.failed = db.session.scalar(select(func.count()).select_from(_failed(scope, today).subquery())) or 0
    found.unassigned = db.session.scalar(select(func.count()).where(*_unassigned(scope))) or 0
    if scope.supervisor is None:
        found.deliveries = sum(
            db.session.scalar(
                select(func.count()).where(model.agency_id == scope.agency.id, model.status == "pending")
            )
            or 0
            for model in (GradeDelivery, XapiStatement)
        )
    return found


def _expiring(scope: Scope, today: date, days: int) -> list:
    return [
        Certificate.agency_id == scope.agency.id,
        Certificate.user_id.in_(scope.people()),
        Certificate.revoked_at.is_(None),
        Certificate.expires_on >= today,
        Certificate.expires_on <= today + timedelta(days=days),
        certificates.not_renewed(),
    ]


def _unassigned(scope: Scope) -> list:
    return [
        User.id.in_(scope.people()),
        ~exists().where(Assignment.user_id == User.id, Assignment.status.in_(WAS_ASSIGNED)),
    ]


def _failed(scope: Scope, today: date):
    """Attempts (id, user id, scenario version id, score) whose grade in force is a fail,
    finished in the last days and not followed by a passed attempt at the same scenario."""
    latest = (
        select(AttemptGrade.attempt_id, func.max(AttemptGrade.id).label("grade_id"))
        .where(AttemptGrade.agency_id == scope.agency.id)
        .group_by(AttemptGrade.attempt_id)
        .subquery()
    )
    later, later_grade = aliased(Attempt), aliased(AttemptGrade)
    return (
        select(
            Attempt.id,
            Attempt.user_id,
            Attempt.scenario_version_id,
            AttemptGrade.score,
            Attempt.assignment_id,
        )
        .join(latest, latest.c.attempt_id == Attempt.id)
        .join(AttemptGrade, AttemptGrade.id == latest.c.grade_id)
        .where(
            Attempt.agency_id == scope.agency.id,
            Attempt.user_id.in_(scope.people()),
            AttemptGrade.passed.is_(False),
            Attempt.completed_at >= start_of(today - timedelta(days=FAILED_WITHIN_DAYS)),
            ~exists()
            .where(
                later.user_id == Attempt.user_id,
                later.scenario_version_id == Attempt.scenario_version_id,
                later.id > Attempt.id,
                later_grade.attempt_id == later.id,
                later_grade.passed.is_(True),
            )
            .correlate(Attempt),
        )
    )


def _people_by_id(ids) -> dict[int, User]:
    if not ids:
        return {}
    return {
        u.id: u
        for u in db.session.scalars(select(User).options(joinedload(User.unit)).where(User.id.in_(set(ids))))
    }


def rows_of(scope: Scope, key: str, *, page: int = 1, today: date | None = None) -> tuple[list[Row], int]:
    """One page of the list behind figure `key`, and how many rows it has in all (three
    queries: the count, the page, and the people on it with their units)."""
    today = today or date.today()
    offset = (page - 1) * PAGE_SIZE
    if key in ASSIGNMENT_LISTS:
        clause = (
            Assignment.due_on < today
            if key == "overdue"
            else and_(Assignment.due_on >= today, Assignment.due_on <= today + timedelta(days=7))
        )
        where = [
            Assignment.agency_id == scope.agency.id,
            Assignment.status == "assigned",
            Assignment.user_id.in_(scope.people()),
            clause,
        ]
        total = db.session.scalar(select(func.count()).select_from(Assignment).where(*where)) or 0
        found = db.session.execute(
            select(Assignment.id, Assignment.user_id, Course.title, Assignment.due_on)
            .join(Course, Course.id == Assignment.course_id)
            .join(User, User.id == Assignment.user_id)
            .where(*where)
            .order_by(Assignment.due_on, User.name, Assignment.id)
            .limit(PAGE_SIZE)
            .offset(offset)
        ).all()
        people = _people_by_id([r[1] for r in found])
        return [Row(people[u], title, due, assignment_id=a) for a, u, title, due in found], total
    if key.startswith("expiring_"):
        where = _expiring(scope, today, int(key.removeprefix("expiring_")))
        total = db.session.scalar(select(func.count()).select_from(Certificate).where(*where)) or 0
        found = db.session.execute(
            select(Certificate.id, Certificate.user_id, Certificate.course_title, Certificate.expires_on)
            .where(*where)
            .order_by(Certificate.expires_on, Certificate.id)
            .limit(PAGE_SIZE)
            .offset(offset)
        ).all()
        people = _people_by_id([r[1] for r in found])
        return [Row(people[u], title, on, certificate_id=c) for c, u, title, on in found], total
    if key == "failed":
        failed = _failed(scope, today).subquery()
        total = db.session.scalar(select(func.count()).select_from(failed)) or 0
        found = db.session.execute(
            select(failed.c.user_id, ScenarioVersion.title, failed.c.score, Assignment.due_on, Assignment.id)
            .join(ScenarioVersion, ScenarioVersion.id == failed.c.scenario_version_id)
            .outerjoin(Assignment, Assignment.id == failed.c.assignment_id)
            .order_by(failed.c.id.desc())
            .limit(PAGE_SIZE)
            .offset(offset)
        ).all()
        people = _people_by_id([r[0] for r in found])
        return [
            Row(people[u], title, due, assignment_id=a, note=f"score {score:.0f}")
            for u, title, score, due, a in found
        ], total
    if key == "unassigned":
        where = _unassigned(scope)
        total = db.session.scalar(select(func.count()).where(*where)) or 0
        found = db.session.scalars(
            select(User).options(joinedload(User.unit)).where(*where).order_by(User.name, User.id)
            .limit(PAGE_SIZE).offset(offset)
        ).all()  # fmt: skip
        return [Row(u, "", None) for u in found], total
    raise KeyError(key)


# --- actions ----------------------------------------------------------------------------


def actions_of(key: str) -> tuple[str, ...]:
    """The actions offered on the list `key` (people lists can only be assigned a course)."""
    return ACTIONS_OF.get(key, ("assign",))


def has_reports(supervisor: User) -> bool:
    """Whether `supervisor` has any active direct report (and so a team board to act from)."""
    if supervisor.agency_id is None:
        return False
    found = db.session.scalar(
        select(User.id).where(User.supervisor_id == supervisor.id, User.active.is_(True)).limit(1)
    )
    return found is not None


def _whose(supervisor: User | None) -> str:
    return "your direct reports" if supervisor is not None else "your agency"


def _latest_due(today: date) -> date:
    """The last due date the board accepts: the same day LATEST_DUE_YEARS years on."""
    year = today.year + LATEST_DUE_YEARS
    return date(year, today.month, 28) if (today.month, today.day) == (2, 29) else today.replace(year=year)


def _check_due(due: date, today: date, agency: Agency, label: str, field: str) -> None:
    if due < today:
        raise BoardError(f"The {label} cannot be in the past.", field)
    latest = _latest_due(today)
    if due > latest:
        raise BoardError(
            f"The {label} must be within {LATEST_DUE_YEARS} years, by {_day(latest, agency)} at the latest.",
            field,
        )


def _day(value: date, agency: Agency) -> str:
    # In the agency's own style: reminders and audit lines are read outside any request.
    return dates.day(value, where=dates.settings_of(agency))


def _in_scope(agency: Agency, supervisor: User | None):
    """The people an actor may act for: the agency's (a coordinator) or, for a supervisor,
    only their active direct reports."""
    return Scope(agency, supervisor).people() if supervisor is not None else None


def _open_assignments(
    actor: User, agency: Agency, ids: list[int], supervisor: User | None = None
) -> list[Assignment]:
    """The chosen open assignments, all of `agency` (and, for a supervisor, all of their
    direct reports); any other id refuses the whole action."""
    if not ids:
        raise BoardError("Choose at least one row.", "pick")
    where = [Assignment.id.in_(set(ids)), Assignment.agency_id == agency.id]
    if (people := _in_scope(agency, supervisor)) is not None:
        where.append(Assignment.user_id.in_(people))
    found = db.session.scalars(
        select(Assignment)
        .options(joinedload(Assignment.user), joinedload(Assignment.course))
        .where(*where)
        .order_by(Assignment.id)
    ).all()
    if len(found) != len(set(ids)):
        raise BoardError(f"Some of the chosen rows are not assignments of {_whose(supervisor)}.", "pick")
    closed = [a for a in found if a.status != "assigned"]
    if closed:
        raise BoardError(
            f"{closed[0].user.name}'s {closed[0].course.title} is no longer open; reload the list.", "pick"
        )
    return list(found)


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not visible_text(text):
        raise BoardError("Give a reason.", "reason")
    if len(text) > REASON_MAX:
        raise BoardError(f"Keep the reason under {REASON_MAX} characters.", "reason")
    return text


def remind_now(
    actor: User,
    agency: Agency,
    ids: list[int],
    today: date | None = None,
    *,
    supervisor: User | None = None,
) -> list[OutboxMessage]:
    """Queue a reminder for each chosen open assignment, through the outbox that daily
    reminders use; an assignment already reminded today from the board is not reminded again."""
    today = today or date.today()
    queued = []
    who = "supervisor" if supervisor is not None else "training coordinator"
    for assignment in _open_assignments(actor, agency, ids, supervisor):
        user, title = assignment.user, assignment.course.title
        key = f"remind:{assignment.id}:{today.isoformat()}"
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None:
            continue
        due = ""
        if assignment.due_on:
            tense = "was" if assignment.due_on < today else "is"
            due = f" It {tense} due on {_day(assignment.due_on, agency)}."
        message = OutboxMessage(
            agency_id=agency.id,
            user_id=user.id,
            kind="reminder",
            dedupe_key=key,
            to_email=user.email,
            subject=f"Reminder: {title}",
            body=f"Hello {user.name},\n\nYour {who} reminds you of “{title}”.{due}\n",
            details={"assignment": assignment.id, "by": actor.id},
            sent_at=utcnow(),
        )
        db.session.add(message)
        queued.append(message)
    db.session.flush()
    for message in queued:
        audit.record(
            actor,
            "assignment.reminded",
            message,
            summary=f"Reminder sent to {message.user_id}: {message.subject}",
            after={"assignment": message.details["assignment"]},
        )
    return queued


def extend(
    actor: User,
    agency: Agency,
    ids: list[int],
    new_due: date | None,
    reason: str | None,
    today: date | None = None,
    *,
    supervisor: User | None = None,
) -> list[Assignment]:
    """Move the due date of each chosen open assignment to `new_due` (today to five years
    on), recording the old date and the reason (a DueDateChange and an audit event each)."""
    today = today or date.today()
    if new_due is None:
        raise BoardError("Enter the new due date.", "new_due")
    _check_due(new_due, today, agency, "new due date", "new_due")
    text = _reason(reason)
    chosen = _open_assignments(actor, agency, ids, supervisor)
    for assignment in chosen:
        before = assignment.due_on
        assignment.due_on = new_due
        db.session.add(
            DueDateChange(
                agency_id=agency.id,
                assignment_id=assignment.id,
                old_due_on=before,
                new_due_on=new_due,
                reason=text,
                changed_by_id=actor.id,
            )
        )
        audit.record(
            actor,
            "assignment.extended",
            assignment,
            summary=f"{assignment.course.title} for {assignment.user.name}: due {_day(new_due, agency)} ({text})",
            before={"due_on": before.isoformat() if before else None},
            after={"due_on": new_due.isoformat(), "reason": text},
        )
    db.session.flush()
    return chosen


def excuse(
    actor: User, agency: Agency, ids: list[int], reason: str | None, *, supervisor: User | None = None
) -> list[Assignment]:
    """Excuse (waive) each chosen open assignment: it stops counting as open or overdue in
    every figure and shows as "Excused" with the reason."""
    text = _reason(reason)
    chosen = _open_assignments(actor, agency, ids, supervisor)
    for assignment in chosen:
        assignment.status = "excused"
        assignment.excused_reason, assignment.excused_by_id, assignment.excused_at = text, actor.id, utcnow()
        audit.record(
            actor,
            "assignment.excused",
            assignment,
            summary=f"{assignment.course.title} for {assignment.user.name} excused: {text}",
            before={"status": "assigned"},
            after={"status": "excused", "reason": text},
        )
    db.session.flush()
    return chosen


def assign(
    actor: User,
    agency: Agency,
    officer_ids: list[int],
    course_id: int | None,
    due_on: date | None,
    today: date | None = None,
    *,
    supervisor: User | None = None,
) -> tuple[list[Assignment], int]:
    """Assign a course to the chosen people of `agency` (for a supervisor, only their direct
    reports; those already working on it are skipped): the new assignments, and how many
    were skipped."""
    from lms.services import rules

    today = today or date.today()
    if not officer_ids:
        raise BoardError("Choose at least one row.", "pick")
    course = db.session.get(Course, course_id) if course_id else None
    if course is None or course.agency_id not in (None, agency.id):
        raise BoardError("Choose one of the courses offered to your agency.", "course")
    if due_on is not None:
        _check_due(due_on, today, agency, "due date", "due_on")
    where = [User.id.in_(set(officer_ids)), User.agency_id == agency.id]
    if (in_scope := _in_scope(agency, supervisor)) is not None:
        where.append(User.id.in_(in_scope))
    people = db.session.scalars(select(User).where(*where).order_by(User.id)).all()
    if len(people) != len(set(officer_ids)):
        raise BoardError(f"Some of the chosen people are not of {_whose(supervisor)}.", "pick")
    try:
        created = rules.assign_manually(actor, agency, course, list(people), due_on)
    except (rules.RuleError, learning.LearningError) as error:
        raise BoardError(str(error), "course") from error
    return created, len(people) - len(created)


def act(
    actor: User,
    agency: Agency,
    action: str,
    *,
    picks: list[int],
    people: list[int],
    new_due: date | None = None,
    reason: str | None = None,
    course_id: int | None = None,
    due_on: date | None = None,
    today: date | None = None,
    supervisor: User | None = None,
) -> str:
    """Do one board action on the chosen rows and say what was done, in a sentence.
    `picks` are assignment ids (remind, extend, excuse), `people` user ids (assign; a picked
    assignment stands for its officer). With `supervisor`, every row must be one of their
    active direct reports; otherwise any of the agency's."""
    today = today or date.today()
    if action in ("remind", "extend", "excuse") and people:
        raise BoardError(
            "Some of the chosen rows have no assignment to act on; use “Assign a course” for them.", "action"
        )
    if action == "remind":
        sent = remind_now(actor, agency, picks, today, supervisor=supervisor)
        skipped = len(set(picks)) - len(sent)
        return (
            f"{_people(len(sent), 'reminder')} sent"
            + (f"; {skipped} had already been reminded today" if skipped else "")
            + "."
        )
    if action == "extend":
        moved = extend(actor, agency, picks, new_due, reason, today, supervisor=supervisor)
        return f"Due date of {_people(len(moved), 'assignment')} moved to {_day(new_due, agency)}."
    if action == "excuse":
        excused = excuse(actor, agency, picks, reason, supervisor=supervisor)
        return f"{_people(len(excused), 'assignment')} excused."
    if action == "assign":
        owners = _owners(agency, picks)
        created, skipped = assign(
            actor, agency, [*people, *owners], course_id, due_on, today, supervisor=supervisor
        )
        return (
            f"Course assigned to {_people(len(created), 'person', 'people')}"
            + (f"; {skipped} already had it open" if skipped else "")
            + "."
        )
    raise BoardError("Choose an action.", "action")


def _owners(agency: Agency, picks: list[int]) -> list[int]:
    """The officers of the picked assignments (rows of the failed-scenarios list); an id that
    is not the agency's assignment is kept as is so that `assign` refuses it as a stranger."""
    if not picks:
        return []
    found = dict(
        db.session.execute(
            select(Assignment.id, Assignment.user_id).where(
                Assignment.id.in_(set(picks)), Assignment.agency_id == agency.id
            )
        ).all()
    )
    return [found.get(pick, -pick) for pick in picks]


def _people(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"
