"""API tokens: created by coordinators for their agency's records system, stored hashed.

A token reads `rpl_<prefix>_<secret>`; only its SHA-256 is kept (the token is long and random,
so a slow hash adds nothing), and the prefix is shown so people can tell tokens apart. A token
carries scopes and can be revoked at once; it never sees another agency.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from lms.extensions import db
from lms.models import Agency, ApiToken, Role, User
from lms.models.types import utcnow
from lms.services import audit

SCOPES = {
    "people:read": "Read people",
    "people:write": "Create and update people (roster sync)",
    "assignments:read": "Read assignments",
    "completions:read": "Read completions",
    "certificates:read": "Read certificates",
}


class TokenError(ValueError):
    """A token request that cannot be carried out; the message is for the coordinator."""


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _require_staff(actor: User, agency_id: int) -> None:
    if actor.is_platform_admin:
        return
    if actor.agency_id != agency_id or not actor.has_role(Role.COORDINATOR):
        raise TokenError("Only the agency's training coordinators manage its API tokens.")


def create_token(actor: User, agency: Agency, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """A new token for `agency`; returns it with the plain token, which is shown only once."""
    _require_staff(actor, agency.id)
    name = (name or "").strip()
    if not name:
        raise TokenError("Give the token a name, e.g. the system that will use it.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenError(f"Unknown scopes: {', '.join(unknown)}.")
    if not scopes:
        raise TokenError("Choose at least one scope.")
    prefix = secrets.token_hex(4)
    raw = f"rpl_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        agency_id=agency.id,
        name=name[:200],
        prefix=prefix,
        token_hash=_hash(raw),
        scopes=sorted(set(scopes)),
        created_by_id=actor.id,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "api_token.created", token, summary=f"API token {name} ({', '.join(token.scopes)})")
    return token, raw


def revoke_token(actor: User, token: ApiToken) -> None:
    """Revoke a token: every later request with it is refused."""
    _require_staff(actor, token.agency_id)
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id
    db.session.flush()
    audit.record(actor, "api_token.revoked", token, summary=f"API token {token.name} revoked")


def tokens_of(agency: Agency) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.agency_id == agency.id).order_by(ApiToken.created_at.desc())
        )
    )


def authenticate(raw: str | None) -> ApiToken | None:
    """The active token matching `raw`, or None. Notes when it was last used (once a minute)."""
    if not raw or not raw.startswith("rpl_") or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(raw)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        db.session.flush()
    return token
