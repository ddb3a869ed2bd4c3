"""LTI 1.3 Advantage, tool side, on pylti1p3.

pylti1p3 does the protocol (OIDC login, id_token signature against the platform's JWKS,
registration, deployment and message checks, AGS/NRPS/deep-linking service calls). Around it:

- registrations, deployments and our keys live in the database (`DbToolConf`);
- OIDC state, nonces and launch data are kept server-side (`DbLaunchDataStorage`); the state
  must have been issued by our login step for the same issuer and client, its nonce must be the
  one in the id_token, and both are used up by the launch (no replay);
- the launch must also come from the browser that ran the login: a partitioned cookie set at
  login, or the state and nonce read back from the platform's storage (`lti_storage`), checked
  before the id_token is validated;
- we also require `exp` and `iat`, and check `aud`/`azp` against the registration's client id;
- the launching person is matched by (registration, subject), or created in the
  registration's agency, never matched by email; LTI roles map to officer or instructor.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app, url_for
from jwcrypto.jwk import JWK
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.session import SessionService
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import delete, select

from lms.extensions import db
from lms.input import one_line, text_problem
from lms.models import (
    Agency,
    Attempt,
    LtiDeployment,
    LtiKey,
    LtiLaunch,
    LtiLaunchState,
    LtiRegistration,
    LtiUserLink,
    Role,
    RoleGrant,
    ScenarioVersion,
    User,
)
from lms.models.types import utcnow
from lms.public_urls import public_url
from lms.services import audit, launch_targets, lti_deployments, lti_storage, outbound

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
INSTRUCTOR_ROLES = ("Instructor", "Administrator", "ContentDeveloper", "TeachingAssistant", "Mentor")
STATE_LIFETIME = timedelta(minutes=10)
# Where validate_launch leaves the id_token's key id for handle_launch (not a platform claim).
ID_TOKEN_KID = "ripple:id_token_kid"


class LaunchError(ValueError):
    """A login or launch that fails validation; the message says which check failed."""


class RegistrationError(ValueError):
    """Registration input that cannot be saved; the message is for the coordinator. `field`
    names the form field at fault when there is one, and `detail` says what is wrong with it."""

    def __init__(self, message: str, *, field: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.field, self.detail = field, detail or message


# --- our signing keys -------------------------------------------------------------------------


def _new_key() -> LtiKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = secrets.token_urlsafe(12)
    public = json.loads(JWK.from_pem(pem.encode()).export_public())
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    key = LtiKey(kid=kid, private_pem=pem, public_jwk=public)
    db.session.add(key)
    db.session.flush()
    return key


def signing_key() -> LtiKey:
    """The key we sign with: the newest one not superseded (made on first use)."""
    key = db.session.scalar(
        select(LtiKey)
        .where(LtiKey.superseded_at.is_(None), LtiKey.retired_at.is_(None))
        .order_by(LtiKey.id.desc())
    )
    return key if key is not None else _new_key()


def rotate_keys(actor: User | None) -> LtiKey:
    """Start signing with a new key. The old one stays in the JWKS for LTI_KEY_GRACE_DAYS so
    tokens it signed still verify; keys replaced longer ago than that are retired."""
    now = utcnow()
    grace = timedelta(days=current_app.config["LTI_KEY_GRACE_DAYS"])
    for key in db.session.scalars(select(LtiKey).where(LtiKey.retired_at.is_(None))):
        if key.superseded_at is None:
            key.superseded_at = now
        elif key.superseded_at <= now - grace:
            key.retired_at = now
    key = _new_key()
    audit.record(actor, "lti.key_rotated", key, summary=f"New LTI signing key {key.kid}", agency_id=None)
    return key


def published_keys() -> list[LtiKey]:
    signing_key()  # a first JWKS request creates the first key
    return list(db.session.scalars(select(LtiKey).where(LtiKey.retired_at.is_(None)).order_by(LtiKey.id)))


def jwks() -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in published_keys()]}


# --- registrations ------------------------------------------------------------------------------


@dataclass
class RegistrationInput:
    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    deployment_ids: list[str]
    active: bool = True


def _url_ok(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def save_registration(
    actor: User, agency: Agency, data: RegistrationInput, registration: LtiRegistration | None = None
) -> LtiRegistration:
    """Create or update a platform registration and its deployment ids."""
    for label, url in (
        ("Login (auth) URL", data.auth_login_url),
        ("Token URL", data.auth_token_url),
        ("Key-set URL", data.key_set_url),
    ):
        if not _url_ok(url):
            raise RegistrationError(f"{label} must be an http(s) URL.")
    # Ripple calls these two itself (the login URL is only where browsers are sent).
    for field, label, url in (
        ("auth_token_url", "Token URL", data.auth_token_url),
        ("key_set_url", "Key-set URL", data.key_set_url),
    ):
        refused = outbound.check_url(url.strip())
        if refused:
            detail = f"Ripple will not call this address: {refused}."
            raise RegistrationError(f"{label}: {detail}", field=field, detail=detail)
    if not data.issuer.strip() or not data.client_id.strip():
        raise RegistrationError("Issuer and client id are required.")
    deployment_ids = sorted({d.strip() for d in data.deployment_ids if d.strip()})
    if not deployment_ids:
        raise RegistrationError(
            "Give at least one deployment id (the platform shows it when you add the tool)."
        )
    clash = db.session.scalar(
        select(LtiRegistration).where(
            LtiRegistration.issuer == data.issuer.strip(),
            LtiRegistration.client_id == data.client_id.strip(),
            LtiRegistration.id != (registration.id if registration else -1),
        )
    )
    if clash is not None:
        raise RegistrationError("That issuer and client id are already registered.")
    created = registration is None
    if created:
        registration = LtiRegistration(agency_id=agency.id)
        db.session.add(registration)
    registration.name = data.name.strip()[:200] or data.issuer.strip()[:200]
    registration.issuer = data.issuer.strip()
    registration.client_id = data.client_id.strip()
    registration.auth_login_url = data.auth_login_url.strip()
    registration.auth_token_url = data.auth_token_url.strip()
    registration.key_set_url = data.key_set_url.strip()
    registration.auth_audience = (data.auth_audience or "").strip() or None
    registration.active = data.active
    db.session.flush()
    existing = {d.deployment_id: d for d in registration.deployments}
    for deployment_id, deployment in existing.items():
        if deployment_id not in deployment_ids and deployment.active:  # pending ones stay listed
            registration.deployments.remove(deployment)
    for deployment_id in deployment_ids:
        if deployment_id in existing:
            existing[deployment_id].status = "active"  # typing a pending one in approves it
        else:
            registration.deployments.append(
                LtiDeployment(
                    agency_id=agency.id, registration_id=registration.id, deployment_id=deployment_id
                )
            )
    db.session.flush()
    audit.record(
        actor,
        "lti.registration_created" if created else "lti.registration_updated",
        registration,
        summary=f"{registration.name}: {registration.issuer} / {registration.client_id}",
        after={"deployments": deployment_ids, "active": registration.active},
    )
    return registration


def registrations_of(agency: Agency) -> list[LtiRegistration]:
    return list(
        db.session.scalars(
            select(LtiRegistration)
            .where(LtiRegistration.agency_id == agency.id)
            .order_by(LtiRegistration.name)
        )
    )


def tool_configuration() -> dict[str, str]:
    """What a platform administrator copies into the platform when adding Ripple."""
    return {
        "Login initiation URL": public_url("lti.login"),
        "Launch / redirect URL": public_url("lti.launch"),
        "Target link URI": public_url("lti.launch"),
        "Deep-linking URL": public_url("lti.launch"),
        "Public key-set (JWKS) URL": public_url("lti.jwks_json"),
    }


# --- pylti1p3 adapters -----------------------------------------------------------------------------


class _Registration(Registration):
    """A pylti1p3 registration signing with our current key under its published kid."""

    def __init__(self, row: LtiRegistration, key: LtiKey):
        super().__init__()
        self.row = row
        self._kid = key.kid
        self.set_issuer(row.issuer).set_client_id(row.client_id).set_key_set_url(row.key_set_url)
        self.set_auth_login_url(row.auth_login_url).set_auth_token_url(row.auth_token_url)
        if row.auth_audience:
            self.set_auth_audience(row.auth_audience)
        self.set_tool_private_key(key.private_pem)

    def get_kid(self):
        return self._kid

    def get_jwks(self):
        return [key.public_jwk for key in published_keys()]


class DbToolConf(ToolConfAbstract):
    """Registrations from the database; one issuer may have several client ids."""

    def check_iss_has_one_client(self, iss):
        return False

    def check_iss_has_many_clients(self, iss):
        return True

    def _row(self, iss: str, client_id: str | None) -> LtiRegistration | None:
        stmt = select(LtiRegistration).where(LtiRegistration.issuer == iss, LtiRegistration.active.is_(True))
        if client_id:
            return db.session.scalar(stmt.where(LtiRegistration.client_id == client_id))
        rows = db.session.scalars(stmt.limit(2)).all()
        return rows[0] if len(rows) == 1 else None  # ambiguous without a client id

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        row = self._row(iss, client_id)
        return _Registration(row, signing_key()) if row is not None else None

    def find_deployment(self, iss, deployment_id):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        row = self._row(iss, client_id)
        if row is None or not isinstance(deployment_id, str):
            return None
        # A deployment not active yet goes on to the other checks unless the registration
        # refuses new ones; validate_launch then admits it by the rule (lti_deployments).
        if not lti_deployments.may_continue(row, deployment_id):
            raise LtiException(lti_deployments.refusal(row, deployment_id))
        return Deployment().set_deployment_id(deployment_id)


class DbLaunchDataStorage(LaunchDataStorage):
    """OIDC state, nonces and launch data in the database, expiring; no session cookie."""

    def get_session_cookie_name(self):
        return None

    def can_set_keys_expiration(self):
        return True

    def _find(self, key: str) -> LtiLaunchState | None:
        row = db.session.scalar(
            select(LtiLaunchState).where(LtiLaunchState.key == self._prepare_key(key)[:255])
        )
        if row is not None and row.expires_at <= utcnow():
            return None
        return row

    def get_value(self, key):
        row = self._find(key)
        return row.value if row is not None else None

    def set_value(self, key, value, exp=None):
        full = self._prepare_key(key)[:255]
        expires = utcnow() + (timedelta(seconds=exp) if exp else STATE_LIFETIME)
        row = db.session.scalar(select(LtiLaunchState).where(LtiLaunchState.key == full))
        if row is None:
            db.session.add(LtiLaunchState(key=full, value=value, expires_at=expires))
        else:
            row.value, row.expires_at = value, expires
        db.session.flush()

    def check_value(self, key):
        return self._find(key) is not None

    def remove(self, key: str) -> bool:
        result = db.session.execute(
            delete(LtiLaunchState).where(LtiLaunchState.key == self._prepare_key(key)[:255])
        )
        db.session.flush()
        return bool(result.rowcount)


class _SessionService(SessionService):
    """Server-side state; a nonce is used up when checked, so an id_token cannot be replayed."""

    _launch_data_lifetime = int(STATE_LIFETIME.total_seconds())

    def __init__(self, request, binding: lti_storage.LoginBinding | None = None):
        super().__init__(request)
        self.data_storage = DbLaunchDataStorage()
        self.data_storage.set_request(request)
        self.last_nonce: str | None = None
        self.last_state: str | None = None
        self.binding = binding

    def set_data_storage(self, data_storage):
        pass  # always ours

    def save_nonce(self, nonce):
        self.last_nonce = nonce
        super().save_nonce(nonce)

    def save_state_params(self, state, params):
        self.last_state = state
        extra = self.binding.state_params() if self.binding else {}
        super().save_state_params(state, {**params, **extra, "nonce": self.last_nonce})

    def check_nonce(self, nonce):
        return self.data_storage.remove(self._get_key("nonce", nonce))

    def forget_state(self, state):
        self.data_storage.remove(self._get_key(state))


def _http() -> requests.Session:
    """pylti1p3's session for key sets, tokens, AGS and NRPS: the outbound guard (public
    addresses only, checked at connect time; INTEGRATIONS_HTTP_TIMEOUT; bounded answers)."""
    return outbound.session(user_agent="Ripple-LTI")


class _Login(FlaskOIDCLogin):
    pass


class _Launch(FlaskMessageLaunch):
    proof: lti_storage.BrowserProof | None = None
    method: lti_storage.Method | None = None

    def fetch_public_key(self, key_set_url: str):
        # pylti1p3's own version puts a non-JSON answer's body in the error shown to the person.
        try:
            response = self._requests_session.get(key_set_url)
        except requests.RequestException as error:
            raise LtiException(
                f"The platform's key set could not be fetched: {outbound.describe(error)}"
            ) from None
        if not response.ok:
            raise LtiException(
                f"The platform's key set could not be fetched: {outbound.answered('platform', response)}"
            )
        try:
            return response.json()
        except ValueError:
            raise LtiException("The platform's key set is not JSON.") from None

    def validate_state(self):
        # Checked in validate() against server-side state instead of a cookie.
        return self

    def validate(self):
        state = self._get_request_param("state")
        if not state:
            raise LtiException("Missing state")
        params = self._session_service.get_state_params(state)
        if not params:
            raise LtiException("Unknown or expired state: start the launch again from the platform")
        # Before anything is used up: is this the browser that started the login?
        row = DbToolConf()._row(str(params.get("iss")), params.get("client_id") or None)
        if row is None:
            raise LtiException("No active platform registration matches this launch's issuer and client id")
        self.method = lti_storage.confirm_browser(
            params, state, self.proof or lti_storage.BrowserProof(), row
        )
        self.validate_jwt_format()
        body = self._jwt["body"]
        if body.get("nonce") != params.get("nonce"):
            raise LtiException("The id_token's nonce is not the one issued at login")
        if body.get("iss") != params.get("iss"):
            raise LtiException("The id_token's issuer is not the one that started the login")
        super().validate()
        aud = body.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        client_id = self._registration.get_client_id()
        if client_id not in audiences:
            raise LtiException("The id_token's audience does not include our client id")
        if len(audiences) > 1 and body.get("azp") != client_id:
            raise LtiException("The id_token has several audiences but azp is not our client id")
        self._session_service.forget_state(state)
        return self


def _flask_request(data: dict | None = None) -> FlaskRequest:
    return FlaskRequest(request_data=data) if data else FlaskRequest()


@dataclass
class LoginStart:
    """A validated login initiation: where to send the browser, and what binds the launch to it."""

    url: str
    state: str
    nonce: str
    binding: lti_storage.LoginBinding
    registration: LtiRegistration


def login_redirect(params: dict[str, str]) -> str:
    """Validate an OIDC third-party login initiation; the URL to send the browser to."""
    return login_start(params).url


def login_start(params: dict[str, str]) -> LoginStart:
    """Validate an OIDC third-party login initiation and store its state, nonce and browser
    binding (flushes); the caller sets the login cookie and sends the browser on."""
    if not params.get("iss") or not params.get("login_hint"):
        raise LaunchError("The login request lacks iss or login_hint.")
    target = params.get("target_link_uri") or public_url("lti.launch")
    ours = public_url("lti.launch")
    if urlsplit(target)._replace(query="", fragment="").geturl() != ours:
        raise LaunchError("target_link_uri is not this tool's launch URL.")
    # Anyone may call this URL: refuse an unregistered issuer or client id before anything
    # (a state, a nonce, our first signing key) is written.
    registration = DbToolConf()._row(params["iss"], params.get("client_id") or None)
    if registration is None:
        raise LaunchError("No active platform registration matches this issuer and client id.")
    request = _flask_request(params)
    binding = lti_storage.new_login_binding(params)
    session = _SessionService(request, binding)
    login = _Login(request, DbToolConf(), session_service=session)
    login.pass_params_to_launch({"iss": params["iss"], "client_id": params.get("client_id")})
    try:
        url = login.get_redirect_object(ours).get_redirect_url()
    except (OIDCException, LtiException) as error:
        raise LaunchError(str(error)) from error
    return LoginStart(url, session.last_state or "", session.last_nonce or "", binding, registration)


def launch_registration(state: str | None) -> LtiRegistration | None:
    """The active registration whose login issued `state`, while the state is unused."""
    if not state or len(state) > 200:
        return None
    params = _SessionService(_flask_request({"state": state})).get_state_params(state)
    if not isinstance(params, dict):
        return None
    return DbToolConf()._row(str(params.get("iss")), params.get("client_id") or None)


def purge_expired_states(now: datetime | None = None) -> int:
    """Delete the OIDC states, nonces and launch data that have expired (a login whose launch
    never came leaves two rows); returns how many. Flushes."""
    result = db.session.execute(
        delete(LtiLaunchState)
        .where(LtiLaunchState.expires_at <= (now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


@dataclass
class LaunchResult:
    launch: LtiLaunch
    user: User
    redirect_to: str
    registration: LtiRegistration


def validate_launch(
    form: dict[str, str], proof: lti_storage.BrowserProof | None = None
) -> tuple[dict[str, Any], LtiRegistration]:
    """Validate an id_token post; the verified claims and the registration. `proof` is what the
    request shows of the browser that ran the login (see `lti_storage.confirm_browser`, whose
    StorageCheck and NewWindow pass through); the method that confirmed it ends up in
    `claims["ripple:kept_safe_by"]`."""
    request = _flask_request(form)
    launch = _Launch(
        request, DbToolConf(), session_service=_SessionService(request), requests_session=_http()
    )
    launch.proof = proof
    launch.set_jwt_verify_options({"verify_aud": False, "require": ["exp", "iat", "iss", "sub"]})
    try:
        launch.validate()
    except (LtiException, AssertionError, requests.RequestException) as error:
        raise LaunchError(str(error) or "The launch could not be validated.") from error
    row = launch._registration.row  # noqa: SLF001 (our own Registration subclass)
    claims = dict(launch.get_launch_data())
    context = claims.get(CLAIM + "context")
    title = context.get("title") if isinstance(context, dict) else None
    lti_deployments.admit(row, claims[CLAIM + "deployment_id"], title if isinstance(title, str) else None)
    claims[ID_TOKEN_KID] = (launch._jwt.get("header") or {}).get("kid")  # noqa: SLF001
    claims["ripple:kept_safe_by"] = str(launch.method)
    return claims, row


def _is_instructor(roles: list[str]) -> bool:
    return any(role.rsplit("#", 1)[-1].rsplit("/", 1)[-1] in INSTRUCTOR_ROLES for role in roles)


def link_user(registration: LtiRegistration, subject: str, claims: dict[str, Any], roles: list[str]) -> User:
    """The person this platform user is in the registration's agency, created on first launch."""
    if text_problem(LtiUserLink.subject, subject, required=True):  # LTI: at most 255 characters
        raise LaunchError("The platform's user id (`sub`) is empty, too long or has control characters.")
    link = db.session.scalar(
        select(LtiUserLink).where(
            LtiUserLink.registration_id == registration.id, LtiUserLink.subject == subject
        )
    )
    if link is None:
        # Claims are another system's text: made one storable line each (a NUL was a 500).
        given = " ".join(one_line(claims.get(part), User.name) for part in ("given_name", "family_name"))
        name = one_line(claims.get("name"), User.name) or one_line(given, User.name) or "Learner"
        email = one_line(claims.get("email"), User.email).lower()
        if (
            not email
            or len(email) > 254
            or db.session.scalar(select(User.id).where(User.email == email)) is not None
        ):
            # Email is never used to match; a clash or a missing one gets a private placeholder.
            email = f"lti-{registration.id}-{secrets.token_hex(6)}@lti.invalid"
        user = User(agency_id=registration.agency_id, email=email, name=name[:200])
        user.role_grants = [RoleGrant(role=Role.OFFICER.value)]
        db.session.add(user)
        db.session.flush()
        link = LtiUserLink(
            agency_id=registration.agency_id,
            registration_id=registration.id,
            issuer=registration.issuer,
            subject=subject[:255],
            user_id=user.id,
        )
        db.session.add(link)
        db.session.flush()
        audit.record(
            None, "lti.person_created", user, summary=f"{user.name} first launched from {registration.name}"
        )
    user = link.user
    if user.agency_id != registration.agency_id:
        raise LaunchError("This platform account is linked to a person of another agency.")
    if not user.active:
        raise LaunchError("Your Ripple account is deactivated; ask your training coordinator.")
    if _is_instructor(roles) and not user.has_role(Role.INSTRUCTOR):
        user.role_grants.append(RoleGrant(role=Role.INSTRUCTOR.value))
        audit.record(
            None, "lti.instructor_granted", user, summary=f"Instructor role from {registration.name}"
        )
    link.last_launch_at = utcnow()
    db.session.flush()
    return user


