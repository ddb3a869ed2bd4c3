"""Dates read the agency's way: its style (en-US or en-GB) and its time zone, set by the
coordinator on the agency's settings page and used by the `day` and `moment` filters."""

from __future__ import annotations

import pathlib
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from lms.dates import DateSettings, day, moment, month
from lms.models import AuditEvent

WINTER_AFTERNOON = datetime(2026, 12, 2, 21, 17, tzinfo=UTC)


@pytest.mark.parametrize(("style", "expected"), [("en-US", "Dec 2, 2026"), ("en-GB", "2 Dec 2026")])
def test_a_day_reads_in_the_agency_style(style, expected):
    assert day(date(2026, 12, 2), where=DateSettings(style, "UTC")) == expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("America/New_York", "Dec 2, 2026, 4:17 PM EST"),
        ("America/Los_Angeles", "Dec 2, 2026, 1:17 PM PST"),
        ("Europe/London", "Dec 2, 2026, 9:17 PM GMT"),
    ],
)
def test_a_moment_reads_in_the_agency_time_zone(zone, expected):
    assert moment(WINTER_AFTERNOON, where=DateSettings("en-US", zone)) == expected


def test_a_timestamp_late_at_night_is_the_agency_local_day():
    just_after_midnight_utc = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    assert day(just_after_midnight_utc, where=DateSettings("en-US", "America/Chicago")) == "Dec 2, 2026"


def test_a_month_reads_as_people_say_it():
    assert month(date(2026, 12, 1)) == "Dec 2026"


def test_pages_use_the_signed_in_persons_agency(db, client, sign_in, agency, coordinator):
    from lms.services import audit

    agency.date_style, agency.time_zone = "en-GB", "Europe/London"
    audit.record(coordinator, "test.event", agency, summary="A known moment").created_at = WINTER_AFTERNOON
    db.session.commit()
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/audit").get_data(as_text=True)
    assert "2 Dec 2026, 9:17 PM GMT" in page


def test_the_coordinator_sets_the_agency_date_style_and_zone(db, client, sign_in, agency, coordinator):
    sign_in(coordinator)
    url = f"/agencies/{agency.id}/settings"
    assert "How dates are written" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"date_style": "en-GB", "time_zone": "America/Chicago"})
    assert response.status_code == 302
    db.session.refresh(agency)
    assert (agency.date_style, agency.time_zone) == ("en-GB", "America/Chicago")
    change = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agency.date_settings_changed"))
    assert change.after == {"date_style": "en-GB", "time_zone": "America/Chicago"}


@pytest.mark.parametrize(
    "data",
    [{"date_style": "fr-FR", "time_zone": "UTC"}, {"date_style": "en-US", "time_zone": "Mars/Olympus"}],
)
def test_a_setting_not_offered_is_refused_and_nothing_changes(db, client, sign_in, agency, coordinator, data):
    sign_in(coordinator)
    response = client.post(f"/agencies/{agency.id}/settings", data=data)
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    db.session.refresh(agency)
    assert (agency.date_style, agency.time_zone) == ("en-US", "America/New_York")


def test_officers_cannot_change_the_agency_settings(client, sign_in, agency, officer):
    sign_in(officer)
    assert client.get(f"/agencies/{agency.id}/settings").status_code == 403


TEMPLATES = pathlib.Path(__file__).parents[2] / "lms" / "templates"


def test_no_template_formats_dates_itself():
    """Dates for people go through `day` and `moment`; a strftime or isoformat in a template
    would bring back a second way of writing them."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\.(strftime|isoformat)\(", line)
    ]
    assert offenders == []
