"""SCORM packages in a real browser, with the real SCORM runtime an LMS would give them.

A test LMS (a tiny server on 127.0.0.1, another origin than Ripple's live server) serves a
page that makes scorm-again's Scorm12API or Scorm2004API (from npm, tests/browser/package.json)
the page's window.API or window.API_1484_11, and frames the package Ripple built, extracted as
an LMS would. The learner plays a library scenario's expert path inside the package; at the end
the test reads what the package wrote through scorm-again: status, score and session time, and
that the session was committed and, when the package page goes away, finished.
"""

from __future__ import annotations

import io
import json
import mimetypes
import os
import re
import threading
import zipfile

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from lms.services.scenario_library import scenario_of

RUNTIME = os.path.join(os.path.dirname(__file__), "node_modules", "scorm-again", "dist")
LEARNER = {"scorm12": ("lms-0042", "Doe, Jane"), "scorm2004": ("lms-0043", "Jane Doe")}

LMS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test LMS</title>
<script src="/runtime/{runtime}"></script>
<script>
  // What an LMS does before it opens a SCO: the runtime, with the learner's id and name.
  var api = new {api_class}({{logLevel: 5}});
  api.loadFromJSON({learner_json});
  window.record = {{sets: [], commits: 0, finished: 0}};
  function wrap(name, note) {{
    var original = api[name].bind(api);
    api[name] = function (a, b) {{ var result = original(a, b); note(a, b, String(result)); return result; }};
  }}
  wrap("{set_name}", function (key, value, result) {{ record.sets.push([key, value, result]); }});
  wrap("{commit_name}", function () {{ record.commits += 1; }});
  wrap("{finish_name}", function () {{ record.finished += 1; }});
  window.{api_global} = api;
</script></head>
<body><h1>Test LMS</h1>
<iframe id="sco" title="Course" src="/sco/index.html" style="width: 100%; height: 1400px"></iframe>
</body></html>
"""

NAMES = {
    "scorm12": {
        "runtime": "scorm12.min.js",
        "api_class": "Scorm12API",
        "api_global": "API",
        "set_name": "LMSSetValue",
        "commit_name": "LMSCommit",
        "finish_name": "LMSFinish",
    },
    "scorm2004": {
        "runtime": "scorm2004.min.js",
        "api_class": "Scorm2004API",
        "api_global": "API_1484_11",
        "set_name": "SetValue",
        "commit_name": "Commit",
        "finish_name": "Terminate",
    },
}


FORGED = """() => document.getElementById("sco").contentWindow.postMessage({type: "ripple.result",
  completion: "completed", success: "passed", score: {raw: 100, min: 0, max: 100, scaled: 1},
  session_seconds: 1}, "*")"""


class LocalLms:
    """The test LMS: serves its page, scorm-again and the package, extracted (`unpack`)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.files: dict[str, bytes] = {}

    def unpack(self, package_zip: bytes) -> None:
        archive = zipfile.ZipFile(io.BytesIO(package_zip))
        self.files = {name: archive.read(name) for name in archive.namelist()}

    def __call__(self, environ, start_response):
        path = Request(environ).path
        if path == "/lms.html":
            learner_id, name = LEARNER[self.kind]
            learner = (
                {"core": {"student_id": learner_id, "student_name": name}}
                if self.kind == "scorm12"
                else {"learner_id": learner_id, "learner_name": name}
            )
            body = LMS_PAGE.format(learner_json=json.dumps(learner), **NAMES[self.kind])
            return Response(body, mimetype="text/html")(environ, start_response)
        if path.startswith("/runtime/") and path[9:] in {n["runtime"] for n in NAMES.values()}:
            with open(os.path.join(RUNTIME, path[9:]), "rb") as source:
                return Response(source.read(), mimetype="text/javascript")(environ, start_response)
        if path.startswith("/sco/") and path[5:] in self.files:
            kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return Response(self.files[path[5:]], mimetype=kind)(environ, start_response)
        return Response("not found", status=404)(environ, start_response)


