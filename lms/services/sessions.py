"""Signed-in sessions kept server-side, so that ending one ends every copy of its cookie.

The cookie holds a random token; the `UserSession` row is keyed by its SHA-256 and checked on
every request (one primary-key lookup) for its end, its absolute expiry (SESSION_MAX_HOURS)
and its idle time (SESSION_IDLE_MINUTES; `last_seen_at` is written at most once a minute, so
the idle limit is exact to a minute). Sign-out ends the row; a password change ends the
person's other rows; deactivating a person or changing their roles ends all of theirs,
whichever code path does it (a flush hook below watches `User.active` and the role grants).
The periodic job `sign-in-records` deletes ended and expired rows.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, event, inspect, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms.extensions import db
from lms.models import RoleGrant, User, UserSession
from lms.models.types import utcnow

log = logging.getLogger(__name__)

# last_seen_at is written at most this often: one small UPDATE a minute per active session.
TOUCH_EVERY = timedelta(minutes=1)
# Ids per IN (...) list: under every database's bound-parameter limit.
CHUNK = 900


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=int(current_app.config["SESSION_IDLE_MINUTES"]))


def max_age() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_MAX_HOURS"]))


def start(
    user: User,
    *,
    via: str = "password",
    user_agent: str | None = None,
    address: str | None = None,
    now: datetime | None = None,
) -> UserSession:
    """A new session record for `user`; its `token` (for the cookie) exists only on this object."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        id=_key(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + max_age(),
        via=via,
        user_agent=(user_agent or "")[:255] or None,
        address=(address or "")[:64] or None,
    )
    row.token = token
    db.session.add(row)
    db.session.flush()
    return row


def find_live(token: str, now: datetime | None = None) -> UserSession | None:
    """The session this cookie token names, if it has not ended, expired or gone idle and its
    person is still active; else None."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    # One query: the record by primary key, its person and their roles joined.
    row = db.session.get(
        UserSession, _key(token), options=[joinedload(UserSession.user).joinedload(User.role_grants)]
    )
    if row is None or row.ended_at is not None or not row.user.active:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= idle_limit():
        return None
    row.token = token
    return row


def touch(row: UserSession, now: datetime | None = None) -> None:
    """Record that the session was used, at most once a minute.

    Written in its own short transaction, apart from the request's unit of work: a page that
    only reads commits nothing, and a request that fails must not lose the sign of life.
    """
    now = now or utcnow()
    if now - row.last_seen_at < TOUCH_EVERY:
        return
    try:
        with db.engine.begin() as connection:
            connection.execute(
                update(UserSession.__table__)
                .where(UserSession.__table__.c.id == row.id)
                .values(last_seen_at=now)
            )
    except OperationalError as error:  # a busy SQLite file: the next request tries again
        log.warning("could not record session activity: %s", error.orig)
        return
    set_committed_value(row, "last_seen_at", now)  # already written: not the request's change


def end(row: UserSession, reason: str, now: datetime | None = None) -> None:
    """End one session (sign-out)."""
    if row.ended_at is None:
        row.ended_at = now or utcnow()
        row.end_reason = reason
    db.session.flush()


def end_all(user: User, reason: str, *, keep: UserSession | None = None) -> int:
    """End every live session of `user` (but `keep`, given); returns how many ended."""
    return end_for_users([user.id], reason, keep=keep)


def end_for_users(user_ids: Iterable[int], reason: str, *, keep: UserSession | None = None) -> int:
    """End every live session of these people (but `keep`, given); returns how many ended."""
    statements = _ending_statements(user_ids, reason, utcnow(), spare=() if keep is None else (keep.id,))
    # "fetch": the session rows this request has loaded show the ending too.
    options = {"synchronize_session": "fetch"}
    return sum(db.session.execute(stmt.execution_options(**options)).rowcount for stmt in statements)


def _ending_statements(user_ids: Iterable[int], reason: str, now: datetime, *, spare: Iterable[int] = ()):
    """The UPDATEs that end these people's live sessions (but those whose ids are in `spare`):
    the ids go in lists of CHUNK, under every database's bound-parameter limit (a roster
    import may deactivate thousands)."""
    ids, spared = sorted(set(user_ids)), sorted(set(spare))
    for start_at in range(0, len(ids), CHUNK):
        stmt = (
            update(UserSession)
            .where(UserSession.user_id.in_(ids[start_at : start_at + CHUNK]), UserSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason)
        )
        if spared:
            stmt = stmt.where(UserSession.id.not_in(spared))
        yield stmt


def live_for(user: User, now: datetime | None = None) -> list[UserSession]:
    """The person's sessions that still work, most recently used first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.expires_at > now,
                UserSession.last_seen_at > now - idle_limit(),
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def purge(now: datetime | None = None) -> int:
    """Delete ended, expired and idle session rows; returns how many."""
    now = now or utcnow()
    result = db.session.execute(
        delete(UserSession)
        .where(
            or_(
                UserSession.ended_at.is_not(None),
                UserSession.expires_at <= now,
                UserSession.last_seen_at <= now - idle_limit(),
            )
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- deactivation and role changes end sessions, whichever code path makes them ---------------

_PENDING = "ripple.end_sessions"


@event.listens_for(Session, "before_flush")
def _note_people_whose_sessions_end(session: Session, flush_context, instances) -> None:
    ending: dict[int, str] = session.info.setdefault(_PENDING, {})
    for obj in session.dirty:
        if not isinstance(obj, User) or obj.id is None:
            continue
        state = inspect(obj)
        active = state.attrs.active.history
        if active.added and active.added[0] is False and False not in (active.deleted or ()):
            ending[obj.id] = "deactivated"
        elif state.attrs.role_grants.history.has_changes():
            ending.setdefault(obj.id, "roles-changed")
    for obj in session.deleted:
        if isinstance(obj, RoleGrant) and obj.user_id is not None:
            ending.setdefault(obj.user_id, "roles-changed")
    if ending:
        # Sessions started in this same flush (a sign-in after the change) are not ended.
        session.info[_PENDING + ".new"] = {o.id for o in session.new if isinstance(o, UserSession)}


@event.listens_for(Session, "after_flush")
def _end_their_sessions(session: Session, flush_context) -> None:
    ending: dict[int, str] = session.info.pop(_PENDING, None) or {}
    started = session.info.pop(_PENDING + ".new", None) or set()
    now = utcnow()
    for reason in sorted(set(ending.values())):
        ids = [uid for uid, why in ending.items() if why == reason]
        # On the flush's connection: the session itself cannot execute while it flushes.
        for stmt in _ending_statements(ids, reason, now, spare=started):
            session.connection().execute(stmt)


# (marker in the User-Agent, what people call it); the first match wins, so Edge and Opera
# come before Chrome, whose marker they also carry, and Chrome before Safari.
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))  # fmt: skip
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))  # fmt: skip


def describe_browser(user_agent: str | None) -> str:
    """A person's words for a session's browser ("Chrome on Windows"), not the raw User-Agent."""
    text = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in text), None)
    system = next((name for marker, name in _SYSTEMS if marker in text), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "an unknown browser"
