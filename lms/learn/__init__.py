from flask import Blueprint

bp = Blueprint("learn", __name__, url_prefix="/learn")


@bp.record_once
def _register_cli(state) -> None:
    from lms.learn.cli import certificates_cli

    state.app.cli.add_command(certificates_cli)


from lms.learn import routes  # noqa: E402,F401
