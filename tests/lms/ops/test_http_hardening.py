"""Caching and retry headers: nothing personal stays in a cache, and a refusal says when to retry."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/", "/learn/", "/learn/transcript", "/learn/transcript.csv"])
def test_pages_and_downloads_for_a_signed_in_user_are_not_stored(client, sign_in, officer, path):
    sign_in(officer)
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["Cache-Control"] == "no-store"


def test_an_api_answer_is_not_stored(client):
    response = client.get("/api/v1/people")  # refused without a token, and still not stored
    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("signed_in", [False, True])
def test_static_assets_keep_their_caching(client, sign_in, officer, signed_in):
    if signed_in:
        sign_in(officer)
    response = client.get("/static/css/ripple.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_a_public_page_for_an_anonymous_visitor_may_be_cached(client):
    response = client.get("/auth/sign-in")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.fixture
def three_per_minute(rate_limit):
    rate_limit("VERIFY_RATE_LIMIT", "3 per minute")


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_rate_limited_page_says_when_to_retry(client, db, three_per_minute, accept):
    responses = [client.get("/verify/unknown-code", headers={"Accept": accept}) for _ in range(4)]
    assert [r.status_code for r in responses] == [404, 404, 404, 429]
    refused = responses[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60  # within the limit's one-minute window
    if accept == "application/json":
        assert refused.json["status"] == 429
    else:
        assert "Please wait" in refused.get_data(as_text=True)


def test_the_api_says_when_its_window_reopens(app, client):
    app.config["API_AUTH_FAILURE_LIMIT"] = "1 per hour"  # a bad token counts as a failure
    try:
        responses = [client.get("/api/v1/people", headers={"Authorization": "Bearer nope"}) for _ in range(2)]
    finally:
        app.config["API_AUTH_FAILURE_LIMIT"] = "100000 per minute"
    refused = responses[-1]
    assert refused.status_code == 429 and refused.is_json
    # The hour's window, not a fixed minute.
    assert 60 < int(refused.headers["Retry-After"]) <= 3600


def test_a_429_raised_without_a_limiter_still_says_when_to_retry(app):
    from werkzeug.exceptions import TooManyRequests

    from lms.errors import DEFAULT_RETRY_AFTER, retry_after_seconds

    with app.test_request_context("/"):
        assert retry_after_seconds(TooManyRequests()) == DEFAULT_RETRY_AFTER
