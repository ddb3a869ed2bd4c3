"""LTI Dynamic Registration 1.0 (1EdTech): a platform registers Ripple from one pasted URL.

The coordinator makes a registration link for their agency (an unguessable token, stored only
as its SHA-256, expiring; a new link withdraws the old one). A platform administrator pastes it
into the platform, which opens it with `openid_configuration` and `registration_token`. Then:

1. the platform's OpenID configuration is fetched through the outbound guard, and its `issuer`
   must have the configuration URL's origin (the specification's rule: a configuration cannot
   speak for another platform);
2. the configuration is checked (endpoints, scopes, the lti-platform-configuration object) and
   read tolerantly: keys with stray spaces (Moodle once sent the platform-configuration key with
   a trailing space), messages as strings or `{type: ...}` objects, `LtiResourceLink` for
   `LtiResourceLinkRequest`, optional fields missing;
3. Ripple's client registration is posted to `registration_endpoint` with the registration
   token as a bearer token, asking only for the services the platform offers;
4. the client id and deployment id it answers are stored as the agency's registration and
   deployment (registering the same issuer and client again updates them) and audited.

Any failure raises DynamicRegistrationError with words for the platform administrator; the
caller rolls back, so nothing is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.input import text_problem
from lms.models import Agency, LtiDeployment, LtiRegistration, LtiRegistrationLink, User
from lms.models.types import utcnow
from lms.public_urls import public_url
from lms.services import audit, outbound

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
RESOURCE_LINK, DEEP_LINKING = "LtiResourceLinkRequest", "LtiDeepLinkingRequest"
# The services Ripple uses, asked for only when the platform lists them.
WANTED_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
WANTED_CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
DEEP_LINK_PLACEMENTS = ("ContentArea", "link_selection", "assignment_selection", "AddContentMenu")
RESOURCE_LINK_PLACEMENTS = ("ContentArea", "course_navigation")
PRODUCTS = {
    "moodle": "Moodle",
    "canvas": "Canvas",
    "desire2learn": "Brightspace",
    "d2l": "Brightspace",
    "brightspace": "Brightspace",
    "blackboardlearn": "Blackboard Learn",
    "blackboard": "Blackboard Learn",
    "sakai": "Sakai",
    "schoology": "Schoology",
}
LINK_DAYS_DEFAULT, LINK_DAYS_MAX = 7, 30
_OAUTH_ERROR = re.compile(r"^[A-Za-z0-9_.:-]{1,60}$")
_ORIGIN_HOST = re.compile(r"^[A-Za-z0-9.\-]+$|^\[[0-9A-Fa-f:.]+\]$")


class RegistrationLinkError(ValueError):
    """A registration link that cannot be used (unknown, withdrawn or expired)."""


class DynamicRegistrationError(ValueError):
    """A dynamic registration that failed; the message says what the platform sent wrong, or
    what to do, for the platform administrator who pasted the link."""


# --- the agency's registration link ----------------------------------------------------------------


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def link_url(raw: str) -> str:
    """The URL the platform administrator pastes."""
    return public_url("integrations.dynamic_register", link_token=raw)


def current_link(agency: Agency) -> LtiRegistrationLink | None:
    """The agency's link not withdrawn (it may have expired), if any."""
    return db.session.scalar(
        select(LtiRegistrationLink)
        .where(LtiRegistrationLink.agency_id == agency.id, LtiRegistrationLink.withdrawn_at.is_(None))
        .order_by(LtiRegistrationLink.id.desc())
    )


def create_link(
    actor: User, agency: Agency, days: int = LINK_DAYS_DEFAULT
) -> tuple[LtiRegistrationLink, str]:
    """A new registration link for the agency, valid for `days`; it withdraws the one before.
    Returns the row and the raw token (shown once). Flushes."""
    if not 1 <= days <= LINK_DAYS_MAX:
        raise RegistrationLinkError(f"A registration link lasts 1 to {LINK_DAYS_MAX} days.")
    now = utcnow()
    replaced = current_link(agency)
    if replaced is not None:
        replaced.withdrawn_at = now
    raw = secrets.token_urlsafe(32)
    link = LtiRegistrationLink(
        agency_id=agency.id,
        token_hash=_hash(raw),
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        actor,
        "lti.registration_link_replaced" if replaced else "lti.registration_link_created",
        link,
        summary=f"Dynamic-registration link for {days} day{'s' if days != 1 else ''}"
        + (" (the previous link no longer works)" if replaced else ""),
    )
    return link, raw


