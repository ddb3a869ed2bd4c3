"""The data model. Import models from here so Alembic and the app see all of them."""

from lms.models.audit import AuditEvent
from lms.models.courses import (
    Assignment,
    Certificate,
    CheckAttempt,
    Completion,
    Course,
    CourseVersion,
    ItemCompletion,
)
from lms.models.people import Agency, Role, RoleGrant, SignInThrottle, Unit, User
from lms.models.scenarios import Attempt, AttemptDecision, AttemptGrade, ScenarioRecord, ScenarioVersion

__all__ = [
    "Agency",
    "Assignment",
    "Attempt",
    "AttemptDecision",
    "AttemptGrade",
    "AuditEvent",
    "Certificate",
    "CheckAttempt",
    "Completion",
    "Course",
    "CourseVersion",
    "ItemCompletion",
    "Role",
    "RoleGrant",
    "ScenarioRecord",
    "ScenarioVersion",
    "SignInThrottle",
    "Unit",
    "User",
]
