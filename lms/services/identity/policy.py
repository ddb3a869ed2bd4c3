"""An agency's sign-in policy: SSO as the only way in, a second factor for staff, idle timeout.

The settings live on `Agency` (sso_only, mfa_for_staff, mfa_grace_days, mfa_required_since,
idle_minutes). Turning the second-factor rule on starts its grace period now; staff without a
second factor may sign in during it and are asked to enrol, then must enrol before going on.
"""

from __future__ import annotations

from dataclasses import dataclass

from lms.extensions import db
from lms.models import Agency, User
from lms.models.types import utcnow
from lms.services import audit
from lms.services.identity.providers import ProviderError, check_manager, providers_of

IDLE_MINUTES = (5, 10, 15, 20, 30, 45, 60, 120, 240, 480)
MAX_GRACE_DAYS = 90


@dataclass(frozen=True)
class SignInPolicy:
    sso_only: bool
    mfa_for_staff: bool
    mfa_grace_days: int
    idle_minutes: int


def update(actor: User, agency: Agency, policy: SignInPolicy) -> Agency:
    """Save the agency's sign-in policy; audit-logged; flushes. Raises ProviderError (with the
    field) for a value that cannot be saved."""
    check_manager(actor, agency)
    if policy.idle_minutes not in IDLE_MINUTES:
        raise ProviderError("Idle timeout: choose one of the times offered.", "idle_minutes")
    if not 0 <= policy.mfa_grace_days <= MAX_GRACE_DAYS:
        raise ProviderError(f"Grace period: 0 to {MAX_GRACE_DAYS} days.", "mfa_grace_days")
    if policy.sso_only and not any(p.active for p in providers_of(agency)):
        raise ProviderError(
            "Single sign-on only: first add a directory sign-in and turn it on, or nobody could sign in.",
            "sso_only",
        )
    before = _as_dict(agency)
    if policy.mfa_for_staff and not agency.mfa_for_staff:
        agency.mfa_required_since = utcnow()
    agency.sso_only = policy.sso_only
    agency.mfa_for_staff = policy.mfa_for_staff
    agency.mfa_grace_days = policy.mfa_grace_days
    agency.idle_minutes = policy.idle_minutes
    after = _as_dict(agency)
    if before != after:
        db.session.flush()
        audit.record(
            actor,
            "agency.sign_in_policy_changed",
            agency,
            summary="sign-in policy",
            before=before,
            after=after,
            agency_id=agency.id,
        )
    return agency


def _as_dict(agency: Agency) -> dict:
    return {
        "sso_only": bool(agency.sso_only),
        "mfa_for_staff": bool(agency.mfa_for_staff),
        "mfa_grace_days": agency.mfa_grace_days,
        "idle_minutes": agency.idle_minutes,
    }
