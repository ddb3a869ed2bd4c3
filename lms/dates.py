"""One way to write dates and times for people, everywhere in the app: "Dec 2, 2026" and
"Dec 2, 2026, 4:17 PM UTC". Templates use the `day` and `moment` filters; exports keep real
date cells (or ISO 8601 in CSV) for machines."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask


def day(value: date | datetime | None, empty: str = "—") -> str:
    """A date as people read it in the US: "Dec 2, 2026"."""
    if value is None:
        return empty
    return f"{value:%b} {value.day}, {value.year}"


def moment(value: datetime | None, empty: str = "—") -> str:
    """A timestamp to the minute: "Dec 2, 2026, 4:17 PM UTC"."""
    if value is None:
        return empty
    hour = value.hour % 12 or 12
    suffix = "AM" if value.hour < 12 else "PM"
    zone = value.tzname() or "UTC"
    return f"{day(value)}, {hour}:{value.minute:02d} {suffix} {zone}"


def init_app(app: Flask) -> None:
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
