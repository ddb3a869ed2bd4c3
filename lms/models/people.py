"""Agencies, their unit trees, and the people in them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.types import UTCDateTime, utcnow


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
    # Bumped on password change so other sessions of this person stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
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
    def is_platform_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        # The epoch makes a password change sign out every other session.
        return f"{self.id}:{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class SignInThrottle(db.Model):
    """Failed sign-ins per email address tried, whether or not such an account exists.

    Keyed by a hash of the address so the lockout message cannot tell an attacker which
    emails have accounts.
    """

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
