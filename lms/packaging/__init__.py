"""Packages for learning platforms that import SCORM or cmi5 instead of speaking LTI: the
coordinator's package pages, and the launch routes the packages call from inside the LMS."""

from flask import Blueprint

from lms.extensions import csrf

bp = Blueprint("packaging", __name__)


@bp.record_once
def _setup(state) -> None:
    from lms.packaging.reporting import install

    install(state.app)


from lms import navigation  # noqa: E402
from lms.models import Role  # noqa: E402
from lms.packaging import cmi5, launch, routes  # noqa: E402,F401


def _own_agency(user):
    return {"agency_id": user.agency_id} if user.agency_id else None


navigation.register("Packages", "packaging.package_list", Role.INSTRUCTOR, url_args=_own_agency, order=85)

# The package page inside the LMS posts the launch from the LMS's origin; it carries its own
# proof (the package key, an allowed origin) and only redeeming its single-use token signs in.
csrf.exempt(launch.launch)
