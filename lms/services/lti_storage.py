"""Binding an LTI launch to the browser that started its login, without third-party cookies.

The OIDC state and nonce are kept server-side (`lti.DbLaunchDataStorage`); on their own they
would let an id_token and state started in one browser be posted from another (login CSRF, a
session swap). So a launch must also show that it comes from the browser that ran the login.
At the launch, in this order (as the 1EdTech reference library checks them):

1. **Cookie.** The login sets `ripple_lti_<hash of the state>`: a random secret whose SHA-256
   is stored with the state. On HTTPS (and on loopback addresses, which browsers treat as
   secure) it is `SameSite=None; Secure; Partitioned` (CHIPS), so a browser that blocks
   unpartitioned third-party cookies still keeps it inside the platform's iframe, keyed to
   the platform's site. One cookie per login, so launches running side by side never clash.
2. **Platform storage** (1EdTech "LTI OIDC Login with LTI Client Side postMessages" and
   "LTI postMessage Storage"). When the login carries `lti_storage_target` (or, in a frame,
   the platform answers `lti.capabilities` with `lti.put_data`), Ripple's login page stores
   `lti_state_<state>` and `lti_nonce_<nonce>` in the platform's storage frame before going on
   to the platform. With no cookie at the launch, the launch page reads them back with
   `lti.get_data` and posts them to `/lti/launch/confirm`, which only accepts same-origin
   posts (so another site cannot post made-up values) and checks them against the state and
   nonce it issued before the id_token is validated.
3. **Neither.** The launch is not opened: a page explains and offers to open the launch in a
   new, top-level window, where the login runs again with a first-party cookie.

After the launch the session stays inside the iframe: with a partitioned session cookie when
the launch proved the browser keeps our cookies there; otherwise (confirmed by platform
storage, no cookie) with a frame token, see `frame_token`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lms.extensions import db
from lms.models import LtiLaunch, LtiRegistration, User, UserSession
from lms.models.types import utcnow
from lms.services import sessions

COOKIE_PREFIX = "ripple_lti_"
COOKIE_PATH = "/lti/"
# Keys in the platform's storage, as the 1EdTech postMessage library names them.
STATE_KEY, NONCE_KEY = "lti_state_", "lti_nonce_"
# A frame name the platform gives in lti_storage_target: "_parent" or a plain name.
_FRAME_NAME = re.compile(r"^(?:_parent|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$")
# What the relaunch in a new window passes on to the login again (never the storage target).
LOGIN_PARAMS = ("iss", "login_hint", "lti_message_hint", "target_link_uri", "client_id", "lti_deployment_id")
FRAME_PARAM = "lti_frame"
LOGIN_COOKIE_SECONDS = 600  # as long as the state it binds (lti.STATE_LIFETIME)
_FRAME_SALT = "ripple.lti-frame"


class Method(StrEnum):
    """What kept a launch safe: how Ripple knew the launch came from the browser that started it."""

    COOKIE = "cookie"
    PLATFORM_STORAGE = "platform_storage"
    NEW_WINDOW = "new_window"


METHOD_WORDS = {
    Method.COOKIE: "a sign-in cookie this browser kept from the start of the launch",
    Method.PLATFORM_STORAGE: "your learning platform's storage in this browser (platform storage)",
    Method.NEW_WINDOW: "nothing yet: this browser kept no cookie in the platform's frame, and the "
    "platform offered no storage",
}


class NotThisBrowser(ValueError):
    """The launch's proof names another browser's login; the message says which proof failed."""


@dataclass
class StorageCheck(Exception):
    """No cookie came with the launch, but the platform may hold the state: ask it (lti.get_data)."""

    state: str
    nonce: str
    target: str | None
    platform_origin: str
    relaunch_url: str | None


@dataclass
class NewWindow(Exception):
    """Nothing showed the launch came from this browser: offer to run it again in a new window."""

    relaunch_url: str | None
    reason: str


@dataclass
class BrowserProof:
    """What the launch request brought: our login cookie for its state, and the values read from
    platform storage (only on /lti/launch/confirm, which checks the post came from our page)."""

    cookie: str | None = None
    storage_checked: bool = False
    storage_state: str | None = None
    storage_nonce: str | None = None
    storage_error: str | None = None
    storage_target: str | None = None


# --- the login ----------------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def cookie_name(state: str) -> str:
    return COOKIE_PREFIX + _digest(state)[:24]


def storage_target(value: Any) -> str | None:
    """The platform's storage frame name from lti_storage_target, if it is a usable one."""
    return value if isinstance(value, str) and _FRAME_NAME.match(value) else None


def platform_origin(registration: LtiRegistration) -> str:
    """The origin of the platform's OIDC authorisation endpoint: where platform storage lives
    (the postMessage target origin) and the origin that may frame launched pages."""
    parts = urlsplit(registration.auth_login_url)
    return f"{parts.scheme}://{parts.netloc}"


