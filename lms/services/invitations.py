"""Invitations and password resets: emailed links that let a person set their password.

A coordinator invites one person (their page), everyone an applied roster import added, or
everyone who has never signed in; anyone may ask for a password reset from the sign-in page.
Each link carries a random token; only its SHA-256 is stored (AccountLink), with its purpose,
its expiry (INVITE_VALID for invitations, RESET_VALID for resets) and when it was used. A
link sets a password once: redeeming claims it in one conditional UPDATE, so a link reused,
replayed or opened in two tabs at once works only the first time. A newer link of the same
purpose, or a password set through any link, ends the person's other links; setting the
password ends all of the person's sessions.

Asking for a reset never reveals whether an address has an account: the answer is the same,
and so is the work the request does before answering (the email itself goes out after the
response, see send). Requests are counted with the sign-in counters (SignInThrottle): past
RESET_PER_EMAIL for one address or RESET_PER_CLIENT from one client address in a window of
LOGIN_LOCK_MINUTES, further requests are answered the same way and send nothing.

Messages go through the outbox of lms/services/reminders.py. Without MAIL_SERVER they stay
there, link included, so that in development an invitation can be accepted from the
coordinator's outbox page (intended, and documented in the README). With MAIL_SERVER set the
link leaves only by email: the stored copy says the link was emailed and never holds the
token. The audit log records invitations, resets and their use, never a token.
"""

from __future__ import annotations

import hashlib
import secrets
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import after_this_request, current_app, has_request_context
from sqlalchemy import exists, func, select, update

from lms.dates import moment
from lms.extensions import db
from lms.models import AccountLink, Agency, LinkPurpose, OutboxMessage, RosterImport, User, UserSession
from lms.models.people import is_placeholder_email
from lms.models.types import utcnow
from lms.services import accounts, audit, reminders, sessions

INVITE_VALID = timedelta(days=7)
RESET_VALID = timedelta(hours=1)
RESET_PER_EMAIL = 3
RESET_PER_CLIENT = 20
MASKED_LINK = "(The link was emailed to this person; it is not kept here.)"
KINDS = {LinkPurpose.INVITE: "invitation", LinkPurpose.RESET: "password_reset"}

# (purpose, token) -> the absolute URL of the page that redeems it.
LinkBuilder = Callable[[str, str], str]


def link_for(purpose: str, token: str) -> str:
    """The public address of the page that redeems a link (never built from the Host header)."""
    from lms.public_urls import public_url

    endpoint = "auth.accept_invitation" if purpose == LinkPurpose.INVITE.value else "auth.reset_password"
    return public_url(endpoint, token=token)


class LinkProblem(ValueError):
    """A link that cannot be used; `reason` is unknown | used | expired | ended | inactive."""

    MESSAGES = {
        "unknown": "This link is not valid. Check that you copied the whole address from the email.",
        "used": "This link has already been used. Each link works once.",
        "expired": "This link has expired.",
        "ended": "A newer link was sent after this one, or the password was set since; use the newest email.",
        "inactive": "This account is deactivated. Please contact your agency's training coordinator.",
    }

    def __init__(self, reason: str):
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


@dataclass
class Invited:
    """What inviting a group did: who was invited, and who was not and why."""

    sent: list[User]
    skipped: dict[str, int]  # reason -> how many


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_link(user: User, purpose: LinkPurpose, actor: User | None, now: datetime) -> tuple[AccountLink, str]:
    # Only the newest email works: older links of the same purpose end here.
    db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose.value,
            AccountLink.used_at.is_(None),
            AccountLink.ended_at.is_(None),
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    link = AccountLink(
        agency_id=user.agency_id,
        user_id=user.id,
        purpose=purpose.value,
        token_hash=digest(token),
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
        expires_at=now + (INVITE_VALID if purpose is LinkPurpose.INVITE else RESET_VALID),
    )
    db.session.add(link)
    db.session.flush()
    return link, token