def withdraw_link(actor: User, link: LtiRegistrationLink) -> None:
    """Stop the link from working (registrations made with it stay). Flushes."""
    if link.withdrawn_at is not None:
        return
    link.withdrawn_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "lti.registration_link_withdrawn", link, summary="Dynamic-registration link withdrawn"
    )


def link_for_token(raw: str) -> LtiRegistrationLink:
    """The live link this token names, or RegistrationLinkError saying why it does not work."""
    link = None
    if raw and len(raw) <= 100:
        link = db.session.scalar(
            select(LtiRegistrationLink).where(LtiRegistrationLink.token_hash == _hash(raw))
        )
    if link is None:
        raise RegistrationLinkError(
            "This registration link is not one Ripple made. Ask the agency's training coordinator "
            "for the link shown under Agency → Integrations."
        )
    if link.last_used_at is not None:
        raise RegistrationLinkError(
            "This registration link was already used to register a platform, and works only once. "
            "To register again, ask the agency's training coordinator for a new link."
        )
    if link.withdrawn_at is not None:
        raise RegistrationLinkError(
            "This registration link was withdrawn or replaced by a newer one. Ask the agency's "
            "training coordinator for the current link."
        )
    if link.expires_at <= utcnow():
        raise RegistrationLinkError(
            "This registration link has expired. Ask the agency's training coordinator for a new one "
            "(Agency → Integrations → Create a registration link)."
        )
    return link


# --- reading the platform's configuration --------------------------------------------------------------


def _strip_keys(value: Any, depth: int = 0) -> Any:
    """Keys without surrounding spaces, at every level of a JSON object (an exact key wins)."""
    if isinstance(value, dict) and depth < 6:
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).strip()
            if name not in cleaned or name == key:
                cleaned[name] = _strip_keys(item, depth + 1)
        return cleaned
    if isinstance(value, list) and depth < 6:
        return [_strip_keys(item, depth + 1) for item in value]
    return value


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL, lower-cased, default ports left out; None if the
    URL has no usable host (also what goes into a CSP header, so it is strictly checked)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError):
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if not _ORIGIN_HOST.match(netloc):
        return None
    if port and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