def handle_launch(claims: dict[str, Any], registration: LtiRegistration) -> LaunchResult:
    """Record a validated launch, sign in its person and decide what it opens."""
    from lms.services import outcomes

    roles = [str(r) for r in claims.get(CLAIM + "roles", []) if isinstance(r, str)]
    user = link_user(registration, str(claims["sub"]), claims, roles)
    message_type = claims.get(CLAIM + "message_type")
    context = claims.get(CLAIM + "context") or {}
    resource_link = claims.get(CLAIM + "resource_link") or {}
    custom = claims.get(CLAIM + "custom") or {}
    launch = LtiLaunch(
        agency_id=registration.agency_id,
        registration_id=registration.id,
        user_id=user.id,
        message_type=str(message_type),
        deployment_id=str(claims.get(CLAIM + "deployment_id")),
        context_id=str(context["id"])[:255] if context.get("id") else None,
        context_title=str(context.get("title") or "")[:255] or None,
        resource_link_id=str(resource_link["id"])[:255] if resource_link.get("id") else None,
        target=str(custom.get("ripple_target") or "")[:255] or None,
        ags=claims.get(AGS_CLAIM),
        nrps=claims.get(NRPS_CLAIM),
        deep_linking=claims.get(DL_CLAIM),
        roles=roles,
        id_token_kid=one_line(claims.get(ID_TOKEN_KID), LtiLaunch.id_token_kid) or None,
        target_link_uri=one_line(claims.get(CLAIM + "target_link_uri"), LtiLaunch.target_link_uri) or None,
    )
    db.session.add(launch)
    db.session.flush()
    if message_type == "LtiDeepLinkingRequest":
        if not _is_instructor(roles):
            raise LaunchError("Only instructors can add Ripple content to a course.")
        return LaunchResult(launch, user, url_for("lti.deep_link"), registration)

    def resume(_version: ScenarioVersion) -> Attempt | None:
        # An attempt in progress from this link (of any version) goes on where it was.
        return db.session.scalar(
            select(Attempt)
            .join(LtiLaunch, LtiLaunch.attempt_id == Attempt.id)
            .where(
                Attempt.user_id == user.id,
                Attempt.status == "in_progress",
                LtiLaunch.registration_id == registration.id,
                LtiLaunch.resource_link_id == launch.resource_link_id,
            )
            .limit(1)
        )

    try:
        opened = launch_targets.open_target(
            user,
            registration.agency_id,
            launch.target,
            source="lti",
            instructor=_is_instructor(roles),
            resume=resume,
            default="lti.context_page",
        )
    except launch_targets.TargetError as error:
        raise LaunchError(str(error)) from error
    launch.assignment_id = opened.assignment.id if opened.assignment else None
    launch.attempt_id = opened.attempt.id if opened.attempt else None
    redirect_to = opened.redirect_to
    db.session.flush()
    outcomes.launched(launch)
    return LaunchResult(launch, user, redirect_to, registration)


