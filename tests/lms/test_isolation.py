"""Agency isolation, checked on every route of the URL map for every role.

For each route, agency A's objects are substituted into the URL, and every role of agency A,
every role of agency B, a platform admin and an anonymous visitor request it with each method
the route accepts. Expected:

- never a 500;
- anonymous visitors are sent to sign in (or get 401 from an API) unless the view is public;
- agency B's people get 403 or 404, or a page that shows nothing of agency A (public pages such
  as certificate verification excepted: they show what they are meant to), and their POSTs
  change nothing of agency A's;
- agency A's people get 403 exactly when their roles are not among the view's allowed roles.

New routes are covered automatically; a route with a URL parameter this test does not know
fails the test until a resolver for it is added below.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from lms.models import AuditEvent, Role, User
from tests.lms.learning_fixtures import learning_objects

SENTINELS = ("Zephyrine Alphaworth", "zephyrine@alpha.test", "Alpha Sentinel Police", "ALPHA-7731")


@dataclass
class World:
    agency_a: object
    agency_b: object
    people: dict  # label -> User
    objects: dict  # URL parameter name -> id of agency A's object


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


def _roster_import(agency, uploaded_by) -> int:
    from lms.extensions import db
    from lms.services import roster_import

    # A bad email keeps the import from being applied by the roles that may, which would
    # deactivate the other people of this test.
    csv = b"badge_number,name,email\nALPHA-7731,Zephyrine Alphaworth,zephyrine-at-alpha.test\n"
    record, _ = roster_import.check(uploaded_by, agency, "alpha-roster.csv", csv)
    db.session.commit()
    return record.id


def _integrations(agency, coordinator, target) -> dict:
    """Agency A's LTI registration and API token, for the integrations URLs."""
    from lms.extensions import db
    from lms.services import api_tokens, lti

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
    token, _ = api_tokens.create_token(coordinator, agency, "Alpha Sentinel records", ["people:read"])
    db.session.commit()
    return {
        "registration_id": registration.id,
        "token_id": token.id,
        "person_id": target.id,
        "badge_number": target.badge_number,
    }


@pytest.fixture
def world(make_agency, make_user):
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
    }
    objects["rule_id"] = _rule(agency_a, objects["course_id"])
    objects.update(_authoring_objects(people["A.instructor"]))
    objects.update(_integrations(agency_a, people["A.coordinator"], target))
    return World(agency_a, agency_b, people, objects)


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule, objects) -> str:
    unknown = set(rule.arguments) - set(objects)
    assert not unknown, f"{rule.rule}: add agency-A objects for URL parameters {sorted(unknown)} to this test"
    return rule.build({name: objects[name] for name in rule.arguments}, append_unknown=False)[1]


def _agency_a_state(db, world) -> list:
    users = db.session.scalars(
        select(User).where(User.agency_id == world.agency_a.id).order_by(User.id)
    ).all()
    db.session.expire_all()
    return [
        [(u.id, u.active, u.name, u.email, sorted(r.value for r in u.roles), u.password_hash) for u in users],
        db.session.scalar(select(db.func.count()).select_from(AuditEvent)),
    ]


def _view(app, rule):
    return app.view_functions[rule.endpoint]


def test_every_route_respects_agency_and_role(app, db, client, sign_in, world):
    checked = 0
    for rule, method in _routes(app):
        url = _url(rule, world.objects)
        view = _view(app, rule)
        for label, person in world.people.items():
            test_client = app.test_client()
            if person is not None:
                sign_in(person, test_client)
            before = _agency_a_state(db, world) if method != "GET" and label.startswith("B.") else None
            response = test_client.open(url, method=method)
            where = f"{method} {rule.rule} as {label}"
            assert response.status_code != 500, f"{where}: server error"
            checked += 1

            if rule.endpoint == "static":
                continue
            if person is None:
                if not getattr(view, "is_public", False):
                    assert response.status_code in (302, 401), f"{where}: reachable without signing in"
                continue
            if label.startswith("B."):
                # Public pages (certificate verification, badges) show what they are meant to.
                if response.status_code < 300 and not getattr(view, "is_public", False):
                    body = response.get_data(as_text=True)
                    leaked = [s for s in SENTINELS if s in body]
                    assert not leaked, f"{where}: shows agency A's data {leaked}"
                if before is not None:
                    assert _agency_a_state(db, world) == before, f"{where}: changed agency A's records"
                continue
            allowed = getattr(view, "allowed_roles", None)
            if allowed is None:
                continue
            may = label == "admin" or person.has_role(*allowed)
            if may and method == "GET":
                assert response.status_code in (200, 302), (
                    f"{where}: allowed role refused ({response.status_code})"
                )
            if not may:
                assert response.status_code == 403, (
                    f"{where}: role not allowed but got {response.status_code}"
                )
    assert checked > 50


def test_agency_b_coordinator_gets_404_for_agency_a_person(client, sign_in, world):
    sign_in(world.people["B.coordinator"])
    assert client.get(f"/people/{world.objects['user_id']}").status_code == 404
    assert client.get(f"/agencies/{world.agency_a.id}/people").status_code == 404


def test_agency_a_coordinator_sees_own_people(client, sign_in, world):
    sign_in(world.people["A.coordinator"])
    page = client.get(f"/agencies/{world.agency_a.id}/people").get_data(as_text=True)
    assert "Zephyrine Alphaworth" in page


def test_admin_sees_every_agency(client, sign_in, world):
    sign_in(world.people["admin"])
    assert "Alpha Sentinel Police" in client.get("/agencies/").get_data(as_text=True)
    assert "Zephyrine Alphaworth" in client.get(f"/people/{world.objects['user_id']}").get_data(as_text=True)
