"""Registering an agency's directory: what OIDC and SAML providers share.

The protocol modules validate their own settings (issuer and client; IdP metadata) and call
`apply_common` for the rest, so both kinds check domains, claims and group rules the same way.
Only the agency's training coordinators and platform admins may change providers.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.extensions import db
from lms.models import Agency, IdentityProvider, Role, Unit, User
from lms.services import audit
from lms.services.identity.linking import DIRECTORY_ROLES

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CLAIM = re.compile(r"^[A-Za-z0-9_:./#-]{1,120}$")
# Addresses anyone can get: a provider answering for them would send strangers to the agency.
PUBLIC_MAIL = {"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "aol.com", "proton.me"}
MAX_RULES = 100


class ProviderError(Exception):
    """A provider setting that cannot be saved: `field` names the form field, the message why."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_manager(actor: User, agency: Agency) -> None:
    if not (actor.is_platform_admin or (actor.has_role(Role.COORDINATOR) and actor.agency_id == agency.id)):
        raise ProviderError("Only the agency's training coordinators can change how its people sign in.")


def providers_of(agency: Agency) -> list[IdentityProvider]:
    return list(
        db.session.scalars(
            select(IdentityProvider)
            .where(IdentityProvider.agency_id == agency.id)
            .order_by(IdentityProvider.name)
        )
    )


def parse_domains(text: str, *, agency: Agency, provider: IdentityProvider | None) -> list[str]:
    """One domain per line (or separated by commas or spaces); checked and de-duplicated."""
    domains: list[str] = []
    for raw in re.split(r"[\s,;]+", text or ""):
        domain = raw.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            raise ProviderError(
                f"Email domains: “{raw[:60]}” is not a domain (for example riverside.gov).", "email_domains"
            )
        if domain in PUBLIC_MAIL:
            raise ProviderError(
                f"Email domains: “{domain}” is a public mail service; anyone can have an address there.",
                "email_domains",
            )
        if domain not in domains:
            domains.append(domain)
    if not domains:
        raise ProviderError(
            "Email domains: give at least one, the domain of your people's work addresses.", "email_domains"
        )
    if len(domains) > 20:
        raise ProviderError("Email domains: at most 20.", "email_domains")
    others = db.session.scalars(select(IdentityProvider).where(IdentityProvider.active.is_(True))).all()
    for other in others:
        if provider is not None and other.id == provider.id:
            continue
        clash = set(other.domains) & set(domains)
        if clash:
            whose = "another of your agency's sign-ins" if other.agency_id == agency.id else "another agency"
            raise ProviderError(
                f"Email domains: {', '.join(sorted(clash))} already belongs to {whose}.", "email_domains"
            )
    return domains


def parse_group_rules(text: str, agency: Agency) -> list[dict]:
    """One rule per line: `directory group -> role`, `directory group -> unit CODE`, or both
    (`Training Unit -> instructor, unit ACADEMY`). Roles: instructor, coordinator."""
    rules: list[dict] = []
    allowed = {r.value for r in DIRECTORY_ROLES}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        group, arrow, targets = line.partition("->")
        group = " ".join(group.split())
        if not arrow or not group or not targets.strip():
            raise ProviderError(
                f"Group rules, line {number}: write it as “directory group -> role” or “directory group -> unit CODE”.",
                "group_rules",
            )
        rule: dict = {"group": group[:200], "role": None, "unit": None}
        for target in (t.strip() for t in targets.split(",")):
            if not target:
                continue
            if target.lower().startswith("unit "):
                code = target[5:].strip()
                unit = db.session.scalar(select(Unit).where(Unit.agency_id == agency.id, Unit.code == code))
                if unit is None:
                    raise ProviderError(
                        f"Group rules, line {number}: {agency.name} has no unit with code “{code[:40]}”.",
                        "group_rules",
                    )
                rule["unit"] = unit.code
            elif target.lower() in allowed:
                rule["role"] = target.lower()
            else:
                raise ProviderError(
                    f"Group rules, line {number}: “{target[:40]}” is neither a role a directory may grant "
                    "(instructor, coordinator) nor “unit CODE”.",
                    "group_rules",
                )
        rules.append(rule)
        if len(rules) > MAX_RULES:
            raise ProviderError(f"Group rules: at most {MAX_RULES}.", "group_rules")
    return rules


def rules_text(rules: list[dict]) -> str:
    """The group rules as the form shows them (what parse_group_rules reads back)."""
    lines = []
    for rule in rules or []:
        targets = [t for t in (rule.get("role"), f"unit {rule['unit']}" if rule.get("unit") else None) if t]
        lines.append(f"{rule['group']} -> {', '.join(targets)}")
    return "\n".join(lines)


def apply_common(
    actor: User,
    agency: Agency,
    provider: IdentityProvider,
    *,
    name: str,
    email_domains: str,
    identifier_claim: str,
    groups_claim: str,
    group_rules: str,
    create_accounts: bool,
    active: bool,
) -> None:
    """Check and set what every provider has; the caller sets `kind` and `settings`, then flushes
    (through `save`)."""
    check_manager(actor, agency)
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ProviderError("Name: 1 to 120 characters (it is what the sign-in button says).", "name")
    for field, value in (("identifier_claim", identifier_claim), ("groups_claim", groups_claim)):
        if not CLAIM.match(value or ""):
            raise ProviderError(
                f"{'Badge number claim' if field == 'identifier_claim' else 'Groups claim'}: a claim or "
                "attribute name (letters, digits and _ : . / # -).",
                field,
            )
    domains = parse_domains(email_domains, agency=agency, provider=provider if provider.id else None)
    provider.agency_id = agency.id
    provider.name = name
    provider.email_domains = "\n".join(domains)
    provider.identifier_claim = identifier_claim
    provider.groups_claim = groups_claim
    provider.group_rules = parse_group_rules(group_rules, agency)
    provider.create_accounts = bool(create_accounts)
    provider.active = bool(active)


def save(actor: User, provider: IdentityProvider, *, created: bool) -> IdentityProvider:
    """Flush the provider and audit the change (never the secret)."""
    if created:
        db.session.add(provider)
    db.session.flush()
    audit.record(
        actor,
        "identity.provider_created" if created else "identity.provider_changed",
        provider,
        summary=f"{provider.kind_label} sign-in “{provider.name}”",
        after={
            "name": provider.name,
            "domains": provider.domains,
            "active": provider.active,
            "create_accounts": provider.create_accounts,
            "group_rules": provider.group_rules,
        },
        agency_id=provider.agency_id,
    )
    return provider
