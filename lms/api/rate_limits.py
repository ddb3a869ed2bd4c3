"""The API's two budgets, counted in the same storage as every other rate limit
(RATELIMIT_STORAGE_URI, so workers share them):

- API_RATE_LIMIT per *verified* token, across all of `/api/v1`: a request is charged to a
  token only after its secret matched, so guessing or copying a token's visible prefix cannot
  spend the real token's quota;
- API_AUTH_FAILURE_LIMIT failed authentications per client address: once spent, every request
  from that address is refused with 429 before its token is even looked up (otherwise the
  answer would still tell a right guess from a wrong one), until the window reopens.

These call the limiter's counters directly, so they honour RATELIMIT_SWALLOW_ERRORS themselves,
as Flask-Limiter does for the decorated views: when the storage is unreachable (Redis down) they
fail open, like every other limit here. The request is served uncounted and the error logged,
rather than every API request answering 500; a token still has to match its secret.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse

from lms.models import ApiToken
from lms.verify import limiter


def _storage_error(action: str, error: Exception) -> None:
    """Fail open (log, carry on) when the settings say so, else let the error through."""
    if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
        raise error
    current_app.logger.warning("API rate limit %s skipped, the counters' storage failed: %r", action, error)


def _seconds_until_reset(item, *identifiers: str) -> int:
    try:
        stats = limiter.limiter.get_window_stats(item, *identifiers)
    except Exception as error:  # the window is unknown: the storage failed after the hit
        _storage_error("window", error)
        return 60
    return max(1, math.ceil(stats.reset_time - time.time()))


def _failure_budget():
    return parse(current_app.config["API_AUTH_FAILURE_LIMIT"]), ("api-auth-failures", get_remote_address())


def failures_exhausted() -> int | None:
    """Seconds to wait when this client address has used up its failed authentications."""
    item, identifiers = _failure_budget()
    try:
        if limiter.limiter.test(item, *identifiers):
            return None
    except Exception as error:
        _storage_error("check of failed authentications", error)
        return None
    return _seconds_until_reset(item, *identifiers)


def note_failure() -> None:
    """Count one failed authentication against this client address."""
    item, identifiers = _failure_budget()
    try:
        limiter.limiter.hit(item, *identifiers)
    except Exception as error:
        _storage_error("count of a failed authentication", error)


def spend(token: ApiToken) -> int | None:
    """Charge one request to a verified token; seconds to wait if its budget is spent."""
    item = parse(current_app.config["API_RATE_LIMIT"])
    # id and prefix: ids can be reused after a token row is deleted, the pair cannot.
    identifiers = ("api-token", f"{token.id}-{token.prefix}")
    try:
        if limiter.limiter.hit(item, *identifiers):
            return None
    except Exception as error:
        _storage_error("charge to a token", error)
        return None
    return _seconds_until_reset(item, *identifiers)
