"""The data model. Import models from here so Alembic and the app see all of them."""

from lms.models.audit import AuditEvent
from lms.models.people import Agency, Role, RoleGrant, SignInThrottle, Unit, User

__all__ = ["Agency", "AuditEvent", "Role", "RoleGrant", "SignInThrottle", "Unit", "User"]
