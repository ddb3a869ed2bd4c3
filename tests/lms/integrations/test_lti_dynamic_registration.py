"""LTI Dynamic Registration 1.0 through Ripple's real HTTP flow, against platforms on 127.0.0.1
that follow Moodle's and Canvas's registration rules (lti_registering_platform.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from lms.models import AuditEvent, LtiDeployment, LtiRegistration, LtiRegistrationLink
from tests.lms.integrations.lti_platform import CLIENT_ID, DEPLOYMENT_ID
from tests.lms.integrations.lti_registering_platform import (
    AGS,
    NRPS,
    TOOL_CONFIGURATION,
    CanvasPlatform,
    MoodlePlatform,
)
from tests.lms.integrations.test_lti import LEARNER, launch_as

CLOSE_SCRIPT = "js/lti-registration.js"


@pytest.fixture(scope="module")
def _moodle_server():
    platform = MoodlePlatform().start()
    yield platform
    platform.stop()


@pytest.fixture(scope="module")
def _canvas_server():
    platform = CanvasPlatform().start()
    yield platform
    platform.stop()


@pytest.fixture
def moodle(app, client, _moodle_server):
    _moodle_server.reset(tool_jwks=client.get("/lti/jwks.json").get_json())
    return _moodle_server


@pytest.fixture
def canvas(app, client, _canvas_server):
    _canvas_server.reset(tool_jwks=client.get("/lti/jwks.json").get_json())
    return _canvas_server


@pytest.fixture
def staff(app, sign_in, coordinator):
    """The coordinator's own browser."""
    return sign_in(coordinator, app.test_client())


def make_link(staff, agency, days=7) -> str:
    """The registration link, as the coordinator creates and copies it on Agency → Integrations."""
    page = staff.post(f"/agencies/{agency.id}/integrations/lti/registration-link", data={"days": days})
    assert page.status_code == 200, page.get_data(as_text=True)
    match = re.search(r'<code class="copyable registration-link">([^<]+)</code>', page.get_data(as_text=True))
    assert match, "the new link is shown once"
    return match.group(1)


def open_link(app, url: str):
    """The platform administrator's browser opening the link (not signed in to Ripple)."""
    parts = urlsplit(url)
    return app.test_client().get(f"{parts.path}?{parts.query}")


def counts(db) -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(
        db.session.scalar(db.select(db.func.count()).select_from(model))
        for model in (LtiRegistration, LtiDeployment, AuditEvent)
    )


def refused(response, *phrases):
    body = response.get_data(as_text=True)
    assert response.status_code == 400, body
    assert "Ripple could not be registered" in body and "Nothing was saved" in body
    for phrase in phrases:
        assert phrase in body, body
    assert 'data-lti-close="auto"' not in body  # the administrator reads why before closing
    return body


def test_moodle_registers_ripple_from_the_link_and_its_launches_work(app, db, client, staff, agency, moodle):
    link = make_link(staff, agency)
    response = open_link(app, moodle.registration_url(link))
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert (
        "Ripple is registered with Moodle" in body
        and CLOSE_SCRIPT in body
        and 'data-lti-close="auto"' in body
    )
    # The platform may frame the page.
    assert moodle.url in response.headers["Content-Security-Policy"].split("frame-ancestors", 1)[1]

    (metadata,) = moodle.registrations
    assert moodle.registration_headers[0].startswith("Bearer ")
    assert metadata["application_type"] == "web" and metadata["response_types"] == ["id_token"]
    assert metadata["grant_types"] == ["implicit", "client_credentials"]
    assert metadata["initiate_login_uri"] == "http://localhost/lti/login"
    assert metadata["redirect_uris"] == ["http://localhost/lti/launch"]
    assert metadata["jwks_uri"] == "http://localhost/lti/jwks.json"
    assert metadata["token_endpoint_auth_method"] == "private_key_jwt"
    assert agency.name in metadata["client_name"]
    tool = metadata[TOOL_CONFIGURATION]
    assert tool["domain"] == "localhost" and tool["target_link_uri"] == "http://localhost/lti/launch"
    assert {m["type"] for m in tool["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert set(metadata["scope"].split()) == {
        AGS + "lineitem",
        AGS + "lineitem.readonly",
        AGS + "result.readonly",
        AGS + "score",
        NRPS,
    }

    registration = db.session.scalar(db.select(LtiRegistration))
    assert (registration.agency_id, registration.issuer, registration.client_id) == (
        agency.id,
        moodle.url,
        CLIENT_ID,
    )
    assert registration.auth_login_url == moodle.url + "/auth"
    assert registration.auth_token_url == moodle.url + "/token"
    assert registration.key_set_url == moodle.url + "/jwks"
    assert registration.auth_audience is None and registration.product_family_code == "moodle"
    assert [(d.deployment_id, d.status) for d in registration.deployments] == [(DEPLOYMENT_ID, "active")]
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "lti.registration_created_by_platform")
    )
    assert event.agency_id == agency.id and CLIENT_ID in event.summary

    launch, _ = launch_as(client, moodle, roles=(LEARNER,))
    assert launch.status_code == 302, launch.get_data(as_text=True)


