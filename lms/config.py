"""Configuration read from the environment.

Every setting has a safe development default so `make run` works with no setup; production
sets at least SECRET_KEY and DATABASE_URL (see README, "Running in production").
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.pool import StaticPool

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _positive_int(name: str) -> int | None:
    """An optional whole-number setting of at least 1; anything else stops the start, naming it."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1 (it is {value!r}).")
    return int(value)


def database_url() -> str:
    """DATABASE_URL, normalised so plain postgres URLs use the psycopg 3 driver."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'ripple.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    # Signs session cookies and CSRF tokens: at least 32 random bytes. When unset, the `flask`
    # command (so `make run`) makes one in SECRET_KEY_FILE; anything else refuses to start.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SECRET_KEY_FILE = INSTANCE_DIR / "secret_key"
    SQLALCHEMY_DATABASE_URI = database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Sessions end after this much inactivity, and in any case this long after sign-in; both
    # are enforced on the server-side session record (the cookie's own expiry only follows).
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    SESSION_MAX_HOURS = float(os.environ.get("SESSION_MAX_HOURS", "12"))
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=SESSION_IDLE_MINUTES)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure is also set per request when served over HTTPS (see lms.security).
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token already
    # argon2 parameters by name: OWASP (default), RFC_9106_LOW_MEMORY, RFC_9106_HIGH_MEMORY.
    PASSWORD_HASH_PROFILE = os.environ.get("PASSWORD_HASH_PROFILE", "OWASP")
    # Sign-in limits (services/accounts.py, SignInPolicy), counted in a window of
    # LOGIN_LOCK_MINUTES from the first failure: LOGIN_MAX_FAILURES per email from one client
    # address, then that email is paused from that address for LOGIN_LOCK_MINUTES; past
    # LOGIN_ADDRESS_MAX_FAILURES per address (IPv6: per /64) across all emails the address is
    # slowed down (each failing email waits 2 s, doubling to 60 s), never locked.
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_ADDRESS_MAX_FAILURES = int(os.environ.get("LOGIN_ADDRESS_MAX_FAILURES", "20"))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "15"))
    # Space-separated origins of the learning platforms allowed to frame Ripple (LTI launches).
    LMS_FRAME_ORIGINS = os.environ.get("LMS_FRAME_ORIGINS", "").split()
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # With a Celery broker, grading (Monte Carlo) runs on workers; without one it runs inline.
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL")
    GRADE_IN_BACKGROUND = bool(CELERY_BROKER_URL)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # text | json
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # When set, /metrics asks for "Authorization: Bearer <METRICS_TOKEN>"; without it /metrics
    # is refused unless METRICS_PUBLIC=true (a scraper on a private network).
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN")
    METRICS_PUBLIC = _bool("METRICS_PUBLIC", False)
    # Uncached what-if projections (two Monte Carlo sweeps each) per signed-in user.
    WHAT_IF_RATE_LIMIT = os.environ.get("WHAT_IF_RATE_LIMIT", "20 per minute")
    # Calibrations queued or running at once per agency (the platform library counts as one).
    CALIBRATION_MAX_PER_AGENCY = int(os.environ.get("CALIBRATION_MAX_PER_AGENCY", "3"))
    # LTI login initiations per client address (each stores a state and a nonce).
    LTI_LOGIN_RATE_LIMIT = os.environ.get("LTI_LOGIN_RATE_LIMIT", "30 per minute")
    # SCORM and cmi5 package launches per client address (each stores a token or calls the LMS).
    PACKAGE_LAUNCH_RATE_LIMIT = os.environ.get("PACKAGE_LAUNCH_RATE_LIMIT", "30 per minute")
    # How long a package's launch token may wait for its redemption (one browser redirect).
    PACKAGE_LAUNCH_TOKEN_SECONDS = int(os.environ.get("PACKAGE_LAUNCH_TOKEN_SECONDS", "120"))
    # Dynamic registrations (/lti/register/<link>) per client address: each makes outbound calls.
    LTI_REGISTER_RATE_LIMIT = os.environ.get("LTI_REGISTER_RATE_LIMIT", "20 per hour")
    LTI_LOGO_URL = os.environ.get("LTI_LOGO_URL", "")  # logo_uri in dynamic registrations
    # Minutes a frame token lives from the last page (launches whose browser keeps no cookie of
    # ours in the platform's iframe carry their session in the page; docs/lms/cookies.md).
    LTI_FRAME_TOKEN_MINUTES = int(os.environ.get("LTI_FRAME_TOKEN_MINUTES", "20"))
    # The authoring editors' live checks (lesson preview, scenario YAML check), per instructor.
    AUTHOR_PREVIEW_RATE_LIMIT = os.environ.get("AUTHOR_PREVIEW_RATE_LIMIT", "120 per minute")
    # Outgoing email for reminders; without MAIL_SERVER messages stay in the in-app outbox.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Ripple <no-reply@ripple.test>")
    # Public certificate verification and badge documents: requests per client address.
    VERIFY_RATE_LIMIT = os.environ.get("VERIFY_RATE_LIMIT", "60 per minute")
    # Flask-Limiter's counters: memory:// per process; redis://host:6379 to share them.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # When that storage is unreachable every limit fails open: the request is served and the
    # error logged, rather than every limited page (and the whole API) answering 500.
    RATELIMIT_SWALLOW_ERRORS = True
    # The contact address in the Open Badges issuer profile of every agency.
    BADGE_ISSUER_EMAIL = os.environ.get("BADGE_ISSUER_EMAIL", "certificates@ripple.test")
    # Monte Carlo sizes. Grading: unset means the adaptive rule (scenarios/adaptive.py: as many runs
    # as the verdict needs); a number grades every attempt over exactly that many runs (tests, drills).
    SCENARIO_GRADING_RUNS = (
        int(os.environ["SCENARIO_GRADING_RUNS"]) if os.environ.get("SCENARIO_GRADING_RUNS") else None
    )
    # The most processes one grade's runs spread over on a Celery worker while the machine is
    # idle (lms/services/grading_spread.py); unset means every core, 1 keeps grades serial.
    GRADING_CORES = _positive_int("GRADING_CORES")
    # Runs of each reference path (the expert's, no partnership) that grades are scored against
    # and the debrief's bands show; unset means each scenario's own `grading.reference_runs`.
    # The references are worked out once per scenario version and kept on it. (What-if
    # projections use it too, else 40 runs.)
    SCENARIO_REFERENCE_RUNS = (
        int(os.environ["SCENARIO_REFERENCE_RUNS"]) if os.environ.get("SCENARIO_REFERENCE_RUNS") else None
    )
    # This site's public address (scheme and host, no trailing slash): every URL that leaves
    # the site (badge ids, verify links and QR codes, LTI and API addresses, xAPI ids) is built
    # from it, never from a request's Host header. Required outside development and tests.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
    # Requests per API token to /api/v1 (counted once the token is verified), and failed
    # authentications per client address before its requests are refused for the window.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "300 per minute")
    API_AUTH_FAILURE_LIMIT = os.environ.get("API_AUTH_FAILURE_LIMIT", "20 per minute")
    # Try queued grade and xAPI deliveries right after the request that queued them commits
    # (`flask integrations deliver` retries whatever is left).
    INTEGRATIONS_DELIVER_INLINE = _bool("INTEGRATIONS_DELIVER_INLINE", True)
    INTEGRATIONS_HTTP_TIMEOUT = float(os.environ.get("INTEGRATIONS_HTTP_TIMEOUT", "5"))
    # Outbound calls to LRSs and platforms reach public addresses only, over https; these hosts
    # (names, ".domain" suffixes, addresses, networks) may be private and use http.
    OUTBOUND_ALLOWED_HOSTS = os.environ.get("OUTBOUND_ALLOWED_HOSTS", "")
    OUTBOUND_ALLOW_HTTP = _bool("OUTBOUND_ALLOW_HTTP", False)  # plain http to any public host
    # Days a replaced LTI signing key stays in our JWKS before it is retired.
    LTI_KEY_GRACE_DAYS = int(os.environ.get("LTI_KEY_GRACE_DAYS", "30"))
    # Periodic work (lms.schedule): daily jobs at this UTC time; the in-process ticker runs in
    # each web process when there is no broker (unset: on unless CELERY_BROKER_URL or testing).
    SCHEDULE_DAILY_AT = os.environ.get("SCHEDULE_DAILY_AT", "06:00")
    SCHEDULE_IN_PROCESS = (
        _bool("SCHEDULE_IN_PROCESS", True) if os.environ.get("SCHEDULE_IN_PROCESS") else None
    )
    # The sweep grades attempts whose grading task has waited this long (a lost task).
    GRADE_SWEEP_AFTER_SECONDS = int(os.environ.get("GRADE_SWEEP_AFTER_SECONDS", "60"))


# Keys that are public (the old built-in default) and the shortest key accepted.
PUBLIC_SECRET_KEYS = frozenset({"dev-only-not-secret-change-me"})
MIN_SECRET_KEY_BYTES = 32


class SecretKeyError(RuntimeError):
    """The app was asked to start without a secret SECRET_KEY."""


def _flask_command() -> bool:
    # Every `flask` command (run, db upgrade, seed-demo ...) sets this before loading the app;
    # RIPPLE_ENV=development opts in elsewhere (a Celery worker beside `make run`).
    return os.environ.get("FLASK_RUN_FROM_CLI") == "true" or os.environ.get("RIPPLE_ENV") == "development"


def instance_secret_key(path: Path) -> str:
    """The key kept in `path`, made once (random, mode 0600) if the file does not exist."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        os.link(draft, path)  # atomic: of two processes starting at once, the first key wins
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def settle_secret_key(config) -> None:
    """Make sure the app signs with a secret key, or refuse to start (SecretKeyError).

    Tests (TESTING) bring their own. Without SECRET_KEY, the `flask` command uses the instance
    key; gunicorn, Celery and anything else that imports the app must be given one.
    """
    if config.get("TESTING"):
        return
    key = config.get("SECRET_KEY")
    if not key:
        if not _flask_command():
            raise SecretKeyError(
                "SECRET_KEY is not set. Set it to a long random value, e.g. "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`; only the flask "
                "command (`make run`) makes its own, in instance/secret_key."
            )
        key = config["SECRET_KEY"] = instance_secret_key(Path(config["SECRET_KEY_FILE"]))
    if key in PUBLIC_SECRET_KEYS:
        raise SecretKeyError("SECRET_KEY is the public development value; set a long random one.")
    if len(key.encode() if isinstance(key, str) else key) < MIN_SECRET_KEY_BYTES:
        raise SecretKeyError(
            f"SECRET_KEY is too short: use at least {MIN_SECRET_KEY_BYTES} random bytes "
            "(e.g. 64 hex digits from `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )


