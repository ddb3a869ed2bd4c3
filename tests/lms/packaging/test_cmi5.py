"""cmi5: Ripple as the assignable unit. A test LMS on 127.0.0.1 imports Ripple's package
(cmi5.xml), launches it with the cmi5 parameters against a real LRS (ralph, which validates
every statement), and the statements Ripple sent are read back from ralph and checked
against the cmi5 rules."""

from __future__ import annotations

import io
import json
import secrets
import uuid
import zipfile
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from lms.models import Assignment, Cmi5Session, Cmi5Statement, DispatchPackage, PackageLearner, Role, User
from lms.services.packaging import cmi5

CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"


@pytest.fixture
def package(db, agency, store_dispute, lms):
    row = DispatchPackage(
        agency_id=agency.id,
        allowed_origins=lms.origins,
        kind="cmi5",
        target="scenario:store-dispute",
        title="Store dispute",
        key=secrets.token_urlsafe(24),
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def au(app, lms, package):
    with app.test_request_context():
        return lms.import_package(cmi5.build_zip(package))


def open_launch(client, launch):
    parts = urlsplit(launch.url)
    return client.get(f"{parts.path}?{parts.query}")


def play(client, attempt_path: str, path: str = "expert_path"):
    from lms.extensions import db
    from lms.models import Attempt
    from lms.services.scenario_library import scenario_of

    attempt = db.session.get(Attempt, int(attempt_path.rstrip("/").rsplit("/", 1)[1]))
    for index, choice in enumerate(getattr(scenario_of(attempt.scenario_version), path)):
        response = client.post(f"{attempt_path}/decisions/{index}", data={"options": choice})
        assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.get(Attempt, attempt.id)


def rows(model) -> int:
    from lms.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


def verbs(statements) -> list[str]:
    return [s["verb"]["id"].rsplit("/", 1)[1] for s in statements]


def ripple_statements(ralph, launch) -> list[dict]:
    """What the AU (Ripple) said in this registration: everything but the LMS's launched."""
    return [s for s in ralph.statements(launch.registration) if not s["verb"]["id"].endswith("/launched")]


def assert_cmi5_session(statements, launch, mastery: float | None):
    """The cmi5 rules for one AU session, on what ralph holds."""
    names = verbs(statements)
    assert names[0] == "initialized" and names[-1] == "terminated"
    assert names.count("terminated") == 1 and names.count("initialized") == 1
    assert len(set(names)) == len(names)  # no verb twice in a session
    assert len({"passed", "failed"} & set(names)) <= 1
    for statement in statements:
        context = statement["context"]
        assert statement["actor"]["account"] == launch.actor["account"]
        assert statement["object"]["id"] == launch.activity_id
        assert context["registration"] == launch.registration
        assert context["extensions"][SESSION_ID] == launch.session_id
        categories = [a["id"] for a in context["contextActivities"]["category"]]
        assert CMI5 in categories
        assert context["contextActivities"]["grouping"]  # the LMS's template, not overwritten
        result = statement.get("result", {})
        assert (MOVEON in categories) == ("success" in result or "completion" in result)
        assert len(statement["timestamp"].split(".")[1]) == 4  # milliseconds and Z
        verb = statement["verb"]["id"].rsplit("/", 1)[1]
        if verb in ("terminated", "completed", "passed", "failed"):
            assert result["duration"].startswith("PT")
        if verb in ("passed", "failed"):
            scaled = result["score"]["scaled"]
            assert result["success"] is (verb == "passed")
            if mastery is not None:
                assert (verb == "passed") is (scaled >= mastery)
        else:
            assert "score" not in result and "success" not in result
    stamps = [s["timestamp"] for s in statements]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_the_package_is_a_zip_with_a_cmi5_course_structure(app, package, au, store_dispute):
    from lms.services.scenario_library import scenario_of

    with app.test_request_context():
        archive = zipfile.ZipFile(io.BytesIO(cmi5.build_zip(package)))
        assert archive.namelist() == ["cmi5.xml"]
        assert archive.read("cmi5.xml") == cmi5.course_structure(package)
    assert au.move_on == "CompletedAndPassed" and au.launch_method == "AnyWindow"
    assert au.mastery_score == scenario_of(store_dispute).grading.pass_mark / 100  # its pass mark
    assert au.url.endswith(f"/cmi5/{package.key}/launch") and au.title == "Store dispute"


def test_a_course_package_asks_for_completion_only(app, db, agency, lms, course):
    row = DispatchPackage(
        agency_id=agency.id,
        kind="cmi5",
        target=f"course:{course.id}",
        title="My course",
        key="course-key",
        allowed_origins=lms.origins,
    )
    db.session.add(row)
    db.session.commit()
    with app.test_request_context():
        imported = lms.import_package(cmi5.build_zip(row))
    assert imported.move_on == "Completed" and imported.mastery_score is None


@pytest.mark.parametrize(
    ("mastery", "path"),
    [("from-course", "expert_path"), (1.0, "expert_path"), (0.0, "baseline_path"), (None, "baseline_path")],
)
def test_a_graded_launch_reports_by_the_cmi5_rules(db, client, lms, ralph, au, package, mastery, path):
    launch = lms.launch(au, mastery_score=mastery)
    response = open_launch(client, launch)
    assert response.status_code == 302 and "/play/attempts/" in response.location
    assert "Return to the learning platform" in client.get(response.location).get_data(as_text=True)
    attempt = play(client, response.location, path)
    grade = attempt.grades[-1]

    page = client.post("/cmi5/return").get_data(as_text=True)
    return_url = f"{lms.url}/course/{launch.registration}"
    assert f'<meta http-equiv="refresh" content="0;url={return_url}">' in page
    assert f'href="{return_url}"' in page
    assert lms.fetches[launch.fetch_code] == 1

    statements = ripple_statements(ralph, launch)
    effective = au.mastery_score if mastery == "from-course" else mastery
    assert_cmi5_session(statements, launch, effective)
    names = verbs(statements)
    passed = grade.score / 100 >= effective if effective is not None else grade.passed
    assert names == ["initialized", "completed", "passed" if passed else "failed", "terminated"]
    verdict = statements[2]
    assert verdict["result"]["score"]["scaled"] == round(grade.score / 100, 4)
    if effective is not None:
        assert verdict["context"]["extensions"][cmi5.MASTERY_SCORE] == effective
    # moveOn (CompletedAndPassed) is satisfied exactly when the learner passed.
    assert ({"completed", "passed"} <= set(names)) is passed
    assert (
        db.session.scalar(
            select(func.count()).select_from(Cmi5Statement).where(Cmi5Statement.status == "pending")
        )
        == 0
    )


@pytest.mark.parametrize("mode", ["Browse", "Review"])
def test_browse_and_review_launches_say_only_initialized_and_terminated(client, lms, ralph, au, mode):
    launch = lms.launch(au, launch_mode=mode)
    response = open_launch(client, launch)
    play(client, response.location)
    client.post("/cmi5/return")
    statements = ripple_statements(ralph, launch)
    assert verbs(statements) == ["initialized", "terminated"]
    assert_cmi5_session(statements, launch, au.mastery_score)


def test_a_second_session_of_the_registration_resumes_and_says_nothing_twice(db, client, lms, ralph, au):
    registration = str(uuid.uuid4())
    first = lms.launch(au, registration=registration)
    location = open_launch(client, first).location
    client.post("/cmi5/return")
    second = lms.launch(au, registration=registration)
    assert open_launch(client, second).location == location  # the attempt in progress goes on
    play(client, location)
    client.post("/cmi5/return")
    third = lms.launch(au, registration=registration)
    open_launch(client, third)
    client.post("/cmi5/return")
    everything = ripple_statements(ralph, first)
    by_session = {}
    for statement in everything:
        by_session.setdefault(statement["context"]["extensions"][SESSION_ID], []).append(statement)
    assert [verbs(by_session[launch.session_id]) for launch in (first, second, third)] == [
        ["initialized", "terminated"],
        ["initialized", "completed", "passed", "terminated"],
        ["initialized", "terminated"],
    ]
    assert rows(PackageLearner) == 1 and rows(Cmi5Session) == 3


def test_the_learner_is_matched_by_package_and_account(db, client, lms, au, package, agency):
    open_launch(client, lms.launch(au, learner="L-77"))
    client.post("/cmi5/return")
    open_launch(client, lms.launch(au, learner="L-77"))
    learner = db.session.scalar(select(PackageLearner))
    assert rows(PackageLearner) == 1 and learner.learner_id == "L-77"
    assert learner.user.agency_id == agency.id and learner.user.has_role(Role.OFFICER)


def _nothing_created_by(client, launch_url: str, *, status: int = 400) -> str:
    before = (rows(Cmi5Session), rows(User), rows(PackageLearner), rows(Cmi5Statement))
    parts = urlsplit(launch_url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == status
    assert (rows(Cmi5Session), rows(User), rows(PackageLearner), rows(Cmi5Statement)) == before
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"fetch": "http://169.254.169.254/latest/meta-data"},
            "Ripple will not call the launch&#39;s `fetch`",
        ),
        ({"endpoint": "http://10.0.0.5/xapi/"}, "Ripple will not call the launch&#39;s `endpoint`"),
        ({"endpoint": "https://192.168.1.10/xapi/"}, "192.168.1.10 is a private address"),
        ({"fetch": "https://127.0.0.2/fetch/x"}, "127.0.0.2 is a loopback address"),
        ({"endpoint": "file:///etc/passwd"}, "`endpoint` is not an http(s) URL"),
        ({"actor": "{not json"}, "`actor` is not JSON"),
        ({"actor": json.dumps({"objectType": "Agent", "mbox": "mailto:a@b.test"})}, "has no `account`"),
        (
            {"actor": json.dumps({"account": {"homePage": "https://lms.test", "name": "a\x00b"}})},
            "holds a control character",
        ),
        (
            {"actor": json.dumps({"account": {"homePage": "https://lms.test", "name": "n" * 300}})},
            "actor.account.name",
        ),
        ({"actor": json.dumps(["Agent"])}, "not a JSON object"),
        ({"actor": "[" * 1999 + "]" * 1999}, "nested more than 32 levels deep"),
        ({"registration": "not-a-uuid"}, "`registration` is missing or not a UUID"),
        ({"activityId": ""}, "`activityId` is missing"),
    ],
)
def test_a_bad_launch_gets_a_clear_page_and_creates_nothing(client, lms, au, overrides, message):
    launch = lms.launch(au, overrides=overrides)
    page = _nothing_created_by(client, launch.url)
    assert message in page and "nothing was saved" in page
    assert lms.fetches.get(launch.fetch_code) is None  # the LMS's token was never asked for


