"""The data model. Import models from here so Alembic and the app see all of them."""

from lms.models.activity import ActiveTime
from lms.models.audit import AuditEvent
from lms.models.authoring import BackgroundJob, CalibrationPart, CalibrationRun
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
from lms.models.integrations import (
    ApiToken,
    GradeDelivery,
    LrsSettings,
    LtiDeployment,
    LtiKey,
    LtiLaunch,
    LtiLaunchState,
    LtiRegistration,
    LtiUserLink,
    XapiStatement,
)
from lms.models.operations import PeriodicRun
from lms.models.people import Agency, Role, RoleGrant, SignInThrottle, Unit, User, UserSession
from lms.models.reports import ReportSubscription
from lms.models.scenarios import Attempt, AttemptDecision, AttemptGrade, ScenarioRecord, ScenarioVersion

__all__ = [
    "ActiveTime",
    "Agency",
    "ApiToken",
    "Assignment",
    "AssignmentRule",
    "Attempt",
    "AttemptDecision",
    "AttemptGrade",
    "AuditEvent",
    "BackgroundJob",
    "CalibrationPart",
    "CalibrationRun",
    "Certificate",
    "CheckAttempt",
    "Completion",
    "Course",
    "CourseVersion",
    "GradeDelivery",
    "ItemCompletion",
    "LrsSettings",
    "LtiDeployment",
    "LtiKey",
    "LtiLaunch",
    "LtiLaunchState",
    "LtiRegistration",
    "LtiUserLink",
    "Mandate",
    "OutboxMessage",
    "Role",
    "PeriodicRun",
    "ReportSubscription",
    "RosterImport",
    "RoleGrant",
    "ScenarioRecord",
    "ScenarioVersion",
    "SignInThrottle",
    "Unit",
    "User",
    "UserSession",
    "XapiStatement",
]
