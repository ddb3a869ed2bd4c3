from flask import Blueprint

bp = Blueprint("play", __name__, url_prefix="/play")

from lms import navigation  # noqa: E402
from lms.models import Role  # noqa: E402
from lms.play import routes  # noqa: E402,F401

navigation.register("Scenarios", "play.library", Role.INSTRUCTOR, order=40)
navigation.register("Attempts to review", "play.review", Role.INSTRUCTOR, Role.COORDINATOR, order=45)
