"""Assignment rules: courses assigned to units and ranks, kept up to date as people move.

`apply_rules` is idempotent: it assigns the rule's course to every active officer who
matches and has no open assignment from the rule (and, for yearly rules, no completion in
the last year). It runs when a rule is saved, after a roster import, and daily
(`flask assignments sync`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import Agency, Assignment, AssignmentRule, Completion, Course, Role, RoleGrant, Unit, User
from lms.services import audit, learning
from lms.services.roster import unit_subtree_ids

RECURRENCES = {"none": "Once", "yearly": "Every year", "on_expiry": "When the certificate expires"}


class RuleError(ValueError):
    """A rule that cannot be saved; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class RuleSpec:
    name: str
    course_id: int
    unit_id: int | None
    ranks: list[str]
    due_on: date | None
    due_days: int | None
    due_from: str
    recurrence: str


@dataclass
class Preview:
    """Whom a rule would reach before it is saved."""

    matching: int  # active officers the rule matches
    already: int  # of them, how many already have the course (open or completed)
    first: list[User]  # the first page of them, by name

    @property
    def to_assign(self) -> int:
        return self.matching - self.already


def preview(agency: Agency, spec: RuleSpec, limit: int = 50) -> Preview:
    """Who a rule would match, with the same checks and matching as saving it, and nothing saved."""
    course = _checked(agency, spec)
    rule = AssignmentRule(agency_id=agency.id, course_id=course.id, unit_id=spec.unit_id,
                          ranks=sorted({r.strip() for r in spec.ranks if r.strip()}))  # fmt: skip
    officers = _active_officers(agency)
    subtree = {rule.unit_id: set(unit_subtree_ids(agency.id, rule.unit_id))} if rule.unit_id else {}
    matched = sorted(matching_officers(rule, officers, subtree), key=lambda o: (o.name, o.id))
    having = set(
        db.session.scalars(
            select(Assignment.user_id).where(
                Assignment.agency_id == agency.id,
                Assignment.course_id == course.id,
                Assignment.status.in_(("assigned", "completed", "excused")),
            )
        )
    )
    return Preview(len(matched), sum(1 for o in matched if o.id in having), matched[:limit])


def _active_officers(agency: Agency) -> list[User]:
    return list(
        db.session.scalars(
            select(User).options(joinedload(User.unit)).where(
                User.agency_id == agency.id, User.active.is_(True),
                User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == Role.OFFICER.value)),
            )
        )
    )  # fmt: skip


def _checked(agency: Agency, spec: RuleSpec) -> Course:
    """The rule's course, once every part of the rule is checked (RuleError otherwise)."""
    course = db.session.get(Course, spec.course_id) if spec.course_id else None
    if course is None or course.agency_id not in (None, agency.id):
        raise RuleError("Choose one of the courses offered to your agency.", "course")
    if spec.unit_id is not None:
        unit = db.session.get(Unit, spec.unit_id)
        if unit is None or unit.agency_id != agency.id:
            raise RuleError("Choose one of your agency's units.", "unit")
    if spec.due_on is None and spec.due_days is None:
        raise RuleError("Give a due date, or a number of days after hire or assignment.", "due_days")
    if spec.due_on is not None and spec.due_days is not None:
        raise RuleError("Give either a due date or a number of days, not both.", "due_days")
    if spec.recurrence not in RECURRENCES:
        raise RuleError("Choose how often the course recurs.", "recurrence")
    return course


def create_rule(actor: User, agency: Agency, spec: RuleSpec) -> AssignmentRule:
    """Save a rule after checking it, and apply it at once."""
    course = _checked(agency, spec)
    rule = AssignmentRule(
        agency_id=agency.id,
        course_id=course.id,
        name=spec.name.strip() or course.title,
        unit_id=spec.unit_id,
        ranks=sorted({r.strip() for r in spec.ranks if r.strip()}),
        due_on=spec.due_on,
        due_days=spec.due_days,
        due_from=spec.due_from,
        recurrence=spec.recurrence,
        created_by_id=actor.id,
        active=True,
    )
    db.session.add(rule)
    db.session.flush()
    audit.record(actor, "rule.created", rule, summary=f"{rule.name}: {course.title}", after=_describe(rule))
    apply_rules(actor, agency)
    return rule