def trusted_origins(registration: LtiRegistration) -> list[str]:
    return list(dict.fromkeys([platform_origin(registration), *current_app.config["LMS_FRAME_ORIGINS"]]))


def loopback_request() -> bool:
    host = (request.host or "").rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cross_site_cookies_possible() -> bool:
    """Whether browsers accept `SameSite=None; Secure` cookies from this request: over HTTPS,
    and on loopback addresses, which browsers treat as secure contexts (Chromium takes Secure
    and Partitioned cookies from http://127.0.0.1)."""
    return bool(request.is_secure or loopback_request())


def framed_request() -> bool:
    """Whether the browser says this navigation is in a frame (Fetch Metadata)."""
    return request.headers.get("Sec-Fetch-Dest") == "iframe"


@dataclass
class LoginBinding:
    """What the login stores with its state, and the cookie it sets."""

    secret: str
    storage: str | None  # the storage frame name, "probe" (ask lti.capabilities) or None
    login: dict[str, str]

    def state_params(self) -> dict[str, Any]:
        return {"binding": _digest(self.secret), "storage": self.storage, "login": self.login}


def new_login_binding(params: dict[str, str]) -> LoginBinding:
    target = storage_target(params.get("lti_storage_target"))
    storage = target or ("probe" if framed_request() else None)
    login = {key: params[key][:2000] for key in LOGIN_PARAMS if isinstance(params.get(key), str)}
    return LoginBinding(secrets.token_urlsafe(32), storage, login)


def set_login_cookie(response, state: str, secret: str) -> None:
    lifetime = LOGIN_COOKIE_SECONDS
    if cross_site_cookies_possible():
        response.set_cookie(
            cookie_name(state), secret, max_age=lifetime, path=COOKIE_PATH, httponly=True,
            secure=True, samesite="None", partitioned=True,
        )  # fmt: skip
    else:  # plain http elsewhere (development): only a top-level first-party launch can keep it
        response.set_cookie(cookie_name(state), secret, max_age=lifetime, path=COOKIE_PATH, httponly=True)


def clear_login_cookie(response, state: str) -> None:
    secure = cross_site_cookies_possible()
    response.delete_cookie(
        cookie_name(state), path=COOKIE_PATH, httponly=True, secure=secure,
        samesite="None" if secure else None, partitioned=secure,
    )  # fmt: skip


# --- the launch ------------------------------------------------------------------------------------


def proof_from_request(state: str | None, *, confirm: bool = False) -> BrowserProof:
    proof = BrowserProof(
        cookie=request.cookies.get(cookie_name(state)) if state else None,
        storage_target=storage_target(request.form.get("lti_storage_target")),
    )
    if confirm:
        proof.storage_checked = True
        proof.storage_state = request.form.get("storage_state") or None
        proof.storage_nonce = request.form.get("storage_nonce") or None
        proof.storage_error = (request.form.get("storage_error") or "")[:64] or None
    return proof


def relaunch_url(params: dict[str, Any]) -> str | None:
    login = params.get("login")
    if not isinstance(login, dict) or not login.get("iss") or not login.get("login_hint"):
        return None
    return url_for(
        "lti.login", **{k: v for k, v in login.items() if k in LOGIN_PARAMS and isinstance(v, str)}
    )


def confirm_browser(params: dict[str, Any], state: str, proof: BrowserProof, registration) -> Method:
    """Which method shows this launch comes from the browser that ran its login; raises
    `NotThisBrowser` when a proof names another login, `StorageCheck` when the platform's
    storage should be asked, and `NewWindow` when nothing can show it in this frame."""
    expected = params.get("binding")
    if not isinstance(expected, str):
        raise NotThisBrowser("This launch's login did not come through Ripple's login step.")
    if proof.cookie is not None:
        if hmac.compare_digest(_digest(proof.cookie), expected):
            return Method.COOKIE
        raise NotThisBrowser("The sign-in cookie in this browser belongs to another launch.")
    if proof.storage_checked:
        if proof.storage_state is not None and proof.storage_state != state:
            raise NotThisBrowser(
                "The state in your learning platform's storage is not this launch's: "
                "the launch was started in another browser."
            )
        if proof.storage_nonce is not None and proof.storage_nonce != params.get("nonce"):
            raise NotThisBrowser(
                "The nonce in your learning platform's storage is not this launch's: "
                "the launch was started in another browser."
            )
        if proof.storage_state is not None and proof.storage_nonce is not None:
            return Method.PLATFORM_STORAGE
        raise NewWindow(
            relaunch_url(params),
            "Your learning platform's storage did not hold this launch's code"
            + (f" ({proof.storage_error})" if proof.storage_error else "")
            + ", and this browser kept no cookie for Ripple in the platform's frame.",
        )
    if params.get("storage") or proof.storage_target:
        target = proof.storage_target or (params["storage"] if params.get("storage") != "probe" else None)
        raise StorageCheck(
            state, str(params.get("nonce")), target, platform_origin(registration), relaunch_url(params)
        )
    raise NewWindow(relaunch_url(params), "This browser kept no cookie for Ripple in the platform's frame.")


