"""Dynamic registration in a real browser: the coordinator creates the registration link, a
platform administrator's "add a tool by URL" page (a Moodle-style test platform on 127.0.0.1)
opens it in a frame, Ripple registers itself and tells the platform it is done."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import expect


def test_the_platform_frames_the_registration_and_is_told_to_close(
    page, live_server, db, sign_in_as, coordinator, agency, axe_violations
):
    from lms.models import LtiRegistration
    from tests.lms.integrations.lti_registering_platform import MoodlePlatform

    sign_in_as(coordinator)
    page.goto(f"/agencies/{agency.id}/integrations")
    page.get_by_label("Link works for (days)").fill("3")
    page.get_by_role("button", name="Create a registration link").click()
    expect(page.get_by_text("Copy it now: it is not shown again")).to_be_visible()
    assert axe_violations() == []
    link = page.locator("code.registration-link").inner_text()

    platform = MoodlePlatform(tool_root=live_server.url).start()
    try:
        page.goto("/lti/jwks.json")  # what the platform fetches when it checks Ripple's tokens
        platform.reset(tool_jwks=page.evaluate("() => JSON.parse(document.body.innerText)"))
        page.goto(platform.url + "/admin/tool-by-url?" + urlencode({"link": platform.registration_url(link)}))
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", name="Ripple is registered with Moodle")).to_be_visible()
        expect(page.locator("#status")).to_have_text("org.imsglobal.lti.close")
        db.session.expire_all()
        registration = db.session.scalar(db.select(LtiRegistration))
        assert registration.issuer == platform.url

        # The coordinator finds it, runs the connection doctor and sets the deployment rule.
        page.goto(f"/agencies/{agency.id}/integrations")
        page.get_by_role("link", name="Moodle at").click()
        page.get_by_role("button", name="Check the connection").click()
        expect(page.get_by_role("heading", name="The platform's key set: passed")).to_be_visible()
        expect(
            page.get_by_role("heading", name="An access token for grades and rosters: passed")
        ).to_be_visible()
        assert axe_violations() == []
        page.get_by_label("Accept new deployments automatically").check()
        page.get_by_role("button", name="Save the rule").click()
        expect(page.get_by_text("Saved what launches from new deployments do.")).to_be_visible()
        assert page.get_by_label("Accept new deployments automatically").is_checked()
    finally:
        platform.stop()
