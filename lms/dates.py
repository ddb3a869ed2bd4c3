"""One way to write dates and times for people, everywhere in the app, in the agency's style:
"Dec 2, 2026" (en-US) or "2 Dec 2026" (en-GB), and times to the minute in the agency's time
zone, "Dec 2, 2026, 11:17 AM EST". Templates use the `day`, `moment` and `month` filters; the
style and zone come from the signed-in person's agency (see `settings`). Exports keep real date
cells (or ISO 8601 in CSV) for machines.

Written with the standard library (zoneinfo) rather than Babel: two English styles need no
locale database, and nothing new has to be installed or kept up to date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, g, has_request_context

# The styles an agency can choose, with how a date reads in each.
DATE_STYLES = {"en-US": "Dec 2, 2026", "en-GB": "2 Dec 2026"}
DEFAULT_STYLE = "en-US"
# New agencies keep Eastern time: Ripple serves US departments, Eastern is the zone most of them
# are in, and every time shown names its zone, so an agency elsewhere sees at once to change it.
DEFAULT_ZONE = "America/New_York"
# The zones offered first on the settings page (any IANA zone is accepted).
COMMON_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Europe/London",
    "UTC",
)


@dataclass(frozen=True)
class DateSettings:
    style: str = DEFAULT_STYLE
    zone: str = "UTC"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


# Outside a request, or for someone with no agency (the public verification page), times read
# in UTC, which says what it is.
NO_AGENCY = DateSettings()


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    return name in _zones()


def settings_of(agency) -> DateSettings:
    if agency is None:
        return NO_AGENCY
    style = agency.date_style if agency.date_style in DATE_STYLES else DEFAULT_STYLE
    zone = agency.time_zone if agency.time_zone and is_zone(agency.time_zone) else DEFAULT_ZONE
    return DateSettings(style, zone)


def settings() -> DateSettings:
    """The date style and zone of this request: the signed-in person's agency, looked up once."""
    if not has_request_context():
        return NO_AGENCY
    found = g.get("date_settings")
    if found is None:
        from flask_login import current_user

        agency = getattr(current_user, "agency", None) if current_user.is_authenticated else None
        found = g.date_settings = settings_of(agency)
    return found


def use(agency) -> None:
    """Show this request's dates as `agency` does (e.g. a public page about its certificate)."""
    if has_request_context():
        g.date_settings = settings_of(agency)


def _local(value: date | datetime, where: DateSettings) -> date | datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(where.tz)
    return value


def day(value: date | datetime | None, empty: str = "—", *, where: DateSettings | None = None) -> str:
    """A date as the agency's people read it: "Dec 2, 2026" or "2 Dec 2026". A timestamp is
    the agency's local day."""
    if value is None:
        return empty
    where = where or settings()
    value = _local(value, where)
    if where.style == "en-GB":
        return f"{value.day} {value:%b} {value.year}"
    return f"{value:%b} {value.day}, {value.year}"


def moment(value: datetime | None, empty: str = "—", *, where: DateSettings | None = None) -> str:
    """A timestamp to the minute in the agency's zone: "Dec 2, 2026, 11:17 AM EST"."""
    if value is None:
        return empty
    where = where or settings()
    value = _local(value, where)
    hour = value.hour % 12 or 12
    suffix = "AM" if value.hour < 12 else "PM"
    return f"{day(value, where=where)}, {hour}:{value.minute:02d} {suffix} {value.tzname() or 'UTC'}"


def month(value: date | datetime | None, empty: str = "—") -> str:
    """A month as people read it: "Dec 2026" (chart labels, month headings)."""
    if value is None:
        return empty
    return f"{value:%b} {value.year}"


def init_app(app: Flask) -> None:
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(month, "month")
