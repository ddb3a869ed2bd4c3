"""Time on task: the heartbeat that item pages post while they are visible and in use."""

from flask import Blueprint

bp = Blueprint("activity", __name__, url_prefix="/activity")

from lms.activity import routes  # noqa: E402,F401