def deactivate_rule(actor: User, rule: AssignmentRule) -> None:
    """Stop a rule from assigning anyone new; existing assignments stay."""
    if not rule.active:
        return
    rule.active = False
    audit.record(
        actor, "rule.deactivated", rule, summary=rule.name, before={"active": True}, after={"active": False}
    )
    db.session.flush()


def _describe(rule: AssignmentRule) -> dict:
    return {
        "course_id": rule.course_id,
        "unit_id": rule.unit_id,
        "ranks": rule.ranks,
        "due_on": rule.due_on.isoformat() if rule.due_on else None,
        "due_days": rule.due_days,
        "due_from": rule.due_from,
        "recurrence": rule.recurrence,
    }


def due_date(rule: AssignmentRule, officer: User, today: date) -> date | None:
    if rule.due_on is not None:
        return rule.due_on
    start = officer.hire_date if rule.due_from == "hire" and officer.hire_date else today
    due = start + timedelta(days=rule.due_days or 0)
    return max(due, today) if rule.due_from == "hire" else due


def matching_officers(rule: AssignmentRule, officers: list[User], subtree: dict[int, set[int]]) -> list[User]:
    units = subtree.get(rule.unit_id) if rule.unit_id is not None else None
    ranks = set(rule.ranks or [])
    return [
        o for o in officers
        if (units is None or o.unit_id in units) and (not ranks or (o.rank or "") in ranks)
    ]  # fmt: skip


def apply_rules(actor: User | None, agency: Agency, today: date | None = None) -> list[Assignment]:
    """Assign every active rule's course to the matching officers who still need it."""
    today = today or date.today()
    rules = db.session.scalars(
        select(AssignmentRule).where(AssignmentRule.agency_id == agency.id, AssignmentRule.active.is_(True))
    ).all()
    if not rules:
        return []
    officers = _active_officers(agency)
    subtree = {r.unit_id: set(unit_subtree_ids(agency.id, r.unit_id)) for r in rules if r.unit_id is not None}
    existing: dict[tuple[int, int], list[Assignment]] = {}
    for assignment in db.session.scalars(
        select(Assignment).where(Assignment.agency_id == agency.id, Assignment.status != "cancelled")
    ):
        existing.setdefault((assignment.user_id, assignment.course_id), []).append(assignment)
    last_done: dict[tuple[int, int], date] = {}
    for user_id, course_id, completed_at in db.session.execute(
        select(Completion.user_id, Completion.course_id, Completion.completed_at).where(
            Completion.agency_id == agency.id
        )
    ):
        key = (user_id, course_id)
        last_done[key] = max(last_done.get(key, date.min), completed_at.date())
    # An excused (waived) assignment stands for the year it was excused in, as a completion would:
    # otherwise a yearly rule would hand the same course straight back.
    for user_id, course_id, excused_at in db.session.execute(
        select(Assignment.user_id, Assignment.course_id, Assignment.excused_at).where(
            Assignment.agency_id == agency.id,
            Assignment.status == "excused",
            Assignment.excused_at.is_not(None),
        )
    ):
        key = (user_id, course_id)
        last_done[key] = max(last_done.get(key, date.min), excused_at.date())
    created = []
    for rule in rules:
        for officer in matching_officers(rule, officers, subtree):
            key = (officer.id, rule.course_id)
            held = existing.get(key, [])
            if any(a.status == "assigned" for a in held):
                continue  # already working on it, from any source
            if held and rule.recurrence != "yearly":
                continue  # done once; on_expiry renewals come from the certificate's renewal window
            if (
                held
                and rule.recurrence == "yearly"
                and last_done.get(key, date.min) > today - timedelta(days=365)
            ):
                continue
            assignment = learning.assign_course(
                actor, officer, rule.course, due_on=due_date(rule, officer, today), source="rule"
            )
            assignment.rule_id = rule.id
            existing.setdefault(key, []).append(assignment)
            created.append(assignment)
    db.session.flush()
    return created


