"""LTI launches in the platform's iframe with third-party cookies blocked, in Debian's Chromium.

The platform (lti1p3platform on 127.0.0.1) is reached by the browser as http://platform.test
(mapped to 127.0.0.1 by --host-resolver-rules), another site than Ripple's http://127.0.0.1, so
Ripple's frame is a real third-party context. Each test has its own profile, with the
preference that blocks third-party cookies (`profile.cookie_controls_mode` 1, Chromium 156)
and, where a test needs a browser that keeps no cookie at all in the frame, a cookie
exception that blocks Ripple's cookies under the platform's site (top-level Ripple windows keep
theirs). Chromium takes `Secure; Partitioned` cookies from http://127.0.0.1 (a loopback address
is a secure context), so the partitioned cookies work here as they do on HTTPS.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AXE, CHROMIUM, CHROMIUM_ARGS

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
WAIT = 30_000  # ms for a launch to arrive: a login, a platform round trip, storage waits


@pytest.fixture
def platform(live_server, app, db, agency, coordinator):
    """The test platform, reached by browsers as platform.test, registered with agency A."""
    from lms.services.scenario_library import sync_library
    from tests.lms.integrations.lti_platform import Platform, register

    sync_library()
    db.session.commit()
    platform = Platform(tool_root=live_server.url).start()
    platform.reset(tool_jwks=app.test_client().get("/lti/jwks.json").get_json())
    port = platform.url.rsplit(":", 1)[1]
    platform.browser_url = f"http://platform.test:{port}"
    platform.evil_url = f"http://evil.test:{port}"
    register(coordinator, agency, platform)
    db.session.commit()
    platform.next_launch = {
        "user_id": "officer-9",
        "roles": [LEARNER],
        "name": "Lena Launch",
        "custom": {"ripple_target": "scenario:store-dispute"},
    }
    yield platform
    platform.stop()


@pytest.fixture
def open_browser(browser, live_server, platform):
    """A Chromium profile blocking third-party cookies; `frame_cookies=False` also refuses
    Ripple's cookies inside the platform's pages. Returns a page of that profile. (Launched
    through the suite's Playwright, as a persistent context: preferences live in a profile.)"""
    profiles, contexts = [], []

    def start(*, frame_cookies: bool = True):
        profile = tempfile.mkdtemp(prefix="ripple-lti-")
        profiles.append(profile)
        prefs: dict = {"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}}
        if not frame_cookies:
            pattern = f"{live_server.url},{platform.browser_url}"
            prefs["profile"]["content_settings"] = {"exceptions": {"cookies": {pattern: {"setting": 2}}}}
        os.makedirs(os.path.join(profile, "Default"))
        with open(os.path.join(profile, "Default", "Preferences"), "w", encoding="utf-8") as out:
            json.dump(prefs, out)
        context = browser.browser_type.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--host-resolver-rules=MAP platform.test 127.0.0.1, MAP evil.test 127.0.0.1",
            ],
        )
        contexts.append(context)
        context.set_default_timeout(15_000)
        return context.pages[0] if context.pages else context.new_page()

    yield start
    for context in contexts:
        context.close()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


def _open_course_page(page, platform):
    page.goto(f"{platform.browser_url}/course/page?user=officer-9")
    return page.frame_locator('iframe[name="ripple-tool"]')


def _axe_violations(frame) -> list[dict]:
    """Serious and critical axe-core violations of a frame's page (see conftest.axe_violations)."""
    with open(AXE, encoding="utf-8") as source:
        frame.evaluate(source.read())
    result = frame.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _storage_log(page):
    return page.frame(name="post_message_forwarding").evaluate("() => window.lti_log")


