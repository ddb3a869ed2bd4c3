"""Sessions are records on the server: ending one ends every copy of its cookie.

Each test signs in for real (POST /auth/sign-in), copies the session cookie into a second
client (what a thief or a second tab would hold), does something that must end the session,
and checks that the copy no longer works.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from lms.models import Role, UserSession
from lms.models.types import utcnow
from lms.services import sessions
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "a much longer new passphrase"


def signed_in(client, user):
    response = client.post("/auth/sign-in", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def works(client) -> bool:
    response = client.get("/auth/password")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def record_of(db, user) -> UserSession:
    db.session.expire_all()
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()


def test_a_copied_cookie_works_while_the_session_lives(app, client, officer):
    assert works(copy_of(app, signed_in(client, officer)))


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, officer):
    copy = copy_of(app, signed_in(client, officer))
    client.post("/auth/sign-out")
    assert not works(copy)
    assert not works(client)


def test_a_password_change_ends_every_session_and_this_browser_goes_on_in_a_new_one(app, client, officer):
    copy = copy_of(app, signed_in(client, officer))
    other_device = signed_in(app.test_client(), officer)
    response = client.post(
        "/auth/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert works(client)
    assert not works(copy)  # a stolen copy of this very session dies with the change
    assert not works(other_device)


def _set_roles(db, person, coordinator):
    from lms.services import accounts

    accounts.set_roles(coordinator, person, {Role.OFFICER, Role.INSTRUCTOR})


def _deactivate(db, person, coordinator):
    from lms.services import roster

    roster.set_active(coordinator, person, False, "left the agency")


def _roster_import_drops(db, person, coordinator):
    from lms.services import roster_import

    csv = f"badge_number,name,email\nZ-1,Someone Else,someone.else@example.test\n{coordinator.badge_number},{coordinator.name},{coordinator.email}\n"
    record, result = roster_import.check(
        coordinator, coordinator.agency, "roster.csv", csv.encode(), roster_import.FULL_SYNC
    )
    assert [change.badge_number for change in result.deactivate] == [person.badge_number]
    roster_import.apply(coordinator, record, confirmation=str(result.deactivating))


def _roster_import_marks_inactive(db, person, coordinator):
    from lms.services import roster_import

    csv = (
        "badge_number,name,email,status\n"
        f"{person.badge_number},{person.name},{person.email},inactive\n"
        f"{coordinator.badge_number},{coordinator.name},{coordinator.email},active\n"
    )
    record, result = roster_import.check(coordinator, coordinator.agency, "roster.csv", csv.encode())
    assert result.ok, result.problems
    roster_import.apply(coordinator, record, confirmation=str(result.deactivating))


def _api_deactivates(db, person, coordinator):
    from lms.services import api_records, api_tokens

    token, _ = api_tokens.create_token(coordinator, coordinator.agency, "records", ["people:write"])
    api_records.upsert_person(token, person.badge_number, {"active": False})


@pytest.mark.parametrize(
    "change,reason",
    [
        (_set_roles, "roles-changed"),
        (_deactivate, "deactivated"),
        (_roster_import_drops, "deactivated"),
        (_roster_import_marks_inactive, "deactivated"),
        (_api_deactivates, "deactivated"),
    ],
    ids=["role-change", "deactivation", "roster-import-drops", "roster-import-inactive", "api-upsert"],
)
def test_role_changes_and_deactivation_end_every_session_of_the_person(
    app, db, client, officer, coordinator, change, reason
):
    copy = copy_of(app, signed_in(client, officer))
    other_device = signed_in(app.test_client(), officer)
    coordinators_own = signed_in(app.test_client(), coordinator)
    change(db, officer, coordinator)
    db.session.commit()
    assert not works(client)
    assert not works(copy)
    assert not works(other_device)
    db.session.expire_all()
    ends = db.session.scalars(select(UserSession.end_reason).where(UserSession.user_id == officer.id))
    assert list(ends) == [reason, reason]  # ended on the server, not merely refused
    assert works(coordinators_own)  # nobody else's


def test_a_failed_change_ends_no_session(app, db, client, officer, coordinator):
    from lms.services import accounts

    signed_in(client, officer)
    accounts.set_roles(coordinator, officer, {Role.OFFICER, Role.INSTRUCTOR})
    db.session.rollback()
    reactivated = record_of(db, officer)
    assert reactivated.ended_at is None
    assert works(client)


def test_sign_out_everywhere_ends_every_session_this_one_included(app, db, client, officer):
    copy = copy_of(app, signed_in(client, officer))
    other_device = signed_in(app.test_client(), officer)
    response = client.post("/auth/sign-out-everywhere")
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]
    assert not any(works(c) for c in (client, copy, other_device))
    db.session.expire_all()
    reasons = set(db.session.scalars(select(UserSession.end_reason).where(UserSession.user_id == officer.id)))
    assert reasons == {"signed-out-everywhere"}


def test_the_password_page_lists_the_live_sessions_and_marks_this_one(app, client, officer):
    signed_in(app.test_client(), officer)
    page = signed_in(client, officer).get("/auth/password").get_data(as_text=True)
    assert page.count("(this session)") == 1
    assert page.count("<tr>") == 3  # the header and two sessions
    assert "Sign out everywhere" in page


def test_a_session_idle_for_the_limit_is_refused(app, db, client, officer):
    signed_in(client, officer)
    record = record_of(db, officer)
    record.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    db.session.commit()
    assert not works(client)


def test_use_keeps_a_session_alive_recording_it_at_most_once_a_minute(app, db, client, officer):
    signed_in(client, officer)
    record = record_of(db, officer)
    recent = utcnow() - timedelta(seconds=20)
    record.last_seen_at = recent
    db.session.commit()
    assert works(client)
    assert record_of(db, officer).last_seen_at == recent  # within the minute: not written again

    nearly_idle = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    record = record_of(db, officer)
    record.last_seen_at = nearly_idle
    db.session.commit()
    assert works(client)
    assert record_of(db, officer).last_seen_at > nearly_idle + timedelta(minutes=1)


def test_a_session_past_its_absolute_lifetime_is_refused_however_busy(app, db, client, officer):
    signed_in(client, officer)
    record = record_of(db, officer)
    assert record.expires_at - record.created_at == timedelta(hours=app.config["SESSION_MAX_HOURS"])
    record.expires_at = utcnow() - timedelta(seconds=1)
    record.last_seen_at = utcnow()
    db.session.commit()
    assert not works(client)


def test_a_signed_cookie_naming_a_user_id_signs_nobody_in(app, client, admin):
    """The old cookie format (user id and epoch) is not a way in, even signed with the key."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{admin.id}:0"
    assert not works(client)


