"""API rate limits: a budget per verified token, shared by every endpoint, and a budget of
failed authentications per client address."""

from __future__ import annotations

import secrets

import pytest

from tests.lms.integrations.test_api import openapi, token_for  # noqa: F401 (fixtures)

OTHER_ADDRESS = {"REMOTE_ADDR": "192.0.2.44"}


@pytest.fixture
def limits(app):
    """Set the two API budgets for one test; counters start empty and are emptied after."""
    from lms.verify import limiter

    limiter.reset()

    def set_limits(per_token="100000 per minute", failures="100000 per minute"):
        app.config.update(API_RATE_LIMIT=per_token, API_AUTH_FAILURE_LIMIT=failures)

    yield set_limits
    set_limits()
    limiter.reset()


def _bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


def _random_token() -> str:
    return f"rpl_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"


def test_guessing_a_tokens_prefix_does_not_spend_its_quota(client, agency, token_for, limits):  # noqa: F811
    limits(per_token="2 per minute")
    token, raw = token_for(agency)
    wrong = [
        client.get("/api/v1/people", headers=_bearer(f"rpl_{token.prefix}_{'x' * 43}")) for _ in range(5)
    ]
    assert {r.status_code for r in wrong} == {401}
    real = [client.get("/api/v1/people", headers=_bearer(raw)).status_code for _ in range(3)]
    assert real == [200, 200, 429]


def test_one_budget_per_token_across_every_endpoint(client, agency, token_for, limits, openapi):  # noqa: F811
    limits(per_token="2 per minute")
    _, raw = token_for(agency)
    _, other_raw = token_for(agency)
    assert client.get("/api/v1/people", headers=_bearer(raw)).status_code == 200
    assert client.get("/api/v1/assignments", headers=_bearer(raw)).status_code == 200
    refused = client.get("/api/v1/completions", headers=_bearer(raw))
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "this token" in refused.get_json()["detail"]
    openapi("/completions", "GET", refused)
    assert client.get("/api/v1/completions", headers=_bearer(other_raw)).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(lambda: _bearer(_random_token()), id="random tokens"),
        pytest.param(lambda: _bearer("nope"), id="not a token"),
        pytest.param(lambda: {}, id="no token"),
    ],
)
def test_failed_authentications_are_limited_per_address(
    client,
    agency,
    token_for,  # noqa: F811
    limits,
    openapi,  # noqa: F811
    credentials,
):
    limits(failures="3 per minute")
    _, raw = token_for(agency)
    statuses = [client.get("/api/v1/people", headers=credentials()).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    refused = client.get("/api/v1/people", headers=credentials())
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "failed authentications" in refused.get_json()["detail"]
    openapi("/people", "GET", refused)
    # Refused before the token is looked up, so a right guess would not show either...
    assert client.get("/api/v1/people", headers=_bearer(raw)).status_code == 429
    # ...while another address is not held back.
    assert client.get("/api/v1/people", headers=_bearer(raw), environ_base=OTHER_ADDRESS).status_code == 200


def test_successful_requests_do_not_count_as_failures(client, agency, token_for, limits):  # noqa: F811
    limits(failures="2 per minute")
    _, raw = token_for(agency)
    assert {client.get("/api/v1/people", headers=_bearer(raw)).status_code for _ in range(5)} == {200}
    assert client.get("/api/v1/people", headers=_bearer("nope")).status_code == 401