def test_platform_storage_launch_works_without_any_cookie_in_the_frame(open_browser, platform, live_server):
    platform.storage_target = "post_message_forwarding"
    page = open_browser(frame_cookies=False)
    ripple = _open_course_page(page, platform)
    expect(ripple.get_by_text("Lena Launch").first).to_be_visible(timeout=WAIT)
    expect(ripple.get_by_text("What kept this launch safe: your learning platform's storage")).to_be_visible()
    subjects = [(entry["subject"], entry["key"].split("_")[1]) for entry in _storage_log(page)]
    assert subjects == [
        ("lti.put_data", "state"),
        ("lti.put_data", "nonce"),
        ("lti.get_data", "state"),
        ("lti.get_data", "nonce"),
    ]
    assert {entry["origin"] for entry in _storage_log(page)} == {live_server.url}
    # The session stays in the frame, carried by the pages: a decision (a CSRF-checked form)
    # is recorded, and the next page is still signed in.
    expect(ripple.get_by_role("heading", name="Decision 1 of", exact=False)).to_be_visible()
    ripple.locator('input[name="options"]').first.check()
    ripple.get_by_role("button", name="Decide and continue").click()
    expect(ripple.get_by_role("heading", name="Decision 2 of", exact=False)).to_be_visible(timeout=WAIT)
    ripple.get_by_role("link", name="My training").click()
    expect(ripple.get_by_role("heading", name="My training")).to_be_visible()
    expect(ripple.get_by_text("Lena Launch").first).to_be_visible()


def test_the_partitioned_cookie_keeps_the_launch_and_session_without_platform_storage(
    open_browser, platform, live_server
):
    page = open_browser()
    ripple = _open_course_page(page, platform)
    expect(ripple.get_by_text("Lena Launch").first).to_be_visible(timeout=WAIT)
    expect(ripple.get_by_text("What kept this launch safe: a sign-in cookie")).to_be_visible()
    ripple.get_by_role("link", name="My training").click()
    expect(ripple.get_by_role("heading", name="My training")).to_be_visible()
    expect(ripple.get_by_text("Lena Launch").first).to_be_visible()
    # The cookie is the platform frame's alone: Ripple opened on its own is not signed in.
    page.goto(f"{live_server.url}/auth/password")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_with_neither_the_launch_opens_in_a_new_window(open_browser, platform):
    page = open_browser(frame_cookies=False)
    ripple = _open_course_page(page, platform)
    expect(ripple.get_by_role("heading", name="Open Ripple in a new window")).to_be_visible(timeout=WAIT)
    expect(ripple.get_by_text("nothing was opened and nothing was saved")).to_be_visible()
    assert _axe_violations(page.frame(name="ripple-tool")) == []
    with page.context.expect_page() as opened:
        ripple.get_by_role("link", name="Open Ripple in a new window").click()
    window = opened.value
    expect(window.get_by_text("Lena Launch").first).to_be_visible(timeout=WAIT)
    assert "/play/attempts/" in window.url
    expect(window.get_by_text("What kept this launch safe: a sign-in cookie")).to_be_visible()


def test_a_storage_answer_from_another_origin_is_ignored(open_browser, platform):
    platform.storage_target = "post_message_forwarding"
    platform.storage_mode = "forge"
    page = open_browser(frame_cookies=False)
    ripple = _open_course_page(page, platform)
    # The forged answers (another site's value) came first and were ignored: the platform's
    # own answers, which came later, opened the launch.
    try:
        expect(ripple.locator(".account .who")).to_contain_text("Lena Launch", timeout=WAIT)
    except AssertionError:  # say what the frame showed instead (this test once failed in CI)
        frame = page.frame(name="ripple-tool")
        shown = (
            frame.evaluate("() => document.body ? document.body.innerText.slice(0, 800) : ''")
            if frame
            else ""
        )
        raise AssertionError(
            f"the launch did not open: {frame.url if frame else 'no frame'}: {shown}"
        ) from None
    assert page.frame(name="evil").evaluate("() => window.sent") == 2


def test_a_platform_storage_value_of_another_login_is_refused(open_browser, platform, db):
    from lms.models import LtiLaunch

    platform.storage_target = "post_message_forwarding"
    platform.storage_mode = "tamper"
    page = open_browser(frame_cookies=False)
    ripple = _open_course_page(page, platform)
    expect(ripple.get_by_role("heading", name="Ripple could not open this launch")).to_be_visible(
        timeout=WAIT
    )
    expect(
        ripple.get_by_text("The nonce in your learning platform's storage is not this launch's")
    ).to_be_visible()
    assert db.session.scalar(db.select(db.func.count()).select_from(LtiLaunch)) == 0
