"""The data model. Import models from here so Alembic and the app see all of them."""

from lms.models.audit import AuditEvent
from lms.models.compliance import AssignmentRule, Mandate, OutboxMessage
from lms.models.courses import (
    Assignment,
    Certificate,
    CheckAttempt,
    Completion,
    Course,
    CourseVersion,
    ItemCompletion,
)
from lms.models.imports import RosterImport
from lms.models.people import Agency, Role, RoleGrant, SignInThrottle, Unit, User
from lms.models.scenarios import Attempt, AttemptDecision, AttemptGrade, ScenarioRecord, ScenarioVersion

__all__ = [
    "Agency",
    "Assignment",
    "AssignmentRule",
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
    "Mandate",
    "OutboxMessage",
    "Role",
    "RosterImport",
    "RoleGrant",
    "ScenarioRecord",
    "ScenarioVersion",
    "SignInThrottle",
    "Unit",
    "User",
]