def test_ripple_asks_only_for_the_scopes_the_platform_supports(app, db, staff, agency, moodle):
    moodle.supported_scopes = [AGS + "lineitem", AGS + "score"]
    response = open_link(app, moodle.registration_url(make_link(staff, agency)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert moodle.registrations[0]["scope"].split() == [AGS + "lineitem", AGS + "score"]
    assert "lineitem" in response.get_data(as_text=True)  # what it granted is shown


def test_registering_again_updates_the_registration(app, db, staff, agency, moodle):
    link = make_link(staff, agency)
    assert open_link(app, moodle.registration_url(link)).status_code == 200
    moodle.deployment_id = "2"
    refused(open_link(app, moodle.registration_url(link)), "already used", "works only once")
    second = open_link(app, moodle.registration_url(make_link(staff, agency)))
    assert second.status_code == 200 and "Registration updated" in second.get_data(as_text=True)
    (registration,) = db.session.scalars(db.select(LtiRegistration)).all()
    assert sorted(d.deployment_id for d in registration.deployments) == sorted([DEPLOYMENT_ID, "2"])
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "lti.registration_updated_by_platform")
        )
        == 1
    )


def test_a_reused_registration_token_is_refused_by_the_platform_and_nothing_is_stored(
    app, db, staff, agency, moodle
):
    link = make_link(staff, agency)
    token = moodle.new_token()
    assert open_link(app, moodle.registration_url(link, token)).status_code == 200
    fresh = make_link(staff, agency)  # Ripple's links work once; the platform's token too
    before = counts(db)
    body = refused(
        open_link(app, moodle.registration_url(fresh, token)),
        "401 Unauthorized",
        "invalid_token",
        "only once",
    )
    assert "Token already used" not in body  # the platform's own text is not repeated
    assert counts(db) == before


