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


@pytest.mark.parametrize("failures,words", [(5, b"is paused for 15 minutes"), (1, b"wait 2 seconds")])
def test_a_pause_reads_the_same_whether_or_not_the_email_has_an_account(
    app, client, officer, monkeypatch, clock, failures, words
):
    if failures == 1:  # a slow-down: the address is past its threshold from the start
        monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 0)

    def paused_page(email):
        for _ in range(failures):
            post_sign_in(client, email, "nope")
        return post_sign_in(client, email, "nope").data.replace(email.encode(), b"EMAIL")

    page = paused_page(officer.email)
    assert words in page
    assert page == paused_page("ghost@example.test")


def test_an_attackers_failures_do_not_lock_the_owner_out(app, client, officer):
    attacker = from_address(client, ATTACKER)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 3):
        post_sign_in(attacker, officer.email, "guess")
    assert post_sign_in(attacker, officer.email, TEST_PASSWORD).status_code == 401
    owner = from_address(app.test_client(), OWNER)
    assert post_sign_in(owner, officer.email, TEST_PASSWORD).status_code == 302


@pytest.fixture
def clock(monkeypatch):
    """The sign-in counters' clock, moved on by hand: `clock.advance(minutes=10)`."""
    from lms.services import accounts

    class Clock:
        now = utcnow()

        def advance(self, **delta):
            self.now += timedelta(**delta)

    clock = Clock()
    monkeypatch.setattr(accounts, "utcnow", lambda: clock.now)
    return clock


def many_addresses_failing(app, monkeypatch, limit=6):
    """Lower the per-address threshold, then fail once each with `limit` + 1 emails from ATTACKER."""
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", limit)
    shared = from_address(app.test_client(), ATTACKER)
    for n in range(limit + 1):
        assert post_sign_in(shared, f"typo{n}@example.test", "guess").status_code == 401
    return shared


def test_many_failures_from_one_address_never_lock_out_a_right_password_from_it(app, officer, monkeypatch):
    # An agency behind one NAT: colleagues' typos, or a hostile device on the network.
    shared = many_addresses_failing(app, monkeypatch)
    assert post_sign_in(shared, officer.email, TEST_PASSWORD).status_code == 302


def test_past_the_address_threshold_each_failing_email_waits_longer(app, officer, monkeypatch, clock):
    shared = many_addresses_failing(app, monkeypatch)
    waits = []
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        page = post_sign_in(shared, officer.email, "guess").data.decode()
        waits.append(page.split("wait ")[1].split(" second")[0])
        # While it waits, even the right password is refused, with the same words.
        assert "wait" in post_sign_in(shared, officer.email, TEST_PASSWORD).data.decode()
        clock.advance(seconds=int(waits[-1]))
    assert waits == ["2", "4", "8", "16"]
    # The per-(email, address) lock still holds after LOGIN_MAX_FAILURES.
    assert b"sign-in is paused for 15 minutes" in post_sign_in(shared, officer.email, "guess").data
    assert (
        post_sign_in(from_address(app.test_client(), OWNER), officer.email, TEST_PASSWORD).status_code == 302
    )


def test_signing_in_to_ones_own_account_buys_no_more_guesses(app, client, make_user, agency, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 4)
    own = make_user(agency)
    attacker = from_address(client, ATTACKER)
    for n in range(4):
        post_sign_in(attacker, f"person{n}@example.test", "guess")
        assert post_sign_in(attacker, own.email, TEST_PASSWORD).status_code == 302
        attacker.post("/auth/sign-out")
    assert b"wait 2 seconds" in post_sign_in(attacker, "person9@example.test", "guess").data


@pytest.mark.parametrize("one_person", [True, False], ids=["one-email", "many-emails-one-address"])
def test_failures_spread_out_in_time_never_add_up(app, officer, clock, one_person):
    """Failures count in a window of LOGIN_LOCK_MINUTES from the first: one typo every ten
    minutes, from one person or from a whole agency behind one address, is never paused."""
    shared = from_address(app.test_client(), ATTACKER)
    for n in range(3 * app.config["LOGIN_ADDRESS_MAX_FAILURES"]):
        email = officer.email if one_person else f"colleague{n}@example.test"
        assert b"do not match an account" in post_sign_in(shared, email, "typo").data
        clock.advance(minutes=10)
    assert post_sign_in(shared, officer.email, TEST_PASSWORD).status_code == 302