@pytest.fixture
def serve_lms():
    servers = []

    def serve(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


def _parts(seconds: float) -> tuple[int, int, int, int]:
    whole, hundredths = divmod(round(seconds * 100), 100)
    return whole // 3600, whole // 60 % 60, whole % 60, hundredths


def _hhmmss(seconds: float) -> str:
    return "{:04d}:{:02d}:{:02d}.{:02d}".format(*_parts(seconds))


def _duration(seconds: float) -> str:
    return "PT{}H{}M{}.{:02d}S".format(*_parts(seconds))


def _seconds_of(timespan: str) -> float:
    hours, minutes, seconds = timespan.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.mark.parametrize("kind", ["scorm12", "scorm2004"])
def test_a_learner_plays_a_packaged_scenario_and_the_lms_gets_the_result(
    kind, app, db, page, live_server, serve_lms, agency, coordinator, library
):
    from lms.models import Attempt, PackageLaunch
    from lms.services.packaging import packages

    if not os.path.isdir(RUNTIME):
        missing = "scorm-again is not installed: run `npm ci --prefix tests/browser` (make test does)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    lms_app = LocalLms(kind)
    lms = serve_lms(lms_app)
    package = packages.create_package(
        coordinator, agency, packages.PackageInput(kind, "scenario:store-dispute", None, lms)
    )
    db.session.commit()
    with app.test_request_context():  # live_server's address is the public one
        _, data = packages.build_zip(package)
    lms_app.unpack(data)

    page.goto(f"{lms}/lms.html")
    ripple = page.frame_locator("#sco").frame_locator("#ripple-frame")
    scenario = scenario_of(library["store-dispute"])
    expect(ripple.get_by_text("Jane Doe").first).to_be_visible()
    # A message that is not from Ripple's frame (here: the LMS page itself) is ignored.
    page.evaluate(FORGED)
    for index, choice in enumerate(scenario.expert_path):
        expect(
            ripple.get_by_role("heading", name=f"Decision {index + 1} of {len(scenario.decisions)}")
        ).to_be_visible()
        for option in choice:
            ripple.get_by_label(scenario.decisions[index].option(option).label, exact=True).check()
        ripple.get_by_role("button", name="Decide and continue").click()
    expect(ripple.get_by_text("Attempt complete")).to_be_visible()
    page.wait_for_function("() => window.record.commits > 0")

    db.session.expire_all()
    attempt = db.session.scalars(db.select(Attempt)).one()
    launch = db.session.scalars(db.select(PackageLaunch)).one()
    grade = attempt.grade
    seconds = round((attempt.completed_at - launch.redeemed_at).total_seconds(), 2)
    record = page.evaluate("() => window.record")
    assert all(result == "true" for _, _, result in record["sets"]), record["sets"]
    written = {key: value for key, value, _ in record["sets"]}
    verdict = "passed" if grade.passed else "failed"
    if kind == "scorm12":
        cmi = page.evaluate("() => JSON.parse(JSON.stringify(window.API.cmi))")
        assert cmi["core"]["lesson_status"] == verdict
        assert float(cmi["core"]["score"]["raw"]) == grade.score
        assert (cmi["core"]["score"]["min"], cmi["core"]["score"]["max"]) == ("0", "100")
        assert written["cmi.core.session_time"] == _hhmmss(seconds)
        assert _seconds_of(cmi["core"]["session_time"]) == pytest.approx(seconds, abs=0.005)
        assert cmi["core"]["student_id"] == LEARNER[kind][0]
    else:
        cmi = page.evaluate("() => JSON.parse(JSON.stringify(window.API_1484_11.cmi))")
        assert (cmi["completion_status"], cmi["success_status"]) == ("completed", verdict)
        assert float(cmi["score"]["raw"]) == grade.score
        assert float(cmi["score"]["scaled"]) == round(grade.score / 100, 4)
        assert (cmi["score"]["min"], cmi["score"]["max"]) == ("0", "100")
        assert written["cmi.session_time"] == cmi["session_time"] == _duration(seconds)
    assert "cmi.suspend_data" not in written
    status_key = "cmi.core.lesson_status" if kind == "scorm12" else "cmi.completion_status"
    assert [value for key, value, _ in record["sets"] if key == status_key] == [
        "incomplete",
        written[status_key],
    ]
    assert record["finished"] == 0

    page.evaluate("() => { document.getElementById('sco').src = 'about:blank'; }")  # the learner leaves
    page.wait_for_function("() => window.record.finished === 1")


def test_a_coordinator_creates_downloads_and_revokes_a_package(
    page, sign_in_as, coordinator, agency, library, axe_violations
):
    sign_in_as(coordinator)
    page.goto(f"/agencies/{agency.id}/integrations")
    page.get_by_role("link", name="Packages", exact=True).click()
    expect(page.get_by_role("heading", name="Create a package")).to_be_visible()
    page.get_by_label("Course or scenario").select_option("scenario:store-dispute")
    page.get_by_label("SCORM 2004 (3rd edition)").check()
    page.get_by_label("Seat limit (optional)").fill("25")
    page.get_by_label("LMS addresses allowed to open it").fill("https://lms.county.test\nlms.county.test/x")
    page.get_by_role("button", name="Create package").click()
    expect(page.get_by_text("Line 2 (“lms.county.test/x”): must start with https://").first).to_be_visible()
    page.get_by_label("LMS addresses allowed to open it").fill("https://lms.county.test")
    page.get_by_role("button", name="Create package").click()
    expect(page.get_by_text("0 of 25")).to_be_visible()
    assert axe_violations() == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the SCORM 2004 (3rd edition) package").click()
    assert download.value.suggested_filename.endswith(".zip")
    page.get_by_role("link", name="Revoke the SCORM 2004 (3rd edition) package").click()
    page.get_by_role("button", name="Revoke the package").click()
    expect(page.get_by_text("your LMS can no longer open it")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("^revoked"))).to_be_visible()
