"""Accounts: passwords, sign-in with lockout, roles."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Role, RoleGrant, SignInThrottle, User
from lms.models.types import utcnow
from lms.services import audit

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
    # One of: "ok", "invalid", "locked", "inactive".
    outcome: str
    minutes_left: int = 0


def _throttle_for(email: str) -> SignInThrottle:
    key = hashlib.sha256(normalise_email(email).encode()).hexdigest()
    throttle = db.session.scalar(select(SignInThrottle).where(SignInThrottle.email_key == key))
    if throttle is None:
        throttle = SignInThrottle(email_key=key, failures=0)
        db.session.add(throttle)
    return throttle


def authenticate(email: str, password: str, *, max_failures: int, lock_minutes: int) -> SignInResult:
    """Check a sign-in attempt, counting failures per email address tried.

    After `max_failures` failures in a row the address is locked for `lock_minutes`,
    whether or not an account has it, so the answer never reveals which emails exist.
    """
    now = utcnow()
    throttle = _throttle_for(email)
    if throttle.locked_until is not None and throttle.locked_until > now:
        left = max(1, int((throttle.locked_until - now).total_seconds() // 60) + 1)
        return SignInResult(None, "locked", left)
    user = find_by_email(email)
    if not password_matches(user, password):
        throttle.failures = (throttle.failures or 0) + 1
        throttle.last_failure_at = now
        if throttle.failures >= max_failures:
            throttle.locked_until = now + timedelta(minutes=lock_minutes)
            throttle.failures = 0
            if user is not None:
                audit.record(None, "account.locked", user, summary=f"{user.email} locked")
            db.session.flush()
            return SignInResult(None, "locked", lock_minutes)
        db.session.flush()
        return SignInResult(None, "invalid")
    throttle.failures = 0
    throttle.locked_until = None
    db.session.flush()
    if not user.active:
        return SignInResult(None, "inactive")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignInResult(user, "ok")


def change_password(user: User, current: str, new: str) -> None:
    """Change a user's password after checking the current one; ends other sessions."""
    if not password_matches(user, current):
        raise AccountError("Your current password is not correct.", "current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"The new password must be at least {MIN_PASSWORD_LENGTH} characters.", "new_password"
        )
    if new == current:
        raise AccountError("The new password must differ from the current one.", "new_password")
    user.password_hash = hash_password(new)
    user.session_epoch = (user.session_epoch or 0) + 1
    audit.record(user, "account.password_changed", user, summary="password changed")
    db.session.flush()


def set_roles(actor: User, user: User, roles: set[Role]) -> None:
    """Replace a user's roles, recording the before and after in the audit log."""
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