def same_origin_post() -> bool:
    """Whether this POST came from one of our own pages: Fetch Metadata says same-origin, or
    (browsers without it) the Origin header is ours. Another site cannot forge either."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    ours = urlsplit(url_for("lti.launch", _external=True))
    return origin == f"{ours.scheme}://{ours.netloc}"


# --- keeping the session in the iframe ------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_FRAME_SALT)


def frame_token(user_session: UserSession, launch: LtiLaunch) -> str:
    """A short-lived token that carries the session of a launch whose browser keeps no cookie in
    the platform's frame: bound to the session record, the launch and its person; re-issued on
    every page (LTI_FRAME_TOKEN_MINUTES from the last page), ended with the session."""
    return _serializer().dumps([user_session.id, launch.id, launch.user_id])


def read_frame_token(token: str) -> tuple[str, int, int] | None:
    """The (session id, launch id, user id) a frame token names, if it is well signed and fresh."""
    if not isinstance(token, str) or len(token) > 512:
        return None
    max_age = int(current_app.config["LTI_FRAME_TOKEN_MINUTES"]) * 60
    try:
        value = _serializer().loads(token, max_age=max_age)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
    ):
        return None
    return value[0], value[1], value[2]


_URL_ATTRIBUTE = re.compile(r'(\s(?:href|action|formaction|data-[a-z-]*url)=")(/(?![/\\])[^"]*)"')


def with_frame_token(url: str, token: str, *, html: bool = False) -> str:
    """`url` (one of our own paths) carrying the frame token; static files never need it."""
    if url.startswith("/static/"):
        return url
    path, hash_mark, fragment = url.partition("#")
    if FRAME_PARAM + "=" in path:
        return url
    separator = ("&amp;" if html else "&") if "?" in path else "?"
    return f"{path}{separator}{FRAME_PARAM}={token}{hash_mark}{fragment}"


def carry_frame_token(response, token: str) -> None:
    """Put the frame token on every link, form and script URL of ours in the page, and on a
    redirect to our own path. Only relative paths get it: never a URL of another site, so it
    is never sent to a third party (and Referrer-Policy: same-origin keeps it out of Referer)."""
    location = response.headers.get("Location")
    if location and location.startswith("/") and not location.startswith(("//", "/\\")):
        response.headers["Location"] = with_frame_token(location, token)
    if response.mimetype != "text/html" or response.is_streamed:
        return
    page = response.get_data(as_text=True)
    response.set_data(
        _URL_ATTRIBUTE.sub(lambda m: f'{m.group(1)}{with_frame_token(m.group(2), token, html=True)}"', page)
    )


def frame_csrf_secret(session_id: str) -> str:
    """The CSRF secret of a frame session: the same on every page of that session."""
    key = current_app.secret_key
    key = key if isinstance(key, bytes) else str(key).encode()
    return hmac.new(key, b"lti-frame-csrf:" + session_id.encode(), "sha1").hexdigest()


def frame_user(session_id: str, launch_id: int, user_id: int) -> User | None:
    """The person a frame token signs in, if its session record still works and the launch is
    theirs; else None."""
    row = db.session.get(UserSession, session_id)
    launch = db.session.get(LtiLaunch, launch_id)
    if row is None or launch is None or row.user_id != user_id or launch.user_id != user_id:
        return None
    now = utcnow()
    if row.ended_at is not None or not row.user.active or now >= row.expires_at:
        return None
    if now - row.last_seen_at >= sessions.idle_limit():
        return None
    sessions.touch(row, now)
    row.user.current_session = row
    return row.user


def frame_request_allowed() -> bool:
    """A frame token is only taken from a request made by our own pages, so another site cannot
    hand a browser someone else's session through a link (a session swap)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    referrer = urlsplit(request.headers.get("Referer", ""))
    ours = urlsplit(request.host_url)
    return (referrer.scheme, referrer.netloc) == (ours.scheme, ours.netloc)


def launch_session_data(launch: LtiLaunch, method: Method, *, partitioned: bool, return_url=None) -> dict:
    """What `session["lti"]` holds for a launched session."""
    return {
        "launch_id": launch.id,
        "frame_origin": platform_origin(launch.registration),
        "return_url": return_url,
        "platform": launch.registration.name,
        "kept_safe_by": str(method),
        "partitioned": partitioned,
    }
