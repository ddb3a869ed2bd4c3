from flask import Blueprint

bp = Blueprint("compliance", __name__)

from lms import navigation  # noqa: E402
from lms.compliance import routes  # noqa: E402,F401
from lms.models import Role  # noqa: E402

navigation.register(
    "Compliance",
    "compliance.overview",
    Role.COORDINATOR,
    url_args=lambda user: {"agency_id": user.agency_id} if user.agency_id else None,
    order=55,
)
navigation.register(
    "My team", "compliance.team", Role.OFFICER, url_args=lambda user: {} if user.agency_id else None, order=30
)
navigation.register(
    "Messages",
    "compliance.messages",
    Role.OFFICER,
    url_args=lambda user: {} if user.agency_id else None,
    order=35,
)
