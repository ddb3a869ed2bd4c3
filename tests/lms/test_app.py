"""Application-wide behaviour: health, error pages, security headers, demo data, home pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import Agency, Role, User


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_unknown_url_gets_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"find that page" in response.data


def test_unexpected_errors_get_a_friendly_500_and_roll_back():
    from lms import create_app
    from lms.access import public
    from lms.config import TestConfig

    app = create_app(TestConfig)

    @app.route("/boom")
    @public
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.data
    assert b"boom" not in response.data


def test_security_headers_allow_only_our_own_scripts(client):
    response = client.get("/auth/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_frame_ancestors_list_the_configured_lms_origins():
    from lms import create_app
    from lms.config import TestConfig

    class Framed(TestConfig):
        LMS_FRAME_ORIGINS = ["https://moodle.example.edu"]

    response = create_app(Framed).test_client().get("/auth/sign-in")
    assert "frame-ancestors 'self' https://moodle.example.edu" in response.headers["Content-Security-Policy"]


def test_pages_have_no_inline_script(client, officer, sign_in):
    sign_in(officer)
    assert b"<script>" not in client.get("/").data


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")


@pytest.mark.parametrize(
    "roles,heading",
    [
        ((Role.OFFICER,), b"My training"),
        ((Role.INSTRUCTOR,), b"Teaching"),
        ((Role.COORDINATOR,), b"My agency"),
    ],
)
def test_each_role_has_its_home(client, make_user, agency, sign_in, roles, heading):
    sign_in(make_user(agency, roles))
    assert heading in client.get("/").data


def test_navigation_depends_on_role(client, officer, coordinator, sign_in):
    sign_in(officer)
    assert b"My agency" not in client.get("/").data
    sign_in(coordinator)
    assert b"My agency" in client.get("/").data


def test_demo_data_is_idempotent(app, db):
    from lms.services.demo import seed_demo

    sign_ins = seed_demo()
    db.session.commit()
    counts = (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Agency)),
    )
    seed_demo()
    db.session.commit()
    assert counts == (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Agency)),
    )
    assert counts[1] == 2
    assert counts[0] >= 50
    roles = {sign_in.role for sign_in in sign_ins}
    assert {"platform admin", "coordinator", "instructor", "officer"} <= roles


def test_a_lost_database_gets_a_clear_503_page():
    from sqlalchemy.exc import OperationalError

    from lms import create_app
    from lms.access import public
    from lms.config import TestConfig

    app = create_app(TestConfig)

    @app.route("/needs-db")
    @public
    def needs_db():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    response = app.test_client().get("/needs-db")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert b"briefly unavailable" in response.data


@pytest.mark.parametrize("kind", ["OperationalError", "InterfaceError"])
def test_the_503_page_asks_the_database_nothing_even_for_a_signed_in_user(kind, monkeypatch):
    """During a restart the signed-in user cannot be loaded either: the page must not try."""
    import sqlalchemy.exc

    from lms import create_app
    from lms.config import TestConfig
    from lms.extensions import db

    app = create_app(TestConfig)

    def database_gone(*args, **kwargs):
        raise getattr(sqlalchemy.exc, kind)("SELECT users", {}, Exception("terminating connection"))

    monkeypatch.setattr(db.session, "get", database_gone)  # how the user loader asks for the user

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:0"
    response = client.get("/")
    assert response.status_code == 503
    assert b"briefly unavailable" in response.data
