from flask import Blueprint

bp = Blueprint("agency", __name__)

from lms import navigation  # noqa: E402
from lms.agency import routes  # noqa: E402,F401
from lms.models import Role  # noqa: E402

navigation.register(
    "My agency",
    "agency.overview",
    Role.COORDINATOR,
    url_args=lambda user: {"agency_id": user.agency_id} if user.agency_id else None,
    order=60,
)
navigation.register(
    "Agencies",
    "agency.agencies",
    Role.ADMIN,
    url_args=lambda user: {} if user.is_platform_admin else None,
    order=90,
)
