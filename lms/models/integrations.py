"""Connections to agencies' other systems: LTI 1.3 platforms, learning-record stores, the API.

- LTI: a platform registration per agency (issuer + client id) with its deployments; the link
  from a platform's user (registration, subject) to one of our people; each launch, kept so a
  grade can be sent back to the right line item; our signing keys (rotated, old ones still
  published until retired); short-lived OIDC state and nonces kept server-side.
- Outboxes: AGS scores (`GradeDelivery`) and xAPI statements (`XapiStatement`) are queued in
  the same transaction as the grade or completion they report, then delivered with retries,
  so an outage at the other end loses nothing.
- API tokens: only a SHA-256 hash of each token is stored; the token is shown once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.people import User
from lms.models.types import UTCDateTime, utcnow


class LtiKey(db.Model):
    """One of our RSA signing keys. The newest active key signs; every key not yet retired
    stays in our JWKS so platforms holding a token signed by it can still verify it."""

    __tablename__ = "lti_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when a newer key takes over signing; still published until retired_at.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiRegistration(db.Model):
    """A learning platform registered by an agency: where it signs people in from."""

    __tablename__ = "lti_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(500))
    auth_token_url: Mapped[str] = mapped_column(String(500))
    key_set_url: Mapped[str] = mapped_column(String(500))
    auth_audience: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What a launch with a deployment id we do not know yet does: "accept" (recorded and
    # audited), "hold" (recorded as pending until the coordinator approves it) or "refuse".
    # Hold by default: see services/lti_deployments.py.
    new_deployments: Mapped[str] = mapped_column(String(16), default="hold", server_default="hold")
    # Set by dynamic registration: the platform's product and the launch URL we registered
    # (the connection doctor compares it with today's).
    product_family_code: Mapped[str | None] = mapped_column(String(100))
    registered_launch_url: Mapped[str | None] = mapped_column(String(500))

    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="registration", order_by="LtiDeployment.deployment_id", cascade="all, delete-orphan"
    )


class LtiDeployment(db.Model):
    """A deployment id the platform sends in launches. Active ones are accepted; one first
    seen in a launch under the "hold" rule waits, pending, for the coordinator's approval."""

    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    # active | pending
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # Where a deployment first seen in a launch came from (the course the launch named).
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_context_title: Mapped[str | None] = mapped_column(String(255))

    registration: Mapped[LtiRegistration] = relationship(back_populates="deployments")

    @property
    def active(self) -> bool:
        return self.status == "active"


class LtiRegistrationLink(db.Model):
    """An agency's dynamic-registration link (LTI Dynamic Registration 1.0): a platform
    administrator pastes it into the platform, which opens it to register Ripple for this
    agency. Only the SHA-256 of its token is stored; a newer link withdraws the older."""

    __tablename__ = "lti_registration_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiUserLink(db.Model):
    """A platform's user (its stable subject id) linked to one of our people, in the
    registration's agency. Matching is by (registration, subject), never by email."""

    __tablename__ = "lti_user_links"
    __table_args__ = (UniqueConstraint("registration_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LtiLaunch(db.Model):
    """One validated launch: who, from which platform context, into what, and the platform's
    grade and roster services offered with it (used later for AGS and NRPS)."""

    __tablename__ = "lti_launches"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message_type: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str | None] = mapped_column(String(255))
    context_title: Mapped[str | None] = mapped_column(String(255))
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    # What the launch opened: "course:<id>", "module:<course id>:<slug>", "scenario:<slug>".
    target: Mapped[str | None] = mapped_column(String(255))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"), index=True)
    # The AGS claim (scope, lineitems, lineitem), the NRPS claim, the deep-linking settings.
    ags: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    nrps: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    deep_linking: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The id_token's key id and its target_link_uri claim (what the connection doctor checks).
    id_token_kid: Mapped[str | None] = mapped_column(String(255))
    target_link_uri: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    registration: Mapped[LtiRegistration] = relationship()
    user: Mapped[User] = relationship()


class LtiLaunchState(db.Model):
    """Short-lived OIDC values kept server-side (state, nonce, launch data), so a launch in
    a third-party iframe does not depend on cookies. A nonce is deleted when it is used."""

    __tablename__ = "lti_launch_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class GradeDelivery(db.Model):
    """A score to send to a platform's gradebook (AGS), queued and retried until delivered."""

    __tablename__ = "grade_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("lti_launches.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    completion_id: Mapped[int | None] = mapped_column(ForeignKey("completions.id"))
    score_given: Mapped[float] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float, default=100.0)
    activity_progress: Mapped[str] = mapped_column(String(32), default="Completed")
    grading_progress: Mapped[str] = mapped_column(String(32), default="FullyGraded")
    comment: Mapped[str | None] = mapped_column(String(500))
    # pending | delivered
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    launch: Mapped[LtiLaunch] = relationship()
    user: Mapped[User] = relationship()


class LrsSettings(db.Model):
    """An agency's learning-record store: where its xAPI statements go."""

    __tablename__ = "lrs_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    endpoint: Mapped[str] = mapped_column(String(500))
    # The LRS's Basic-auth key and secret; the secret is needed in clear to authenticate.
    key: Mapped[str] = mapped_column(String(255))
    secret: Mapped[str] = mapped_column(String(255))
    # Off by default: actors are accounts (our id), not email addresses.
    include_email: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class XapiStatement(db.Model):
    """An xAPI statement queued for the agency's LRS; delivered with retries (idempotent PUT
    by statement id, so a retry after a lost answer cannot duplicate it)."""

    __tablename__ = "xapi_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    verb: Mapped[str] = mapped_column(String(32))
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    """A bearer token for an agency's records system. Stored as a hash; scoped; revocable.

    A token acts as a principal of its agency, so the ordinary scoping helper applies to it
    (`scoped(Model, token)`).
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    is_platform_admin = False  # a token never sees beyond its agency

    @property
    def active(self) -> bool:
        return self.revoked_at is None
