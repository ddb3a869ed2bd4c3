"""An agency's own settings, changed by its coordinator: how its dates and times read."""

from __future__ import annotations

from lms import dates
from lms.extensions import db
from lms.models import Agency, Role, User
from lms.services import audit


class SettingsError(Exception):
    """A setting that cannot be saved; the message says which and why."""


def update_dates(actor: User, agency: Agency, *, date_style: str, time_zone: str) -> Agency:
    """Set how the agency's dates are written ("en-US", "en-GB") and the time zone its times
    are shown in (an IANA zone, e.g. "America/Chicago"). Audit-logged; flushes."""
    if not (actor.is_platform_admin or (actor.has_role(Role.COORDINATOR) and actor.agency_id == agency.id)):
        raise SettingsError("Only the agency's training coordinators can change its settings.")
    if date_style not in dates.DATE_STYLES:
        raise SettingsError("How dates are written: choose one of the styles offered.")
    if not dates.is_zone(time_zone):
        raise SettingsError(f"Time zone: “{time_zone}” is not a time zone Ripple knows.")
    before = {"date_style": agency.date_style, "time_zone": agency.time_zone}
    after = {"date_style": date_style, "time_zone": time_zone}
    if before == after:
        return agency
    agency.date_style, agency.time_zone = date_style, time_zone
    db.session.flush()
    audit.record(
        actor,
        "agency.date_settings_changed",
        agency,
        summary=f"Dates now read like {dates.DATE_STYLES[date_style]}, times in {time_zone}",
        before=before,
        after=after,
        agency_id=agency.id,
    )
    return agency
