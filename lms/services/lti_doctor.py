"""The connection doctor: checks of one LTI registration against its platform, in words.

Each check says passed, a problem with how to fix it, or why it was skipped:

- key set: the platform's key-set URL answers with valid RSA keys, among them the key ids of
  recent launches (a platform that rotated its keys without publishing the new one breaks
  every launch);
- access token: a client-credentials request signed with our key (private_key_jwt) is
  answered with a token; if refused, the other plausible audiences (the registration's token
  audience, the token URL, the issuer) are tried, to say which one the platform expects;
- services: the fresh token is sent to a service of a recent launch (its line items, else its
  roster); a 401 then means the Authorization header did not arrive (Moodle behind Apache
  strips it unless told to pass it on);
- URLs: the launch URL we registered, today's, and the target_link_uri of recent launches
  (resource-link and deep-linking alike) are the same;
- deployments: none waits for approval.

The doctor reads and calls; it stores nothing (the caller commits nothing but our first key).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import requests
from jwcrypto.jwk import JWK
from sqlalchemy import select

from lms.extensions import db
from lms.models import LtiLaunch, LtiRegistration, User
from lms.public_urls import public_url
from lms.services import lti, lti_deployments, outbound
from lms.services.lti_registration import WANTED_SCOPES

RECENT_LAUNCHES = 20
PASSED, PROBLEM, SKIPPED = "passed", "problem", "skipped"
APACHE_FIX = (
    "Moodle behind Apache drops the Authorization header before Moodle sees it. Add to the "
    "Apache configuration of the Moodle site (or its .htaccess) `CGIPassAuth On`, or "
    '`SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1`, then reload Apache. Other platforms '
    "behind a proxy: make sure the proxy passes the Authorization header on."
)


@dataclass
class Check:
    title: str
    status: str  # passed | problem | skipped
    detail: str
    fix: str | None = None


def _recent(registration: LtiRegistration) -> list[LtiLaunch]:
    return list(
        db.session.scalars(
            select(LtiLaunch)
            .where(LtiLaunch.registration_id == registration.id)
            .order_by(LtiLaunch.id.desc())
            .limit(RECENT_LAUNCHES)
        )
    )


def _http() -> requests.Session:
    return outbound.session(user_agent="Ripple-LTI-doctor")


def check_key_set(registration: LtiRegistration, launches: list[LtiLaunch]) -> Check:
    title = "The platform's key set"
    fix_url = "Check the key-set (JWKS) URL of this registration against the one the platform shows."
    try:
        response = _http().get(registration.key_set_url, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        return Check(
            title,
            PROBLEM,
            f"Ripple could not fetch {registration.key_set_url}: {outbound.describe(error, 'The platform')}.",
            fix_url,
        )
    if not response.ok:
        return Check(
            title,
            PROBLEM,
            f"{registration.key_set_url}: {outbound.answered('the platform', response)}.",
            fix_url,
        )
    try:
        document = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser
        return Check(title, PROBLEM, f"{registration.key_set_url} does not answer with JSON.", fix_url)
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        return Check(title, PROBLEM, "The key set has no `keys` list.", fix_url)
    valid, invalid = [], 0
    for entry in keys[:100]:
        try:
            key = JWK(**entry) if isinstance(entry, dict) else None
        except Exception:  # noqa: BLE001 - jwcrypto raises several kinds for a bad key
            key = None
        if key is None or entry.get("kty") != "RSA" or not entry.get("n") or not entry.get("e"):
            invalid += 1
            continue
        valid.append(str(entry.get("kid") or ""))
    if not valid:
        return Check(
            title,
            PROBLEM,
            "The key set holds no valid RSA key, so no launch from this platform can be verified.",
            "Check the platform's LTI key settings (it must publish an RSA public key).",
        )
    detail = f"{len(valid)} valid RSA key{'s' if len(valid) != 1 else ''}" + (
        f" ({invalid} other entr{'ies' if invalid != 1 else 'y'} ignored)" if invalid else ""
    )
    kids = sorted({launch.id_token_kid for launch in launches if launch.id_token_kid})
    missing = [kid for kid in kids if kid not in valid]
    if missing:
        return Check(
            title,
            PROBLEM,
            f"{detail}, but recent launches were signed with key id {', '.join(missing)}, which the key "
            "set no longer lists: launches signed with it now fail.",
            "The platform changed its keys without publishing the new one at this URL; check the "
            "key-set URL, or ask the platform's administrator to republish the signing key.",
        )
    seen = (
        f"; recent launches' key id{'s' if len(kids) != 1 else ''} {', '.join(kids)} present"
        if kids
        else ("; no launch yet to compare key ids with")
    )
    return Check(title, PASSED, detail + seen + ".")


def _token(registration: LtiRegistration, audience: str) -> tuple[str | None, str]:
    """Ask the token URL for a token with `aud` = audience: (token, None) or (None, why not)."""
    key = lti.signing_key()
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": registration.client_id,
            "sub": registration.client_id,
            "aud": audience,
            "iat": now - 5,
            "exp": now + 60,
            "jti": f"ripple-doctor-{uuid.uuid4()}",
        },
        key.private_pem,
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
        "scope": " ".join(WANTED_SCOPES),
    }
    try:
        response = _http().post(
            registration.auth_token_url, data=form, headers={"Accept": "application/json"}
        )
    except requests.RequestException as error:
        return None, outbound.describe(error, "The platform")
    said = outbound.answered("the platform", response)
    try:
        answer = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("error"), str) and answer["error"].isidentifier():
        said += f" ({answer['error']})"
    if response.ok and isinstance(answer, dict) and isinstance(answer.get("access_token"), str):
        return answer["access_token"], said
    return None, said


def check_token(registration: LtiRegistration) -> tuple[Check, str | None]:
    title = "An access token for grades and rosters"
    configured = registration.auth_audience or registration.auth_token_url
    token, said = _token(registration, configured)
    if token:
        return Check(title, PASSED, f"The token URL issued a token for `aud` = {configured}."), token
    others = []
    for candidate in (registration.auth_audience, registration.auth_token_url, registration.issuer):
        if candidate and candidate != configured and candidate not in others:
            others.append(candidate)
    for candidate in others:
        token, _ = _token(registration, candidate)
        if token:
            if candidate == registration.auth_token_url:
                fix = "Empty the registration's “Token audience” field: the platform expects the token URL itself."
            else:
                fix = f"Set the registration's “Token audience” to {candidate}."
            return Check(
                title,
                PROBLEM,
                f"The token URL refused Ripple's request with `aud` = {configured}: {said}. It accepted "
                f"`aud` = {candidate}, so that is the audience it expects.",
                fix,
            ), token
    tried = ", ".join([configured, *others])
    return Check(
        title,
        PROBLEM,
        f"The token URL refused every audience Ripple tried ({tried}): {said}.",
        "Check the token URL and client id of this registration, and that the platform has "
        f"Ripple's key-set URL ({public_url('lti.jwks_json')}) for this tool.",
    ), None


def check_services(launches: list[LtiLaunch], token: str | None) -> Check:
    title = "The Authorization header reaching the platform's services"
    service = None
    for launch in launches:
        if isinstance(launch.ags, dict) and isinstance(launch.ags.get("lineitems"), str):
            service = (
                launch.ags["lineitems"],
                "application/vnd.ims.lis.v2.lineitemcontainer+json",
                "line items",
            )
            break
        if isinstance(launch.nrps, dict) and isinstance(launch.nrps.get("context_memberships_url"), str):
            service = (
                launch.nrps["context_memberships_url"],
                "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
                "course roster",
            )
            break
    if service is None:
        return Check(
            title,
            SKIPPED,
            "No recent launch offered a grade or roster service; launch Ripple from a course once, then run the checks again.",
        )
    if token is None:
        return Check(
            title,
            SKIPPED,
            "Ripple got no access token (see above), so it could not call the platform's services.",
        )
    url, accept, what = service
    try:
        response = _http().get(url, headers={"Authorization": f"Bearer {token}", "Accept": accept})
    except requests.RequestException as error:
        return Check(
            title,
            PROBLEM,
            f"Ripple could not reach the {what} service ({url}): {outbound.describe(error, 'The platform')}.",
        )
    if response.status_code == 401:
        return Check(
            title,
            PROBLEM,
            f"The {what} service ({url}) answered 401 Unauthorized to a token the platform had just "
            "issued: the Authorization header is not reaching the platform.",
            APACHE_FIX,
        )
    if not response.ok:
        return Check(
            title,
            PROBLEM,
            f"The {what} service ({url}): {outbound.answered('the platform', response)}.",
            "Check the platform's logs for this request; the tool may lack the permission for this service.",
        )
    return Check(title, PASSED, f"The {what} service of a recent launch accepted the token ({url}).")


def _bare(url: str) -> str:
    return urlsplit(url)._replace(query="", fragment="").geturl()


def check_urls(registration: LtiRegistration, launches: list[LtiLaunch]) -> Check:
    title = "Launch and deep-linking URLs"
    ours = public_url("lti.launch")
    problems = []
    if registration.registered_launch_url and registration.registered_launch_url != ours:
        problems.append(
            f"Ripple registered {registration.registered_launch_url} as its redirect and target link "
            f"URI, but its launch URL is now {ours}."
        )
    seen: dict[str, set[str]] = {}
    for launch in launches:
        if launch.target_link_uri:
            seen.setdefault(_bare(launch.target_link_uri), set()).add(
                "deep-linking" if launch.message_type == "LtiDeepLinkingRequest" else "resource-link"
            )
    for url, kinds in sorted(seen.items()):
        if url != ours:
            problems.append(
                f"Recent {' and '.join(sorted(kinds))} launches name {url} as their target link URI, not {ours}."
            )
    if problems:
        return Check(
            title,
            PROBLEM,
            " ".join(problems),
            f"In the platform's tool settings, set the redirect URI, target link URI and deep-linking URL "
            f"to {ours} (or register again with a new registration link).",
        )
    detail = f"The redirect, target link and deep-linking URL are all {ours}"
    return Check(title, PASSED, detail + ("." if seen else "; no launch yet to compare with."))


def check_deployments(registration: LtiRegistration) -> Check:
    title = "Deployments"
    pending = lti_deployments.pending_of(registration)
    active = [d for d in registration.deployments if d.active]
    if pending:
        names = ", ".join(d.deployment_id for d in pending)
        return Check(
            title,
            PROBLEM,
            f"{len(pending)} deployment{'s' if len(pending) != 1 else ''} await{'s' if len(pending) == 1 else ''} your approval ({names}); launches from {'them' if len(pending) != 1 else 'it'} are held.",
            "Approve or dismiss them under “New deployments” below.",
        )
    if not active:
        return Check(
            title, SKIPPED, "No deployment yet: the platform's first launch adds one by the rule below."
        )
    return Check(title, PASSED, f"{len(active)} active: {', '.join(d.deployment_id for d in active)}.")


def run(actor: User, registration: LtiRegistration) -> list[Check]:
    """Every check of `registration` (the actor's agency's: the caller scoped it), in the
    order a person would fix them."""
    launches = _recent(registration)
    token_check, token = check_token(registration)
    return [
        check_key_set(registration, launches),
        token_check,
        check_services(launches, token),
        check_urls(registration, launches),
        check_deployments(registration),
    ]
