"""The world the URL-map tests walk: two agencies, every role, and agency A's objects.

Shared by the isolation matrix (tests/lms/test_isolation.py), the CSRF matrix
(tests/lms/test_csrf.py) and the route fuzz (tests/lms/test_fuzz_routes.py). `build_world`
makes agency A's records for every URL parameter of the URL map; `url` builds a route's
address from them and fails, naming the parameter, when a new route needs an object this
module does not make yet. Everything here is derived from the app (its URL map, the roles
each view declares, the CSRF exemptions), so new routes are covered without editing a list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.models import AuditEvent, Role, User
from tests.lms.learning_fixtures import learning_objects

SENTINELS = ("Zephyrine Alphaworth", "zephyrine@alpha.test", "Alpha Sentinel Police", "ALPHA-7731")
# Bookkeeping of signing in rather than content: failures counted towards the lockout (a refused
# sign-in is meant to count) and session records (last seen, written at most once a minute).
# The "changes nothing" fingerprint leaves them out; the CSRF matrix checks the session apart.
SIGN_IN_RECORDS = frozenset({"sign_in_throttles", "user_sessions"})


@dataclass
class World:
    agency_a: object
    agency_b: object
    people: dict  # label -> User (None for the anonymous visitor)
    objects: dict  # URL parameter name -> id of agency A's object
    target: object = None  # agency A's officer who owns the attempt, assignments and certificate
    api_token: str = ""  # agency A's bearer token, with every scope
    extra: dict = field(default_factory=dict)


def _finished_attempt(officer):
    """Agency A's officer's graded attempt at the smallest library scenario."""
    from lms.extensions import db
    from lms.services import attempts
    from lms.services.scenario_library import scenario_of, sync_library

    version = next(v for v in sync_library() if v.scenario.slug == "store-dispute")
    attempt = attempts.start_direct(officer, version)
    for index, choice in enumerate(scenario_of(version).expert_path):
        attempts.decide(officer, attempt, index, choice)
    db.session.commit()
    return attempt


def _authoring_objects(author) -> dict:
    """Agency A's private draft of a library scenario, with a finished calibration."""
    from lms.extensions import db
    from lms.services import calibration, scenario_authoring
    from lms.services.scenario_library import sync_library

    library = next(v for v in sync_library() if v.scenario.slug == "store-dispute")
    record = scenario_authoring.duplicate(author, library.id, slug="alpha-sentinel-draft")
    run = calibration.start(author, scenario_authoring.draft_of(record))
    db.session.commit()
    return {"scenario_id": record.id, "calibration_id": run.id}


def _rule(agency, course_id) -> int:
    from lms.extensions import db
    from lms.models import AssignmentRule

    rule = AssignmentRule(agency_id=agency.id, course_id=course_id, name="Alpha Sentinel rule", due_days=30)
    db.session.add(rule)
    db.session.commit()
    return rule.id


def _training_session(agency, coordinator, target) -> int:
    """Agency A's classroom session for the target officer, with a sign-in sheet."""
    from datetime import date, timedelta

    from lms.extensions import db
    from lms.services import training_records

    session = training_records.record_session(
        coordinator,
        agency,
        training_records.SessionSpec(
            title="Alpha Sentinel de-escalation day",
            starts_on=date.today() - timedelta(days=3),
            ends_on=date.today() - timedelta(days=3),
            hours=4,
            category="Use of force",
            badges=target.badge_number,
            sheet=("alpha-sign-in.csv", b"badge,name\nALPHA-7731,Zephyrine Alphaworth\n"),
        ),
    )
    db.session.commit()
    return session.id


def _subscription(agency, coordinator) -> int:
    """Agency A's coordinator's weekly scheduled report."""
    from lms.extensions import db
    from lms.services import scheduled_reports

    subscription = scheduled_reports.subscribe(
        coordinator,
        agency,
        scheduled_reports.SubscriptionSpec("summary", "weekly", 0, [coordinator.id]),
    )
    db.session.commit()
    return subscription.id


def _roster_import(agency, uploaded_by) -> int:
    from lms.extensions import db
    from lms.services import roster_import

    # A bad email keeps the import from being applied by the roles that may, which would
    # deactivate the other people of this test.
    csv = b"badge_number,name,email\nALPHA-7731,Zephyrine Alphaworth,zephyrine-at-alpha.test\n"
    record, _ = roster_import.check(uploaded_by, agency, "alpha-roster.csv", csv)
    db.session.commit()
    return record.id


