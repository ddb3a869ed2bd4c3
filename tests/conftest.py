"""Fixtures shared by the whole suite.

They build on each other: `app` (a fresh, empty database per test), `client`, then
factories for agencies and people, and `sign_in` to act as any of them. Flask is imported
lazily so the engine's tests (tests/scenarios) never need it.
"""

from __future__ import annotations

import itertools
import os

import pytest

_counter = itertools.count(1)
TEST_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def _app():
    from flask.testing import FlaskClient

    class FreshContextClient(FlaskClient):
        """Runs each request in its own app context, as a real server does, so `g` and the
        database session are never shared between the test and the requests it makes."""

        def open(self, *args, **kwargs):
            with self.application.app_context():
                return super().open(*args, **kwargs)

    from lms import create_app
    from lms.config import TestConfig
    from lms.extensions import db

    app = create_app(TestConfig)
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _empty_all_tables(db) -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(_app):
    """The application inside an app context, with an empty database; emptied again after."""
    from lms.extensions import db

    with _app.app_context():
        _app.config["WTF_CSRF_ENABLED"] = False
        # Every test starts on the test configuration's public address, whatever an earlier
        # test (a live server, a monkeypatch undone out of order) left in it.
        _app.config["PUBLIC_BASE_URL"] = ""
        yield _app
        _empty_all_tables(db)


@pytest.fixture
def db(app):
    from lms.extensions import db as database

    return database


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def password_hash(_app):
    from lms.services.accounts import hash_password

    return hash_password(TEST_PASSWORD)  # hashed once: argon2 is slow on purpose


@pytest.fixture
def make_agency(db):
    from lms.models import Agency, Unit

    def make(name: str | None = None, **fields):
        n = next(_counter)
        agency = Agency(slug=fields.pop("slug", f"agency-{n}"), name=name or f"Agency {n}", **fields)
        db.session.add(agency)
        db.session.flush()
        unit = Unit(agency_id=agency.id, code="HQ", name=f"{agency.name} HQ", kind="division")
        db.session.add(unit)
        db.session.commit()
        return agency

    return make


@pytest.fixture
def make_user(db, password_hash):
    from lms.models import Role, RoleGrant

    def make(
        agency=None, roles=(Role.OFFICER,), *, name: str | None = None, email: str | None = None, **fields
    ):
        from lms.models import User

        n = next(_counter)
        user = User(
            agency_id=agency.id if agency is not None else None,
            email=email or f"person{n}@example.test",
            name=name or f"Person {n}",
            badge_number=fields.pop("badge_number", f"B{n}" if agency is not None else None),
            unit_id=fields.pop(
                "unit_id", agency.units[0].id if agency is not None and agency.units else None
            ),
            password_hash=password_hash,
            **fields,
        )
        user.role_grants = [RoleGrant(role=str(role)) for role in roles]
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def sign_in(client):
    """Act as `user` in `client` without a password round trip (the auth tests do that)."""

    def act_as(user, test_client=None):
        from lms.extensions import db
        from lms.services import sessions

        record = sessions.start(user, via="password")  # a real session record, as signing in makes
        db.session.commit()
        with (test_client or client).session_transaction() as session:
            session["_user_id"] = record.token
            session["_fresh"] = True
        return test_client or client

    return act_as


@pytest.fixture
def rate_limit(app):
    """`rate_limit("WHAT_IF_RATE_LIMIT", "2 per minute")`: that limit for this test only, from
    empty counters; the test's value is undone and the counters emptied again afterwards."""
    from lms.verify import limiter

    saved: dict[str, object] = {}

    def lower(setting: str, value: str) -> None:
        saved.setdefault(setting, app.config[setting])
        app.config[setting] = value

    limiter.reset()
    yield lower
    app.config.update(saved)
    limiter.reset()


@pytest.fixture
def agency(make_agency):
    return make_agency("Riverside Test PD")


@pytest.fixture
def officer(make_user, agency):
    return make_user(agency, name="Olive Officer")


@pytest.fixture
def coordinator(make_user, agency):
    from lms.models import Role

    return make_user(agency, (Role.COORDINATOR, Role.OFFICER), name="Cora Coordinator")


@pytest.fixture
def instructor(make_user, agency):
    from lms.models import Role

    return make_user(agency, (Role.INSTRUCTOR, Role.OFFICER), name="Ian Instructor")


@pytest.fixture
def admin(make_user):
    from lms.models import Role

    return make_user(None, (Role.ADMIN,), name="Ada Admin")


def running_on_postgres() -> bool:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    return url.startswith("postgres")


@pytest.fixture
def library(db):
    """The built-in scenarios loaded into the platform library: slug -> published version."""
    from lms.services.scenario_library import sync_library

    versions = sync_library()
    db.session.commit()
    return {version.scenario.slug: version for version in versions}


@pytest.fixture
def store_dispute(library):
    """The smallest library scenario, published."""
    return library["store-dispute"]


@pytest.fixture
def officers_finished_attempt(db, officer, store_dispute):
    """The officer's attempt at store-dispute, played on the no-partnership path and graded."""
    from lms.services import attempts
    from lms.services.scenario_library import scenario_of

    attempt = attempts.start_direct(officer, store_dispute)
    for index, choice in enumerate(scenario_of(store_dispute).baseline_path):
        attempts.decide(officer, attempt, index, choice)
    db.session.commit()
    return attempt


@pytest.fixture
def course(db, instructor):
    """The instructor's new course: a draft with the starter module."""
    from lms.services import authoring

    made = authoring.create_course(instructor, slug="my-course", title="My course")
    db.session.commit()
    return made


@pytest.fixture(autouse=True)
def _outbound_names_resolve_without_dns(monkeypatch):
    """The outbound guard (lms/services/outbound.py) resolves names when a form saves a URL and
    when it connects; in tests no name goes to DNS: addresses and localhost resolve as usual,
    any other name is unknown (tests/lms/integrations adds a hosts table on top)."""
    import socket

    from lms.services import outbound

    system = outbound.resolve

    def resolve(host, port):
        try:
            socket.inet_aton(host)  # 127.0.0.1, 2130706433 ...: parsed, not looked up
        except OSError:
            if host != "localhost" and outbound._as_ip(host) is None:  # noqa: SLF001
                raise socket.gaierror(socket.EAI_NONAME, f"{host} is not resolved in tests") from None
        return system(host, port)

    monkeypatch.setattr(outbound, "resolve", resolve)
