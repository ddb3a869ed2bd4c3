"""LTI 1.3 Advantage against a real platform implementation (lti1p3platform) on 127.0.0.1:
login → launch → play → grade returned; deep linking; roster sync; and every launch check."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from lms.models import Assignment, GradeDelivery, LtiLaunch, LtiUserLink, Role, User
from tests.lms.integrations.lti_platform import CLIENT_ID, Platform, register

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture(scope="session")
def _platform_server():
    platform = Platform().start()
    yield platform
    platform.stop()


@pytest.fixture
def platform(app, client, _platform_server):
    """The test platform, fresh for each test, knowing Ripple's current public keys."""
    _platform_server.reset(tool_jwks=client.get("/lti/jwks.json").get_json())
    return _platform_server


@pytest.fixture
def registration(db, agency, coordinator, platform):
    row = register(coordinator, agency, platform)
    db.session.commit()
    return row


def _login(client, platform, user_id="platform-user-7"):
    response = client.get(platform.login_url(user_id).replace("http://localhost", ""))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.startswith(platform.url + "/auth?")
    return response.location


def _post_launch(client, form):
    return client.post(
        urlsplit(form["launch_url"]).path, data={"id_token": form["id_token"], "state": form["state"]}
    )


def launch_as(client, platform, *, user_id="platform-user-7", roles=(LEARNER,), **kwargs):
    form = platform.launch(_login(client, platform, user_id), user_id=user_id, roles=list(roles), **kwargs)
    return _post_launch(client, form), form


def test_jwks_serves_our_public_keys_only(client):
    keys = client.get("/lti/jwks.json").get_json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["kid"] and k["alg"] == "RS256" for k in keys)
    assert not any("d" in k for k in keys)


def test_key_rotation_keeps_the_old_key_published(app, db, client):
    from lms.services import lti

    old = client.get("/lti/jwks.json").get_json()["keys"][0]["kid"]
    new = lti.rotate_keys(None)
    db.session.commit()
    kids = [k["kid"] for k in client.get("/lti/jwks.json").get_json()["keys"]]
    assert kids == [old, new.kid]
    assert lti.signing_key().kid == new.kid


def test_login_launch_play_and_grade_returned(
    app, db, client, platform, registration, store_scenario, agency
):
    from lms.services.scenario_library import scenario_of

    response, _ = launch_as(client, platform, custom={"ripple_target": "scenario:store-dispute"})
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/play/attempts/(\d+)$", response.location)
    assert match, response.location
    attempt_id = int(match.group(1))
    user = db.session.scalar(
        db.select(User).join(LtiUserLink).where(LtiUserLink.subject == "platform-user-7")
    )
    assert user.agency_id == agency.id and user.roles == {Role.OFFICER}
    # Play it in the signed-in session, the way the officer does in the iframe.
    for index, choice in enumerate(scenario_of(store_scenario).expert_path):
        page = client.post(f"/play/attempts/{attempt_id}/decisions/{index}", data={"options": choice})
        assert page.status_code == 302, page.get_data(as_text=True)
    assert page.location.endswith(f"/play/attempts/{attempt_id}/debrief")
    delivery = db.session.scalar(db.select(GradeDelivery))
    assert delivery.status == "delivered", delivery.last_error
    (score,) = platform.scores
    assert score["userId"] == "platform-user-7"
    assert score["scoreMaximum"] == 100 and score["scoreGiven"] == delivery.score_given
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"


