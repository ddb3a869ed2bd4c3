"""Time on task: the heartbeat that item pages post while they are visible and in use."""

from flask import Blueprint

bp = Blueprint("activity", __name__, url_prefix="/activity")


@bp.app_template_global("seat_time_estimate")
def seat_time_estimate(spec, agency_id):
    """For course pages: the course's seat-time estimate as the agency plays its scenarios."""
    from lms.services import time_on_task

    return time_on_task.course_estimate(spec, agency_id)


from lms.activity import routes  # noqa: E402,F401