# --- deep linking -------------------------------------------------------------------------------------


def deep_link_response(launch: LtiLaunch, targets: list[str]) -> tuple[str, str]:
    """The signed LtiDeepLinkingResponse for the chosen items: (return URL, JWT)."""
    from pylti1p3.deep_link import DeepLink

    if launch.deep_linking is None or launch.message_type != "LtiDeepLinkingRequest":
        raise LaunchError("This launch did not ask for content.")
    offered = {entry.target: entry for entry in launch_targets.catalogue(launch.agency_id)}
    chosen = [offered[t] for t in targets if t in offered]
    if not chosen:
        raise LaunchError("Choose at least one course or scenario.")
    if not launch.deep_linking.get("accept_multiple", True):
        chosen = chosen[:1]
    registration = _Registration(launch.registration, signing_key())
    resources = []
    for entry in chosen:
        resource = (
            DeepLinkResource()
            .set_url(public_url("lti.launch"))
            .set_title(entry.title)
            .set_custom_params({"ripple_target": entry.target})
        )
        if entry.graded:
            resource.set_lineitem(
                LineItem().set_score_maximum(100).set_label(entry.title).set_tag(f"ripple:{entry.target}")
            )
        resources.append(resource)
    link = DeepLink(registration, launch.deployment_id, launch.deep_linking)
    return launch.deep_linking["deep_link_return_url"], link.get_response_jwt(resources)


