"""Who may reach which route.

Every route requires a signed-in, active user unless its view is marked `@public`.
Role checks go through `@roles_required`; the route-by-role isolation test reads the
roles each view declares, so a new route is covered without editing the test.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, current_app, request, session
from flask_login import current_user

from lms.extensions import db, login_manager
from lms.models import Role, User


def public(view):
    """Mark a view reachable without signing in."""
    view.is_public = True
    return view


def roles_required(*roles: Role):
    """Allow the view only to users holding one of `roles` (platform admins always pass)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not (current_user.has_role(*roles) or current_user.is_platform_admin):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorate


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    try:
        user_id, epoch = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_epoch != epoch:
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def require_sign_in():
        session.permanent = True  # idle timeout: PERMANENT_SESSION_LIFETIME, refreshed per request
        if request.endpoint is None:
            return None  # unknown URL: let the 404 handler answer
        view = current_app.view_functions.get(request.endpoint)
        if request.endpoint == "static" or getattr(view, "is_public", False):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None


def agency_or_404(agency_id: int):
    """The agency if the signed-in user may see it (their own; any for platform admins), else 404."""
    from lms.services.roster import visible_agency
    from lms.services.scoping import NotFound

    try:
        return visible_agency(current_user, agency_id)
    except NotFound:
        abort(404)


def scoped_or_404(model, ident: int, *, agency=None):
    """The row if the signed-in user's agency owns it (and, given `agency`, it belongs to that
    agency), else 404: another agency's record looks exactly like a missing one."""
    from lms.services.scoping import NotFound, get_scoped

    try:
        row = get_scoped(model, ident, current_user)
    except NotFound:
        abort(404)
    if agency is not None and row.agency_id != agency.id:
        abort(404)
    return row
