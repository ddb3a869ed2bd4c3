"""New LTI deployments: what a launch with a deployment id we have not seen does.

Canvas makes a deployment for every account, sub-account or course the tool is installed in,
so a known registration soon launches with deployment ids nobody typed into Ripple. Each
registration has a rule (`LtiRegistration.new_deployments`):

- `accept`: the deployment is recorded as active, audited, and the launch goes on;
- `hold` (the default): the deployment is recorded as pending, audited, and the launch gets a
  page saying it awaits the coordinator's approval; once approved, launches from it work;
- `refuse`: the launch is refused, as before this rule existed.

Hold is the default because a deployment decides which people a launch brings into the
agency: in a platform several agencies share (a state academy's Canvas), a teacher may install
the tool in their own course with the same client id, and accepting that silently would create
people in this agency from another agency's course. Holding costs one approval per course or
sub-account, and the coordinator sees where the deployment came from before approving it.

The launch is checked in full (signature, state, nonce, audience) before any of this is written.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from lms.input import one_line, text_problem
from lms.models import LtiDeployment, LtiRegistration, User
from lms.models.types import utcnow
from lms.services import audit

ACCEPT, HOLD, REFUSE = "accept", "hold", "refuse"
DEFAULT_RULE = HOLD
RULES = {
    ACCEPT: "Accept new deployments automatically (each one is recorded in the audit log)",
    HOLD: "Hold new deployments until I approve them (recommended)",
    REFUSE: "Refuse launches from deployments not listed here",
}


class DeploymentPending(ValueError):
    """A launch from a deployment that awaits the coordinator's approval (the pending record
    is to be committed: the caller commits, then shows the waiting page)."""

    def __init__(self, registration: LtiRegistration, deployment: LtiDeployment):
        super().__init__(
            f"This course or account of {registration.name} is new to Ripple (deployment "
            f"{deployment.deployment_id}). Your training coordinator has to approve it under "
            "Agency → Integrations before launches from it work. Try again once they have."
        )
        self.registration, self.deployment = registration, deployment


class DeploymentRefused(ValueError):
    """A launch from an unknown deployment of a registration that refuses new ones."""


def find(registration: LtiRegistration, deployment_id: str) -> LtiDeployment | None:
    return db.session.scalar(
        select(LtiDeployment).where(
            LtiDeployment.registration_id == registration.id, LtiDeployment.deployment_id == deployment_id
        )
    )


def may_continue(registration: LtiRegistration, deployment_id: str) -> bool:
    """Whether pylti1p3's deployment check lets the launch go on to its other checks: the
    deployment is active, or the rule is not `refuse` (`admit` decides after validation)."""
    known = find(registration, deployment_id)
    if known is not None and known.active:
        return True
    return registration.new_deployments in (ACCEPT, HOLD)


def refusal(registration: LtiRegistration, deployment_id: str) -> str:
    return (
        f"This launch comes from a deployment ({deployment_id[:80]}) that is not registered with "
        f"Ripple, and {registration.name} accepts no new deployments. Ask your training "
        "coordinator to add the deployment id under Agency → Integrations."
    )


def admit(registration: LtiRegistration, deployment_id: str, context_title: str | None = None) -> None:
    """After a launch has passed every check: let an active deployment through, record a new
    one by the registration's rule, or raise DeploymentPending / DeploymentRefused. Flushes."""
    if text_problem(LtiDeployment.deployment_id, deployment_id, required=True):
        raise DeploymentRefused("The launch's deployment id is empty, too long or has control characters.")
    deployment = find(registration, deployment_id)
    if deployment is not None and deployment.active:
        return
    rule = registration.new_deployments
    if rule == REFUSE:
        raise DeploymentRefused(refusal(registration, deployment_id))
    if deployment is None:
        deployment = LtiDeployment(
            agency_id=registration.agency_id,
            registration_id=registration.id,
            deployment_id=deployment_id,
            status="pending",
            first_seen_at=utcnow(),
            first_context_title=one_line(context_title, LtiDeployment.first_context_title) or None,
        )
        db.session.add(deployment)
        db.session.flush()
        if rule == HOLD:
            audit.record(
                None,
                "lti.deployment_held",
                deployment,
                summary=f"{registration.name}: new deployment {deployment_id} awaits approval"
                + (f" (first launched from {deployment.first_context_title})" if context_title else ""),
            )
    if rule == ACCEPT:
        deployment.status = "active"
        db.session.flush()
        audit.record(
            None,
            "lti.deployment_accepted",
            deployment,
            summary=f"{registration.name}: new deployment {deployment_id} accepted by the registration's rule",
        )
        return
    raise DeploymentPending(registration, deployment)


def pending_of(registration: LtiRegistration) -> list[LtiDeployment]:
    return [d for d in registration.deployments if not d.active]


def approve(actor: User, deployment: LtiDeployment) -> LtiDeployment:
    """Accept a pending deployment's launches from now on. Flushes."""
    if deployment.active:
        return deployment
    deployment.status = "active"
    db.session.flush()
    audit.record(
        actor,
        "lti.deployment_approved",
        deployment,
        summary=f"{deployment.registration.name}: deployment {deployment.deployment_id} approved",
    )
    return deployment


def dismiss(actor: User, deployment: LtiDeployment) -> None:
    """Forget a pending deployment (its next launch is held again, or refused by the rule)."""
    if deployment.active:
        raise ValueError("Only a pending deployment can be dismissed; edit the registration instead.")
    audit.record(
        actor,
        "lti.deployment_dismissed",
        deployment,
        summary=f"{deployment.registration.name}: pending deployment {deployment.deployment_id} dismissed",
    )
    deployment.registration.deployments.remove(deployment)
    db.session.flush()


def set_rule(actor: User, registration: LtiRegistration, rule: str) -> None:
    """Change what launches from new deployments of this registration do. Flushes."""
    if rule not in RULES:
        raise ValueError(f"Unknown rule {rule[:40]!r}: choose accept, hold or refuse.")
    before = registration.new_deployments
    if before == rule:
        return
    registration.new_deployments = rule
    db.session.flush()
    audit.record(
        actor,
        "lti.deployment_rule_changed",
        registration,
        summary=f"{registration.name}: new deployments now {rule} (was {before})",
        before={"new_deployments": before},
        after={"new_deployments": rule},
    )
