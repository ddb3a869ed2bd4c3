"""Request ids, structured logs, metrics and readiness."""

from __future__ import annotations

import json
import logging

import pytest


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32


def test_a_sane_incoming_request_id_is_kept_and_a_bad_one_replaced(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"}).headers["X-Request-ID"]
        == "lb-1234abcd"
    )
    assert client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"] != "<script>"


def test_json_logs_name_the_request_user_and_agency(app, client, officer, sign_in, capsys):
    from lms.observability import configure_logging

    app.config["LOG_FORMAT"] = "json"
    try:
        configure_logging(app)
        sign_in(officer)
        client.get("/", headers={"X-Request-ID": "trace-0001"})
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        app.config["LOG_FORMAT"] = "text"
        configure_logging(app)
    access = next(line for line in lines if line["name"] == "ripple.access")
    assert access["request_id"] == "trace-0001"
    assert access["user_id"] == officer.id and access["agency_id"] == officer.agency_id
    assert access["level"] == "INFO"


@pytest.fixture
def metrics_token(app):
    app.config["METRICS_TOKEN"] = "s3cret"
    yield {"Authorization": "Bearer s3cret"}
    app.config["METRICS_TOKEN"] = None


def test_metrics_report_request_latency_and_queue_depth(client, metrics_token):
    client.get("/healthz")
    text = client.get("/metrics", headers=metrics_token).get_data(as_text=True)
    assert 'ripple_request_seconds_bucket{endpoint="main.healthz"' in text
    assert "ripple_queue_depth" in text


def test_metrics_are_private_by_default(client, sign_in, officer):
    response = client.get("/metrics")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.get_data(as_text=True)
    sign_in(officer)  # a session is no key to them either
    assert client.get("/metrics").status_code == 403


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "s3cret", "Bearer s3cret "])
def test_metrics_with_a_token_want_exactly_that_token(client, metrics_token, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers=metrics_token).status_code == 200


def test_metrics_may_be_made_public(app, client):
    app.config["METRICS_PUBLIC"] = True
    try:
        assert client.get("/metrics").status_code == 200
    finally:
        app.config["METRICS_PUBLIC"] = False


def test_readyz_is_not_ready_until_migrations_are_applied(client):
    response = client.get("/readyz")  # the test database is built without Alembic
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert "expected" in response.json["migrations"]


def test_readyz_is_ready_on_a_migrated_database(tmp_path):
    from flask_migrate import upgrade

    from lms import create_app
    from lms.config import TestConfig

    class Migrated(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    app = create_app(Migrated)
    with app.app_context():
        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["migrations"] == "ok"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_need_no_sign_in(client, metrics_token, path):
    assert client.get(path, headers=metrics_token).status_code in (200, 503)
