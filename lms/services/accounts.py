"""Accounts: passwords, sign-in with per-address limits, roles."""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from lms.extensions import db
from lms.models import Role, RoleGrant, SignInThrottle, User
from lms.models.types import UTCDateTime, utcnow
from lms.services import audit, sessions

# OWASP's recommended argon2id setting (19 MiB, 2 passes, 1 lane): strong against offline
# guessing, yet cheap enough that a whole shift signing in at once does not stall the site.
# RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes) costs about ten times the CPU per
# sign-in; on a 2-core machine it made a 200-officer sign-in wave the bottleneck (`make load`).
PROFILES = {
    "OWASP": Parameters(
        type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=2, memory_cost=19 * 1024, parallelism=1
    ),
    "RFC_9106_LOW_MEMORY": profiles.RFC_9106_LOW_MEMORY,
    "RFC_9106_HIGH_MEMORY": profiles.RFC_9106_HIGH_MEMORY,
    "CHEAPEST": profiles.CHEAPEST,  # the test suite only
}
_hasher = PasswordHasher.from_parameters(PROFILES["OWASP"])
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("ripple-timing-equaliser")


def use_hash_profile(name: str) -> None:
    """Choose the argon2 parameters by name (config PASSWORD_HASH_PROFILE; see PROFILES).

    Hashes made under any profile keep verifying; on the next sign-in they are re-hashed
    with the chosen one.
    """
    global _hasher, _DUMMY_HASH
    if name not in PROFILES:
        raise ValueError(f"PASSWORD_HASH_PROFILE must be one of {', '.join(PROFILES)}, not {name!r}")
    wanted = PROFILES[name]
    if (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism) == (
        wanted.time_cost,
        wanted.memory_cost,
        wanted.parallelism,
    ):
        return
    _hasher = PasswordHasher.from_parameters(wanted)
    _DUMMY_HASH = _hasher.hash("ripple-timing-equaliser")


MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the user.

    `field` names the form field the problem belongs to, so the page can show it there.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and user is not None and user.password_hash is not None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    # One of: "ok", "invalid", "locked" (this email from this address, minutes), "slowed"
    # (this email from this address, seconds: the address has many recent failures), "inactive".
    outcome: str
    minutes_left: int = 0
    seconds_left: int = 0


@dataclass(frozen=True)
class SignInPolicy:
    """How many failed password checks count, in what window, and what they cost.

    Failures are counted in a window of `lock_minutes` that starts at the first failure; the
    first failure after the window starts a new one, so occasional typos never add up.

    - One email tried from one client address (the "pair"): `max_failures` password checks in
      a window, then that email is locked *from that address only* for `lock_minutes`, so a
      guesser never locks the owner out elsewhere.
    - One client address across all emails: past `address_max_failures` failures in a window
      the address is slowed down, never locked (OWASP: lockouts that anyone can trigger are a
      denial of service). Each further failure pauses that email from that address for a
      delay doubling from 2 seconds up to `slow_down_max_seconds`; an email with no recent
      failures from the address (a colleague behind the same NAT) still signs in at once.

    An IPv6 client is counted by its /64, which one subscriber usually holds whole.
    """

    max_failures: int = 5
    lock_minutes: int = 15
    address_max_failures: int = 20
    slow_down_max_seconds: int = 60

    @classmethod
    def from_config(cls, config) -> SignInPolicy:
        return cls(
            max_failures=int(config["LOGIN_MAX_FAILURES"]),
            lock_minutes=int(config["LOGIN_LOCK_MINUTES"]),
            address_max_failures=int(config["LOGIN_ADDRESS_MAX_FAILURES"]),
        )

    def slow_down_seconds(self, pair_failures: int) -> int:
        return min(self.slow_down_max_seconds, 2 ** min(max(pair_failures, 1), 16))


