"""LTI and integrations in a real browser: a coordinator registers a platform and creates an
API token; an instructor, launched from a real LTI 1.3 platform (lti1p3platform on 127.0.0.1),
picks a Ripple scenario by deep linking and the platform receives the signed link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

LTI_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture
def platform(page, live_server, db, agency, coordinator):
    """A real LTI 1.3 platform (lti1p3platform) on 127.0.0.1, registered with agency A."""
    from lms.services.scenario_library import sync_library
    from tests.lms.integrations.lti_platform import Platform, register

    sync_library()
    db.session.commit()
    platform = Platform(tool_root=live_server.url).start()
    page.goto("/lti/jwks.json")
    platform.reset(tool_jwks=page.evaluate("() => JSON.parse(document.body.innerText)"))
    register(coordinator, agency, platform)
    db.session.commit()
    yield platform
    platform.stop()


def test_coordinator_sets_up_integrations(page, sign_in_as, coordinator, agency, axe_violations):
    sign_in_as(coordinator)
    page.goto(f"/agencies/{agency.id}/integrations")
    expect(page.get_by_role("heading", name="Learning platforms (LTI 1.3)")).to_be_visible()
    expect(page.get_by_text("/lti/jwks.json").first).to_be_visible()
    assert axe_violations() == []

    page.get_by_role("link", name="Register a platform").click()
    page.get_by_label("Name").fill("County Moodle")
    page.get_by_label("Issuer (platform id)").fill("https://moodle.county.test")
    page.get_by_label("Client id").fill("ripple-1")
    page.get_by_label("Deployment ids").fill("1")
    page.get_by_label("Platform login (OIDC auth) URL").fill("https://moodle.county.test/mod/lti/auth.php")
    page.get_by_label("Platform access-token URL").fill("https://moodle.county.test/mod/lti/token.php")
    page.get_by_label("Platform key-set (JWKS) URL").fill("https://moodle.county.test/mod/lti/certs.php")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="County Moodle")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("HR system")
    page.get_by_label("Read people").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Copy it now")).to_be_visible()
    expect(page.get_by_role("button", name="Revoke HR system")).to_be_visible()
    assert axe_violations() == []


def test_instructor_deep_links_a_scenario_from_the_platform(page, platform):
    platform.next_launch = {"user_id": "teacher-1", "roles": [LTI_INSTRUCTOR], "deep_link": True}

    page.goto(platform.login_url("teacher-1"))  # the platform's "Add content" button
    expect(page.get_by_role("heading", name="Add Ripple content to Patrol 101")).to_be_visible()
    page.locator('input[name="target"][value="scenario:store-dispute"]').check()
    page.get_by_role("button", name="Add to course").click()
    expect(page.get_by_role("heading", name="Added to Patrol 101")).to_be_visible()
    (item,) = platform.deep_link_items
    assert item["custom"]["ripple_target"] == "scenario:store-dispute"
    assert item["lineItem"]["scoreMaximum"] == 100


def test_officer_launch_opens_the_scenario(page, platform):
    platform.next_launch = {
        "user_id": "officer-9",
        "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        "name": "Lena Launch",
        "custom": {"ripple_target": "scenario:store-dispute"},
    }
    page.goto(platform.login_url("officer-9"))
    expect(page.get_by_text("Lena Launch")).to_be_visible()
    assert "/play/attempts/" in page.url