def test_the_cookie_holds_a_token_whose_hash_is_the_record(app, db, client, officer):
    import hashlib

    signed_in(client, officer)
    with client.session_transaction() as session:
        token = session["_user_id"]
    assert str(officer.id) != token and len(token) >= 40
    assert record_of(db, officer).id == hashlib.sha256(token.encode()).hexdigest()


def test_checking_a_session_is_one_query(app, db, client, officer):
    from lms.access import load_user

    signed_in(client, officer)
    with client.session_transaction() as session:
        token = session["_user_id"]
    db.session.remove()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with app.test_request_context():
            user = load_user(token)
            assert user.email == officer.email and user.has_role(Role.OFFICER)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1, statements


def test_the_periodic_job_purges_ended_and_expired_sessions(app, db, officer, coordinator):
    from lms import schedule
    from lms.services import sessions

    live = sessions.start(officer)
    ended = sessions.start(officer)
    sessions.end(ended, "signed-out")
    expired = sessions.start(coordinator)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    idle = sessions.start(coordinator)
    idle.last_seen_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    live_id = live.id
    job = next(job for job in schedule.JOBS if job.name == "sign-in-records")
    summary = job.run(utcnow())
    db.session.commit()
    assert summary.startswith("3 session(s)")
    assert list(db.session.scalars(select(UserSession.id))) == [live_id]


def test_the_periodic_job_purges_spent_sign_in_counters_and_keeps_live_ones(app, db):
    from lms import schedule
    from lms.models import SignInThrottle

    now = utcnow()
    window = timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"])
    db.session.add_all(
        [
            SignInThrottle(key="spent", scope="pair", failures=3, last_failure_at=now - window),
            SignInThrottle(
                key="lock-over", scope="pair", failures=0, locked_until=now, last_failure_at=now - window
            ),
            SignInThrottle(key="counting", scope="pair", failures=2, last_failure_at=now - window / 2),
            SignInThrottle(
                key="locked",
                scope="address",
                failures=0,
                locked_until=now + window,
                last_failure_at=now - window,
            ),
        ]
    )
    db.session.commit()
    job = next(job for job in schedule.JOBS if job.name == "sign-in-records")
    assert job.run(now).endswith("2 sign-in counter(s) removed")
    db.session.commit()
    assert set(db.session.scalars(select(SignInThrottle.key))) == {"counting", "locked"}


def test_deactivating_more_people_than_one_in_list_holds_ends_all_their_sessions(
    app, db, make_user, agency, monkeypatch
):
    from lms.services import sessions

    monkeypatch.setattr(sessions, "CHUNK", 2)
    people = [make_user(agency) for _ in range(5)]
    for person in people:
        sessions.start(person)
    db.session.commit()
    for person in people:
        person.active = False
    db.session.commit()
    db.session.expire_all()
    assert set(db.session.scalars(select(UserSession.end_reason))) == {"deactivated"}


@pytest.mark.parametrize(
    "user_agent, shown",
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"),
        ("curl/8.5.0", "an unknown browser"),
        (None, "an unknown browser"),
    ],
)  # fmt: skip
def test_the_sessions_list_names_browsers_as_people_do(user_agent, shown):
    assert sessions.describe_browser(user_agent) == shown


def test_the_password_page_shows_the_browser_not_its_user_agent(app, client, officer):
    signed_in(client, officer)
    page = client.get("/auth/password").get_data(as_text=True)
    assert "Mozilla/5.0" not in page and "Werkzeug" not in page
