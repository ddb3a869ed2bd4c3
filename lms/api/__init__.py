"""The versioned REST API for agencies' records systems: `/api/v1`, bearer tokens, JSON only."""

from flask import Blueprint

from lms.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not the session: no cross-site form can use them

from lms.api import routes  # noqa: E402,F401
