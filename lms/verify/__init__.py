from flask import Blueprint, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lms.public_urls import public_url

bp = Blueprint("verify", __name__)

# Verification is public, so it is rate-limited per client address: in-memory counters unless
# RATELIMIT_STORAGE_URI (e.g. redis://...) shares them between workers. Only the views that
# ask for a limit have one.
limiter = Limiter(key_func=get_remote_address)


def verify_rate_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


# Every public verification and badge URL (the page, the lookup, the assertion, badge class,
# issuer and the badge image) draws on one budget per client address, so walking codes across
# several of them costs the same as hammering one.
public_budget = limiter.shared_limit(verify_rate_limit, scope="public-verification")


@bp.record_once
def _init_limiter(state) -> None:
    limiter.init_app(state.app)


# Templates that show an address for other systems to call use the public one too.
bp.add_app_template_global(public_url)


from lms.verify import routes  # noqa: E402,F401
