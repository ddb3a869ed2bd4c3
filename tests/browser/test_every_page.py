"""Every page, every role, on a phone and a laptop: no sideways scrolling, no axe violations.

The world is the URL-map world of tests/lms/url_map_world.py (an agency with an officer who has a
graded scenario attempt, assignments and a certificate; an instructor with a draft scenario and
a course; a coordinator with assignment rules, a roster import and integrations; a platform
admin). Each GET route of the URL map is built with that world's ids and asked, with the test
client, as each role; the HTML pages a role gets are then opened in Chromium at 390x844 and
1366x800 and checked:

- `document.documentElement.scrollWidth <= window.innerWidth` (wide tables scroll inside their
  own focusable, labelled region instead);
- axe-core (tests/browser/vendor) with the WCAG 2.0/2.1 A and AA tags reports nothing;
- a screenshot is saved to build/screenshots/<role>-<page>-<width>.png.

A GET route that no role gets as an HTML page must be in SKIPPED with a reason, so a new page
cannot slip past the sweep.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.conftest import AXE
from tests.conftest import TEST_PASSWORD
from tests.lms.url_map_world import build_world, routes, url

SIZES = ((390, 844), (1366, 800))
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "build", "screenshots")
ROLES = {  # role -> the world's person of agency A holding it
    "officer": "target",
    "instructor": "A.instructor",
    "coordinator": "A.coordinator",
    "admin": "admin",
    "anonymous": "anonymous",
}

SKIPPED = {  # endpoint -> why the sweep does not open it as a page
    "static": "stylesheets, scripts and images, not pages",
    "main.healthz": "health check for the load balancer (JSON)",
    "main.readyz": "readiness check for the load balancer (JSON)",
    "main.metrics": "Prometheus metrics (plain text)",
    "api.assignments": "records API (JSON, bearer token)",
    "api.certificates": "records API (JSON, bearer token)",
    "api.completions": "records API (JSON, bearer token)",
    "api.openapi": "records API description (JSON)",
    "api.people": "records API (JSON, bearer token)",
    "api.person": "records API (JSON, bearer token)",
    "lti.jwks_json": "LTI key set (JSON)",
    "lti.login": "LTI launch step: a redirect to the platform",
    "lti.context_page": "shown only inside an LTI launch",
    "lti.deep_link": "shown only inside an LTI deep-linking launch",
    "integrations.dynamic_register": "opened by a learning platform with its configuration URL (its pages: "
    "tests/browser/test_lti_dynamic_registration.py)",
    "compliance.export": "file download (CSV)",
    "training.sign_in_sheet": "file download (the uploaded sign-in sheet)",
    "author.export_course": "file download (YAML)",
    "author.facilitator_guide": "file download (PDF)",
    "author.tabletop": "file download (PDF)",
    "author.calibration_status": "status fragment polled by the calibration page",
    "learn.certificate_pdf": "file download (PDF)",
    "learn.certificate_qr": "image (SVG)",
    "learn.content_image": "lesson image",
    "learn.person_transcript_csv": "file download (CSV)",
    "learn.transcript_csv": "file download (CSV)",
    "learn.resume": "redirect to the next item",
    "verify.badge_image": "image (SVG)",
    "verify.issuer": "Open Badges issuer (JSON)",
    "verify.badge_class": "Open Badges class (JSON)",
    "verify.assertion": "Open Badges assertion (JSON)",
    "play.status": "status fragment polled while grading",
    "agency.my_agency": "redirect to the coordinator's agency overview",
    "packaging.download_package": "file download (SCORM or cmi5 zip)",
    "packaging.cmi5_launch": "cmi5 launch step: needs the LMS's launch parameters (tests/browser/test_cmi5.py)",
    "packaging.enter": "package launch step: redeems a launch token, a redirect (tests/browser/test_scorm_packages.py)",
}

_MEASURE = """() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
  wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
    > window.innerWidth + 1 && !e.closest('.table-scroll, .skip-link')).slice(0, 3)
    .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
      ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))})"""


QUERIES = {
    "author.preview_scenario": "?seed=1",  # without a seed the preview redirects to one
    "compliance.today_board": "?list=unassigned",  # the board with a list, its checkboxes and actions
    "compliance.team_board": "?list=overdue",
}


@pytest.fixture
def world(make_agency, make_user):
    from lms.extensions import db
    from lms.models import Attempt
    from lms.services import attempts

    world = build_world(make_agency, make_user)
    finished = db.session.get(Attempt, world.objects["attempt_id"])
    # The world's attempt is finished (its page redirects to the debrief): one in play as well.
    world.extra["attempt_in_play"] = attempts.start_direct(world.target, finished.scenario_version).id
    # The world's link is a password reset (which cannot invite): an invitation as well.
    world.extra["invitation_token"] = _invitation_token(world, make_user)
    db.session.commit()
    return world


def _invitation_token(world, make_user) -> str:
    from lms.extensions import db
    from lms.services import invitations

    invitee = make_user(world.agency_a, name="Ines Invitee")
    invitee.password_hash = None
    db.session.flush()
    tokens: list[str] = []
    invitations.invite(
        world.people["A.coordinator"], invitee, lambda purpose, token: tokens.append(token) or token
    )
    return tokens[0]


def _pages(app, sign_in, world) -> tuple[dict, list[str]]:
    """role -> [(endpoint, address)] of the HTML pages each role gets; and uncovered routes."""
    pages = {role: [] for role in ROLES}
    covered = set(SKIPPED)
    for rule, method in routes(app):
        if method != "GET" or rule.endpoint in SKIPPED:
            continue
        objects = dict(world.objects)
        if rule.endpoint == "play.attempt":
            objects["attempt_id"] = world.extra["attempt_in_play"]
        if rule.endpoint == "auth.accept_invitation":
            objects["token"] = world.extra["invitation_token"]
        address = url(rule, objects) + QUERIES.get(rule.endpoint, "")
        for role, label in ROLES.items():
            test_client = app.test_client()
            if label != "anonymous":
                sign_in(world.target if label == "target" else world.people[label], test_client)
            response = test_client.get(address)
            if response.status_code == 200 and response.mimetype == "text/html":
                pages[role].append((rule.endpoint, address))
                covered.add(rule.endpoint)
    uncovered = sorted({rule.endpoint for rule, method in routes(app) if method == "GET"} - covered)
    return pages, uncovered


def _sign_in(page, person) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _axe(page, source: str) -> list[str]:
    page.evaluate(source)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


# Copy written for people: no doubled punctuation after a quoted sentence or list item, no
# "1 hours" or "(s)" plurals, no engine ids joined with "+".
_COPY_SLIPS = re.compile(
    r"[.!?][\"”’]?[.;]\s|\b1 (hours|minutes|points|days|people)\b|\w\(s\)|[a-z]+_[a-z]+\+[a-z]"
)


def _copy_slips(page) -> list[str]:
    text = page.evaluate("document.querySelector('main') ? document.querySelector('main').innerText : ''")
    return [f"copy: {text[max(0, m.start() - 40) : m.end() + 20]!r}" for m in _COPY_SLIPS.finditer(text)][:3]


def _slug(endpoint: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", endpoint.lower()).strip("-")


def test_every_page_fits_a_phone_and_passes_axe(app, browser, live_server, sign_in, world):
    pages, uncovered = _pages(app, sign_in, world)
    assert not uncovered, (
        f"GET routes the sweep neither opens nor skips (add to SKIPPED with a reason): {uncovered}"
    )
    with open(AXE, encoding="utf-8") as file:
        axe_source = file.read()
    os.makedirs(SCREENSHOTS, exist_ok=True)
    failures, opened = [], 0
    for role, label in ROLES.items():
        for width, height in SIZES:
            context = browser.new_context(
                base_url=live_server.url, viewport={"width": width, "height": height}
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            if label != "anonymous":
                _sign_in(page, world.target if label == "target" else world.people[label])
            for endpoint, address in pages[role]:
                page.goto(address)
                page.wait_for_load_state()
                opened += 1
                problems = []
                size = page.evaluate(_MEASURE)
                if size["scrollWidth"] > size["innerWidth"]:
                    problems.append(
                        f"scrolls sideways: {size['scrollWidth']} px wide in {size['innerWidth']} px"
                        f" (widest: {size['wide']})"
                    )
                problems += _axe(page, axe_source)
                if width == 390:
                    problems += _copy_slips(page)
                page.screenshot(
                    path=os.path.join(SCREENSHOTS, f"{role}-{_slug(endpoint)}-{width}.png"), full_page=True
                )
                failures += [f"{role} {address} at {width} px: {problem}" for problem in problems]
            context.close()
    assert opened > 50
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)


_CHARTS = """() => {
const shape = d => (d.split('M')[1] || '').replace(/[^a-zA-Z]/g, '');  // one marker's commands
return [...document.querySelectorAll('svg.line-chart')].map(svg => ({
  title: svg.querySelector('title').textContent,
  tickHeights: [...svg.querySelectorAll('text.tick')].map(t => t.getBoundingClientRect().height),
  lines: [...svg.querySelectorAll('polyline')].map(l => getComputedStyle(l).strokeDasharray),
  markers: [...svg.querySelectorAll('path.marker')].map(m => shape(m.getAttribute('d'))),
  keys: [...svg.closest('figure').querySelectorAll('.legend-key')].map(k => [
    getComputedStyle(k.querySelector('line')).strokeDasharray,
    shape(k.querySelector('path.marker').getAttribute('d'))]),
}))}"""


def test_debrief_charts_are_legible_on_a_phone_and_not_by_colour_alone(browser, live_server, world):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    _sign_in(page, world.target)
    page.goto(f"/play/attempts/{world.objects['attempt_id']}/debrief")
    charts = page.evaluate(_CHARTS)
    context.close()
    assert len(charts) >= 2
    for chart in charts:
        assert chart["tickHeights"] and min(chart["tickHeights"]) >= 12, chart
        patterns = list(zip(chart["lines"], chart["markers"], strict=True))
        assert len(set(patterns)) == len(patterns), f"{chart['title']}: series share a pattern {patterns}"
        # the legend key of each series shows its dash pattern and the shape of its marker
        assert [tuple(key) for key in chart["keys"]] == patterns, chart


_BAR_TEXT = """() => [...document.querySelectorAll('figure.chart')].map(figure => ({
  title: figure.querySelector('figcaption').textContent.trim(),
  heights: [...figure.querySelectorAll('dt, .comparison-value')].map(e => parseFloat(getComputedStyle(e).fontSize)),
}))"""


def test_the_coordinators_bar_charts_keep_full_size_words_on_a_phone(browser, live_server, world):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    _sign_in(page, world.people["A.coordinator"])
    page.goto(f"/agencies/{world.objects['agency_id']}/compliance")
    charts = page.evaluate(_BAR_TEXT)
    context.close()
    assert len(charts) == 2
    for chart in charts:
        assert chart["heights"] and min(chart["heights"]) >= 12, chart


def test_the_calibration_chart_keeps_its_words_at_12_px_on_a_phone(browser, live_server, world):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    _sign_in(page, world.people["A.instructor"])
    page.goto(f"/author/scenarios/{world.objects['scenario_id']}/calibration")
    heights = page.evaluate(
        "() => [...document.querySelectorAll('svg.calibration-chart text.tick')]"
        ".map(t => t.getBoundingClientRect().height)"
    )
    wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
    assert heights and min(heights) >= 12, heights
    assert wide  # the chart scrolls inside its own region, never the page
