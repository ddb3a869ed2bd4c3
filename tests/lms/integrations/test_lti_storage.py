"""A launch opens only in the browser that started its login: the login cookie, the platform's
storage (checked through a same-origin confirmation), or else a new window. Each test client
is one browser; the platform is the real LTI 1.3 platform (lti1p3platform) on 127.0.0.1."""
# ruff: noqa: F811  (the LTI platform fixtures are imported from test_lti and used by name)

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from lms.models import LtiLaunch, LtiLaunchState, LtiUserLink, User, UserSession
from lms.services import lti_storage
from tests.lms.integrations.test_lti import (  # noqa: F401
    LEARNER,
    _login,
    _platform_server,
    platform,
    registration,
)

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
SCENARIO = {"ripple_target": "scenario:store-dispute"}


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _nothing_created(db):
    assert _count(db, LtiLaunch) == 0
    assert _count(db, UserSession) == 0
    assert _count(db, LtiUserLink) == 0
    assert db.session.scalar(select(User).where(User.name == "Pat Learner")) is None


def _launch_form(client, platform, *, storage_target=None, user_id="platform-user-7"):
    platform.storage_target = storage_target
    try:
        if storage_target:
            page = client.get(platform.login_url(user_id).replace("http://localhost", ""))
            assert page.status_code == 200, page.get_data(as_text=True)
            auth = (
                re.search(r'data-next="([^"]+)"', page.get_data(as_text=True)).group(1).replace("&amp;", "&")
            )
        else:
            auth = _login(client, platform, user_id)
        form = platform.launch(auth, user_id=user_id, roles=[LEARNER], custom=SCENARIO)
    finally:
        platform.storage_target = None
    return form


def _post(client, form, **fields):
    data = {"id_token": form["id_token"], "state": form["state"], **fields}
    return client.post(urlsplit(form["launch_url"]).path, data=data)


def _nonce(db, state) -> str:
    row = db.session.scalar(select(LtiLaunchState).where(LtiLaunchState.key.endswith(state)))
    return row.value["nonce"]


def test_a_launch_started_in_one_browser_is_refused_in_another_and_nothing_is_created(
    app, db, client, platform, registration, store_scenario
):
    form = _launch_form(client, platform)  # browser A ran the login and holds its cookie
    other_browser = app.test_client()
    answer = _post(other_browser, form)
    page = answer.get_data(as_text=True)
    assert "nothing was opened and nothing was saved" in page
    assert "Open Ripple in a new window" in page
    assert "What keeps this launch safe:" in page
    assert other_browser.get("/auth/password").status_code == 302  # signed in as no one
    _nothing_created(db)
    # The refused post used nothing up: browser A, which started the login, still opens it.
    assert _post(client, form).status_code == 302
    assert _count(db, LtiLaunch) == 1


def test_the_new_window_reruns_the_login_first_party(app, db, client, platform, registration, store_scenario):
    form = _launch_form(client, platform)
    page = _post(app.test_client(), form).get_data(as_text=True)
    relaunch = re.search(r'href="(/lti/login\?[^"]+)" target="_blank"', page).group(1).replace("&amp;", "&")
    params = dict(parse_qsl(urlsplit(relaunch).query))
    assert params["login_hint"] == "platform-user-7" and "lti_storage_target" not in params
    new_window = app.test_client()
    again = new_window.get(relaunch)
    assert again.status_code == 302 and again.location.startswith(platform.url + "/auth?")
    relaunched = platform.launch(again.location, user_id="platform-user-7", roles=[LEARNER], custom=SCENARIO)
    opened = _post(new_window, relaunched)
    assert opened.status_code == 302 and "/play/attempts/" in opened.location


def test_a_login_cookie_of_another_launch_is_refused(app, db, client, platform, registration, store_scenario):
    form = _launch_form(client, platform)
    forged = app.test_client()
    forged.set_cookie(lti_storage.cookie_name(form["state"]), "not-the-secret", path="/lti/")
    answer = _post(forged, form)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "belongs to another launch" in page and "a sign-in cookie set when the launch started" in page
    _nothing_created(db)


