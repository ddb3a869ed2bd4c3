"""Demo data: two agencies, their people and a platform admin. Safe to run again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from lms.extensions import db
from lms.models import Agency, Role, RoleGrant, Unit, User
from lms.services import scenario_library
from lms.services.accounts import hash_password

DEMO_PASSWORD = "ripple-demo-2026"

FIRST = [
    "Alex",
    "Jordan",
    "Sam",
    "Taylor",
    "Morgan",
    "Casey",
    "Jamie",
    "Riley",
    "Avery",
    "Quinn",
    "Dana",
    "Robin",
    "Kim",
    "Lee",
    "Pat",
    "Drew",
    "Reese",
    "Sky",
    "Noel",
    "Rowan",
]
LAST = [
    "Alvarez",
    "Brooks",
    "Chen",
    "Diallo",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Mensah",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quinlan",
    "Rossi",
    "Santos",
    "Turner",
    "Usman",
    "Vargas",
    "Walsh",
    "Yilmaz",
]
RANKS = ["Officer", "Officer", "Officer", "Corporal", "Sergeant"]


@dataclass(frozen=True)
class DemoSignIn:
    role: str
    email: str
    agency: str


@dataclass(frozen=True)
class AgencyPlan:
    slug: str
    name: str
    state: str
    domain: str
    # (code, name, kind, parent code)
    units: tuple[tuple[str, str, str, str | None], ...]
    officers: int


PLANS = (
    AgencyPlan(
        "riverside",
        "Riverside Police Department",
        "Ohio",
        "riverside.test",
        (
            ("PATROL", "Patrol Division", "division", None),
            ("NORTH", "North Precinct", "precinct", "PATROL"),
            ("SOUTH", "South Precinct", "precinct", "PATROL"),
            ("CSU", "Community Services Unit", "unit", None),
        ),
        40,
    ),
    AgencyPlan(
        "lakeview",
        "Lakeview Police Department",
        "Ohio",
        "lakeview.test",
        (("HQ", "Headquarters", "division", None),),
        8,
    ),
)


_demo_hash: list[str] = []


def _demo_password_hash() -> str:
    # Hashed once: every demo account shares the published demo password anyway.
    if not _demo_hash:
        _demo_hash.append(hash_password(DEMO_PASSWORD))
    return _demo_hash[0]


def _person(agency: Agency | None, email: str, name: str, roles: list[Role], **fields) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            agency_id=agency.id if agency else None,
            email=email,
            name=name,
            password_hash=_demo_password_hash(),
            active=True,
            **fields,
        )
        user.role_grants = [RoleGrant(role=role.value) for role in roles]
        db.session.add(user)
        db.session.flush()
    return user


def _seed_agency(plan: AgencyPlan) -> list[DemoSignIn]:
    agency = db.session.scalar(select(Agency).where(Agency.slug == plan.slug))
    if agency is None:
        agency = Agency(slug=plan.slug, name=plan.name, state=plan.state)
        db.session.add(agency)
        db.session.flush()
    units: dict[str, Unit] = {u.code: u for u in agency.units}
    for code, name, kind, parent in plan.units:
        if code not in units:
            units[code] = Unit(
                agency_id=agency.id, code=code, name=name, kind=kind, parent=units[parent] if parent else None
            )
            db.session.add(units[code])
    db.session.flush()

    leaf_units = [units[code] for code, _, _, _ in plan.units if not any(p == code for *_, p in plan.units)]
    rng = random.Random(plan.slug)  # same names every time
    coordinator = _person(
        agency,
        f"coordinator@{plan.domain}",
        f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        [Role.COORDINATOR, Role.OFFICER],
        badge_number="C-100",
        rank="Lieutenant",
        unit=leaf_units[0],
        hire_date=date(2009, 6, 1),
    )
    instructor = _person(
        agency,
        f"instructor@{plan.domain}",
        f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        [Role.INSTRUCTOR, Role.OFFICER],
        badge_number="I-200",
        rank="Sergeant",
        unit=leaf_units[-1],
        hire_date=date(2012, 3, 15),
    )
    sergeants: dict[int, User] = {}
    for index in range(plan.officers):
        unit = leaf_units[index % len(leaf_units)]
        email = "officer@" + plan.domain if index == 0 else f"officer{index:02d}@{plan.domain}"
        rank = "Sergeant" if unit.id not in sergeants else rng.choice(RANKS[:4])
        officer = _person(
            agency,
            email,
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            [Role.OFFICER],
            badge_number=f"{1000 + index}",
            rank=rank,
            unit=unit,
            supervisor=sergeants.get(unit.id),
            hire_date=date(2024, 1, 8) - timedelta(days=rng.randint(0, 5000)),
        )
        sergeants.setdefault(unit.id, officer)
    return [
        DemoSignIn("coordinator", coordinator.email, agency.name),
        DemoSignIn("instructor", instructor.email, agency.name),
        DemoSignIn("officer", f"officer@{plan.domain}", agency.name),
    ]


def seed_demo() -> list[DemoSignIn]:
    """Create the demo agencies, people and platform admin if they are missing."""
    sign_ins = [DemoSignIn("platform admin", "admin@ripple.test", "(all agencies)")]
    _person(None, "admin@ripple.test", "Platform Admin", [Role.ADMIN])
    for plan in PLANS:
        sign_ins.extend(_seed_agency(plan))
    scenario_library.sync_library()
    _seed_training()
    _seed_compliance()
    db.session.flush()
    return sign_ins


def _seed_training() -> None:
    """The built-in courses, and training records for a few demo officers (only if they have none):
    the Riverside demo officer holds a certificate whose renewal window is open (so the refresher
    is assigned), the Lakeview demo officer is part-way through the main course, and some
    Riverside officers have the main course due, one overdue."""
    from lms.models import Assignment, Certificate
    from lms.models.types import utcnow
    from lms.services import catalog, certificates, learning

    catalog.load_builtin_courses_into_db()
    main = catalog.course_by_slug("prevention-partnership", None)
    today = date.today()

    def fresh(email: str) -> User | None:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None or db.session.scalar(select(Assignment.id).where(Assignment.user_id == user.id)):
            return None
        return user

    def answers(assignment: Assignment, slug: str) -> dict:
        item = learning.item_of(assignment, slug)[1]
        right = {
            "single_choice": lambda q: next(i for i, c in enumerate(q.choices) if c.correct),
            "multiple_choice": lambda q: sorted(q.correct_choices),
            "true_false": lambda q: q.answer,
            "ordering": lambda q: list(q.sequence),
        }
        return {q.id: right[q.kind](q) for q in item.questions}

    if (user := fresh("officer@riverside.test")) is not None:
        done = learning.assign_course(None, user, main, due_on=today - timedelta(days=640), source="manual")
        for _, item in learning.spec_for(done).items():
            if item.required:
                learning.record_item_passed(
                    None,
                    done,
                    item.slug,
                    kind=item.kind,
                    score=None if item.kind == "lesson" else 100.0,
                    evidence={"demo": True},
                )
        completion = learning.completion_of(done)
        completion.completed_at = done.completed_at = utcnow() - timedelta(days=660)
        cert = db.session.scalar(select(Certificate).where(Certificate.completion_id == completion.id))
        cert.issued_on = completion.completed_at.date()
        cert.expires_on = certificates.add_months(cert.issued_on, 24)
        db.session.flush()
        for renewal in certificates.renew_due(today, user=user):
            learning.mark_lesson_read(user, renewal, learning.spec_for(renewal).modules[0].items[0].slug)

    if (user := fresh("officer@lakeview.test")) is not None:
        assignment = learning.assign_course(None, user, main, due_on=today + timedelta(days=30))
        learning.mark_lesson_read(user, assignment, "second-incident")
        learning.mark_lesson_read(user, assignment, "first-hours-call-list")
        learning.submit_check(user, assignment, "first-hours-check", answers(assignment, "first-hours-check"))

    for index, due in enumerate((-7, 14, 45, 60), start=1):
        if (user := fresh(f"officer{index:02d}@riverside.test")) is not None:
            assignment = learning.assign_course(None, user, main, due_on=today + timedelta(days=due))
            if index % 2:
                learning.mark_lesson_read(user, assignment, "second-incident")


def _seed_compliance() -> None:
    """Riverside's state mandate, an assignment rule for sergeants, a spread of refresher
    completions across units, and today's reminders (only the first time)."""
    from lms.models import Mandate
    from lms.models.types import utcnow
    from lms.services import catalog, compliance, learning, reminders, rules

    agency = db.session.scalar(select(Agency).where(Agency.slug == "riverside"))
    if agency is None or db.session.scalar(select(Mandate.id).where(Mandate.agency_id == agency.id)):
        return
    coordinator = db.session.scalar(select(User).where(User.email == "coordinator@riverside.test"))
    today = date.today()
    compliance.save_mandate(
        coordinator,
        agency,
        hours=2,
        cycle_months=12,
        cycle_start=date(today.year, 1, 1),
        minimums=[("Community policing", 2)],
    )
    refresher = catalog.course_by_slug("prevention-refresher", None)
    rules.create_rule(coordinator, agency, rules.RuleSpec(
        name="Partnership refresher for sergeants", course_id=refresher.id, unit_id=None, ranks=["Sergeant"],
        due_on=None, due_days=45, due_from="assignment", recurrence="yearly",
    ))  # fmt: skip
    for index in range(5, 17):
        user = db.session.scalar(select(User).where(User.email == f"officer{index:02d}@riverside.test"))
        if user is None or user.rank == "Sergeant":
            continue
        assignment = learning.assign_course(
            coordinator, user, refresher, due_on=today + timedelta(days=index * 3 - 20)
        )
        if index % 3 == 0:
            continue  # still open: some of these are overdue
        for _, item in learning.spec_for(assignment).items():
            if item.required:
                learning.record_item_passed(
                    None,
                    assignment,
                    item.slug,
                    kind=item.kind,
                    score=None if item.kind == "lesson" else 90.0,
                    evidence={"demo": True},
                )
        completion = learning.completion_of(assignment)
        if completion is not None:
            completion.completed_at = assignment.completed_at = utcnow() - timedelta(days=index * 9)
    db.session.flush()
    # A classroom session, so the training records and hours by category have something to show.
    from lms.services import training_records

    badges = [
        badge
        for badge in db.session.scalars(
            select(User.badge_number).where(
                User.agency_id == agency.id, User.email.like("officer0%@riverside.test")
            )
        )
        if badge
    ]
    if badges:
        training_records.record_session(coordinator, agency, training_records.SessionSpec(
            title="Crisis intervention refresher", starts_on=today - timedelta(days=20),
            ends_on=today - timedelta(days=20), hours=2, category="Crisis intervention",
            instructor="Sgt. Dana Brooks", location="Riverside training room",
            badges=" ".join(badges),
        ))  # fmt: skip
    reminders.send_reminders(today, reminders.MailSettings(server=None))