def test_a_revoked_package_is_refused(db, client, lms, au, package):
    from lms.models.types import utcnow

    package.revoked_at = utcnow()
    db.session.commit()
    launch = lms.launch(au)
    assert "withdrawn by the agency" in _nothing_created_by(client, launch.url)
    assert lms.fetches.get(launch.fetch_code) is None


def test_a_launch_url_used_before_is_refused_without_fetching_again(app, client, lms, au):
    launch = lms.launch(au)
    assert open_launch(client, launch).status_code == 302
    # The same browser reloading its launch goes back to it...
    assert "/play/attempts/" in open_launch(client, launch).location
    # ...another browser (or after the session ended) is told plainly.
    assert "already used" in _nothing_created_by(app.test_client(), launch.url)
    assert lms.fetches[launch.fetch_code] == 1


def test_a_fetch_url_the_lms_already_answered_gives_its_error(client, lms, au):
    launch = lms.launch(au)
    assert open_launch(client, launch).status_code == 302
    # Another fetch URL for the same token: Ripple fetches, the LMS answers with the cmi5 error.
    parts = urlsplit(launch.url)
    query = dict(parse_qsl(parts.query))
    query["fetch"] += "?again=1"
    page = _nothing_created_by(client, f"{parts.path}?{urlencode(query)}")
    assert "already used or has expired (cmi5 error 1)" in page
    assert lms.fetches[launch.fetch_code] == 2