# --- AGS and NRPS -----------------------------------------------------------------------------------


def _connector(registration: LtiRegistration) -> ServiceConnector:
    return ServiceConnector(_Registration(registration, signing_key()), requests_session=_http())


def send_score(delivery) -> None:
    """Post one queued score to the platform's line item (creating the line item if needed)."""
    from pylti1p3.assignments_grades import AssignmentsGradesService
    from pylti1p3.grade import Grade

    launch: LtiLaunch = delivery.launch
    if not launch.ags:
        raise LaunchError("The launch offered no grade service.")
    ags = AssignmentsGradesService(_connector(launch.registration), launch.ags)
    subject = db.session.scalar(
        select(LtiUserLink.subject).where(
            LtiUserLink.registration_id == launch.registration_id, LtiUserLink.user_id == delivery.user_id
        )
    )
    grade = (
        Grade()
        .set_score_given(delivery.score_given)
        .set_score_maximum(delivery.score_maximum)
        .set_timestamp(delivery.created_at.isoformat())
        .set_activity_progress(delivery.activity_progress)
        .set_grading_progress(delivery.grading_progress)
        .set_user_id(subject)
    )
    if delivery.comment:
        grade.set_comment(delivery.comment)
    lineitem = None
    if not launch.ags.get("lineitem"):
        lineitem = (
            LineItem()
            .set_tag(f"ripple:{launch.target or 'launch'}")
            .set_score_maximum(delivery.score_maximum)
            .set_label(launch.context_title or "Ripple")
            .set_resource_link_id(launch.resource_link_id or "")
        )
    ags.put_grade(grade, lineitem)


