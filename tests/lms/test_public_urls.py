"""Absolute URLs that leave the site come from PUBLIC_BASE_URL, whatever Host a request claims."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.models import Certificate
from tests.lms.learning_fixtures import enrol, pass_course, publish

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://ripple.example.gov"
FORGED = {"Host": "evil.example"}


@pytest.fixture
def public_site(app):
    app.config["PUBLIC_BASE_URL"] = SITE
    yield SITE
    app.config["PUBLIC_BASE_URL"] = ""


@pytest.fixture
def cert(db, officer):
    pass_course(officer, enrol(officer, publish()))
    return db.session.scalar(select(Certificate))


def _urls(text: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"'<>]+", text))


def _public_documents(cert) -> list[str]:
    return [
        f"/badges/assertions/{cert.code}",
        f"/badges/agencies/{cert.agency_id}/courses/{cert.course_id}",
        f"/badges/agencies/{cert.agency_id}",
        f"/verify/{cert.code}",
        "/api/v1/openapi.json",
    ]


@pytest.mark.parametrize(
    "index", range(5), ids=["assertion", "badge class", "issuer", "verify page", "openapi"]
)
def test_public_documents_use_the_configured_address_not_the_host_header(client, cert, public_site, index):
    path = _public_documents(cert)[index]
    response = client.get(path, headers=FORGED)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    urls = {url for url in _urls(text) if "w3id.org" not in url and "openapis.org" not in url}
    assert urls, "the document has links of its own"
    assert "evil.example" not in text
    assert all(url.startswith(SITE + "/") for url in urls), urls


def test_badge_ids_point_at_the_configured_site(client, cert, public_site):
    doc = client.get(f"/badges/assertions/{cert.code}", headers=FORGED).get_json()
    assert doc["id"] == f"{SITE}/badges/assertions/{cert.code}"
    assert doc["badge"] == f"{SITE}/badges/agencies/{cert.agency_id}/courses/{cert.course_id}"
    badge = client.get(doc["badge"].removeprefix(SITE), headers=FORGED).get_json()
    assert badge["image"] == f"{SITE}/badges/courses/{cert.course_id}/image.svg"


def test_certificate_links_and_qr_codes_use_the_configured_site(app, public_site):
    """The certificate page, its PDF and QR code build the verify link with public_url."""
    from lms.public_urls import public_url

    with app.test_request_context("/learn/certificates/1", headers=FORGED):
        assert public_url("verify.certificate", code="abc") == f"{SITE}/verify/abc"


def test_without_a_configured_address_development_uses_the_request_address(client, cert):
    doc = client.get(f"/badges/assertions/{cert.code}").get_json()
    assert doc["id"] == f"http://localhost/badges/assertions/{cert.code}"
    assert json.dumps(doc).count("http://localhost/") >= 3


@pytest.mark.parametrize("first_page", ["assertion", "verify page"])
def test_without_a_configured_address_links_made_outside_a_request_match_the_first_request(
    app, client, cert, first_page
):
    """The development server (no PUBLIC_BASE_URL) records the address of the first request it
    serves, even one that commits nothing; a CLI command or the worker builds the same links."""
    from flask import has_request_context

    from lms.public_urls import public_url

    dev = "http://127.0.0.1:5000"
    path = f"/badges/assertions/{cert.code}" if first_page == "assertion" else f"/verify/{cert.code}"
    client.get(path, base_url=dev)
    doc = client.get(f"/badges/assertions/{cert.code}", base_url="http://other.example").get_json()
    assert doc["id"] == f"{dev}/badges/assertions/{cert.code}"  # the recorded address, not this Host
    assert not has_request_context()
    assert public_url("verify.assertion", code=cert.code) == doc["id"]
    assert (
        public_url("verify.badge_class", agency_id=cert.agency_id, course_id=cert.course_id) == doc["badge"]
    )
    assert public_url("verify.certificate", code=cert.code) == doc["evidence"]


def test_the_lti_tool_configuration_uses_the_configured_site(app, public_site):
    from lms.services import lti

    with app.test_request_context("/integrations", headers=FORGED):
        urls = lti.tool_configuration().values()
    assert all(url.startswith(SITE + "/lti/") for url in urls), urls


# --- start-up: production needs the address ---------------------------------------------------


@pytest.fixture
def production(monkeypatch):
    """Settings as gunicorn or a Celery worker sees them: not testing, not the flask command."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("RIPPLE_ENV", raising=False)
    return {"SECRET_KEY": "k" * 64, "TESTING": False}


@pytest.mark.parametrize(
    "base", ["", "ripple.example.gov", "ftp://ripple.example.gov", "https://", "https://x/?a=1"]
)
def test_production_refuses_to_start_without_a_usable_public_address(production, base):
    from lms import create_app
    from lms.config import PublicBaseUrlError

    with pytest.raises(PublicBaseUrlError, match="PUBLIC_BASE_URL"):
        create_app({**production, "PUBLIC_BASE_URL": base})


@pytest.mark.parametrize(
    "base", ["https://ripple.example.gov", "http://127.0.0.1:8000/", "https://x.gov/ripple"]
)
def test_a_usable_public_address_is_accepted_without_its_trailing_slash(production, base):
    from lms.config import settle_public_base_url

    config = {**production, "PUBLIC_BASE_URL": base}
    settle_public_base_url(config)
    assert config["PUBLIC_BASE_URL"] == base.rstrip("/")


@pytest.mark.parametrize("env", [{"FLASK_RUN_FROM_CLI": "true"}, {"RIPPLE_ENV": "development"}])
def test_development_may_go_without_it(production, monkeypatch, env):
    from lms.config import settle_public_base_url

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settle_public_base_url({**production, "PUBLIC_BASE_URL": ""})


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", "import wsgi"],
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "wsgi:app"],
    ],
    ids=["wsgi-import", "gunicorn"],
)
def test_serving_refuses_to_start_without_public_base_url(tmp_path, command):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PUBLIC_BASE_URL", "FLASK_RUN_FROM_CLI", "RIPPLE_ENV")
    }
    env.update(
        SECRET_KEY="s" * 64,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        BIND="127.0.0.1:0",
        WEB_CONCURRENCY="1",
    )
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "PUBLIC_BASE_URL is not set" in result.stderr


def test_addresses_shown_for_other_systems_are_the_public_ones(
    client, sign_in, coordinator, admin, agency, public_site
):
    overview = sign_in(coordinator).get(f"/agencies/{agency.id}/integrations").get_data(as_text=True)
    assert f"{SITE}/api/v1/openapi.json" in overview
    keys = sign_in(admin).get("/lti/keys").get_data(as_text=True)
    assert f"{SITE}/lti/jwks.json" in keys