class PublicBaseUrlError(RuntimeError):
    """The app was asked to start outside development without its public address."""


def settle_public_base_url(config) -> None:
    """Make sure PUBLIC_BASE_URL is this site's http(s) address, or refuse to start.

    Public URLs (lms.public_urls) are built from it rather than from the Host header a client
    sends. Tests and the `flask` command (development) may leave it unset: the request's own
    address is used then.
    """
    base = config["PUBLIC_BASE_URL"] = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        if config.get("TESTING") or _flask_command():
            return
        raise PublicBaseUrlError(
            "PUBLIC_BASE_URL is not set. Set it to this site's public address, e.g. "
            "https://ripple.example.gov: badge ids, verification links and QR codes are built from it."
        )
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise PublicBaseUrlError(
            f"PUBLIC_BASE_URL must be this site's address, like https://ripple.example.gov, not {base!r}."
        )


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or (
        database_url() if os.environ.get("DATABASE_URL") else "sqlite://"
    )
    # One shared in-memory SQLite database for every connection (the browser tests' server too).
    SQLALCHEMY_ENGINE_OPTIONS: dict = (
        {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        if SQLALCHEMY_DATABASE_URI == "sqlite://"
        else {}
    )
    # Smaller Monte Carlo samples keep the suite fast; the engine's tests cover the full sizes.
    SCENARIO_GRADING_RUNS = 24
    SCENARIO_REFERENCE_RUNS = 12  # the grade's reference runs too (scenarios default to 200)
    GRADE_IN_BACKGROUND = False  # the tests that need it switch it on
    PASSWORD_HASH_PROFILE = "CHEAPEST"  # fast tests; production keeps the strong default
    WTF_CSRF_ENABLED = False  # tests that check CSRF switch it back on
    VERIFY_RATE_LIMIT = "100000 per minute"  # the rate-limit test lowers it for itself
    WHAT_IF_RATE_LIMIT = "100000 per minute"
    LTI_LOGIN_RATE_LIMIT = "100000 per minute"
    PACKAGE_LAUNCH_RATE_LIMIT = "100000 per minute"
    LTI_REGISTER_RATE_LIMIT = "100000 per minute"
    AUTHOR_PREVIEW_RATE_LIMIT = "100000 per minute"
    API_RATE_LIMIT = "100000 per minute"
    API_AUTH_FAILURE_LIMIT = "100000 per minute"
    INTEGRATIONS_HTTP_TIMEOUT = 2.0
    OUTBOUND_ALLOWED_HOSTS = "127.0.0.1"  # the local test LRS and LTI platform