def test_a_failed_grade_delivery_is_queued_shown_and_retried(
    app, db, client, sign_in, platform, registration, store_scenario, coordinator, agency
):
    from lms.services.scenario_library import scenario_of

    platform.fail_scores = True
    response, _ = launch_as(client, platform, custom={"ripple_target": "scenario:store-dispute"})
    attempt_id = int(response.location.rsplit("/", 1)[1])
    for index, choice in enumerate(scenario_of(store_scenario).expert_path):
        client.post(f"/play/attempts/{attempt_id}/decisions/{index}", data={"options": choice})
    delivery = db.session.scalar(db.select(GradeDelivery))
    assert delivery.status == "pending" and delivery.tries == 1 and "503" in delivery.last_error
    staff = app.test_client()
    sign_in(coordinator, staff)
    page = staff.get(f"/agencies/{agency.id}/integrations/deliveries").get_data(as_text=True)
    assert "Platform answered 503 Service Unavailable" in page
    assert "gradebook down" not in page  # the platform's body is never shown
    platform.fail_scores = False
    staff.post(f"/agencies/{agency.id}/integrations/deliveries/retry")
    db.session.expire_all()
    assert db.session.get(GradeDelivery, delivery.id).status == "delivered"
    assert len(platform.scores) == 1


def test_the_same_platform_user_is_matched_not_duplicated(
    app, db, client, platform, registration, store_scenario
):
    launch_as(client, platform, custom={"ripple_target": "scenario:store-dispute"})
    launch_as(app.test_client(), platform, custom={"ripple_target": "scenario:store-dispute"})
    assert db.session.scalar(db.select(db.func.count()).select_from(LtiUserLink)) == 1


def test_matching_is_never_by_email(db, client, platform, registration, store_scenario, officer):
    response, _ = launch_as(
        client,
        platform,
        user_id="someone-else",
        email=officer.email,
        custom={"ripple_target": "scenario:store-dispute"},
    )
    assert response.status_code == 302
    link = db.session.scalar(db.select(LtiUserLink).where(LtiUserLink.subject == "someone-else"))
    assert link.user_id != officer.id
    assert link.user.email != officer.email


def test_instructor_role_is_mapped_and_course_launch_assigns(db, client, platform, registration):
    from tests.lms.learning_fixtures import course_data, publish

    course = publish(course_data(slug="lti-course"))
    response, _ = launch_as(
        client, platform, user_id="learner-2", custom={"ripple_target": f"course:{course.id}"}
    )
    assert re.search(r"/learn/assignments/\d+$", response.location)
    launch = db.session.scalar(db.select(LtiLaunch).order_by(LtiLaunch.id.desc()))
    assert launch.assignment_id is not None
    response, _ = launch_as(client, platform, user_id="teacher-1", roles=(INSTRUCTOR,))
    teacher = db.session.scalar(db.select(User).join(LtiUserLink).where(LtiUserLink.subject == "teacher-1"))
    assert teacher.has_role(Role.INSTRUCTOR)
    assert response.location.endswith("/lti/context")


def test_deep_linking_returns_a_signed_link_with_a_line_item(
    db, client, platform, registration, store_scenario
):
    response, _ = launch_as(client, platform, user_id="teacher-1", roles=(INSTRUCTOR,), deep_link=True)
    assert response.location.endswith("/lti/deep-link")
    picker = client.get("/lti/deep-link").get_data(as_text=True)
    assert "scenario:store-dispute" in picker
    answer = client.post("/lti/deep-link", data={"target": ["scenario:store-dispute"]})
    assert answer.status_code == 200
    assert platform.url in answer.headers["Content-Security-Policy"]  # the form may post back
    token = re.search(r'name="JWT" value="([^"]+)"', answer.get_data(as_text=True)).group(1)
    (item,) = platform.read_deep_link_response(token)  # verified with our published key
    assert item["type"] == "ltiResourceLink"
    assert item["custom"] == {"ripple_target": "scenario:store-dispute"}
    assert item["lineItem"]["scoreMaximum"] == 100
    assert item["url"].endswith("/lti/launch")


def test_deep_linking_is_for_instructors_only(client, platform, registration):
    response, _ = launch_as(client, platform, user_id="learner-9", deep_link=True)
    assert response.status_code == 400
    assert "Only instructors" in response.get_data(as_text=True)


