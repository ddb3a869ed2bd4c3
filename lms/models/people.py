"""Agencies, their unit trees, and the people in them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.types import UTCDateTime, utcnow

# RFC 2606 reserves .invalid: mail to it never arrives. Ripple gives it to platform users who
# came without a usable address (lms.services.lti.link_user).
PLACEHOLDER_DOMAIN = "invalid"


def is_placeholder_email(email: str | None) -> bool:
    """Whether `email` is a stand-in no mail can reach (or missing)."""
    domain = (email or "").strip().lower().rpartition("@")[2].rstrip(".")
    return not domain or domain == PLACEHOLDER_DOMAIN or domain.endswith("." + PLACEHOLDER_DOMAIN)


class Role(enum.StrEnum):
    OFFICER = "officer"
    INSTRUCTOR = "instructor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"  # platform administrator: sees every agency

    @property
    def label(self) -> str:
        return {
            "officer": "Officer",
            "instructor": "Instructor",
            "coordinator": "Training coordinator",
            "admin": "Platform admin",
        }[self.value]


class Agency(db.Model):
    """A tenant: one police department. A regional academy hosts member agencies."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str | None] = mapped_column(String(64))
    host_academy_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How the agency's people read dates ("en-US": Dec 2, 2026; "en-GB": 2 Dec 2026) and the
    # zone its clocks keep (see lms.dates).
    date_style: Mapped[str] = mapped_column(String(16), default="en-US", server_default="en-US")
    time_zone: Mapped[str] = mapped_column(
        String(64), default="America/New_York", server_default="America/New_York"
    )
    # Sign-in policy (lms.services.identity.policy): SSO the only way in for the agency's
    # people; a second factor required of staff (after a grace period from when it was turned
    # on); how long an idle session lives.
    sso_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    mfa_for_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    mfa_grace_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    mfa_required_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idle_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")

    units: Mapped[list[Unit]] = relationship(back_populates="agency", order_by="Unit.name")

    def __repr__(self) -> str:
        return f"<Agency {self.slug}>"


class Unit(db.Model):
    """A division, precinct or squad; units form a tree inside one agency."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("agency_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="unit")

    agency: Mapped[Agency] = relationship(back_populates="units")
    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name")

    @property
    def path(self) -> str:
        names, unit = [], self
        while unit is not None:
            names.append(unit.name)
            unit = unit.parent
        return " › ".join(reversed(names))


class RoleGrant(db.Model):
    """One role held by one person; a person can hold several."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(UserMixin, db.Model):
    """A person who signs in: officer, instructor, coordinator or platform admin."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("agency_id", "badge_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null only for platform admins who belong to no agency.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    badge_number: Mapped[str | None] = mapped_column(String(32))
    rank: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hire_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The address this person proved they receive mail at: they used a link Ripple emailed to it
    # (an invitation or a password reset). It counts only while it is still `email` (see
    # confirmed_email); an address from a learning platform, a roster import or the API is
    # someone else's claim and never lands here by itself.
    email_confirmed: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    supervisor: Mapped[User | None] = relationship(remote_side=[id])
    role_grants: Mapped[list[RoleGrant]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[Role]:
        return {Role(grant.role) for grant in self.role_grants}

    def has_role(self, *roles: Role | str) -> bool:
        held = {grant.role for grant in self.role_grants}
        return any(str(role) in held for role in roles)

    @property
    def confirmed_email(self) -> str | None:
        """The person's email if they have confirmed it (see email_confirmed), else None.

        Only this address may identify the person to other systems (an xAPI `mbox`, an Open
        Badges recipient); a placeholder (`...@lti.invalid`) or an address nobody confirmed never
        does."""
        if not self.email_confirmed or self.email_confirmed.lower() != (self.email or "").lower():
            return None
        if is_placeholder_email(self.email):
            return None
        return self.email

    @property
    def is_platform_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    # The UserSession this request was signed in with (set by the user loader and at sign-in).
    current_session = None  # a UserSession; not a column

    def get_id(self) -> str:
        # Flask-Login keeps this in the signed cookie: the session record's secret token, never
        # the user id, so ending the record ends every copy of the cookie.
        if self.current_session is None or self.current_session.token is None:
            raise RuntimeError("sign in through lms.access.sign_in, which creates a session record")
        return self.current_session.token

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserSession(db.Model):
    """One signed-in session: the cookie holds a random token, this row its SHA-256.

    Checked on every request (one primary-key lookup), so ending the row (sign-out, password
    or role change, deactivation, sign out everywhere) ends every copy of the cookie, and the
    idle and absolute limits are enforced here rather than by the cookie's own expiry.
    """

    __tablename__ = "user_sessions"

    # SHA-256 of the cookie's token: a stolen copy of this table signs nobody in.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the absolute lifetime
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16), default="password")  # password | lti
    user_agent: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")

    # The cookie's token, known only in the request that created the row (never stored).
    token = None


class SignInThrottle(db.Model):
    """Failed password checks counted per key, kept server-side so every worker shares them.

    `key` is a SHA-256 of the scope and what is counted: the email address tried from one
    client address ("pair", whether or not the account exists, so a lock reveals nothing), the
    client address across all emails ("address"), or a signed-in user's current-password
    checks ("password"). `locked_until` holds a lock or, for a pair, a short slow-down.
    """

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Failures count from the first one in a window of LOGIN_LOCK_MINUTES; the next failure
    # after the window starts a new one (services/accounts.py, _count).
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