def client_key(address: str | None) -> str:
    """The client address as counted: IPv4 as is, IPv6 by its /64 (an IPv4-mapped one as IPv4)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _throttle_key(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\n{value}".encode()).hexdigest()


def _throttle(scope: str, value: str) -> SignInThrottle | None:
    return db.session.scalar(select(SignInThrottle).where(SignInThrottle.key == _throttle_key(scope, value)))


def _seconds_left(row: SignInThrottle | None, now: datetime) -> int:
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return max(1, math.ceil((row.locked_until - now).total_seconds()))


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _count(scope: str, value: str, now: datetime, policy: SignInPolicy, *, limit: int | None = None) -> int:
    """Count one for (scope, value) in one atomic statement and return the count in the window.

    UPDATE ... SET failures = failures + 1 ... RETURNING, so concurrent requests each get
    their own number (never a lost update); the first one inserts, and an insert racing
    another of the same key falls back to the update. The count starts over when the
    window has passed, or when it had reached `limit` and that lock has ended.
    """
    key = _throttle_key(scope, value)
    t = SignInThrottle
    restart = or_(
        t.window_started_at.is_(None),
        t.window_started_at <= now - timedelta(minutes=policy.lock_minutes),
    )
    if limit is not None:
        restart = or_(restart, and_(t.failures >= limit, t.locked_until.is_not(None), t.locked_until <= now))
    stamp = literal(now, UTCDateTime())
    bump = (
        update(t)
        .where(t.key == key)
        .values(
            failures=case((restart, 1), else_=t.failures + 1),
            window_started_at=case((restart, stamp), else_=t.window_started_at),
            locked_until=case((restart, None), else_=t.locked_until),
            last_failure_at=now,
        )
        .returning(t.failures)
        .execution_options(synchronize_session=False)
    )
    for _ in range(3):
        count = db.session.execute(bump).scalar()
        if count is not None:
            return count
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(t).values(
                        key=key, scope=scope, failures=1, window_started_at=now, last_failure_at=now
                    )
                )
            return 1
        except IntegrityError:
            continue  # another request inserted it first: count on its row
    raise RuntimeError(f"could not count a {scope} sign-in failure")


def over_limit(scope: str, value: str, limit: int, policy: SignInPolicy | None = None) -> bool:
    """Count one request for (scope, value) in a window of `policy.lock_minutes`, atomically
    (the sign-in counters' window), and say whether it is past `limit` in that window. For
    requests that are limited without being failures, such as password-reset emails."""
    policy = policy or SignInPolicy()
    return _count(scope, value, utcnow(), policy) > limit


def _pause(scope: str, value: str, until: datetime) -> None:
    """Pause (scope, value) until `until`, never shortening a longer pause already set."""
    t = SignInThrottle
    db.session.execute(
        update(t)
        .where(t.key == _throttle_key(scope, value), or_(t.locked_until.is_(None), t.locked_until < until))
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )


def _forget(scope: str, value: str) -> None:
    db.session.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.key == _throttle_key(scope, value))
        .execution_options(synchronize_session=False)
    )


def _refusal(row: SignInThrottle, now: datetime, policy: SignInPolicy) -> SignInResult:
    seconds = _seconds_left(row, now)
    if (row.failures or 0) >= policy.max_failures:
        return SignInResult(None, "locked", _minutes(seconds), seconds)
    return SignInResult(None, "slowed", _minutes(seconds), seconds)


def authenticate(
    email: str, password: str, *, address: str | None, policy: SignInPolicy | None = None
) -> SignInResult:
    """Check a sign-in attempt from client `address`, counting failures server-side.

    See SignInPolicy. Each password check is counted for the (email, address) pair *before*
    it is made, atomically, so concurrent guesses cannot get more than `max_failures` checks
    between them; a success forgets the pair's count. Whether the email has an account
    changes nothing in the answer or the counting, so neither a pause nor its message reveals
    which emails exist.
    """
    policy = policy or SignInPolicy()
    now = utcnow()
    address = client_key(address)
    pair_value = f"{normalise_email(email)}\n{address}"
    pair = _throttle("pair", pair_value)
    if _seconds_left(pair, now):
        return _refusal(pair, now, policy)
    attempt = _count("pair", pair_value, now, policy, limit=policy.max_failures)
    if attempt > policy.max_failures:  # concurrent guesses used up the window's checks
        _pause("pair", pair_value, now + timedelta(minutes=policy.lock_minutes))
        db.session.flush()
        return SignInResult(None, "locked", policy.lock_minutes, policy.lock_minutes * 60)
    user = find_by_email(email)
    if not password_matches(user, password):
        address_failures = _count("address", address, now, policy)
        if attempt >= policy.max_failures:
            _pause("pair", pair_value, now + timedelta(minutes=policy.lock_minutes))
            if user is not None:
                audit.record(None, "account.locked", user, summary=f"{user.email} locked for {address}")
            db.session.flush()
            return SignInResult(None, "locked", policy.lock_minutes, policy.lock_minutes * 60)
        if address_failures > policy.address_max_failures:
            delay = policy.slow_down_seconds(attempt)
            _pause("pair", pair_value, now + timedelta(seconds=delay))
            db.session.flush()
            return SignInResult(None, "slowed", _minutes(delay), delay)
        db.session.flush()
        return SignInResult(None, "invalid")
    # Success forgets this email's count for this address; the address's own count stays, so
    # signing in to one's own account does not buy more guesses at others.
    _forget("pair", pair_value)
    db.session.flush()
    if not user.active:
        return SignInResult(None, "inactive")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignInResult(user, "ok")


def change_password(user: User, current: str, new: str, *, policy: SignInPolicy | None = None) -> None:
    """Change a user's password after checking the current one; ends all of their sessions
    (the caller signs this browser in again, with a new session: a stolen copy of the current
    cookie dies too).

    Current-password checks are counted per person, whatever the address, atomically and
    before each check: after `policy.max_failures` wrong ones in a window the change is
    refused for `policy.lock_minutes`. A failure raises AccountError after counting it: the
    caller commits the count.
    """
    policy = policy or SignInPolicy()
    now = utcnow()
    value = str(user.id)
    counter = _throttle("password", value)
    if _seconds_left(counter, now):
        raise AccountError(_password_paused(_minutes(_seconds_left(counter, now))), "current_password")
    attempt = _count("password", value, now, policy, limit=policy.max_failures)
    if attempt > policy.max_failures:
        _pause("password", value, now + timedelta(minutes=policy.lock_minutes))
        db.session.flush()
        raise AccountError(_password_paused(policy.lock_minutes), "current_password")
    if not password_matches(user, current):
        if attempt >= policy.max_failures:
            _pause("password", value, now + timedelta(minutes=policy.lock_minutes))
            audit.record(user, "account.password_change_locked", user, summary="too many wrong passwords")
            db.session.flush()
            raise AccountError(_password_paused(policy.lock_minutes), "current_password")
        db.session.flush()
        raise AccountError("Your current password is not correct.", "current_password")
    # The right current password: the check does not count against the person.
    _forget("password", value)
    if len(new) < MIN_PASSWORD_LENGTH:
        db.session.flush()
        raise AccountError(
            f"The new password must be at least {MIN_PASSWORD_LENGTH} characters.", "new_password"
        )
    if new == current:
        db.session.flush()
        raise AccountError("The new password must differ from the current one.", "new_password")
    user.password_hash = hash_password(new)
    sessions.end_all(user, "password-changed")
    audit.record(user, "account.password_changed", user, summary="password changed")
    db.session.flush()


def _password_paused(minutes: int) -> str:
    return (
        "Too many wrong current passwords. For your security, changing the password is paused "
        f"for {minutes} minute{'s' if minutes != 1 else ''}."
    )


def purge_throttles(now: datetime, policy: SignInPolicy) -> int:
    """Delete counters that no longer count: unlocked and quiet for a whole window."""
    quiet = now - timedelta(minutes=policy.lock_minutes)
    result = db.session.execute(
        delete(SignInThrottle)
        .where(
            or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until <= now),
            or_(SignInThrottle.last_failure_at.is_(None), SignInThrottle.last_failure_at <= quiet),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def set_roles(actor: User, user: User, roles: set[Role]) -> None:
    """Replace a user's roles, recording the before and after in the audit log.

    A change ends all of the person's sessions (services/sessions.py does it on flush).
    """
    before = sorted(r.value for r in user.roles)
    after = sorted(r.value for r in roles)
    if before == after:
        return
    if Role.ADMIN in roles and not actor.is_platform_admin:
        raise AccountError("Only a platform admin can grant the platform admin role.", "roles")
    user.role_grants = [g for g in user.role_grants if g.role in after]
    held = {g.role for g in user.role_grants}
    for role in after:
        if role not in held:
            user.role_grants.append(RoleGrant(role=role))
    audit.record(
        actor,
        "user.roles_changed",
        user,
        summary=f"roles of {user.email}",
        before={"roles": before},
        after={"roles": after},
    )
    db.session.flush()
