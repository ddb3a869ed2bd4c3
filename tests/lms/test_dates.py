from datetime import UTC, date, datetime

from lms.dates import day, moment


def test_a_day_reads_month_day_year():
    assert day(date(2026, 12, 2)) == "Dec 2, 2026"


def test_a_moment_reads_to_the_minute_on_a_twelve_hour_clock():
    assert moment(datetime(2026, 12, 2, 16, 7, tzinfo=UTC)) == "Dec 2, 2026, 4:07 PM UTC"
    assert moment(datetime(2026, 12, 2, 0, 30, tzinfo=UTC)) == "Dec 2, 2026, 12:30 AM UTC"


def test_nothing_reads_as_a_dash():
    assert day(None) == "—" and moment(None) == "—"
