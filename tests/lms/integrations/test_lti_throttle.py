"""/lti/login is public: it is rate-limited, writes nothing for strangers, and what it writes expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

LAUNCH = "http://localhost/lti/launch"
PLATFORM = "https://moodle.example.test"


@pytest.fixture
def registration(db, agency):
    """A registered platform; a login initiation never calls it, so it need not be running."""
    from lms.models import LtiRegistration

    row = LtiRegistration(
        agency_id=agency.id,
        name="Moodle",
        issuer=PLATFORM,
        client_id="ripple-client",
        auth_login_url=PLATFORM + "/auth",
        auth_token_url=PLATFORM + "/token",
        key_set_url=PLATFORM + "/jwks",
    )
    db.session.add(row)
    db.session.commit()
    return row


def _stored(db) -> int:
    from lms.models import LtiKey, LtiLaunchState

    return db.session.scalar(select(func.count()).select_from(LtiLaunchState)) + db.session.scalar(
        select(func.count()).select_from(LtiKey)
    )


def _login(client, iss, client_id=None):
    query = {"iss": iss, "login_hint": "someone", "target_link_uri": LAUNCH}
    if client_id is not None:
        query["client_id"] = client_id
    return client.get("/lti/login", query_string=query)


@pytest.mark.parametrize("which", ["issuer", "client id"])
def test_a_login_for_an_unregistered_platform_writes_nothing(db, client, registration, which):
    before = _stored(db)
    if which == "issuer":
        response = _login(client, "https://stranger.test", registration.client_id)
    else:
        response = _login(client, registration.issuer, "someone-elses-client")
    assert response.status_code == 400
    assert "registration" in response.get_data(as_text=True)
    assert _stored(db) == before


@pytest.fixture
def two_logins_per_minute(rate_limit):
    rate_limit("LTI_LOGIN_RATE_LIMIT", "2 per minute")


def test_logins_are_rate_limited_per_client_address(db, client, registration, two_logins_per_minute):
    from lms.models import LtiLaunchState

    codes = [_login(client, registration.issuer, registration.client_id).status_code for _ in range(2)]
    rows = db.session.scalar(select(func.count()).select_from(LtiLaunchState))
    refused = _login(client, registration.issuer, registration.client_id)
    assert codes == [302, 302] and refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert db.session.scalar(select(func.count()).select_from(LtiLaunchState)) == rows  # nothing more stored
    other = client.get(
        "/lti/login",
        query_string={"iss": registration.issuer, "client_id": registration.client_id, "login_hint": "x",
                      "target_link_uri": LAUNCH},
        environ_base={"REMOTE_ADDR": "127.0.0.9"},
    )  # fmt: skip
    assert other.status_code == 302  # another address has its own allowance


def test_the_periodic_purge_deletes_expired_states_only(db):
    from lms import schedule
    from lms.models import LtiLaunchState
    from lms.models.types import utcnow

    now = utcnow()
    db.session.add_all(
        [
            LtiLaunchState(key="state-expired", value={}, expires_at=now - timedelta(minutes=1)),
            LtiLaunchState(key="nonce-expired", value=True, expires_at=now - timedelta(days=3)),
            LtiLaunchState(key="state-live", value={}, expires_at=now + timedelta(minutes=9)),
        ]
    )
    db.session.commit()
    purge = next(job for job in schedule.JOBS if job.name == "lti-states")
    ran = schedule.run_due(now, jobs=(purge,))
    assert ran == {"lti-states": "2 expired LTI state(s) deleted"}
    assert db.session.scalars(select(LtiLaunchState.key)).all() == ["state-live"]
