"""Time on task: the heartbeat that item pages post while they are visible and in use."""

from flask import Blueprint

bp = Blueprint("activity", __name__, url_prefix="/activity")


@bp.app_template_global("seat_time_estimate")
def seat_time_estimate(spec, agency_id):
    """For course pages: the course's seat-time estimate as the agency plays its scenarios."""
    from lms.services import time_on_task

    return time_on_task.course_estimate(spec, agency_id)


@bp.app_template_global("hours_shortfall")
def hours_shortfall(est):
    """For authors' course pages: declared hours beyond the estimate as it stands, or None."""
    from lms import seat_time

    return seat_time.hours_shortfall(est)


from lms.activity import routes  # noqa: E402,F401