def test_instructor_syncs_the_course_roster(db, client, platform, registration, agency):
    platform.members = [
        {
            "user_id": "m-1",
            "name": "Mia Member",
            "email": "mia@example.test",
            "roles": [LEARNER],
            "status": "Active",
        },
        {"user_id": "m-2", "name": "Max Member", "roles": [INSTRUCTOR], "status": "Active"},
        {"user_id": "m-3", "name": "Gone Member", "roles": [LEARNER], "status": "Inactive"},
    ]
    launch_as(client, platform, user_id="teacher-1", roles=(INSTRUCTOR,))
    response = client.post("/lti/context/roster")
    assert response.status_code == 302
    subjects = set(db.session.scalars(db.select(LtiUserLink.subject)))
    assert subjects == {"teacher-1", "m-1", "m-2"}
    max_member = db.session.scalar(db.select(User).where(User.name == "Max Member"))
    assert max_member.agency_id == agency.id and max_member.has_role(Role.INSTRUCTOR)


# --- launches that must be refused ------------------------------------------------------------


def test_a_key_set_that_is_not_json_is_refused_without_its_body(db, client, platform, registration, peer):
    from tests.lms.integrations.conftest import SENTINEL

    registration.key_set_url = peer.url + "/not-json"
    db.session.commit()
    response, _ = launch_as(client, platform)
    _refused(response, "key set is not JSON")
    assert SENTINEL not in response.get_data(as_text=True)


def test_a_launch_is_refused_when_the_key_set_is_not_a_public_address(
    client, platform, registration, allowed
):
    allowed("", http=True)  # the platform's key set at 127.0.0.1 is no longer allow-listed
    response, _ = launch_as(client, platform)
    _refused(response, "127.0.0.1 is a loopback address")


def test_roster_sync_is_refused_when_the_platform_is_not_a_public_address(
    db, client, platform, registration, allowed
):
    launch_as(client, platform, user_id="teacher-1", roles=(INSTRUCTOR,))
    allowed("", http=True)
    response = client.post("/lti/context/roster", follow_redirects=True)
    assert "127.0.0.1 is a loopback address" in response.get_data(as_text=True)
    assert set(db.session.scalars(db.select(LtiUserLink.subject))) == {"teacher-1"}


def _refused(response, reason_fragment):
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "could not open" in page and reason_fragment.lower() in page.lower(), page


def test_a_replayed_launch_is_refused(client, platform, registration, store_scenario):
    response, form = launch_as(client, platform, custom={"ripple_target": "scenario:store-dispute"})
    assert response.status_code == 302
    _refused(_post_launch(client, form), "state")


def test_a_launch_without_our_login_is_refused(client, platform, registration):
    form = platform.launch(
        f"{platform.url}/auth?state=made-up&nonce=n&redirect_uri=http://localhost/lti/launch&client_id={CLIENT_ID}",
        user_id="u",
        roles=[LEARNER],
    )
    _refused(_post_launch(client, form), "state")


def test_a_launch_signed_by_another_key_is_refused(client, platform, registration):
    auth = _login(client, platform)
    impostor = Platform()
    impostor.url, impostor.tool_jwks = platform.url, platform.tool_jwks
    form = impostor.launch(auth, user_id="u", roles=[LEARNER])
    _refused(_post_launch(client, form), "public key")