def _message(user: User, link: AccountLink, url: str, subject: str, text: str) -> tuple[OutboxMessage, str]:
    """The outbox row and the email's real body. With a mail server the row keeps a copy
    without the link; without one it keeps the link, to be opened from the outbox."""
    body = (
        f"Hello {user.name},\n\n{text}\n\n{url}\n\nThe link works once and expires {moment(link.expires_at)}."
    )
    mailed = bool(current_app.config.get("MAIL_SERVER"))
    message = OutboxMessage(
        agency_id=user.agency_id,
        user_id=user.id,
        kind=KINDS[LinkPurpose(link.purpose)],
        dedupe_key=f"account-link:{link.id}",
        to_email=user.email,
        subject=subject,
        body=body.replace(url, MASKED_LINK) if mailed else body,
        details={"account_link": link.id},
        delivery="queued" if mailed else "outbox",
    )
    db.session.add(message)
    db.session.flush()
    return message, body


def why_not_invitable(person: User) -> str | None:
    """Why `person` cannot be invited, in words, or None."""
    if not person.active:
        return "deactivated"
    if person.agency_id is None:
        return "not in an agency"
    if person.password_hash:
        return "already has a password"
    if is_placeholder_email(person.email):
        return "no email address (only a placeholder from a learning platform)"
    return None


def invite(actor: User, person: User, link_for: LinkBuilder = link_for) -> tuple[OutboxMessage, str]:
    """Invite one person of the actor's agency to set a password; returns the outbox message
    and the email's body (for send). Raises AccountError when the person cannot be invited."""
    if person.agency_id != actor.agency_id and not actor.is_platform_admin:
        raise accounts.AccountError(f"{person.name} is not in your agency.")
    reason = why_not_invitable(person)
    if reason:
        raise accounts.AccountError(f"{person.name} cannot be invited: {reason}.")
    now = utcnow()
    link, token = _new_link(person, LinkPurpose.INVITE, actor, now)
    agency = db.session.get(Agency, person.agency_id)
    queued = _message(
        person,
        link,
        link_for(LinkPurpose.INVITE.value, token),
        "You're invited to Ripple",
        f"{actor.name} invited you to Ripple, the training site of {agency.name}. "
        "Open this link to choose your password and sign in:",
    )
    audit.record(actor, "account.invited", person, summary=f"invitation sent to {person.email}")
    return queued


def invite_many(
    actor: User, people: Iterable[User], link_for: LinkBuilder = link_for
) -> tuple[Invited, list]:
    """Invite each of `people` who can be; the others are counted by reason."""
    result, messages = Invited([], {}), []
    for person in people:
        reason = why_not_invitable(person)
        if reason:
            result.skipped[reason] = result.skipped.get(reason, 0) + 1
            continue
        messages.append(invite(actor, person, link_for))
        result.sent.append(person)
    return result, messages


def added_by_import(record: RosterImport) -> list[User]:
    """The people an applied import added (whatever they have done since)."""
    ids = record.added_user_ids or []
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(User).where(User.agency_id == record.agency_id, User.id.in_(ids)).order_by(User.name)
        )
    )


def _never_signed_in(agency: Agency):
    return select(User).where(
        User.agency_id == agency.id,
        User.active.is_(True),
        User.password_hash.is_(None),
        ~exists().where(UserSession.user_id == User.id),
    )


def never_signed_in(agency: Agency) -> list[User]:
    """The agency's active people with no password who have never signed in (not even from a
    learning platform)."""
    return list(db.session.scalars(_never_signed_in(agency).order_by(User.name)))


def never_signed_in_count(agency: Agency) -> int:
    """How many never_signed_in(agency) would list, in one query."""
    return db.session.scalar(select(func.count()).select_from(_never_signed_in(agency).subquery()))


def request_reset(
    email: str,
    *,
    address: str | None,
    link_for: LinkBuilder = link_for,
    policy: accounts.SignInPolicy | None = None,
):
    """Queue a password-reset email for the active account with this address, if any and if
    the limits allow; returns (message, body) or None. The caller answers the same either way."""
    policy = policy or accounts.SignInPolicy()
    # Both counters count every request, so neither the counting nor the answer says anything.
    busy_email = accounts.over_limit("reset-email", accounts.normalise_email(email), RESET_PER_EMAIL, policy)
    busy_client = accounts.over_limit("reset-client", accounts.client_key(address), RESET_PER_CLIENT, policy)
    user = accounts.find_by_email(email)
    if busy_email or busy_client or user is None or not user.active or user.agency_id is None:
        db.session.flush()
        return None
    link, token = _new_link(user, LinkPurpose.RESET, None, utcnow())
    queued = _message(
        user,
        link,
        link_for(LinkPurpose.RESET.value, token),
        "Reset your Ripple password",
        "Someone, we hope you, asked to reset your Ripple password. Open this link to choose a new one:",
    )
    audit.record(None, "account.reset_requested", user, summary=f"reset link sent to {user.email}")
    return queued


