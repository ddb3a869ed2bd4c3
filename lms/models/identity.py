"""Agency identity: the directories an agency's people sign in with, and who is who there.

- `IdentityProvider`: one agency's OpenID Connect provider or SAML identity provider, with
  what both kinds share (the email domains it answers for, the claim or attribute that carries
  the badge number, the rules mapping directory groups to Ripple roles and units). What only
  one kind needs (issuer and client for OIDC; IdP metadata for SAML) is in `settings`.
- `ExternalIdentity`: one person of the directory (provider, subject) linked to one of our
  people. A sign-in finds the person by this link only; the link is made once, by the
  configured identifier (lms.services.identity.linking), never by email alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.people import Agency, User
from lms.models.types import UTCDateTime, utcnow

PROVIDER_KINDS = ("oidc", "saml")


class IdentityProvider(db.Model):
    """An agency's directory that its people sign in with (OIDC or SAML)."""

    __tablename__ = "identity_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "oidc" | "saml"
    name: Mapped[str] = mapped_column(String(120))  # what the sign-in button says
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Lower-case email domains, one per line: people typing an address there are sent here.
    email_domains: Mapped[str] = mapped_column(Text, default="")
    # The claim (OIDC) or attribute (SAML) that carries the badge number the roster knows.
    identifier_claim: Mapped[str] = mapped_column(String(120), default="employee_id")
    # The claim or attribute that lists the person's directory groups.
    groups_claim: Mapped[str] = mapped_column(String(120), default="groups")
    # [{"group": "Training Unit", "role": "instructor" | None, "unit": "PATROL-N" | None}, ...]
    group_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Whether a directory person matching no roster record gets a new officer account.
    create_accounts: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kind-specific settings (issuer, client id ... for OIDC; metadata ... for SAML).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A secret kept apart from `settings` so a settings dump never shows it (OIDC client secret).
    secret: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship()

    @property
    def domains(self) -> list[str]:
        return [line.strip().lower() for line in (self.email_domains or "").splitlines() if line.strip()]

    @property
    def kind_label(self) -> str:
        return {"oidc": "OpenID Connect", "saml": "SAML 2.0"}.get(self.kind, self.kind)

    def __repr__(self) -> str:
        return f"<IdentityProvider {self.kind} {self.name!r} agency={self.agency_id}>"


class ExternalIdentity(db.Model):
    """A directory person (provider, subject) linked to one of our people."""

    __tablename__ = "external_identities"
    __table_args__ = (
        UniqueConstraint("provider_id", "subject"),
        # One directory identity per person per provider: a second subject cannot take over
        # an account already linked.
        UniqueConstraint("provider_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[IdentityProvider] = relationship()
    user: Mapped[User] = relationship()
