"""Authoring: instructors write courses and scenarios; platform admins the shared library."""

from flask import Blueprint

bp = Blueprint("author", __name__, url_prefix="/author")


@bp.record_once
def _start_tasks(state) -> None:
    from lms import tasks

    tasks.init_app(state.app)


from lms import navigation  # noqa: E402
from lms.author import routes  # noqa: E402,F401
from lms.models import Role  # noqa: E402

navigation.register("Authoring", "author.index", Role.INSTRUCTOR, order=42)
