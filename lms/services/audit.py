"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from lms.extensions import db
from lms.models import AuditEvent, User


def record(
    actor: User | None,
    action: str,
    target: Any,
    *,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    agency_id: int | None = None,
) -> AuditEvent:
    """Append one audit event about `target` (any model with an id, usually an agency_id)."""
    if agency_id is None:
        agency_id = getattr(target, "agency_id", None)
        if agency_id is None and actor is not None:
            agency_id = actor.agency_id
    event = AuditEvent(
        agency_id=agency_id,
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=type(target).__name__,
        target_id=getattr(target, "id", None),
        summary=summary[:500],
        before=before,
        after=after,
    )
    db.session.add(event)
    db.session.flush()
    return event