@dataclass
class PlatformConfiguration:
    """What Ripple uses of a platform's OpenID configuration."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    scopes_supported: list[str]
    product_family_code: str
    version: str | None
    messages: dict[str, list[str]]  # message type -> placements the platform offers for it
    claims: list[str] | None
    authorization_server: str | None = None
    placements: list[str] = field(default_factory=list)

    @property
    def product(self) -> str:
        code = self.product_family_code
        return PRODUCTS.get(code.lower().replace(" ", ""), code)


def _text(config: dict, key: str, where: str, *, column=None, required: bool = True) -> str | None:
    value = config.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DynamicRegistrationError(f"The platform's configuration has no `{key}`{where}.")
        return None
    if not isinstance(value, str):
        raise DynamicRegistrationError(
            f"The platform's configuration gives `{key}`{where} as something other than text."
        )
    value = value.strip()
    if column is not None and text_problem(column, value, required=True):
        raise DynamicRegistrationError(
            f"The platform's `{key}`{where} is too long or has control characters."
        )
    return value


def _endpoint(config: dict, key: str) -> str:
    url = _text(config, key, "", column=LtiRegistration.auth_token_url)
    if origin_of(url) is None:
        raise DynamicRegistrationError(f"The platform's `{key}` ({url[:120]}) is not an http(s) URL.")
    return url


def _string_list(value: Any, key: str, where: str = "") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DynamicRegistrationError(f"The platform's `{key}`{where} is not a list of text values.")
    return [item.strip() for item in value if item.strip()]


def _messages(value: Any) -> dict[str, list[str]]:
    """messages_supported as strings or {type, placements} objects, names made standard."""
    where = " (in its lti-platform-configuration)"
    if not isinstance(value, list):
        raise DynamicRegistrationError(f"The platform's `messages_supported`{where} is not a list.")
    messages: dict[str, list[str]] = {}
    for entry in value:
        placements: list[str] = []
        if isinstance(entry, dict):
            name = entry.get("type")
            if isinstance(entry.get("placements"), list):
                placements = [p.strip() for p in entry["placements"] if isinstance(p, str) and p.strip()]
        else:
            name = entry
        if not isinstance(name, str) or not name.strip():
            raise DynamicRegistrationError(
                f"The platform's `messages_supported`{where} has an entry without a message type."
            )
        name = name.strip()
        if name in ("LtiResourceLink", "LtiResourceLinkRequest"):
            name = RESOURCE_LINK
        elif name in ("LtiDeepLinking", "LtiDeepLinkingRequest"):
            name = DEEP_LINKING
        messages.setdefault(name, []).extend(placements)
    if RESOURCE_LINK not in messages:
        raise DynamicRegistrationError(
            f"The platform's `messages_supported`{where} does not include LtiResourceLinkRequest, "
            "so it could not launch Ripple."
        )
    return messages


def parse_configuration(document: Any, configuration_url: str) -> PlatformConfiguration:
    """Check a platform's OpenID configuration document and read what Ripple needs."""
    if not isinstance(document, dict):
        raise DynamicRegistrationError("The platform's configuration is not a JSON object.")
    config = _strip_keys(document)
    issuer = _text(config, "issuer", "", column=LtiRegistration.issuer)
    if origin_of(issuer) is None:
        raise DynamicRegistrationError(f"The platform's `issuer` ({issuer[:120]}) is not an http(s) URL.")
    if origin_of(issuer) != origin_of(configuration_url):
        raise DynamicRegistrationError(
            f"The platform's `issuer` ({issuer[:120]}) is not on the same site as its configuration "
            f"({origin_of(configuration_url)}). The specification requires them to match, so Ripple "
            "cannot tell this configuration really speaks for that platform."
        )
    endpoints = {
        key: _endpoint(config, key)
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
    }
    scopes = (
        _string_list(config.get("scopes_supported"), "scopes_supported")
        if "scopes_supported" in config
        else None
    )
    if scopes is None:
        raise DynamicRegistrationError("The platform's configuration has no `scopes_supported`.")
    algorithms = config.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and algorithms and "RS256" not in algorithms:
        raise DynamicRegistrationError(
            "The platform does not sign with RS256 (`id_token_signing_alg_values_supported`), which LTI 1.3 requires."
        )
    platform = config.get(PLATFORM_CONFIGURATION)
    if not isinstance(platform, dict):
        raise DynamicRegistrationError(
            f"The platform's configuration has no `{PLATFORM_CONFIGURATION}` object, so it does not "
            "say it supports LTI."
        )
    where = " (in its lti-platform-configuration)"
    product = _text(platform, "product_family_code", where, column=LtiRegistration.product_family_code)
    version = platform.get("version") if isinstance(platform.get("version"), str) else None
    if "messages_supported" not in platform:
        raise DynamicRegistrationError(f"The platform's configuration has no `messages_supported`{where}.")
    messages = _messages(platform["messages_supported"])
    claims = None
    if "claims" in platform:
        claims = _string_list(platform["claims"], "claims", where)
    elif isinstance(config.get("claims_supported"), list):
        claims = [c for c in config["claims_supported"] if isinstance(c, str)]
    placements = platform.get("placements")
    authorization_server = _text(
        config, "authorization_server", "", column=LtiRegistration.auth_audience, required=False
    )
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        registration_endpoint=endpoints["registration_endpoint"],
        scopes_supported=scopes,
        product_family_code=product,
        version=version[:60] if version else None,
        messages=messages,
        claims=claims,
        authorization_server=authorization_server,
        placements=[p for p in placements if isinstance(p, str)] if isinstance(placements, list) else [],
    )


