"""When the rate limits' storage (RATELIMIT_STORAGE_URI=redis://...) is unreachable, every limit
fails open, deliberately: the request is served uncounted and the error logged, rather than every
limited page and the whole API answering 500. The storage here is a real Redis client pointed at
127.0.0.1:1, where the connection is refused."""

from __future__ import annotations

import logging

import pytest
import redis
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from tests.lms.integrations.test_api import token_for  # noqa: F401 (fixture)
from tests.lms.integrations.test_lti_throttle import _login, registration  # noqa: F401 (fixture)

REFUSING_REDIS = "redis://127.0.0.1:1"


@pytest.fixture
def storage_down(app, rate_limit):
    """Every limit at 1 per minute (so any counted request would be the last) on a storage that
    refuses every connection."""
    from lms.verify import limiter

    for setting in (
        "VERIFY_RATE_LIMIT",
        "WHAT_IF_RATE_LIMIT",
        "LTI_LOGIN_RATE_LIMIT",
        "AUTHOR_PREVIEW_RATE_LIMIT",
        "API_RATE_LIMIT",
        "API_AUTH_FAILURE_LIMIT",
    ):
        rate_limit(setting, "1 per minute")
    saved = limiter._storage, limiter._limiter
    limiter._storage = storage_from_string(REFUSING_REDIS)
    limiter._limiter = FixedWindowRateLimiter(limiter._storage)
    with pytest.raises(redis.exceptions.ConnectionError):  # the storage really is away
        limiter._limiter.hit(parse("1 per minute"), "probe")
    yield
    limiter._storage, limiter._limiter = saved


def _twice(send) -> list[int]:
    return [send().status_code for _ in range(2)]


def test_the_public_verification_budget_fails_open(client, db, storage_down, caplog):
    with caplog.at_level(logging.ERROR):
        assert _twice(lambda: client.get("/verify/unknown-code")) == [404, 404]
    assert "Swallowing error" in caplog.text  # logged, not silent


def test_the_lti_login_limit_fails_open(client, registration, storage_down):  # noqa: F811
    assert _twice(lambda: _login(client, registration.issuer, registration.client_id)) == [302, 302]


def test_the_author_preview_limit_fails_open(client, sign_in, instructor, storage_down):
    sign_in(instructor)
    assert _twice(lambda: client.post("/author/markdown-preview", data={"body": "*hi*"})) == [200, 200]


def test_the_api_budgets_fail_open(app, client, agency, token_for, storage_down, caplog, monkeypatch):  # noqa: F811
    monkeypatch.setattr(
        app.logger, "handlers", [*app.logger.handlers, caplog.handler]
    )  # it does not propagate
    _, raw = token_for(agency)
    good, bad = {"Authorization": f"Bearer {raw}"}, {"Authorization": "Bearer rpl_nope_" + "x" * 43}
    with caplog.at_level(logging.WARNING):
        assert _twice(lambda: client.get("/api/v1/people", headers=good)) == [200, 200]
        assert _twice(lambda: client.get("/api/v1/people", headers=bad)) == [401, 401]
    assert "storage failed" in caplog.text


def test_with_swallowing_switched_off_the_api_does_not_hide_the_storage_error(
    app,
    client,
    agency,
    token_for,  # noqa: F811
    storage_down,
    monkeypatch,
):
    _, raw = token_for(agency)
    monkeypatch.setitem(app.config, "RATELIMIT_SWALLOW_ERRORS", False)
    assert client.get("/api/v1/people", headers={"Authorization": f"Bearer {raw}"}).status_code == 500