def candidates(agency: Agency, *, unit_id: int | None = None, rank: str | None = None, q: str = ""):
    """A SELECT of the active officers of `agency` in a unit (with its sub-units), of a rank,
    and/or whose name or badge number contains `q`: whom manual assignment can pick from."""
    stmt = select(User).where(
        User.agency_id == agency.id,
        User.active.is_(True),
        User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == Role.OFFICER.value)),
    )
    if unit_id is not None:
        stmt = stmt.where(User.unit_id.in_(unit_subtree_ids(agency.id, unit_id)))
    if rank:
        stmt = stmt.where(User.rank == rank)
    if q.strip():
        pattern = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            func.lower(User.name).like(pattern, escape="\\")
            | func.lower(User.badge_number).like(pattern, escape="\\")
        )
    return stmt


def candidates_page(
    agency: Agency, *, unit_id=None, rank=None, q: str = "", page: int = 1, per_page: int = 50
):
    """One page of `candidates` (by name, with their units) and how many match in all."""
    from sqlalchemy.orm import joinedload

    stmt = candidates(agency, unit_id=unit_id, rank=rank, q=q)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    people = db.session.scalars(
        stmt.options(joinedload(User.unit))
        .order_by(User.name, User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(people), total


def assign_chosen(
    actor: User,
    agency: Agency,
    course_id: int | None,
    due_on: date | None,
    *,
    officer_ids: list[int],
    all_matching: bool = False,
    unit_id: int | None = None,
    rank: str | None = None,
    q: str = "",
) -> tuple[Course, list[Assignment], int]:
    """Assign a course to the chosen officers, or to everyone the filters match: the course,
    the new assignments, and how many people were chosen in all."""
    course = db.session.get(Course, course_id) if course_id else None
    if course is None or course.agency_id not in (None, agency.id):
        raise RuleError("Choose one of the courses offered to your agency.", "course")
    if due_on is not None and due_on < date.today():
        raise RuleError("The due date cannot be in the past.", "due_on")
    stmt = candidates(agency, unit_id=unit_id, rank=rank, q=q)
    if not all_matching:
        if not officer_ids:
            raise RuleError("Choose at least one officer.", "officers")
        stmt = stmt.where(User.id.in_(set(officer_ids)))
    people = list(db.session.scalars(stmt.order_by(User.id)))
    if not all_matching and len(people) != len(set(officer_ids)):
        raise RuleError("Choose active officers of your own agency.", "officers")
    if not people:
        raise RuleError("Nobody matches these filters.", "officers")
    return course, assign_manually(actor, agency, course, people, due_on), len(people)


def assign_manually(
    actor: User, agency: Agency, course: Course, officers: list[User], due_on: date | None
) -> list[Assignment]:
    """Assign a course to chosen officers; those already working on it are skipped."""
    if course.agency_id not in (None, agency.id):
        raise RuleError("Choose one of the courses offered to your agency.", "course")
    if any(officer.agency_id != agency.id for officer in officers):
        raise RuleError("Choose officers of your own agency.", "officers")
    # One query for who already works on it, so choosing thousands costs no round trip each.
    working = set(
        db.session.scalars(
            select(Assignment.user_id).where(
                Assignment.agency_id == agency.id,
                Assignment.course_id == course.id,
                Assignment.status == "assigned",
            )
        )
    )
    created = []
    for officer in officers:
        if officer.id not in working:
            created.append(learning.assign_course(actor, officer, course, due_on=due_on, source="manual"))
            working.add(officer.id)
    return created