def open_link(token: str, purpose: LinkPurpose) -> AccountLink:
    """The link `token` names, if it can still set a password; else LinkProblem."""
    link = db.session.scalar(
        select(AccountLink).where(
            AccountLink.token_hash == digest(token), AccountLink.purpose == purpose.value
        )
    )
    if link is None:
        raise LinkProblem("unknown")
    if link.used_at is not None:
        raise LinkProblem("used")
    if link.ended_at is not None:
        raise LinkProblem("ended")
    if link.expires_at <= utcnow():
        raise LinkProblem("expired")
    if not link.user.active:
        raise LinkProblem("inactive")
    return link


def redeem(token: str, purpose: LinkPurpose, password: str) -> User:
    """Set the password through the link, once: returns the person (the caller signs them in
    through lms.access.sign_in). Ends their other links and all their sessions."""
    link = open_link(token, purpose)
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        raise accounts.AccountError(
            f"The password must be at least {accounts.MIN_PASSWORD_LENGTH} characters.", "new_password"
        )
    now = utcnow()
    claimed = db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.id == link.id,
            AccountLink.used_at.is_(None),
            AccountLink.ended_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # another request used it between our read and this write
        raise LinkProblem("used")
    user = link.user
    db.session.execute(
        update(AccountLink)
        .where(AccountLink.user_id == user.id, AccountLink.id != link.id, AccountLink.used_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    user.password_hash = accounts.hash_password(password)
    _confirm_address(user, link)
    invited = purpose is LinkPurpose.INVITE
    sessions.end_all(user, "invitation-accepted" if invited else "password-reset")
    audit.record(
        user,
        "account.invitation_accepted" if invited else "account.password_reset",
        user,
        summary="password set from an invitation" if invited else "password reset by email link",
    )
    db.session.flush()
    return user


def emailed_to(link: AccountLink) -> str | None:
    """The address a mail server accepted this link's email for, or None (it stayed in the
    outbox: without MAIL_SERVER anyone who reads the outbox could have opened it)."""
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"account-link:{link.id}")
    )
    return message.to_email if message is not None and message.delivery == "smtp" else None


def _confirm_address(user: User, link: AccountLink) -> None:
    """Using a link that was emailed to the person's current address proves they get mail
    there: that address becomes their confirmed one (User.confirmed_email)."""
    address = emailed_to(link)
    if not address or address.lower() != user.email.lower() or is_placeholder_email(address):
        return
    if (user.email_confirmed or "").lower() == address.lower():
        return
    user.email_confirmed = user.email
    audit.record(user, "account.email_confirmed", user, summary=f"{user.email} confirmed by an emailed link")


def send(messages: list[tuple[OutboxMessage, str]], settings: reminders.MailSettings) -> None:
    """Deliver queued link messages. Without a mail server there is nothing to do (they are in
    the outbox already). With one, inside a request they are emailed once the response has been
    sent, so that asking for a reset takes as long whether or not the address has an account;
    outside a request, at once."""
    if not settings.server or not messages:
        return
    bodies = {message.id: body for message, body in messages}
    if not has_request_context():
        _email(bodies, settings)
        return
    app = current_app._get_current_object()

    @after_this_request
    def later(response):
        def deliver():
            with app.app_context():
                try:
                    _email(bodies, settings)
                    db.session.commit()
                except Exception:  # the page is already sent; the outbox shows what failed
                    db.session.rollback()
                    app.logger.exception("emailing account links failed")

        response.call_on_close(deliver)
        return response


def _email(bodies: dict[int, str], settings: reminders.MailSettings) -> None:
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(bodies))))
    try:
        reminders.deliver(rows, settings, bodies=bodies)
    except (OSError, smtplib.SMTPException):  # the server is unreachable or refused us
        for row in rows:
            if row.delivery != "smtp":
                row.delivery = "failed"
    db.session.flush()