def _cmi5_package(agency, coordinator) -> str:
    """Agency A's cmi5 package of the smallest library scenario: its public key."""
    from lms.extensions import db
    from lms.models import DispatchPackage

    package = DispatchPackage(
        agency_id=agency.id,
        kind="cmi5",
        target="scenario:store-dispute",
        title="Alpha Sentinel package",
        key="alpha-sentinel-cmi5-key",
        created_by_id=coordinator.id,
    )
    db.session.add(package)
    db.session.commit()
    return package.key


def _reset_link_token(target) -> str:
    """A live password-reset link of agency A's officer (the invitation page answers it as not
    valid: a reset link cannot invite)."""
    from lms.extensions import db
    from lms.services import invitations

    tokens: list[str] = []
    invitations.request_reset(
        target.email, address="192.0.2.1", link_for=lambda purpose, token: tokens.append(token) or token
    )
    db.session.commit()
    return tokens[0]


def _integrations(agency, coordinator, target) -> tuple[dict, str]:
    """Agency A's LTI registration (with a pending deployment), registration link and API token
    (every scope), for the integrations URLs."""
    from lms.extensions import db
    from lms.models import LtiDeployment
    from lms.services import api_tokens, lti, lti_registration

    registration = lti.save_registration(
        coordinator,
        agency,
        lti.RegistrationInput(
            name="Alpha Sentinel Moodle",
            issuer="https://moodle.alpha.test",
            client_id="alpha-client",
            auth_login_url="https://moodle.alpha.test/auth",
            auth_token_url="https://moodle.alpha.test/token",
            key_set_url="https://moodle.alpha.test/jwks",
            auth_audience=None,
            deployment_ids=["1"],
        ),
    )
    token, secret = api_tokens.create_token(
        coordinator, agency, "Alpha Sentinel records", sorted(api_tokens.SCOPES)
    )
    # A deployment awaiting approval and a live dynamic-registration link.
    pending = LtiDeployment(
        agency_id=agency.id, registration_id=registration.id, deployment_id="alpha-course-9", status="pending"
    )
    db.session.add(pending)
    _link, link_token = lti_registration.create_link(coordinator, agency)
    db.session.commit()
    objects = {
        "registration_id": registration.id,
        "lti_deployment_id": pending.id,
        "link_token": link_token,
        "token_id": token.id,
        "person_id": target.id,
        "badge_number": target.badge_number,
    }
    return objects, secret


def _package(agency, coordinator) -> dict:
    """Agency A's SCORM package of the library scenario every agency sees."""
    from lms.extensions import db
    from lms.services.packaging import packages

    package = packages.create_package(
        coordinator,
        agency,
        packages.PackageInput("scorm12", "scenario:store-dispute", 5, "https://lms.alpha.test"),
    )
    db.session.commit()
    return {"package_id": package.id, "package_key": package.key}


def build_world(make_agency, make_user) -> World:
    """Two agencies with an officer, instructor and coordinator each, a platform admin, an
    anonymous visitor, and agency A's records for every URL parameter."""
    agency_a = make_agency("Alpha Sentinel Police")
    agency_b = make_agency("Bravo Police")
    target = make_user(
        agency_a,
        (Role.OFFICER,),
        name="Zephyrine Alphaworth",
        email="zephyrine@alpha.test",
        badge_number="ALPHA-7731",
    )
    people = {"anonymous": None, "admin": make_user(None, (Role.ADMIN,))}
    for label, agency in (("A", agency_a), ("B", agency_b)):
        people[f"{label}.officer"] = make_user(agency, (Role.OFFICER,))
        people[f"{label}.instructor"] = make_user(agency, (Role.INSTRUCTOR,))
        people[f"{label}.coordinator"] = make_user(agency, (Role.COORDINATOR,))
    attempt = _finished_attempt(target)
    # URL parameter name -> the agency-A object it stands for.
    objects = {
        "agency_id": agency_a.id,
        "user_id": target.id,
        "filename": "css/ripple.css",
        "attempt_id": attempt.id,
        "version_id": attempt.scenario_version_id,  # a library scenario: shared, not agency A's
        "index": 0,
        "import_id": _roster_import(agency_a, target),
        **learning_objects(target),  # assignment_id, item_slug, course_id, certificate_id, code
        "report": "overdue",
        "fmt": "csv",
        "token": _reset_link_token(target),
    }
    objects["rule_id"] = _rule(agency_a, objects["course_id"])
    objects["session_id"] = _training_session(agency_a, people["A.coordinator"], target)
    objects["subscription_id"] = _subscription(agency_a, people["A.coordinator"])
    objects["key"] = _cmi5_package(agency_a, people["A.coordinator"])
    objects.update(_authoring_objects(people["A.instructor"]))
    integration_objects, api_token = _integrations(agency_a, people["A.coordinator"], target)
    objects.update(integration_objects)
    objects.update(_package(agency_a, people["A.coordinator"]))
    return World(agency_a, agency_b, people, objects, target=target, api_token=api_token)