def test_lock_ends_after_its_time(app, client, officer, clock):
    for _ in range(5):
        post_sign_in(client, officer.email, "nope")
    clock.advance(minutes=app.config["LOGIN_LOCK_MINUTES"] - 1)
    assert b"paused for 1 minute." in post_sign_in(client, officer.email, TEST_PASSWORD).data
    clock.advance(minutes=1)
    assert post_sign_in(client, officer.email, TEST_PASSWORD).status_code == 302


def test_failures_older_than_the_window_are_forgotten(app, client, officer, clock):
    for _ in range(4):
        post_sign_in(client, officer.email, "nope")
    clock.advance(minutes=app.config["LOGIN_LOCK_MINUTES"])
    for _ in range(4):
        assert b"do not match an account" in post_sign_in(client, officer.email, "nope").data


@pytest.mark.parametrize(
    "guessers,owner,shared",
    [
        ([f"2001:db8:1:2::{n}" for n in range(1, 6)], "2001:db8:1:2:ffff:ffff:ffff:ffff", True),
        ([f"2001:db8:1:2::{n}" for n in range(1, 6)], "2001:db8:1:3::1", False),
        (["::ffff:198.51.100.20"] * 5, "198.51.100.20", True),
    ],
    ids=["same-ipv6-64", "other-ipv6-64", "ipv4-mapped"],
)
def test_ipv6_clients_are_counted_by_their_64(app, officer, guessers, owner, shared):
    # One subscriber holds a whole /64: new addresses from it must not buy new guesses.
    attacker = app.test_client()
    for address in guessers:
        post_sign_in(from_address(attacker, address), officer.email, "guess")
    response = post_sign_in(from_address(app.test_client(), owner), officer.email, TEST_PASSWORD)
    assert (response.status_code == 401) is shared


def test_forwarded_for_without_trusted_proxies_is_warned_about_once(app, officer, monkeypatch, caplog):
    from lms.auth import routes

    monkeypatch.setattr(routes, "_warned_forwarded_for", False)
    app.logger.addHandler(caplog.handler)  # the app's logger does not propagate to the root
    client = app.test_client()
    try:
        post_sign_in(client, officer.email, "nope")
        for _ in range(3):
            post_sign_in(client, officer.email, "nope", headers={"X-Forwarded-For": "192.0.2.44"})
    finally:
        app.logger.removeHandler(caplog.handler)
    warnings = [r for r in caplog.records if "TRUSTED_PROXIES=0" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"


@pytest.fixture
def racing_app(app, tmp_path):
    """The app on a database threads can share: the suite's own on PostgreSQL, a file on
    SQLite (the in-memory test database is a single connection)."""
    from tests.conftest import running_on_postgres

    if running_on_postgres():
        yield app
        return
    from lms import create_app
    from lms.config import TestConfig
    from lms.extensions import db

    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'race.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
    }
    other = create_app(type("FileSqlite", (TestConfig,), settings))
    with other.app_context():
        db.create_all()
        yield other
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("check", ["sign-in", "password-change"])
def test_concurrent_wrong_guesses_get_no_more_checks_than_the_limit(racing_app, monkeypatch, check):
    import threading

    from lms.extensions import db
    from lms.models import User
    from lms.services import accounts

    db.session.add(
        User(email="racer@example.test", name="Racer", password_hash=accounts.hash_password("x" * 12))
    )
    db.session.commit()
    checks, real_check = [], accounts.password_matches

    def slow_check(user, password):  # widens the gap between reading a count and writing it
        checks.append(password)
        threading.Event().wait(0.05)
        return real_check(user, password)

    monkeypatch.setattr(accounts, "password_matches", slow_check)
    threads, start, errors = 8, threading.Barrier(8), []

    def guess():
        try:
            with racing_app.app_context():
                start.wait()
                try:
                    if check == "sign-in":
                        accounts.authenticate("racer@example.test", "wrong", address="192.0.2.9")
                    else:
                        user = db.session.scalar(db.select(User).filter_by(email="racer@example.test"))
                        accounts.change_password(user, "wrong", "y" * 12)
                except accounts.AccountError:
                    pass
                db.session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=guess) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert len(checks) == 5  # LOGIN_MAX_FAILURES: the other three were refused unchecked
    if check == "sign-in":
        address = db.session.scalar(db.select(SignInThrottle).filter_by(scope="address"))
        assert address.failures == len(checks)  # every failure counted, none overwritten


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