def test_the_login_cookie_is_partitioned_and_only_for_the_launch(client, platform, registration):
    form = _launch_form(client, platform)
    kept = client.get_cookie(lti_storage.cookie_name(form["state"]), path="/lti/")
    assert kept.http_only and kept.secure and kept.same_site == "None"
    response = client.get(platform.login_url("u-2").replace("http://localhost", ""))
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("ripple_lti_"))
    assert "Partitioned" in cookie and "SameSite=None" in cookie and "Secure" in cookie


def test_a_login_with_a_storage_target_stores_the_state_in_the_platform(client, platform, registration):
    platform.storage_target = "post_message_forwarding"
    response = client.get(platform.login_url("platform-user-7").replace("http://localhost", ""))
    platform.storage_target = None
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-target="post_message_forwarding"' in page
    assert f'data-platform-origin="{platform.url}"' in page
    assert re.search(r'data-state="state-[0-9a-f-]+"', page) and re.search(r'data-nonce="[0-9a-f]+"', page)
    assert "platform storage" in page  # what keeps the launch safe
    assert platform.url in response.headers["Content-Security-Policy"]  # the platform may frame it
    assert "js/lti-storage.js" in page


@pytest.mark.parametrize("target", ["../x", "a b", "x" * 80, "<script>"])
def test_a_bad_storage_target_is_not_used(client, platform, registration, target):
    platform.storage_target = target
    response = client.get(platform.login_url("platform-user-7").replace("http://localhost", ""))
    platform.storage_target = None
    assert response.status_code == 302  # an ordinary login, bound by its cookie only


def _storage_launch(app, client, platform):
    """A login with platform storage whose browser keeps no cookie in the frame: the launch
    comes without the login cookie and answers the page that reads platform storage."""
    form = _launch_form(client, platform, storage_target="post_message_forwarding")
    client.delete_cookie(lti_storage.cookie_name(form["state"]), path="/lti/")
    check = _post(client, form, lti_storage_target="post_message_forwarding")
    return form, check


def test_without_the_cookie_the_launch_reads_platform_storage_then_opens_with_a_frame_token(
    app, db, client, platform, registration, store_scenario
):
    form, check = _storage_launch(app, client, platform)
    page = check.get_data(as_text=True)
    assert check.status_code == 200 and 'action="/lti/launch/confirm"' in page
    assert f'data-state="{form["state"]}"' in page and "platform storage" in page
    _nothing_created(db)
    nonce = _nonce(db, form["state"])
    frame = app.test_client()  # a frame that keeps no cookie: every request comes without one
    opened = frame.post(
        "/lti/launch/confirm",
        data={"id_token": form["id_token"], "state": form["state"], "storage_state": form["state"],
              "storage_nonce": nonce},
        headers=SAME_ORIGIN,
    )  # fmt: skip
    assert opened.status_code == 302, opened.get_data(as_text=True)
    target = opened.location
    assert "/play/attempts/" in target and f"{lti_storage.FRAME_PARAM}=" in target
    frame.delete_cookie("session")
    shown = frame.get(target, headers=SAME_ORIGIN)
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "Pat Learner" in html and "your learning platform&#39;s storage in this browser" in html
    # Every link of ours carries the token; none to another site does.
    assert re.search(r'href="/learn/[^"]*lti_frame=', html)
    assert not re.search(r'href="https?://[^"]*lti_frame=', html)
    assert shown.headers["Referrer-Policy"] == "same-origin"
    assert platform.url in shown.headers["Content-Security-Policy"]


