"""Invitations and password resets: single-use links that expire, sent through the outbox (or
by SMTP), that never reveal whether an address has an account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.models import AccountLink, AuditEvent, LinkPurpose, OutboxMessage, RosterImport, User, UserSession
from lms.models.types import utcnow
from lms.services import accounts, invitations, roster_import, sessions
from tests.conftest import TEST_PASSWORD
from tests.lms.smtp_peer import SmtpPeer

NEW_PASSWORD = "a long walk along the river"
LINK = re.compile(r"http://localhost(/auth/(?:welcome|reset)/[A-Za-z0-9_-]+)")


@pytest.fixture
def newcomer(db, make_user, agency):
    """An officer added by the roster: no password, never signed in."""
    return without_password(db, make_user(agency, name="Nia Newcomer", email="nia@riverside.test"))


def without_password(db, person):
    person.password_hash = None
    db.session.commit()
    return person


def messages(db, kind=None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def link_in(message: OutboxMessage) -> str:
    return LINK.search(message.body).group(1)


def invite(client, sign_in, coordinator, person) -> str:
    sign_in(coordinator)
    response = client.post(f"/people/{person.id}/invite")
    assert response.status_code == 302
    client.post("/auth/sign-out")
    return link_in(messages(client.application.extensions["sqlalchemy"], "invitation")[-1])


def set_password(client, path, password=NEW_PASSWORD, repeat=None):
    return client.post(path, data={"new_password": password, "confirm_password": repeat or password})


def signed_in_as(client) -> str:
    return client.get("/").get_data(as_text=True)


# --- invitations ---------------------------------------------------------------------------------


def test_an_invited_officer_sets_a_password_and_is_signed_in(db, client, sign_in, coordinator, newcomer):
    path = invite(client, sign_in, coordinator, newcomer)
    page = client.get(path)
    assert (
        page.status_code == 200
        and "Choose a password for <strong>nia@riverside.test</strong>" in page.get_data(as_text=True)
    )
    response = set_password(client, path)
    assert response.status_code == 302
    assert "Welcome, Nia" in signed_in_as(client)
    db.session.expire_all()
    assert accounts.password_matches(db.session.get(User, newcomer.id), NEW_PASSWORD)
    live = db.session.scalars(select(UserSession).where(UserSession.user_id == newcomer.id)).all()
    assert [row.ended_at for row in live] == [None]  # signed in through a session record


def test_the_invitation_email_names_the_agency_and_the_inviter_and_expires_in_7_days(
    db, client, sign_in, coordinator, newcomer
):
    invite(client, sign_in, coordinator, newcomer)
    (message,) = messages(db, "invitation")
    assert (message.to_email, message.subject) == ("nia@riverside.test", "You're invited to Ripple")
    assert "Cora Coordinator invited you to Ripple, the training site of Riverside Test PD" in message.body
    link = db.session.scalars(select(AccountLink)).one()
    assert link.expires_at - link.created_at == timedelta(days=7)


@pytest.mark.parametrize("purpose", ["invite", "reset"])
def test_a_link_works_once(db, client, sign_in, coordinator, newcomer, officer, purpose):
    if purpose == "invite":
        path = invite(client, sign_in, coordinator, newcomer)
    else:
        client.post("/auth/forgot-password", data={"email": officer.email})
        path = link_in(messages(db, "password_reset")[0])
    assert set_password(client, path).status_code == 302
    other = client.application.test_client()
    assert other.get(path).status_code == 410
    again = set_password(other, path, "somebody else's password")
    assert again.status_code == 410
    assert "This link has already been used. Each link works once." in again.get_data(as_text=True)
    person = db.session.get(User, newcomer.id if purpose == "invite" else officer.id)
    db.session.refresh(person)
    assert accounts.password_matches(person, NEW_PASSWORD)


def test_a_link_redeemed_twice_at_once_sets_the_password_only_once(db, coordinator, newcomer, monkeypatch):
    _, body = invitations.invite(coordinator, newcomer, lambda purpose, token: f"http://localhost/x/{token}")
    token = body.split("http://localhost/x/")[1].split()[0]
    read_by_the_second_request = invitations.open_link(token, LinkPurpose.INVITE)
    invitations.redeem(token, LinkPurpose.INVITE, NEW_PASSWORD)  # the first request wins
    monkeypatch.setattr(invitations, "open_link", lambda *args: read_by_the_second_request)
    with pytest.raises(invitations.LinkProblem, match="already been used"):
        invitations.redeem(token, LinkPurpose.INVITE, "a different long password")
    db.session.refresh(newcomer)
    assert accounts.password_matches(newcomer, NEW_PASSWORD)


@pytest.mark.parametrize("purpose,lifetime", [("invite", timedelta(days=7)), ("reset", timedelta(hours=1))])
def test_an_expired_link_is_refused_with_a_clear_page(
    db, client, sign_in, coordinator, newcomer, officer, purpose, lifetime
):
    if purpose == "invite":
        path = invite(client, sign_in, coordinator, newcomer)
    else:
        client.post("/auth/forgot-password", data={"email": officer.email})
        path = link_in(messages(db, "password_reset")[0])
    link = db.session.scalars(select(AccountLink)).one()
    assert link.expires_at - link.created_at == lifetime
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = set_password(client, path)
    assert response.status_code == 410
    assert "This link has expired." in response.get_data(as_text=True)


def test_a_newer_invitation_ends_the_older_one(db, client, sign_in, coordinator, newcomer):
    first = invite(client, sign_in, coordinator, newcomer)
    second = invite(client, sign_in, coordinator, newcomer)
    assert "A newer link was sent after this one" in client.get(first).get_data(as_text=True)
    assert client.get(second).status_code == 200


@pytest.mark.parametrize("route", ["welcome", "reset"])
@pytest.mark.parametrize("token", ["forged", "A" * 43, "x" * 2000, "%E2%80%AE"])
def test_a_wrong_or_forged_link_gets_a_clear_page(db, client, officer, route, token):
    for response in (client.get(f"/auth/{route}/{token}"), set_password(client, f"/auth/{route}/{token}")):
        assert response.status_code == 404
        assert "This link is not valid." in response.get_data(as_text=True)
    assert accounts.password_matches(officer, TEST_PASSWORD)


def test_an_invitation_link_cannot_reset_and_a_reset_link_cannot_invite(
    db, client, sign_in, coordinator, newcomer
):
    path = invite(client, sign_in, coordinator, newcomer)
    assert client.get(path.replace("/welcome/", "/reset/")).status_code == 404


def test_a_deactivated_persons_link_is_refused(db, client, sign_in, coordinator, newcomer):
    path = invite(client, sign_in, coordinator, newcomer)
    newcomer.active = False
    db.session.commit()
    response = set_password(client, path)
    assert response.status_code == 403 and "deactivated" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "password,repeat,words",
    [
        ("short", None, "Use at least 12 characters."),
        (NEW_PASSWORD, "something else entirely", "do not match"),
    ],
)
def test_a_bad_password_is_explained_and_the_link_still_works(
    db, client, sign_in, coordinator, newcomer, password, repeat, words
):
    path = invite(client, sign_in, coordinator, newcomer)
    response = set_password(client, path, password, repeat)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert set_password(client, path).status_code == 302


def test_someone_with_a_password_is_not_invited(db, client, sign_in, coordinator, officer):
    sign_in(coordinator)
    response = client.post(f"/people/{officer.id}/invite", follow_redirects=True)
    assert "cannot be invited: already has a password" in response.get_data(as_text=True)
    assert messages(db) == []


def test_the_person_page_offers_an_invitation_to_someone_without_a_password(
    db, client, sign_in, coordinator, newcomer
):
    page = sign_in(coordinator).get(f"/people/{newcomer.id}").get_data(as_text=True)
    assert "Invite Nia Newcomer</button>" in page


def test_everyone_new_from_an_import_is_invited_in_one_click(db, client, sign_in, coordinator, agency):
    raw = b"badge_number,name,email\nN1,Ann Lee,ann@riverside.test\nN2,Bo Park,bo@riverside.test\n"
    record, _ = roster_import.check(coordinator, agency, "roster.csv", raw)
    roster_import.apply(coordinator, record)
    db.session.commit()
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/roster/imports/{record.id}").get_data(as_text=True)
    assert "Invite the 2 people new from this import</button>" in page
    response = client.post(f"/agencies/{agency.id}/roster/imports/{record.id}/invite", follow_redirects=True)
    assert "2 invitations sent, to the outbox under Reminders." in response.get_data(as_text=True)
    assert sorted(m.to_email for m in messages(db, "invitation")) == [
        "ann@riverside.test",
        "bo@riverside.test",
    ]


def test_an_import_not_yet_applied_invites_nobody(db, client, sign_in, coordinator, agency):
    record, _ = roster_import.check(
        coordinator, agency, "r.csv", b"badge_number,name,email\nN1,Ann,ann@r.test\n"
    )
    db.session.commit()
    sign_in(coordinator)
    response = client.post(f"/agencies/{agency.id}/roster/imports/{record.id}/invite", follow_redirects=True)
    assert "apply it first" in response.get_data(as_text=True)
    assert messages(db) == [] and db.session.get(RosterImport, record.id).status == "checked"


def test_everyone_who_never_signed_in_is_invited(
    db, client, sign_in, coordinator, agency, newcomer, make_user
):
    launched = without_password(db, make_user(agency, name="Lti Launched"))
    sessions.start(launched, via="lti")  # signed in from a learning platform: not "never"
    without_password(db, make_user(agency, name="Gone Away", active=False))
    db.session.commit()
    sign_in(coordinator)
    assert "1 active person has never signed in" in client.get(f"/agencies/{agency.id}/people").get_data(
        as_text=True
    )
    client.post(f"/agencies/{agency.id}/people/invite")
    assert [m.to_email for m in messages(db, "invitation")] == [newcomer.email]


# --- password reset ------------------------------------------------------------------------------


def test_the_sign_in_page_offers_a_password_reset(client):
    page = client.get("/auth/sign-in").get_data(as_text=True)
    assert 'href="/auth/forgot-password">Forgot your password?</a>' in page
    assert "coordinator can reset" not in page


def test_asking_for_a_reset_answers_the_same_whether_or_not_the_address_has_an_account(db, client, officer):
    known = client.post("/auth/forgot-password", data={"email": officer.email})
    unknown = client.post("/auth/forgot-password", data={"email": "nobody@riverside.test"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert "If an account exists for that address, we've sent a link" in known.get_data(as_text=True)
    assert [m.to_email for m in messages(db)] == [officer.email]


def test_a_reset_sets_the_password_signs_in_and_ends_the_other_sessions(db, client, sign_in, officer):
    elsewhere = sign_in(officer, client.application.test_client())
    client.post("/auth/forgot-password", data={"email": officer.email.upper()})
    (message,) = messages(db, "password_reset")
    assert message.subject == "Reset your Ripple password"
    response = set_password(client, link_in(message))
    assert response.status_code == 302
    assert f"Welcome, {officer.name.split()[0]}" in signed_in_as(client)
    assert elsewhere.get("/").status_code == 302  # the other browser is signed out
    db.session.refresh(officer)
    assert accounts.password_matches(officer, NEW_PASSWORD)


@pytest.mark.parametrize("active", [False])
def test_a_deactivated_account_gets_no_reset_email(db, client, officer, active):
    officer.active = active
    db.session.commit()
    client.post("/auth/forgot-password", data={"email": officer.email})
    assert messages(db) == []


def test_resets_are_rate_limited_per_address_without_saying_so(db, client, officer):
    pages = {
        client.post("/auth/forgot-password", data={"email": officer.email}).get_data(as_text=True)
        for _ in range(invitations.RESET_PER_EMAIL + 2)
    }
    assert len(pages) == 1  # every answer the same
    assert len(messages(db)) == invitations.RESET_PER_EMAIL


@pytest.mark.parametrize(
    "email,words",
    [
        ("", "Enter your email address."),
        ("not-an-address", "Enter a valid email address"),
        ("a@" + "b" * 300, "254"),
    ],
)
def test_a_bad_reset_address_is_explained_and_sends_nothing(db, client, email, words):
    response = client.post("/auth/forgot-password", data={"email": email})
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert messages(db) == []


# --- the outbox and SMTP -------------------------------------------------------------------------


def test_without_a_mail_server_the_coordinators_outbox_shows_the_link(
    db, client, sign_in, coordinator, newcomer
):
    path = invite(client, sign_in, coordinator, newcomer)
    page = sign_in(coordinator).get(f"/agencies/{coordinator.agency_id}/outbox").get_data(as_text=True)
    assert f'href="http://localhost{path}"' in page


@pytest.fixture
def smtp(app, monkeypatch):
    with SmtpPeer() as peer:
        for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": peer.port, "MAIL_USE_TLS": False}.items():
            monkeypatch.setitem(app.config, key, value)
        yield peer


def test_with_a_mail_server_the_link_is_emailed_and_never_kept(
    db, client, sign_in, coordinator, newcomer, smtp
):
    sign_in(coordinator)
    client.post(f"/people/{newcomer.id}/invite").close()  # the email goes once the response is sent
    (email,) = smtp.messages
    assert (email["To"], email["Subject"]) == ("nia@riverside.test", "You're invited to Ripple")
    path = LINK.search(email.get_content()).group(1)
    (message,) = messages(db)
    db.session.refresh(message)
    assert message.delivery == "smtp"
    assert path not in message.body and "The link was emailed to this person" in message.body
    outbox = client.get(f"/agencies/{coordinator.agency_id}/outbox").get_data(as_text=True)
    assert "/auth/welcome/" not in outbox
    client.post("/auth/sign-out")
    assert set_password(client, path).status_code == 302


def test_a_reset_is_emailed_after_the_answer_is_sent(db, client, officer, smtp):
    response = client.post("/auth/forgot-password", data={"email": officer.email})
    assert smtp.messages == []  # nothing yet: the answer takes as long for an unknown address
    response.close()
    assert [m["To"] for m in smtp.messages] == [officer.email]


def test_an_unreachable_mail_server_marks_the_message_failed(
    db, client, sign_in, coordinator, newcomer, monkeypatch
):
    monkeypatch.setitem(client.application.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(client.application.config, "MAIL_PORT", 1)  # nothing listens there
    sign_in(coordinator)
    client.post(f"/people/{newcomer.id}/invite").close()
    (message,) = messages(db)
    db.session.refresh(message)
    assert message.delivery == "failed"


# --- the audit log -------------------------------------------------------------------------------


def test_invitations_and_resets_are_audit_logged_without_the_token(
    db, client, sign_in, coordinator, newcomer
):
    path = invite(client, sign_in, coordinator, newcomer)
    set_password(client, path)
    client.post("/auth/sign-out")
    client.post("/auth/forgot-password", data={"email": newcomer.email})
    reset = link_in(messages(db, "password_reset")[0])
    set_password(client, reset, "yet another long password")
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events if e.action.startswith("account.")] == [
        "account.invited",
        "account.invitation_accepted",
        "account.reset_requested",
        "account.password_reset",
    ]
    tokens = [path.rsplit("/", 1)[1], reset.rsplit("/", 1)[1]]
    dumped = repr([(e.summary, e.before, e.after) for e in events])
    assert not any(token in dumped for token in tokens)
    assert (
        db.session.scalar(
            select(func.count()).select_from(AccountLink).where(AccountLink.used_at.is_not(None))
        )
        == 2
    )


def test_a_coordinator_cannot_invite_someone_of_another_agency(db, coordinator, make_agency, make_user):
    stranger = without_password(db, make_user(make_agency("Elsewhere")))
    with pytest.raises(accounts.AccountError, match="not in your agency"):
        invitations.invite(coordinator, stranger)
    assert messages(db) == []


# --- a confirmed email: a link emailed to the address, used -------------------------------------


def test_accepting_an_emailed_invitation_confirms_the_address(
    db, client, sign_in, coordinator, newcomer, smtp
):
    assert newcomer.confirmed_email is None  # the roster's address is the roster's claim
    sign_in(coordinator)
    client.post(f"/people/{newcomer.id}/invite").close()
    client.post("/auth/sign-out")
    (email,) = smtp.messages
    assert set_password(client, LINK.search(email.get_content()).group(1)).status_code == 302
    db.session.expire_all()
    person = db.session.get(User, newcomer.id)
    assert person.confirmed_email == "nia@riverside.test"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == person.id)).all()
    assert "account.email_confirmed" in actions


def test_a_reset_emailed_to_the_address_confirms_it(db, client, officer, smtp):
    client.post("/auth/forgot-password", data={"email": officer.email}).close()
    (email,) = smtp.messages
    set_password(client, LINK.search(email.get_content()).group(1))
    db.session.expire_all()
    assert db.session.get(User, officer.id).confirmed_email == officer.email


def test_a_link_opened_from_the_outbox_confirms_nothing(db, client, sign_in, coordinator, newcomer):
    # Without a mail server the link stays in the outbox, where others can read it.
    set_password(client, invite(client, sign_in, coordinator, newcomer))
    db.session.expire_all()
    person = db.session.get(User, newcomer.id)
    assert person.password_hash and person.confirmed_email is None


def test_an_address_changed_after_it_was_confirmed_is_not_confirmed(
    db, client, sign_in, coordinator, newcomer, smtp
):
    sign_in(coordinator)
    client.post(f"/people/{newcomer.id}/invite").close()
    client.post("/auth/sign-out")
    # The roster changes the address before the invitation is used: the new one is unproven.
    newcomer.email = "nia.new@riverside.test"
    db.session.commit()
    set_password(client, LINK.search(smtp.messages[0].get_content()).group(1))
    db.session.expire_all()
    assert db.session.get(User, newcomer.id).confirmed_email is None


def test_a_placeholder_address_is_not_invited(db, coordinator, make_user, agency):
    person = without_password(db, make_user(agency, email="lti-3-0a1b2c3d4e5f@lti.invalid"))
    with pytest.raises(accounts.AccountError, match="no email address"):
        invitations.invite(coordinator, person)
    assert messages(db) == []