def test_an_unknown_key_is_refused(client, lms, au):
    launch = lms.launch(au)
    assert "No cmi5 package" in _nothing_created_by(client, launch.url.replace("/cmi5/", "/cmi5/x", 1))


@pytest.mark.parametrize(
    ("move_on", "said"),
    [
        ("Completed", ["initialized", "completed", "terminated"]),
        ("CompletedAndPassed", ["initialized", "completed", "passed", "terminated"]),
    ],
)
def test_a_course_launch_says_completed_when_the_course_is_done(
    app, db, client, agency, lms, ralph, move_on, said
):
    from tests.lms.learning_fixtures import course_data, pass_course, publish

    course = publish(course_data())
    row = DispatchPackage(
        agency_id=agency.id,
        kind="cmi5",
        target=f"course:{course.id}",
        title="Basics",
        key="basics-key",
        allowed_origins=lms.origins,
    )
    db.session.add(row)
    db.session.commit()
    with app.test_request_context():
        imported = lms.import_package(cmi5.build_zip(row))
    launch = lms.launch(imported, move_on=move_on)
    response = open_launch(client, launch)
    assert "/learn/assignments/" in response.location
    session = db.session.scalar(select(Cmi5Session))
    pass_course(session.user, db.session.get(Assignment, session.assignment_id))
    assert client.post("/cmi5/return").status_code == 200
    statements = ripple_statements(ralph, launch)
    assert verbs(statements) == said
    assert_cmi5_session(statements, launch, None)