@dataclass
class RosterSync:
    created: int
    linked: int
    instructors: int


def sync_roster(actor: User, launch: LtiLaunch) -> RosterSync:
    """Bring the platform course's members into the agency (NRPS): link or create each person."""
    if launch.user_id != actor.id or not _is_instructor(launch.roles or []):
        raise LaunchError("Only the instructor who launched from the course can sync its roster.")
    if not launch.nrps or not launch.nrps.get("context_memberships_url"):
        raise LaunchError("The platform did not offer its roster service with this launch.")
    service = NamesRolesProvisioningService(_connector(launch.registration), launch.nrps)
    try:
        members = service.get_members()
    except (LtiException, requests.RequestException, ValueError) as error:
        raise LaunchError(
            f"The platform's roster service failed: {outbound.describe(error, 'platform')}"
        ) from error
    before = set(
        db.session.scalars(
            select(LtiUserLink.subject).where(LtiUserLink.registration_id == launch.registration_id)
        )
    )
    created = instructors = 0
    for member in members:
        subject = member.get("user_id")
        if not subject or member.get("status", "Active") != "Active":
            continue
        roles = [str(r) for r in member.get("roles", [])]
        user = link_user(launch.registration, str(subject), dict(member), roles)
        created += subject not in before
        instructors += user.has_role(Role.INSTRUCTOR)
    result = RosterSync(created=created, linked=len(members), instructors=instructors)
    audit.record(
        actor,
        "lti.roster_synced",
        launch,
        summary=f"Roster of {launch.context_title or launch.context_id}: {result.linked} members, {created} new",
    )
    return result
