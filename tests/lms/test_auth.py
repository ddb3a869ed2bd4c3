"""Signing in, lockout, signing out, changing passwords, sessions and cookies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.models import SignInThrottle
from lms.models.types import utcnow
from tests.conftest import TEST_PASSWORD


def post_sign_in(client, email, password, **kwargs):
    return client.post("/auth/sign-in", data={"email": email, "password": password}, **kwargs)


def test_sign_in_with_right_password_reaches_home(client, officer):
    response = post_sign_in(client, officer.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_sign_in_accepts_email_in_any_case(client, officer):
    assert post_sign_in(client, officer.email.upper(), TEST_PASSWORD).status_code == 302


def test_wrong_password_says_so_without_naming_the_field_at_fault(client, officer):
    response = post_sign_in(client, officer.email, "wrong password")
    assert response.status_code == 401
    assert b"do not match an account" in response.data


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, officer):
    known = post_sign_in(client, officer.email, "wrong password").data
    unknown = post_sign_in(client, "nobody@example.test", "wrong password").data
    assert b"do not match an account" in unknown
    assert known.replace(officer.email.encode(), b"") == unknown.replace(b"nobody@example.test", b"")


@pytest.mark.parametrize("field,value", [("email", ""), ("email", "not-an-email"), ("password", "")])
def test_missing_or_malformed_fields_are_named(client, field, value):
    data = {"email": "someone@example.test", "password": "x", field: value}
    response = client.post("/auth/sign-in", data=data)
    assert response.status_code == 400
    assert b"There is a problem" in response.data


ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


def from_address(client, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.mark.parametrize("known", [True, False], ids=["existing-email", "unknown-email"])
def test_five_failures_lock_the_email_from_that_address_for_fifteen_minutes(client, officer, known):
    email = officer.email if known else "ghost@example.test"
    for _ in range(4):
        assert post_sign_in(client, email, "nope").status_code == 401
    fifth = post_sign_in(client, email, "nope")
    assert b"sign-in is paused for 15 minutes" in fifth.data
    # Even the right password is refused while locked, with the same words.
    locked = post_sign_in(client, email, TEST_PASSWORD)
    assert locked.status_code == 401
    assert b"Too many failed sign-ins" in locked.data


def test_a_lock_reads_the_same_whether_or_not_the_email_has_an_account(client, officer):
    def locked_page(email):
        for _ in range(5):
            post_sign_in(client, email, "nope")
        return post_sign_in(client, email, "nope").data.replace(email.encode(), b"EMAIL")

    assert locked_page(officer.email) == locked_page("ghost@example.test")


def test_an_attackers_failures_do_not_lock_the_owner_out(app, client, officer):
    attacker = from_address(client, ATTACKER)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 3):
        post_sign_in(attacker, officer.email, "guess")
    assert post_sign_in(attacker, officer.email, TEST_PASSWORD).status_code == 401
    owner = from_address(app.test_client(), OWNER)
    assert post_sign_in(owner, officer.email, TEST_PASSWORD).status_code == 302


def test_failures_from_one_address_are_limited_across_all_emails(app, client, officer, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 6)
    attacker = from_address(client, ATTACKER)
    for n in range(6):  # one guess each at six accounts: no single email reaches its limit
        assert post_sign_in(attacker, f"person{n}@example.test", "guess").status_code == 401
    refused = post_sign_in(attacker, officer.email, TEST_PASSWORD)
    assert refused.status_code == 401
    assert b"from your network address" in refused.data
    assert (
        post_sign_in(from_address(app.test_client(), OWNER), officer.email, TEST_PASSWORD).status_code == 302
    )


def test_signing_in_to_ones_own_account_buys_no_more_guesses(app, client, make_user, agency, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 4)
    own = make_user(agency)
    attacker = from_address(client, ATTACKER)
    for n in range(4):
        post_sign_in(attacker, f"person{n}@example.test", "guess")
        if n < 3:
            assert post_sign_in(attacker, own.email, TEST_PASSWORD).status_code == 302
            attacker.post("/auth/sign-out")
    assert b"from your network address" in post_sign_in(attacker, own.email, TEST_PASSWORD).data


def test_lock_ends_after_its_time(client, db, officer):
    for _ in range(5):
        post_sign_in(client, officer.email, "nope")
    for throttle in db.session.scalars(db.select(SignInThrottle)):
        if throttle.locked_until is not None:
            throttle.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert post_sign_in(client, officer.email, TEST_PASSWORD).status_code == 302


def test_failures_older_than_the_window_are_forgotten(app, client, db, officer):
    for _ in range(4):
        post_sign_in(client, officer.email, "nope")
    for throttle in db.session.scalars(db.select(SignInThrottle)):
        throttle.last_failure_at = utcnow() - timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"])
    db.session.commit()
    assert b"do not match an account" in post_sign_in(client, officer.email, "nope").data


def change_password(client, current, new="a much longer new passphrase"):
    return client.post(
        "/auth/password", data={"current_password": current, "new_password": new, "confirm_password": new}
    )


def test_wrong_current_passwords_pause_password_changes(app, client, db, officer, sign_in):
    before = officer.password_hash
    sign_in(officer)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert b"current password is not correct" in change_password(client, "guess").data
    assert b"changing the password is paused for 15 minutes" in change_password(client, "guess").data
    # Paused: even the right current password is refused, from any session of the person.
    other = sign_in(officer, app.test_client())
    response = change_password(other, TEST_PASSWORD)
    assert response.status_code == 400
    assert b"changing the password is paused" in response.data
    db.session.refresh(officer)
    assert officer.password_hash == before


def test_deactivated_account_is_told_to_contact_the_coordinator(client, db, officer):
    officer.active = False
    db.session.commit()
    response = post_sign_in(client, officer.email, TEST_PASSWORD)
    assert response.status_code == 401
    assert b"deactivated" in response.data


def test_deactivated_user_is_signed_out_of_an_open_session(client, db, officer, sign_in):
    sign_in(officer)
    officer.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_sign_out_ends_the_session(client, officer, sign_in):
    sign_in(officer)
    client.post("/auth/sign-out")
    response = client.get("/")
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


def test_sign_in_never_redirects_off_site(client, officer):
    response = post_sign_in(
        client, officer.email, TEST_PASSWORD, query_string={"next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(client, officer):
    response = post_sign_in(client, officer.email, TEST_PASSWORD, query_string={"next": "/auth/password"})
    assert response.headers["Location"] == "/auth/password"


def test_change_password_then_sign_in_with_the_new_one(app, client, officer, sign_in):
    sign_in(officer)
    new = "a much longer new passphrase"
    response = client.post(
        "/auth/password",
        data={"current_password": TEST_PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert response.status_code == 302
    client.post("/auth/sign-out")
    assert post_sign_in(client, officer.email, TEST_PASSWORD).status_code == 401
    assert post_sign_in(client, officer.email, new).status_code == 302


def test_change_password_signs_out_other_sessions(app, client, officer, sign_in):
    other = app.test_client()
    sign_in(officer, other)
    sign_in(officer)
    new = "a much longer new passphrase"
    client.post(
        "/auth/password",
        data={"current_password": TEST_PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


@pytest.mark.parametrize(
    "data,message",
    [
        (
            {
                "current_password": "wrong",
                "new_password": "long enough password",
                "confirm_password": "long enough password",
            },
            b"current password is not correct",
        ),
        (
            {"current_password": TEST_PASSWORD, "new_password": "short", "confirm_password": "short"},
            b"at least 12",
        ),
        (
            {
                "current_password": TEST_PASSWORD,
                "new_password": "long enough password",
                "confirm_password": "different one here",
            },
            b"do not match",
        ),
    ],
    ids=["wrong-current", "too-short", "mismatch"],
)
def test_bad_password_changes_are_explained_and_change_nothing(client, db, officer, sign_in, data, message):
    before = officer.password_hash
    sign_in(officer)
    response = client.post("/auth/password", data=data)
    assert response.status_code == 400
    assert message in response.data
    db.session.refresh(officer)
    assert officer.password_hash == before


def test_missing_csrf_token_gets_a_clear_page(app, client, officer):
    app.config["WTF_CSRF_ENABLED"] = True
    response = post_sign_in(client, officer.email, TEST_PASSWORD)
    assert response.status_code == 400
    assert b"This form has expired" in response.data


def test_session_cookie_is_httponly_lax_and_expires_when_idle(app, client, officer):
    response = post_sign_in(client, officer.email, TEST_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie
    assert app.permanent_session_lifetime == timedelta(minutes=30)
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client, officer):
    response = post_sign_in(client, officer.email, TEST_PASSWORD, base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_production_hashes_are_argon2id_with_owasp_parameters():
    from lms.config import Config

    assert Config.PASSWORD_HASH_PROFILE == "OWASP"
    from lms.services.accounts import PROFILES

    params = PROFILES["OWASP"]
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19 * 1024, 2, 1)


def test_a_hash_made_under_other_parameters_is_upgraded_at_sign_in(app, db, officer):
    from lms.services import accounts

    accounts.use_hash_profile("RFC_9106_LOW_MEMORY")
    officer.password_hash = accounts.hash_password(TEST_PASSWORD)
    db.session.commit()
    try:
        accounts.use_hash_profile("OWASP")
        result = accounts.authenticate(officer.email, TEST_PASSWORD, address="127.0.0.1")
        db.session.commit()
    finally:
        accounts.use_hash_profile("CHEAPEST")
    assert result.outcome == "ok"
    assert officer.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_an_unknown_hash_profile_is_refused():
    from lms.services import accounts

    with pytest.raises(ValueError, match="PASSWORD_HASH_PROFILE"):
        accounts.use_hash_profile("FASTEST_PLEASE")
