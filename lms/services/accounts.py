"""Accounts: passwords, sign-in with per-address limits, roles."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from lms.extensions import db
from lms.models import Role, RoleGrant, SignInThrottle, User
from lms.models.types import utcnow
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
    # One of: "ok", "invalid", "locked" (this email from this address), "address-locked"
    # (every email from this address), "inactive".
    outcome: str
    minutes_left: int = 0


@dataclass(frozen=True)
class SignInPolicy:
    """How many failed password checks are allowed, and for how long a lock holds.

    Failures count within `lock_minutes` of the last one. `max_failures` applies to one email
    address tried from one client address: an attacker's failures lock that email for the
    attacker's address only, so the owner signing in from anywhere else is never locked out.
    `address_max_failures` caps the failures from one client address across all emails, so
    one address cannot try five passwords on every account.
    """

    max_failures: int = 5
    lock_minutes: int = 15
    address_max_failures: int = 20

    @classmethod
    def from_config(cls, config) -> SignInPolicy:
        return cls(
            max_failures=int(config["LOGIN_MAX_FAILURES"]),
            lock_minutes=int(config["LOGIN_LOCK_MINUTES"]),
            address_max_failures=int(config["LOGIN_ADDRESS_MAX_FAILURES"]),
        )


def _throttle_key(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\n{value}".encode()).hexdigest()


def _throttle(scope: str, value: str, now: datetime, policy: SignInPolicy) -> SignInThrottle | None:
    """The live counter for (scope, value), or None; a counter whose window passed starts over."""
    row = db.session.scalar(select(SignInThrottle).where(SignInThrottle.key == _throttle_key(scope, value)))
    if row is None:
        return None
    window = timedelta(minutes=policy.lock_minutes)
    if row.locked_until is not None and row.locked_until <= now:
        row.locked_until, row.failures = None, 0
    if row.locked_until is None and row.last_failure_at is not None and now - row.last_failure_at >= window:
        row.failures = 0
    return row


def _minutes_left(row: SignInThrottle | None, now: datetime) -> int:
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return max(1, int((row.locked_until - now).total_seconds() // 60) + 1)


def _count_failure(
    scope: str, value: str, row: SignInThrottle | None, limit: int, now: datetime, policy: SignInPolicy
) -> bool:
    """Count one failure; True when it reaches `limit` and locks. Concurrent first failures
    for the same key (two workers) are resolved by the unique key."""
    if row is None:
        try:
            with db.session.begin_nested():
                row = SignInThrottle(key=_throttle_key(scope, value), scope=scope, failures=0)
                db.session.add(row)
        except IntegrityError:
            row = _throttle(scope, value, now, policy)
    row.failures = (row.failures or 0) + 1
    row.last_failure_at = now
    if row.failures >= limit:
        row.failures = 0
        row.locked_until = now + timedelta(minutes=policy.lock_minutes)
        return True
    return False


def authenticate(
    email: str, password: str, *, address: str | None, policy: SignInPolicy | None = None
) -> SignInResult:
    """Check a sign-in attempt from client `address`, counting failures server-side.

    See SignInPolicy. Whether the email has an account changes nothing in the answer or the
    counting, so neither a lock nor its message reveals which emails exist.
    """
    policy = policy or SignInPolicy()
    now = utcnow()
    address = address or "unknown"
    email_key = normalise_email(email)
    from_address = _throttle("address", address, now, policy)
    if _minutes_left(from_address, now):
        return SignInResult(None, "address-locked", _minutes_left(from_address, now))
    pair = _throttle("pair", f"{email_key}\n{address}", now, policy)
    if _minutes_left(pair, now):
        return SignInResult(None, "locked", _minutes_left(pair, now))
    user = find_by_email(email)
    if not password_matches(user, password):
        address_locked = _count_failure(
            "address", address, from_address, policy.address_max_failures, now, policy
        )
        locked = _count_failure("pair", f"{email_key}\n{address}", pair, policy.max_failures, now, policy)
        if locked and user is not None:
            audit.record(None, "account.locked", user, summary=f"{user.email} locked for {address}")
        db.session.flush()
        if locked:
            return SignInResult(None, "locked", policy.lock_minutes)
        if address_locked:
            return SignInResult(None, "address-locked", policy.lock_minutes)
        return SignInResult(None, "invalid")
    # Success clears this email's count for this address; the address's own count stays, so
    # signing in to one's own account does not buy more guesses at others.
    if pair is not None:
        pair.failures, pair.locked_until = 0, None
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

    Wrong current passwords count like failed sign-ins (per person, whatever the address):
    after `policy.max_failures` the change is refused for `policy.lock_minutes`. A failure
    raises AccountError after counting it: the caller commits the count.
    """
    policy = policy or SignInPolicy()
    now = utcnow()
    counter = _throttle("password", str(user.id), now, policy)
    if _minutes_left(counter, now):
        raise AccountError(_password_paused(_minutes_left(counter, now)), "current_password")
    if not password_matches(user, current):
        if _count_failure("password", str(user.id), counter, policy.max_failures, now, policy):
            audit.record(user, "account.password_change_locked", user, summary="too many wrong passwords")
            db.session.flush()
            raise AccountError(_password_paused(policy.lock_minutes), "current_password")
        db.session.flush()
        raise AccountError("Your current password is not correct.", "current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"The new password must be at least {MIN_PASSWORD_LENGTH} characters.", "new_password"
        )
    if new == current:
        raise AccountError("The new password must differ from the current one.", "new_password")
    if counter is not None:
        counter.failures, counter.locked_until = 0, None
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