def test_canvas_messages_as_objects_and_a_deployment_per_course(app, db, client, staff, agency, canvas):
    response = open_link(app, canvas.registration_url(make_link(staff, agency)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Ripple is registered with Canvas" in response.get_data(as_text=True)
    tool = canvas.registrations[0][TOOL_CONFIGURATION]
    deep_link = next(m for m in tool["messages"] if m["type"] == "LtiDeepLinkingRequest")
    assert deep_link["placements"] == ["link_selection", "assignment_selection"]
    resource_link = next(m for m in tool["messages"] if m["type"] == "LtiResourceLinkRequest")
    assert resource_link["placements"] == ["course_navigation"]
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    registration = db.session.scalar(db.select(LtiRegistration))
    assert registration.auth_audience == canvas.url + "/token"  # authorization_server
    assert registration.deployments == []  # Canvas names deployments when the tool is added

    # The first course's launch waits for the coordinator (the default rule: hold).
    held, _ = launch_as(client, canvas, roles=(LEARNER,))
    assert held.status_code == 403
    assert "approve" in held.get_data(as_text=True) and "course-101-deployment" in held.get_data(as_text=True)
    assert canvas.url in held.headers["Content-Security-Policy"].split("frame-ancestors", 1)[1]
    page = staff.get(f"/agencies/{agency.id}/integrations/lti/{registration.id}").get_data(as_text=True)
    assert "course-101-deployment" in page and "Patrol 101" in page
    (pending,) = db.session.scalars(db.select(LtiDeployment)).all()
    assert pending.status == "pending"
    approved = staff.post(
        f"/agencies/{agency.id}/integrations/lti/{registration.id}/deployments/{pending.id}/approve"
    )
    assert approved.status_code == 302
    again, _ = launch_as(client, canvas, roles=(LEARNER,))
    assert again.status_code == 302, again.get_data(as_text=True)

    # With the rule set to accept, the next course's deployment is recorded and audited.
    staff.post(
        f"/agencies/{agency.id}/integrations/lti/{registration.id}/deployment-rule", data={"rule": "accept"}
    )
    canvas.deployment_id = "course-202-deployment"
    accepted, _ = launch_as(client, canvas, user_id="another-officer", roles=(LEARNER,))
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    db.session.expire_all()
    assert {(d.deployment_id, d.status) for d in db.session.scalars(db.select(LtiDeployment))} == {
        ("course-101-deployment", "active"),
        ("course-202-deployment", "active"),
    }
    actions = set(db.session.scalars(db.select(AuditEvent.action)))
    assert {
        "lti.deployment_held",
        "lti.deployment_approved",
        "lti.deployment_rule_changed",
        "lti.deployment_accepted",
    } <= actions


def test_an_issuer_on_another_site_is_refused(app, db, staff, agency, moodle):
    moodle.issuer = "https://moodle.other.test"
    before = counts(db)
    refused(
        open_link(app, moodle.registration_url(make_link(staff, agency))),
        "not on the same site",
        "moodle.other.test",
    )
    assert moodle.registrations == [] and counts(db)[:2] == before[:2]


@pytest.mark.parametrize(
    "configuration_url, reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://10.0.0.7/.well-known/openid-configuration", "10.0.0.7"),
        ("file:///etc/passwd", "not an http(s) URL"),
        ("not a url", "not an http(s) URL"),
    ],
)
def test_a_configuration_url_at_a_forbidden_address_is_refused(
    app, db, staff, agency, configuration_url, reason
):
    link = make_link(staff, agency)
    before = counts(db)
    response = app.test_client().get(
        urlsplit(link).path,
        query_string={"openid_configuration": configuration_url, "registration_token": "t"},
    )
    refused(response, reason)
    assert counts(db) == before


def test_the_platform_on_a_loopback_address_is_refused_unless_allowed(
    app, db, staff, agency, moodle, allowed
):
    allowed("", http=True)  # the test platform's 127.0.0.1 is no longer on the allow-list
    refused(open_link(app, moodle.registration_url(make_link(staff, agency))), "loopback")
    assert moodle.config_hits == 0 and moodle.registrations == []


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"<html>Moodle maintenance</html>", "is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "is not JSON"),  # nested past the parser
        (b'["issuer"]', "not a JSON object"),
    ],
)
def test_a_configuration_that_is_not_a_json_object_is_refused(app, db, staff, agency, moodle, body, reason):
    moodle.configuration_body = body
    refused(open_link(app, moodle.registration_url(make_link(staff, agency))), reason)
    assert moodle.registrations == []


def test_an_expired_link_is_refused(app, db, staff, agency, moodle):
    link = make_link(staff, agency)
    row = db.session.scalar(db.select(LtiRegistrationLink))
    row.expires_at = row.created_at - timedelta(seconds=1)
    db.session.commit()
    refused(open_link(app, moodle.registration_url(link)), "expired")
    assert moodle.config_hits == 0


def test_a_withdrawn_or_replaced_link_is_refused(app, db, staff, agency, moodle):
    first = make_link(staff, agency)
    second = make_link(staff, agency)  # replaces the first
    refused(open_link(app, moodle.registration_url(first)), "withdrawn or replaced")
    assert staff.post(f"/agencies/{agency.id}/integrations/lti/registration-link/withdraw").status_code == 302
    refused(open_link(app, moodle.registration_url(second)), "withdrawn or replaced")
    refused(
        open_link(app, moodle.registration_url(second.rsplit("/", 1)[0] + "/made-up-token")),
        "not one Ripple made",
    )
    assert moodle.config_hits == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(LtiRegistration)) == 0


def test_the_link_opened_without_a_platform_says_where_to_paste_it(app, staff, agency):
    link = make_link(staff, agency)
    refused(app.test_client().get(urlsplit(link).path), "paste it into the platform")


