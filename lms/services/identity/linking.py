"""A directory sign-in becomes one of our people.

Whatever the protocol (OIDC, SAML), once the protocol module has verified the response it hands
a `DirectoryPerson` to `person_for`, which:

1. finds the `ExternalIdentity` (provider, subject): the only way a returning person is found;
2. else links the directory person once, to the agency's roster record whose badge number is the
   value of the provider's identifier claim. An email that matches an account is never enough
   on its own: a directory that lets people edit their address must not hand them someone
   else's record;
3. else, if the provider creates accounts, makes a new officer account (refused when the
   address already belongs to an account);
4. then applies the provider's group rules (roles, unit) and records the sign-in.

Every refusal is a `SignInRefused` whose message is written for the person at the sign-in page;
nothing is created by a refused sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Agency, ExternalIdentity, IdentityProvider, Role, RoleGrant, Unit, User
from lms.models.types import utcnow
from lms.services import audit

# Roles a directory group may grant. Platform admin is never granted by an agency's directory.
DIRECTORY_ROLES = (Role.INSTRUCTOR, Role.COORDINATOR)


class SignInRefused(Exception):
    """A directory sign-in Ripple will not accept; the message says why, in plain words."""


@dataclass(frozen=True)
class DirectoryPerson:
    """What a verified OIDC id_token / userinfo or SAML assertion says about a person."""

    subject: str
    email: str = ""
    name: str = ""
    identifier: str = ""  # the value of the provider's identifier claim (badge number)
    groups: tuple[str, ...] = field(default_factory=tuple)


def email_domain(email: str) -> str:
    return (email or "").strip().lower().rpartition("@")[2].rstrip(".")


def provider_for_email(email: str) -> IdentityProvider | None:
    """The active provider whose email domains include this address's domain, if any."""
    domain = email_domain(email)
    if not domain:
        return None
    rows = db.session.scalars(
        select(IdentityProvider).where(IdentityProvider.active.is_(True)).order_by(IdentityProvider.id)
    )
    for provider in rows:
        if domain in provider.domains:
            return provider
    return None


def agency_requires_sso(user: User) -> bool:
    """Whether this person must sign in through their agency's directory (no password)."""
    if user.agency_id is None or user.is_platform_admin:
        return False
    agency = user.agency or db.session.get(Agency, user.agency_id)
    if not agency.sso_only:
        return False
    return (
        db.session.scalar(
            select(func.count())
            .select_from(IdentityProvider)
            .where(IdentityProvider.agency_id == agency.id, IdentityProvider.active.is_(True))
        )
        > 0
    )


def person_for(provider: IdentityProvider, person: DirectoryPerson) -> User:
    """The person this verified directory sign-in is (linking or creating as described above);
    flushes; raises SignInRefused."""
    if not provider.active:
        raise SignInRefused("This sign-in method has been turned off by your agency.")
    subject = (person.subject or "").strip()
    if not subject or len(subject) > 255:
        raise SignInRefused("Your directory did not say who you are (no subject).")
    link = db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.subject == subject
        )
    )
    if link is not None:
        user = link.user
        if user.agency_id != provider.agency_id:  # cannot happen through Ripple; refuse anyway
            raise SignInRefused("This directory account belongs to another agency.")
    else:
        user = _link_once(provider, person, subject)
        link = ExternalIdentity(
            agency_id=provider.agency_id, provider_id=provider.id, subject=subject, user_id=user.id
        )
        db.session.add(link)
    if not user.active:
        raise SignInRefused(
            "Your Ripple account is turned off. Ask your agency's training coordinator to turn it back on."
        )
    apply_group_rules(provider, user, person.groups)
    link.last_sign_in_at = utcnow()
    db.session.flush()
    return user