def test_a_tampered_token_is_refused(client, platform, registration):
    form = platform.launch(_login(client, platform), user_id="u", roles=[LEARNER])
    header, body, signature = form["id_token"].split(".")
    form["id_token"] = ".".join([header, body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB"), signature])
    response = _post_launch(client, form)
    assert response.status_code == 400


def test_an_unknown_deployment_is_refused_when_the_rule_refuses_new_ones(db, client, platform, registration):
    # (under the default rule it is held for approval: test_lti_deployments.py)
    registration.new_deployments = "refuse"
    db.session.commit()
    claims = {"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "not-registered"}
    form = platform.launch(_login(client, platform), user_id="u", roles=[LEARNER], claims=claims)
    _refused(_post_launch(client, form), "deployment")


def test_an_expired_token_is_refused(client, platform, registration):
    form = platform.launch(_login(client, platform), user_id="u", roles=[LEARNER], expiration=-30)
    _refused(_post_launch(client, form), "expired")


def test_a_wrong_audience_is_refused(client, platform, registration):
    form = platform.launch(
        _login(client, platform),
        user_id="u",
        roles=[LEARNER],
        claims={"aud": ["someone-else", CLIENT_ID], "azp": "someone-else"},
    )
    response = _post_launch(client, form)
    assert response.status_code == 400


def test_an_unregistered_issuer_cannot_start_a_login(client):
    response = client.get(
        "/lti/login?iss=https://evil.test&login_hint=x&target_link_uri=http://localhost/lti/launch"
    )
    _refused(response, "registration")


@pytest.mark.parametrize(
    "form", [{}, {"id_token": "x.y.z", "state": "s"}, {"id_token": "garbage", "state": ""}]
)
def test_garbage_launch_posts_are_a_clear_400(client, form):
    assert client.post("/lti/launch", data=form).status_code == 400


def test_launch_pages_can_be_framed_by_the_platform(client, platform, registration, store_scenario):
    response, _ = launch_as(client, platform, custom={"ripple_target": "scenario:store-dispute"})
    page = client.get(urlsplit(response.location).path)
    assert f"frame-ancestors 'self' {platform.url}" in page.headers["Content-Security-Policy"]


def test_launch_session_cookie_is_samesite_none_on_https(client, platform, registration, store_scenario):
    form = platform.launch(
        _login(client, platform),
        user_id="u-https",
        roles=[LEARNER],
        custom={"ripple_target": "scenario:store-dispute"},
    )
    response = client.post(
        "/lti/launch",
        data={"id_token": form["id_token"], "state": form["state"]},
        base_url="https://localhost",
    )
    # The login redirect was made for http://localhost; the launch itself is validated the same.
    cookie = response.headers.get("Set-Cookie", "")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "SameSite=None" in cookie and "Secure" in cookie


def test_coordinator_registers_a_platform_in_the_browser(client, sign_in, coordinator, agency, db):
    from lms.models import LtiRegistration

    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/integrations").get_data(as_text=True)
    assert "/lti/login" in page and "/lti/jwks.json" in page
    data = {
        "name": "County Canvas",
        "issuer": "https://canvas.county.test",
        "client_id": "10000000001",
        "deployment_ids": "dep-a\ndep-b",
        "auth_login_url": "https://canvas.county.test/api/lti/authorize_redirect",
        "auth_token_url": "https://canvas.county.test/login/oauth2/token",
        "key_set_url": "https://canvas.county.test/api/lti/security/jwks",
        "active": "y",
    }
    assert client.post(f"/agencies/{agency.id}/integrations/lti/new", data=data).status_code == 302
    registration = db.session.scalar(db.select(LtiRegistration))
    assert sorted(d.deployment_id for d in registration.deployments) == ["dep-a", "dep-b"]
    bad = client.post(f"/agencies/{agency.id}/integrations/lti/new", data={**data, "key_set_url": "nope"})
    assert bad.status_code == 400
    duplicate = client.post(f"/agencies/{agency.id}/integrations/lti/new", data=data)
    assert duplicate.status_code == 400 and "already registered" in duplicate.get_data(as_text=True)


def test_without_a_line_item_one_is_created_then_scored(db, client, platform, registration, store_scenario):
    from lms.services.scenario_library import scenario_of

    response, _ = launch_as(
        client, platform, custom={"ripple_target": "scenario:store-dispute"}, lineitem=None
    )
    attempt_id = int(response.location.rsplit("/", 1)[1])
    for index, choice in enumerate(scenario_of(store_scenario).expert_path):
        client.post(f"/play/attempts/{attempt_id}/decisions/{index}", data={"options": choice})
    (lineitem,) = platform.lineitems
    assert lineitem["tag"] == "ripple:scenario:store-dispute" and lineitem["scoreMaximum"] == 100
    assert lineitem["resourceLinkId"] == "resource-link-1"
    (score,) = platform.scores
    assert score["lineitem"] == 1


def test_a_launched_course_sends_its_completion_to_the_gradebook(db, client, platform, registration):
    from lms.services import outcomes
    from tests.lms.learning_fixtures import course_data, pass_course, publish

    course = publish(course_data(slug="graded-course"))
    launch_as(client, platform, user_id="learner-5", custom={"ripple_target": f"course:{course.id}"})
    launch = db.session.scalar(db.select(LtiLaunch).where(LtiLaunch.assignment_id.is_not(None)))
    assignment = db.session.get(Assignment, launch.assignment_id)
    pass_course(launch.user, assignment)
    db.session.commit()
    delivery = db.session.scalar(db.select(GradeDelivery))
    assert delivery.completion_id is not None and delivery.score_given == 100
    outcomes.deliver_due()
    db.session.commit()
    assert [s["scoreGiven"] for s in platform.scores] == [100]
    assert assignment.status == "completed"


def test_a_launch_is_reported_to_the_lrs(
    db, client, platform, registration, store_scenario, agency, coordinator, lrs
):
    from lms.models import XapiStatement
    from lms.services import xapi

    xapi.save_settings(
        coordinator, agency, endpoint=lrs.url, key="k", secret="s", include_email=False, active=True
    )
    db.session.commit()
    launch_as(client, platform, custom={"ripple_target": "scenario:store-dispute"})
    verbs = [row.verb for row in db.session.scalars(db.select(XapiStatement).order_by(XapiStatement.id))]
    assert verbs[:2] == ["attempted", "launched"] or verbs[:2] == ["launched", "attempted"]
    assert {s["verb"]["display"]["en-US"] for s in lrs.statements.values()} >= {"launched", "attempted"}


@pytest.mark.parametrize("target", ["scenario", "course", "course-instructor", "none"])
def test_a_launched_statement_names_ripples_activity_not_the_platform_course(
    db, client, platform, registration, store_scenario, agency, coordinator, lrs, target
):
    """The platform's course is "Patrol 101"; the activity is Ripple's, by Ripple's title."""
    from lms.models import XapiStatement
    from lms.services import xapi
    from tests.lms.learning_fixtures import course_data, publish

    xapi.save_settings(
        coordinator, agency, endpoint=lrs.url, key="k", secret="s", include_email=False, active=True
    )
    course = publish(course_data(slug="lti-titled"))
    db.session.commit()
    custom = {
        "scenario": {"ripple_target": "scenario:store-dispute"},
        "course": {"ripple_target": f"course:{course.id}"},
        "course-instructor": {"ripple_target": f"course:{course.id}"},
        "none": {},
    }[target]
    roles = (INSTRUCTOR,) if target == "course-instructor" else (LEARNER,)
    launch_as(client, platform, roles=roles, custom=custom)
    (row,) = db.session.scalars(db.select(XapiStatement).where(XapiStatement.verb == "launched"))
    name = row.statement["object"]["definition"]["name"]["en-US"]
    expected = {
        "scenario": store_scenario.title,
        "course": course.title,
        "course-instructor": course.title,
        "none": "Ripple",
    }[target]
    assert name == expected and "Patrol 101" not in repr(row.statement)
    others = db.session.scalars(db.select(XapiStatement).where(XapiStatement.verb != "launched")).all()
    for other in others:  # the attempt's own statements name the same activity the same way
        assert other.statement["object"]["id"] == row.statement["object"]["id"]
        assert other.statement["context"]["registration"] == row.statement["context"]["registration"]