def fetch_configuration(configuration_url: str) -> PlatformConfiguration:
    """GET the platform's OpenID configuration through the outbound guard and check it."""
    if origin_of(configuration_url) is None or len(configuration_url) > 2000:
        raise DynamicRegistrationError(
            "The `openid_configuration` parameter is not an http(s) URL. Start the registration "
            "from the platform's page for adding a tool by URL."
        )
    refused = outbound.check_url(configuration_url)
    if refused:
        raise DynamicRegistrationError(f"Ripple will not fetch the platform's configuration: {refused}.")
    try:
        response = _http().get(configuration_url, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        raise DynamicRegistrationError(
            f"Ripple could not fetch the platform's configuration: {outbound.describe(error, 'The platform')}."
        ) from None
    if not response.ok:
        raise DynamicRegistrationError(
            f"Ripple could not fetch the platform's configuration: {outbound.answered('the platform', response)}."
        )
    try:
        document = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser
        raise DynamicRegistrationError("The platform's configuration is not JSON.") from None
    return parse_configuration(document, configuration_url)


def _http() -> requests.Session:
    return outbound.session(user_agent="Ripple-LTI")


# --- Ripple's client registration ----------------------------------------------------------------------


def client_registration(config: PlatformConfiguration, agency: Agency) -> dict[str, Any]:
    """The OpenID client registration (with Ripple's lti-tool-configuration) to post."""
    launch = public_url("lti.launch")
    claims = (
        list(WANTED_CLAIMS) if config.claims is None else [c for c in WANTED_CLAIMS if c in config.claims]
    )
    for required in ("iss", "sub"):
        if required not in claims:
            claims.insert(0, required)
    resource_link: dict[str, Any] = {"type": RESOURCE_LINK, "target_link_uri": launch, "label": "Ripple"}
    # Placements only where the platform names some (Canvas); Moodle places tools itself.
    offered = config.messages[RESOURCE_LINK]
    if offered and any(p in offered for p in RESOURCE_LINK_PLACEMENTS):
        resource_link["placements"] = [p for p in RESOURCE_LINK_PLACEMENTS if p in offered]
    messages: list[dict[str, Any]] = [resource_link]
    if DEEP_LINKING in config.messages:
        offered = config.messages[DEEP_LINKING] or config.placements
        placements = [p for p in DEEP_LINK_PLACEMENTS if p in offered] or ["ContentArea"]
        messages.append(
            {
                "type": DEEP_LINKING,
                "target_link_uri": launch,
                "label": "Add Ripple training",
                "placements": placements,
                "supported_types": ["ltiResourceLink"],
            }
        )
    tool: dict[str, Any] = {
        "domain": urlsplit(launch).netloc,
        "target_link_uri": launch,
        "custom_parameters": {},
        "claims": claims,
        "messages": messages,
        "description": "Scenario-based training and certification in community partnership.",
    }
    if config.product == "Canvas":
        tool["https://canvas.instructure.com/lti/privacy_level"] = "public"  # names and emails
    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": public_url("lti.login"),
        "redirect_uris": [launch],
        "client_name": f"Ripple ({agency.name})"[:200],
        "jwks_uri": public_url("lti.jwks_json"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(s for s in WANTED_SCOPES if s in config.scopes_supported),
        TOOL_CONFIGURATION: tool,
    }
    logo = current_app.config.get("LTI_LOGO_URL")
    if logo:
        body["logo_uri"] = logo
    return body


def _refusal(response: requests.Response) -> str:
    """Why the platform refused the registration, in words (its OAuth error code, never its body)."""
    code = None
    try:
        document = response.json()
        if isinstance(document, dict) and isinstance(document.get("error"), str):
            code = document["error"] if _OAUTH_ERROR.match(document["error"]) else None
    except (ValueError, RecursionError):  # not JSON, or nested past the parser
        pass
    said = outbound.answered("it", response) + (f" ({code})" if code else "")
    advice = (
        " A registration token works only once and only for a while: start the registration "
        "again from the platform to get a new one."
        if response.status_code in (401, 403)
        else " Check the platform's logs for why it refused Ripple's registration."
    )
    return f"The platform refused Ripple's registration: {said}.{advice}"


@dataclass
class RegistrationOutcome:
    registration: LtiRegistration
    created: bool
    deployment_id: str | None
    granted_scopes: list[str]
    product: str


def register(
    link: LtiRegistrationLink, configuration_url: str, registration_token: str | None
) -> RegistrationOutcome:
    """Run a dynamic registration for the link's agency (see the module docstring). Flushes;
    raises DynamicRegistrationError and leaves the caller to roll back on any failure."""
    agency = db.session.get(Agency, link.agency_id)
    if registration_token is not None and (
        len(registration_token) > 8000 or not registration_token.isprintable()
    ):
        raise DynamicRegistrationError("The `registration_token` parameter is not a usable token.")
    config = fetch_configuration(configuration_url)
    for label, url in (("token_endpoint", config.token_endpoint), ("jwks_uri", config.jwks_uri)):
        refused = outbound.check_url(url)
        if refused:
            raise DynamicRegistrationError(
                f"The platform's `{label}`: Ripple will not call this address: {refused}."
            )
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        response = _http().post(
            config.registration_endpoint, json=client_registration(config, agency), headers=headers
        )
    except requests.RequestException as error:
        raise DynamicRegistrationError(
            f"Ripple could not reach the platform's registration endpoint: {outbound.describe(error, 'The platform')}."
        ) from None
    if response.status_code not in (200, 201):
        raise DynamicRegistrationError(_refusal(response))
    try:
        answer = _strip_keys(response.json())
    except (ValueError, RecursionError):  # not JSON, or nested past the parser
        answer = None
    if not isinstance(answer, dict):
        raise DynamicRegistrationError(
            "The platform accepted the registration but its answer is not a JSON object."
        )
    client_id = _text(answer, "client_id", " in its registration answer", column=LtiRegistration.client_id)
    tool = answer.get(TOOL_CONFIGURATION) if isinstance(answer.get(TOOL_CONFIGURATION), dict) else {}
    deployment_id = tool.get("deployment_id")
    if deployment_id is not None:
        deployment_id = str(deployment_id).strip() if isinstance(deployment_id, str | int) else ""
        if text_problem(LtiDeployment.deployment_id, deployment_id, required=True):
            raise DynamicRegistrationError(
                "The platform's `deployment_id` in its registration answer is empty, too long or has control characters."
            )
    granted = answer.get("scope")
    granted_scopes = granted.split() if isinstance(granted, str) else []
    registration, created = _store(link, agency, config, client_id, deployment_id)
    return RegistrationOutcome(registration, created, deployment_id, granted_scopes, config.product)


def _store(
    link: LtiRegistrationLink,
    agency: Agency,
    config: PlatformConfiguration,
    client_id: str,
    deployment_id: str | None,
) -> tuple[LtiRegistration, bool]:
    registration = db.session.scalar(
        select(LtiRegistration).where(
            LtiRegistration.issuer == config.issuer, LtiRegistration.client_id == client_id
        )
    )
    if registration is not None and registration.agency_id != agency.id:
        raise DynamicRegistrationError(
            "This platform and client id are already registered with Ripple for another agency. "
            "Ask Ripple's administrators before registering it again."
        )
    created = registration is None
    before = None
    if created:
        registration = LtiRegistration(
            agency_id=agency.id, issuer=config.issuer, client_id=client_id, active=True
        )
        db.session.add(registration)
    else:
        before = {
            "auth_login_url": registration.auth_login_url,
            "auth_token_url": registration.auth_token_url,
            "key_set_url": registration.key_set_url,
            "auth_audience": registration.auth_audience,
        }
    host = urlsplit(config.issuer).netloc
    registration.name = (registration.name if not created else f"{config.product} at {host}")[:200]
    registration.auth_login_url = config.authorization_endpoint
    registration.auth_token_url = config.token_endpoint
    registration.key_set_url = config.jwks_uri
    registration.auth_audience = config.authorization_server
    registration.product_family_code = config.product_family_code
    registration.registered_launch_url = public_url("lti.launch")
    db.session.flush()
    if deployment_id:
        known = {d.deployment_id: d for d in registration.deployments}
        if deployment_id in known:
            known[deployment_id].status = "active"
        else:
            registration.deployments.append(
                LtiDeployment(
                    agency_id=agency.id, registration_id=registration.id, deployment_id=deployment_id
                )
            )
    # A link registers one platform once: a leaked link cannot register a stranger's platform
    # (whose instructors would get instructor rights here) after the administrator used it.
    link.last_used_at = link.withdrawn_at = utcnow()
    db.session.flush()
    audit.record(
        None,
        "lti.registration_created_by_platform" if created else "lti.registration_updated_by_platform",
        registration,
        summary=f"{registration.name}: {registration.issuer} / {client_id} registered by dynamic registration"
        + (f", deployment {deployment_id}" if deployment_id else ""),
        before=before,
        after={
            "auth_login_url": registration.auth_login_url,
            "auth_token_url": registration.auth_token_url,
            "key_set_url": registration.key_set_url,
            "auth_audience": registration.auth_audience,
            "deployments": [d.deployment_id for d in registration.deployments],
        },
    )
    return registration, created