def test_a_frame_token_from_another_site_signs_no_one_in(
    app, db, client, platform, registration, store_scenario
):
    form, _ = _storage_launch(app, client, platform)
    frame = app.test_client()
    opened = frame.post(
        "/lti/launch/confirm",
        data={"id_token": form["id_token"], "state": form["state"], "storage_state": form["state"],
              "storage_nonce": _nonce(db, form["state"])},
        headers=SAME_ORIGIN,
    )  # fmt: skip
    victim = app.test_client()  # a link to someone else's session, from another site
    answer = victim.get(opened.location, headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 302 and "/auth/sign-in" in answer.location


@pytest.mark.parametrize("field", ["storage_state", "storage_nonce"])
def test_a_mismatched_state_or_nonce_from_platform_storage_is_refused(
    app, db, client, platform, registration, store_scenario, field
):
    form, _ = _storage_launch(app, client, platform)
    values = {"storage_state": form["state"], "storage_nonce": _nonce(db, form["state"])}
    values[field] = "value-of-another-login"
    answer = app.test_client().post(
        "/lti/launch/confirm", data={"id_token": form["id_token"], "state": form["state"], **values},
        headers=SAME_ORIGIN,
    )  # fmt: skip
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert f"{field.split('_')[1]} in your learning platform" in page
    assert "platform storage set when the launch started" in page
    _nothing_created(db)


def test_platform_storage_that_does_not_answer_offers_the_new_window(
    app, db, client, platform, registration, store_scenario
):
    form, _ = _storage_launch(app, client, platform)
    answer = app.test_client().post(
        "/lti/launch/confirm",
        data={"id_token": form["id_token"], "state": form["state"], "storage_error": "timeout"},
        headers=SAME_ORIGIN,
    )
    page = answer.get_data(as_text=True)
    assert "Open Ripple in a new window" in page and "(timeout)" in page
    _nothing_created(db)


@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {}]
)
def test_a_confirmation_posted_by_another_site_is_refused(
    app, db, client, platform, registration, store_scenario, headers
):
    form, _ = _storage_launch(app, client, platform)
    answer = app.test_client().post(
        "/lti/launch/confirm",
        data={"id_token": form["id_token"], "state": form["state"], "storage_state": form["state"],
              "storage_nonce": _nonce(db, form["state"])},
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == 400
    assert "did not come from Ripple" in answer.get_data(as_text=True)
    _nothing_created(db)


@pytest.mark.parametrize(("dest", "partitioned"), [("iframe", True), ("document", False)])
def test_a_launched_session_cookie_is_partitioned_in_a_frame_only(
    db, client, platform, registration, store_scenario, dest, partitioned
):
    form = _launch_form(client, platform)
    response = client.post(
        urlsplit(form["launch_url"]).path,
        data={"id_token": form["id_token"], "state": form["state"]},
        headers={"Sec-Fetch-Dest": dest},
    )
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "SameSite=None" in cookie and "Secure" in cookie
    assert ("Partitioned" in cookie) is partitioned
    # The login cookie is used up with the launch.
    assert any(
        c.startswith(lti_storage.cookie_name(form["state"]) + "=;")
        for c in response.headers.getlist("Set-Cookie")
    )


def test_in_a_top_level_window_the_page_asks_to_allow_cookies(app, client, platform, registration):
    form = _launch_form(client, platform)
    answer = app.test_client().post(
        urlsplit(form["launch_url"]).path,
        data={"id_token": form["id_token"], "state": form["state"]},
        headers={"Sec-Fetch-Dest": "document"},
    )
    page = answer.get_data(as_text=True)
    assert "allow cookies for Ripple" in page and 'target="_blank"' not in page


def test_signing_out_ends_a_frame_token(app, db, client, platform, registration, store_scenario):
    form, _ = _storage_launch(app, client, platform)
    frame = app.test_client()
    opened = frame.post(
        "/lti/launch/confirm",
        data={"id_token": form["id_token"], "state": form["state"], "storage_state": form["state"],
              "storage_nonce": _nonce(db, form["state"])},
        headers=SAME_ORIGIN,
    )  # fmt: skip
    frame.delete_cookie("session")
    html = frame.get(opened.location, headers=SAME_ORIGIN).get_data(as_text=True)
    action = re.search(r'action="(/auth/sign-out[^"]*)"', html).group(1).replace("&amp;", "&")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert f"{lti_storage.FRAME_PARAM}=" in action
    signed_out = frame.post(action, data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    assert signed_out.status_code == 302, signed_out.get_data(as_text=True)
    frame.delete_cookie("session")
    again = frame.get(opened.location, headers=SAME_ORIGIN)
    assert again.status_code == 302 and "/auth/sign-in" in again.location
    assert db.session.scalars(select(UserSession)).one().ended_at is not None
