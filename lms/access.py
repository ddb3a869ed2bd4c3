"""Who may reach which route.

Every route requires a signed-in, active user unless its view is marked `@public`.
Role checks go through `@roles_required`; the route-by-role isolation test reads the
roles each view declares, so a new route is covered without editing the test.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, current_app, request, session
from flask_login import current_user, login_user, logout_user

from lms.extensions import login_manager
from lms.models import Role, User
from lms.services import sessions


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
def load_user(token: str) -> User | None:
    """The person whose live session record the cookie's token names (see services/sessions)."""
    row = sessions.find_live(token)
    if row is None:
        return None
    sessions.touch(row)
    row.user.current_session = row
    return row.user


def sign_in(user: User, *, via: str) -> None:
    """Sign `user` in for this browser: a fresh cookie (no fixation) naming a new session record.

    Every way of signing in (password, LTI launch) goes through here; the caller commits.
    """
    session.clear()
    session.permanent = True
    user.current_session = sessions.start(
        user, via=via, user_agent=request.user_agent.string, address=request.remote_addr
    )
    login_user(user)


def sign_out(reason: str = "signed-out") -> None:
    """End this browser's session record and forget the cookie; the caller commits."""
    if current_user.is_authenticated and current_user.current_session is not None:
        sessions.end(current_user.current_session, reason)
    logout_user()
    session.clear()


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def require_sign_in():
        session.permanent = True  # the cookie's own expiry; the session record is what counts
        if request.endpoint is None:
            return None  # unknown URL: let the 404 handler answer
        view = current_app.view_functions.get(request.endpoint)
        if request.endpoint == "static":
            return None
        if getattr(view, "is_public", False):
            if "_user_id" in session:
                current_user._get_current_object()  # check the session before the view writes anything
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
