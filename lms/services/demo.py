"""Demo data: two agencies, their people and a platform admin. Safe to run again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from lms.extensions import db
from lms.models import Agency, Role, RoleGrant, Unit, User
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
    db.session.flush()
    return sign_ins