def routes(app):
    """Every (rule, method) of the URL map, HEAD and OPTIONS aside."""
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def state_changing_routes(app):
    """Every (rule, method) whose method CSRF protection covers (POST, PUT, PATCH, DELETE)."""
    methods = app.config["WTF_CSRF_METHODS"]
    return [(rule, method) for rule, method in routes(app) if method in methods]


def url(rule, objects) -> str:
    unknown = set(rule.arguments) - set(objects)
    assert not unknown, f"{rule.rule}: add agency-A objects for URL parameters {sorted(unknown)} to this test"
    return rule.build({name: objects[name] for name in rule.arguments}, append_unknown=False)[1]


def view_of(app, rule):
    return app.view_functions[rule.endpoint]


def is_public(app, rule) -> bool:
    return bool(getattr(view_of(app, rule), "is_public", False))


def csrf_exempt(app, rule) -> bool:
    """Whether Flask-WTF's CSRFProtect skips this route, asked the way it decides itself: the
    view's blueprint is exempt, or the view function is (lms/api, lms/lti)."""
    csrf = app.extensions["csrf"]
    blueprint = rule.endpoint.rpartition(".")[0]
    if app.blueprints.get(blueprint) in csrf._exempt_blueprints:
        return True
    view = view_of(app, rule)
    return f"{view.__module__}.{view.__name__}" in csrf._exempt_views


def actor_label(world: World, app, rule) -> str:
    """The person of agency A the route is meant for: anonymous for public pages, the holder of
    the view's role, or the officer who owns agency A's records for any signed-in user."""
    view = view_of(app, rule)
    allowed = getattr(view, "allowed_roles", None)
    if allowed:
        for role, label in (
            (Role.COORDINATOR, "A.coordinator"),
            (Role.INSTRUCTOR, "A.instructor"),
            (Role.OFFICER, "target"),
        ):
            if role in allowed:
                return label
        return "admin"
    if getattr(view, "is_public", False) and rule.endpoint.startswith("api."):
        return "api"  # the records API authenticates by bearer token, not by session
    if getattr(view, "is_public", False) and rule.endpoint != "auth.logout":
        return "anonymous"
    return "target"


def client_as(app, sign_in, world: World, label: str):
    """A fresh test client acting as `label` (see actor_label), and the headers to send."""
    test_client = app.test_client()
    if label == "api":
        return test_client, {"Authorization": f"Bearer {world.api_token}"}
    if label != "anonymous":
        sign_in(person(world, label), test_client)
    return test_client, {}


def person(world: World, label: str):
    if label == "target":
        return world.target
    return world.people.get(label)


def agency_a_state(db, world) -> list:
    users = db.session.scalars(
        select(User).where(User.agency_id == world.agency_a.id).order_by(User.id)
    ).all()
    db.session.expire_all()
    return [
        [(u.id, u.active, u.name, u.email, sorted(r.value for r in u.roles), u.password_hash) for u in users],
        db.session.scalar(select(db.func.count()).select_from(AuditEvent)),
    ]


def fingerprint(db) -> dict:
    """A checksum of every row of every table (those in SIGN_IN_RECORDS aside): equal
    fingerprints mean the request changed nothing in the database."""
    sums = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if table.name in SIGN_IN_RECORDS:
                continue
            digest = hashlib.blake2b(digest_size=16)
            for row in connection.execute(table.select().order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
            sums[table.name] = digest.hexdigest()
    return sums


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
