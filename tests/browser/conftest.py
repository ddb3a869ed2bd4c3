"""Browser tests: the real app served on 127.0.0.1 and driven in Debian's headless Chromium.

Chromium comes from Debian's `chromium` package (never a downloaded browser). Outside CI, a
machine without it skips these tests with a clear reason; in CI (CI=true) a missing browser
is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Keeps Chromium from calling home: this machine allows traffic to 127.0.0.1 only.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="ripple-chromium-")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def live_server(app):
    """The app served by a real HTTP server on a free port of 127.0.0.1 for one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    # The server's address is the site's public address (as PUBLIC_BASE_URL is in production),
    # whichever request (a test client's, on "localhost") happens to come first.
    before = app.config.get("PUBLIC_BASE_URL")
    app.config["PUBLIC_BASE_URL"] = server.url
    try:
        yield server
    finally:
        app.config["PUBLIC_BASE_URL"] = before
        server.shutdown()
        thread.join(timeout=5)
        # Let requests still in flight (a heartbeat, a page the browser asked for last) finish
        # before the test's database is cleaned: on PostgreSQL a request writing while the
        # clean-up deletes rows can deadlock it.
        for request in threading.enumerate():
            if request.name.endswith("(process_request_thread)"):
                request.join(timeout=10)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def sign_in_as(page):
    from tests.conftest import TEST_PASSWORD

    def sign_in(user, password: str = TEST_PASSWORD):
        page.goto("/auth/sign-in")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return sign_in


AXE = os.path.join(os.path.dirname(__file__), "vendor", "axe-core", "axe.min.js")


@pytest.fixture
def axe_violations(page):
    """Run axe-core (vendored from npm) on the current page; serious and critical violations."""

    def check() -> list[dict]:
        with open(AXE, encoding="utf-8") as source:
            page.evaluate(source.read())  # evaluate() is not subject to the page's CSP
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return check


def tab_to(page, selector: str, limit: int = 300) -> None:
    """Press Tab until the focused element matches `selector` (keyboard-only tests)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