def test_a_statement_the_lrs_refuses_stays_queued_in_order_and_is_sent_later(db, client, lms, ralph, au):
    from datetime import timedelta

    from lms.models.types import utcnow

    launch = lms.launch(au)
    location = open_launch(client, launch).location
    session = db.session.scalar(select(Cmi5Session))
    token = session.auth_token
    session.auth_token = "bm9ib2R5Om5vdGhpbmc="  # nobody:nothing, which ralph refuses (401)
    db.session.commit()
    play(client, location)
    page = client.post("/cmi5/return").get_data(as_text=True)
    assert "did not take Ripple's report yet" in page and "Go back to your learning platform" in page
    assert "http-equiv" not in page  # the learner reads why before going back
    db.session.expire_all()
    assert [r.verb for r in session.statements if r.status == "pending"] == [
        "completed",
        "passed",
        "terminated",
    ]
    assert verbs(ripple_statements(ralph, launch)) == ["initialized"]

    session.auth_token = token  # the LRS takes the token again
    db.session.commit()
    with client.application.test_request_context():
        assert cmi5.deliver_due(utcnow() + timedelta(hours=1)) == 3
        db.session.commit()
    statements = ripple_statements(ralph, launch)
    assert verbs(statements) == ["initialized", "completed", "passed", "terminated"]
    assert_cmi5_session(statements, launch, au.mastery_score)


def test_a_new_learner_beyond_the_seat_limit_is_refused_before_the_token_is_fetched(
    db, client, lms, au, package
):
    package.seat_limit = 1
    db.session.commit()
    assert open_launch(client, lms.launch(au, learner="first")).status_code == 302
    client.post("/cmi5/return")
    launch = lms.launch(au, learner="second")
    assert "All 1 seats of this package are taken" in _nothing_created_by(client, launch.url)
    assert lms.fetches.get(launch.fetch_code) is None
    assert open_launch(client, lms.launch(au, learner="first")).status_code == 302  # a known learner