def _link_once(provider: IdentityProvider, person: DirectoryPerson, subject: str) -> User:
    email = _checked_email(provider, person.email)
    identifier = (person.identifier or "").strip()
    if identifier:
        user = db.session.scalar(
            select(User).where(
                User.agency_id == provider.agency_id,
                func.lower(User.badge_number) == identifier.lower(),
            )
        )
        if user is not None:
            taken = db.session.scalar(
                select(ExternalIdentity).where(
                    ExternalIdentity.provider_id == provider.id, ExternalIdentity.user_id == user.id
                )
            )
            if taken is not None:
                raise SignInRefused(
                    "The roster record with your badge number is already linked to another directory "
                    "account. Ask your agency's training coordinator to check it."
                )
            audit.record(
                None,
                "identity.linked",
                user,
                summary=f"{user.email} linked to {provider.name} by badge number",
                after={"provider": provider.id, "subject": subject},
            )
            return user
    if not provider.create_accounts:
        raise SignInRefused(
            "Ripple has no roster record for you yet"
            + (f" (badge number “{identifier}”)" if identifier else " (your directory sent no badge number)")
            + ". Ask your agency's training coordinator to add you to the roster."
        )
    if not email:
        raise SignInRefused("Your directory did not send an email address, which a new account needs.")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())) is not None:
        # Never linked by email alone: the coordinator adds the badge number to the record.
        raise SignInRefused(
            "An account with your email address already exists, but it is not linked to your "
            "directory account. Ask your agency's training coordinator to add your badge number to it."
        )
    name = " ".join((person.name or "").split())[:200] or email
    user = User(
        agency_id=provider.agency_id,
        email=email,
        name=name,
        badge_number=identifier[:32] or None,
        active=True,
        role_grants=[RoleGrant(role=Role.OFFICER.value)],
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        None,
        "identity.account_created",
        user,
        summary=f"{email} created at first sign-in through {provider.name}",
        after={"provider": provider.id, "subject": subject},
    )
    return user


def _checked_email(provider: IdentityProvider, email: str) -> str:
    email = (email or "").strip()
    if not email:
        return ""
    try:
        email = validate_email(email, check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError:
        raise SignInRefused("Your directory sent an email address Ripple cannot read.") from None
    domains = provider.domains
    if domains and email_domain(email) not in domains:
        raise SignInRefused(
            f"Your email address is not at a domain this sign-in is for ({', '.join(domains)})."
        )
    return email


def apply_group_rules(provider: IdentityProvider, user: User, groups: tuple[str, ...] | list[str]) -> None:
    """Roles and unit from the provider's group rules. With no rules, nothing changes: the
    coordinator manages roles by hand. With rules, the directory decides the staff roles it can
    grant (instructor, coordinator); officer stays, platform admin is never touched."""
    rules = provider.group_rules or []
    if not rules:
        return
    held = {g.strip().lower() for g in groups or () if isinstance(g, str)}
    roles = {Role.OFFICER}
    unit_code = None
    for rule in rules:
        if str(rule.get("group", "")).strip().lower() not in held:
            continue
        if rule.get("role") in {r.value for r in DIRECTORY_ROLES}:
            roles.add(Role(rule["role"]))
        if rule.get("unit") and unit_code is None:
            unit_code = str(rule["unit"])
    if user.is_platform_admin:
        roles.add(Role.ADMIN)
    before = sorted(r.value for r in user.roles)
    after = sorted(r.value for r in roles)
    if before != after:
        user.role_grants = [g for g in user.role_grants if g.role in after]
        have = {g.role for g in user.role_grants}
        user.role_grants.extend(RoleGrant(role=r) for r in after if r not in have)
        audit.record(
            None,
            "user.roles_changed",
            user,
            summary=f"roles of {user.email} from {provider.name}'s groups",
            before={"roles": before},
            after={"roles": after},
        )
    if unit_code:
        unit = db.session.scalar(
            select(Unit).where(
                Unit.agency_id == provider.agency_id, func.lower(Unit.code) == unit_code.lower()
            )
        )
        if unit is not None and user.unit_id != unit.id:
            audit.record(
                None,
                "user.unit_changed",
                user,
                summary=f"unit of {user.email} from {provider.name}'s groups",
                before={"unit": user.unit_id},
                after={"unit": unit.id},
            )
            user.unit_id = unit.id
