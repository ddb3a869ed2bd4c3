"""The data model. Import models from here so Alembic and the app see all of them."""

from lms.models.accounts import AccountLink, LinkPurpose
from lms.models.activity import ActiveTime
from lms.models.audit import AuditEvent
from lms.models.authoring import BackgroundJob, CalibrationPart, CalibrationRun
from lms.models.cmi5 import Cmi5Session, Cmi5Statement
from lms.models.compliance import AssignmentRule, Mandate, OutboxMessage
from lms.models.courses import (
    Assignment,
    Certificate,
    CheckAttempt,
    Completion,
    Course,
    CourseVersion,
    DueDateChange,
    ItemCompletion,
)
from lms.models.identity import ExternalIdentity, IdentityProvider
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
    LtiRegistrationLink,
    LtiUserLink,
    XapiStatement,
)
from lms.models.operations import PeriodicRun
from lms.models.packaging import DispatchPackage, PackageLaunch, PackageLearner
from lms.models.people import Agency, Role, RoleGrant, SignInThrottle, Unit, User, UserSession
from lms.models.reports import ReportSubscription
from lms.models.scenarios import Attempt, AttemptDecision, AttemptGrade, ScenarioRecord, ScenarioVersion
from lms.models.site import SiteSettings
from lms.models.training import DELIVERY_METHODS, MandateMinimum, SessionAttendance, TrainingSession

__all__ = [
    "Cmi5Session",
    "Cmi5Statement",
    "AccountLink",
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
    "DELIVERY_METHODS",
    "DispatchPackage",
    "DueDateChange",
    "ExternalIdentity",
    "GradeDelivery",
    "IdentityProvider",
    "ItemCompletion",
    "LinkPurpose",
    "LrsSettings",
    "LtiDeployment",
    "LtiRegistrationLink",
    "LtiKey",
    "LtiLaunch",
    "LtiLaunchState",
    "LtiRegistration",
    "LtiUserLink",
    "Mandate",
    "MandateMinimum",
    "OutboxMessage",
    "PackageLaunch",
    "PackageLearner",
    "PeriodicRun",
    "ReportSubscription",
    "Role",
    "RoleGrant",
    "RosterImport",
    "ScenarioRecord",
    "ScenarioVersion",
    "SessionAttendance",
    "SignInThrottle",
    "SiteSettings",
    "TrainingSession",
    "Unit",
    "User",
    "UserSession",
    "XapiStatement",
]