def test_a_platform_refusing_the_metadata_is_reported(app, db, staff, agency, moodle, monkeypatch):
    from lms.services import lti_registration

    real = lti_registration.client_registration

    def without_jwks(config, agency):
        body = real(config, agency)
        del body["jwks_uri"]
        return body

    monkeypatch.setattr(lti_registration, "client_registration", without_jwks)
    refused(
        open_link(app, moodle.registration_url(make_link(staff, agency))),
        "400 Bad Request",
        "invalid_client_metadata",
    )
    assert counts(db)[:2] == (0, 0)


def test_another_agencys_coordinator_cannot_see_or_use_the_link(
    app, db, sign_in, staff, agency, make_agency, make_user
):
    from lms.models import Role

    link = make_link(staff, agency)
    other = make_agency("Bravo Police")
    bravo = sign_in(make_user(other, (Role.COORDINATOR,)), app.test_client())
    overview = bravo.get(f"/agencies/{agency.id}/integrations")
    assert overview.status_code == 404
    assert bravo.post(f"/agencies/{agency.id}/integrations/lti/registration-link/withdraw").status_code == 404
    assert (
        bravo.post(f"/agencies/{agency.id}/integrations/lti/registration-link", data={"days": 3}).status_code
        == 404
    )
    own = bravo.get(f"/agencies/{other.id}/integrations").get_data(as_text=True)
    assert "A link is live" not in own and urlsplit(link).path.rsplit("/", 1)[1] not in own
    assert (
        db.session.scalar(db.select(LtiRegistrationLink).where(LtiRegistrationLink.withdrawn_at.is_not(None)))
        is None
    )


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda c: c.pop("registration_endpoint"), "registration_endpoint"),
        (lambda c: c.pop("scopes_supported"), "scopes_supported"),
        (lambda c: c.update(jwks_uri=42), "jwks_uri"),
        (lambda c: c.update(token_endpoint="ftp://moodle.test/token"), "token_endpoint"),
        (
            lambda c: c.pop("https://purl.imsglobal.org/spec/lti-platform-configuration "),
            "lti-platform-configuration",
        ),
        (
            lambda c: c["https://purl.imsglobal.org/spec/lti-platform-configuration "].update(
                messages_supported=["LtiDeepLinkingRequest"]
            ),
            "LtiResourceLinkRequest",
        ),
        (
            lambda c: c["https://purl.imsglobal.org/spec/lti-platform-configuration "].update(
                messages_supported=[{"placements": []}]
            ),
            "without a message type",
        ),
        (
            lambda c: c["https://purl.imsglobal.org/spec/lti-platform-configuration "].pop(
                "product_family_code"
            ),
            "product_family_code",
        ),
        (
            lambda c: c["https://purl.imsglobal.org/spec/lti-platform-configuration "].update(claims="email"),
            "claims",
        ),
        (lambda c: c.update(id_token_signing_alg_values_supported=["HS256"]), "RS256"),
        (lambda c: c.update(authorization_server="https://moodle.test/\x00"), "authorization_server"),
        (lambda c: c.update(issuer="https://moodle.test/" + "i" * 300), "issuer"),
    ],
)
def test_a_platform_configuration_with_a_fault_is_refused_naming_it(app, change, named):
    from lms.services import lti_registration

    platform = MoodlePlatform()
    platform.url = "https://moodle.test"
    config = platform.configuration()
    change(config)
    with pytest.raises(lti_registration.DynamicRegistrationError, match=re.escape(named)):
        lti_registration.parse_configuration(config, "https://moodle.test/mod/lti/openid-configuration.php")


def test_optional_fields_may_be_missing(app):
    from lms.services import lti_registration

    platform = MoodlePlatform()
    platform.url = "https://moodle.test"
    config = platform.configuration()
    for key in ("claims_supported", "id_token_signing_alg_values_supported", "response_types_supported"):
        config.pop(key)
    config["https://purl.imsglobal.org/spec/lti-platform-configuration "].pop("version")
    parsed = lti_registration.parse_configuration(
        config, "https://moodle.test/mod/lti/openid-configuration.php"
    )
    assert parsed.product == "Moodle" and parsed.claims is None and parsed.version is None