@pytest.mark.parametrize(
    ("launch_data", "write_state", "status", "message"),
    [
        ({"launchMode": "Sideways"}, True, 400, "`launchMode` is not Normal, Browse or Review"),
        ({"moveOn": "Whenever"}, True, 400, "`moveOn` is not one of the cmi5 values"),
        ({"masteryScore": 7}, True, 400, "`masteryScore` is not a number from 0 to 1"),
        ({"returnURL": "javascript:alert(1)"}, True, 400, "`returnURL` is not an http(s) URL"),
        ({"contextTemplate": "x"}, True, 400, "no `contextTemplate` object"),
        ({"contextTemplate": {"extensions": {"x": "a\x00b"}}}, True, 400, "holds a control character"),
        ({"returnURL": "https://lms.test/\u2028x"}, True, 400, "`returnURL` is not an http(s) URL"),
        ({}, False, 502, "did not provide the launch data (LMS.LaunchData)"),
    ],
)
def test_launch_data_ripple_cannot_use_gets_a_clear_page(
    client, lms, au, launch_data, write_state, status, message
):
    launch = lms.launch(au, launch_data=launch_data, write_state=write_state)
    page = _nothing_created_by(client, launch.url, status=status)
    assert message in page and "nothing was saved" in page


def test_the_lms_may_frame_the_pages_of_its_launch(db, client, lms, au, package):
    location = open_launch(client, lms.launch(au)).location
    policy = client.get(location).headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {lms.url}" in policy
    client.post("/cmi5/return")
    assert lms.url not in client.get("/").headers.get("Content-Security-Policy", "")


def test_a_launch_from_an_lms_the_package_does_not_allow_is_refused(db, client, lms, au, package):
    """The package key is public (it is in cmi5.xml): a launch whose fetch URL or LRS is not at
    one of the package's allowed addresses could come from anyone, claiming any learner."""
    package.allowed_origins = [lms.origins[0]]  # the LMS, but not its LRS
    db.session.commit()
    fetched = dict(lms.fetches)
    page = _nothing_created_by(client, lms.launch(au).url)
    assert "`endpoint`" in page and "not one of this package" in page
    package.allowed_origins = ["https://lms.example.com"]
    db.session.commit()
    page = _nothing_created_by(client, lms.launch(au).url)
    assert "`fetch`" in page and "not one of this package" in page
    assert lms.fetches == fetched  # refused before the LMS's single-use token was spent


def test_a_grade_changed_after_the_session_ended_is_said_in_the_next_one(
    db, client, lms, ralph, au, instructor
):
    from lms.models import Attempt
    from lms.services import attempts

    registration = str(uuid.uuid4())
    first = lms.launch(au, registration=registration, mastery_score=0.99)
    play(client, open_launch(client, first).location)
    client.post("/cmi5/return")
    attempt = db.session.scalar(select(Attempt))
    attempts.override_grade(instructor, attempt, score=100.0, reason="Reviewed the recording")
    db.session.commit()
    second = lms.launch(au, registration=registration, mastery_score=0.99)
    open_launch(client, second)
    client.post("/cmi5/return")
    everything = ripple_statements(ralph, first)
    by_session = {}
    for statement in everything:
        by_session.setdefault(statement["context"]["extensions"][SESSION_ID], []).append(statement)
    assert verbs(by_session[first.session_id]) == ["initialized", "completed", "failed", "terminated"]
    assert verbs(by_session[second.session_id]) == ["initialized", "passed", "terminated"]
    assert by_session[second.session_id][1]["result"]["score"]["scaled"] == 1.0
    for launch in (first, second):
        assert_cmi5_session(by_session[launch.session_id], launch, 0.99)
