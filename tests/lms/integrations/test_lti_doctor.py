"""The connection doctor against the test platform (lti_platform.py) on 127.0.0.1, and variants
of it: one behind a server that strips the Authorization header (Moodle behind Apache), one
whose token endpoint expects another audience, one that changed its keys."""

from __future__ import annotations

import html
import re

import jwt
import pytest
from flask import jsonify, request

from tests.lms.integrations.lti_platform import Platform, register
from tests.lms.integrations.test_lti import launch_as


class StrippingPlatform(Platform):
    """Its services never see the Authorization header, as PHP behind Apache without
    CGIPassAuth does not."""

    def wsgi(self):
        app = super().wsgi()
        inner = app.wsgi_app

        def strip(environ, start_response):
            if environ.get("PATH_INFO", "").startswith("/course/"):
                environ.pop("HTTP_AUTHORIZATION", None)
            return inner(environ, start_response)

        app.wsgi_app = strip
        return app


class AudiencePlatform(Platform):
    """Its token endpoint wants the client assertion's `aud` to be its issuer."""

    def wsgi(self):
        app = super().wsgi()
        issue = app.view_functions["token"]

        def token():
            assertion = request.form.get("client_assertion", "")
            if jwt.decode(assertion, options={"verify_signature": False}).get("aud") != self.url:
                return jsonify({"error": "invalid_client", "error_description": "aud"}), 401
            return issue()

        app.view_functions["token"] = token
        return app


@pytest.fixture(scope="module")
def _servers():
    servers = {kind: kind().start() for kind in (Platform, StrippingPlatform, AudiencePlatform)}
    yield servers
    for platform in servers.values():
        platform.stop()


@pytest.fixture(params=[Platform])
def platform(request, app, client, _servers):
    server = _servers[request.param]
    server.reset(tool_jwks=client.get("/lti/jwks.json").get_json())
    return server


@pytest.fixture
def registration(db, agency, coordinator, platform):
    row = register(coordinator, agency, platform)
    db.session.commit()
    return row


@pytest.fixture
def staff(app, sign_in, coordinator):
    return sign_in(coordinator, app.test_client())


def run_doctor(staff, agency, registration) -> dict[str, tuple[str, str]]:
    """Press the button; the checks as the page shows them: title -> (status, text)."""
    response = staff.post(f"/agencies/{agency.id}/integrations/lti/{registration.id}/doctor")
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    checks = {}
    for item in re.findall(r'<li class="doctor-check doctor-\w+">(.*?)</li>', body, re.S):
        title, status = re.search(r"<h3>(.*?): (passed|problem|not checked)</h3>", item).groups()
        checks[html.unescape(title)] = (status, html.unescape(re.sub(r"<[^>]+>", "", item)))
    assert len(checks) == 5, body
    return checks


KEYS, TOKEN, HEADER, URLS, DEPLOYMENTS = (
    "The platform's key set",
    "An access token for grades and rosters",
    "The Authorization header reaching the platform's services",
    "Launch and deep-linking URLs",
    "Deployments",
)


def test_a_healthy_connection_passes_every_check(client, staff, agency, platform, registration):
    assert launch_as(client, platform)[0].status_code == 302
    checks = run_doctor(staff, agency, registration)
    assert {title: status for title, (status, _) in checks.items()} == dict.fromkeys(checks, "passed")
    assert "present" in checks[KEYS][1]  # the launch's key id was found in the key set
    assert "line items" in checks[HEADER][1]


def test_before_any_launch_the_services_check_waits_for_one(staff, agency, platform, registration):
    checks = run_doctor(staff, agency, registration)
    assert checks[KEYS][0] == checks[TOKEN][0] == "passed"
    assert checks[HEADER][0] == "not checked" and "launch Ripple from a course once" in checks[HEADER][1]


@pytest.mark.parametrize("platform", [StrippingPlatform], indirect=True)
def test_a_stripped_authorization_header_is_found_and_the_apache_fix_given(
    client, staff, agency, platform, registration
):
    assert launch_as(client, platform)[0].status_code == 302
    checks = run_doctor(staff, agency, registration)
    status, text = checks[HEADER]
    assert status == "problem" and "401 Unauthorized" in text
    assert "CGIPassAuth On" in text and 'SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1' in text
    assert checks[TOKEN][0] == "passed"


@pytest.mark.parametrize("platform", [AudiencePlatform], indirect=True)
def test_a_platform_expecting_another_audience_is_told_apart(staff, agency, platform, registration):
    checks = run_doctor(staff, agency, registration)
    status, text = checks[TOKEN]
    assert status == "problem"
    assert (
        f"refused Ripple's request with `aud` = {platform.url}/token" in text
        and "401 Unauthorized (invalid_client)" in text
    )
    assert f"Set the registration's “Token audience” to {platform.url}." in text


def test_a_launch_key_the_key_set_no_longer_lists_is_reported(client, staff, agency, platform, registration):
    from tests.lms.integrations.lti_platform import _keypair

    assert launch_as(client, platform)[0].status_code == 302
    old = (platform.private_key, platform.public_key)
    platform.private_key, platform.public_key = _keypair()  # the platform rotated its key
    try:
        status, text = run_doctor(staff, agency, registration)[KEYS]
    finally:
        platform.private_key, platform.public_key = old
    assert status == "problem" and "no longer lists" in text


def test_a_changed_launch_url_is_reported(db, client, staff, agency, platform, registration):
    assert launch_as(client, platform)[0].status_code == 302
    registration.registered_launch_url = "https://old-ripple.example.gov/lti/launch"
    db.session.commit()
    status, text = run_doctor(staff, agency, registration)[URLS]
    assert status == "problem" and "old-ripple.example.gov" in text and "http://localhost/lti/launch" in text


def test_an_unreachable_key_set_is_reported(db, staff, agency, platform, registration):
    registration.key_set_url = platform.url + "/no-such-jwks"
    db.session.commit()
    status, text = run_doctor(staff, agency, registration)[KEYS]
    assert status == "problem" and "404 Not Found" in text


def test_another_agencys_coordinator_cannot_run_or_see_the_doctor(
    app, sign_in, make_agency, make_user, agency, registration
):
    from lms.models import Role

    bravo = sign_in(make_user(make_agency("Bravo Police"), (Role.COORDINATOR,)), app.test_client())
    assert bravo.post(f"/agencies/{agency.id}/integrations/lti/{registration.id}/doctor").status_code == 404
    assert bravo.get(f"/agencies/{agency.id}/integrations/lti/{registration.id}").status_code == 404


def test_agency_b_cannot_approve_agency_as_pending_deployment(
    app, db, sign_in, make_agency, make_user, agency, registration
):
    from lms.models import LtiDeployment, Role

    pending = LtiDeployment(
        agency_id=agency.id, registration_id=registration.id, deployment_id="course-9", status="pending"
    )
    db.session.add(pending)
    db.session.commit()
    other = make_agency("Bravo Police")
    bravo = sign_in(make_user(other, (Role.COORDINATOR,)), app.test_client())
    base = f"/agencies/{agency.id}/integrations/lti/{registration.id}/deployments/{pending.id}"
    assert bravo.post(base + "/approve").status_code == 404
    assert bravo.post(base + "/dismiss").status_code == 404
    # Nor through a registration of its own agency's address.
    assert (
        bravo.post(
            f"/agencies/{other.id}/integrations/lti/{registration.id}/deployments/{pending.id}/approve"
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(LtiDeployment, pending.id).status == "pending"
