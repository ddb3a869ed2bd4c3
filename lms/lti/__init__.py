"""LTI 1.3 tool endpoints: JWKS, OIDC login initiation, launch, deep linking, roster sync."""

from flask import Blueprint

from lms.extensions import csrf

bp = Blueprint("lti", __name__, url_prefix="/lti")


@bp.record_once
def _setup(state) -> None:
    from lms.integrations.cli import integrations_cli
    from lms.lti.cookies import install

    state.app.cli.add_command(integrations_cli)
    install(state.app)


from lms import navigation  # noqa: E402
from lms.lti import routes  # noqa: E402
from lms.models import Role  # noqa: E402

navigation.register("LTI keys", "lti.keys", Role.ADMIN, order=95)

# The platform posts the login and launch from its own site; they carry their own proof
# (signed id_token, server-side state) instead of our CSRF token. The platform-storage
# confirmation comes from a frame that may keep no cookie (so no CSRF session): it is refused
# unless Fetch Metadata or Origin say our own page sent it (lti_storage.same_origin_post).
csrf.exempt(routes.login)
csrf.exempt(routes.launch)
csrf.exempt(routes.launch_confirm)
