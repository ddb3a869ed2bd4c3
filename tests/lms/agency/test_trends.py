"""Trends over the last twelve months: figures per month from a small hand-built history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from lms.models import Assignment, Certificate, Completion, Unit
from lms.services import trends
from lms.services.compliance import Filters
from tests.lms.learning_fixtures import course_data, publish

TODAY = date(2026, 6, 15)  # June counts up to the 15th; the window opens in July 2025


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def assign(db, user, course, *, assigned, due, completed=None, status=None):
    """An assignment with the dates given (assigned/completed at noon UTC on those days)."""
    row = Assignment(
        agency_id=user.agency_id,
        user_id=user.id,
        course_id=course.id,
        course_version_id=course.versions[0].id,
        assigned_at=at(assigned),
        due_on=due,
        completed_at=at(completed) if completed else None,
        status=status or ("completed" if completed else "assigned"),
    )
    db.session.add(row)
    db.session.flush()
    return row


def certificate(db, user, course, expires_on, *, revoked=False):
    """A certificate expiring on `expires_on` (its completion rests on a cancelled assignment,
    which no figure counts)."""
    base = assign(db, user, course, assigned=date(2024, 1, 1), due=None, status="cancelled")
    completion = Completion(
        agency_id=user.agency_id,
        user_id=user.id,
        course_id=course.id,
        course_version_id=base.course_version_id,
        assignment_id=base.id,
        evidence={},
        completed_at=at(date(2024, 1, 2)),
    )
    db.session.add(completion)
    db.session.flush()
    db.session.add(
        Certificate(
            agency_id=user.agency_id,
            user_id=user.id,
            course_id=course.id,
            completion_id=completion.id,
            code=f"code-{completion.id}",
            recipient_name=user.name,
            course_title=course.title,
            issued_on=date(2024, 1, 2),
            expires_on=expires_on,
            revoked_at=at(date(2026, 1, 1)) if revoked else None,
        )
    )


@pytest.fixture
def courses(app):
    return publish(course_data(slug="trend-x", title="Course X")), publish(
        course_data(slug="trend-y", title="Course Y")
    )


@pytest.fixture
def history(db, agency, make_agency, make_user, courses):
    """Officers Avery (North), Blake (Squad One, under North) and Casey (HQ); Dana in another
    agency. The expected figures are worked out by hand in the tests below."""
    x, y = courses
    hq = agency.units[0]
    north = Unit(agency_id=agency.id, code="NORTH", name="North Precinct", parent_id=hq.id)
    db.session.add(north)
    db.session.flush()
    squad = Unit(agency_id=agency.id, code="SQ1", name="Squad One", parent_id=north.id)
    db.session.add(squad)
    db.session.commit()
    avery = make_user(agency, name="Avery", unit_id=north.id)
    blake = make_user(agency, name="Blake", unit_id=squad.id)
    casey = make_user(agency, name="Casey", unit_id=hq.id)
    dana = make_user(make_agency("Elsewhere PD"), name="Dana")
    d = date
    # Avery: one done on time in April, one due in April done in May, one backdated in May.
    assign(db, avery, x, assigned=d(2026, 3, 1), due=d(2026, 4, 10), completed=d(2026, 4, 5))
    assign(db, avery, x, assigned=d(2026, 3, 1), due=d(2026, 4, 20), completed=d(2026, 5, 3))
    assign(db, avery, x, assigned=d(2026, 5, 20), due=d(2026, 4, 1))
    # Blake: due mid-March and still open; course Y done in January, due in February.
    assign(db, blake, x, assigned=d(2026, 2, 1), due=d(2026, 3, 15))
    assign(db, blake, y, assigned=d(2026, 1, 1), due=d(2026, 2, 1), completed=d(2026, 1, 20))
    # Casey: due in June (one before today, one after); a cancelled and an "excused" one
    # (a status another part may add) never count.
    assign(db, casey, x, assigned=d(2026, 5, 1), due=d(2026, 6, 10))
    assign(db, casey, x, assigned=d(2026, 5, 1), due=d(2026, 6, 30))
    assign(db, casey, x, assigned=d(2026, 3, 1), due=d(2026, 4, 1), status="cancelled")
    assign(db, casey, x, assigned=d(2026, 3, 1), due=d(2026, 4, 1), status="excused")
    # Dana, of another agency: overdue since April, certificate expired in April.
    assign(db, dana, x, assigned=d(2026, 3, 1), due=d(2026, 4, 1))
    certificate(db, dana, x, d(2026, 4, 10))
    # Certificates: expired in April and in June; one expires after today; one was revoked
    # before it expired; one expired before the twelve months began.
    certificate(db, avery, x, d(2026, 4, 30))
    certificate(db, blake, x, d(2026, 6, 10))
    certificate(db, casey, x, d(2026, 6, 20))
    certificate(db, casey, y, d(2026, 4, 15), revoked=True)
    certificate(db, avery, y, d(2025, 6, 30))
    db.session.commit()
    return {"north": north, "squad": squad, "x": x, "y": y}


def by_month(view) -> dict[str, tuple]:
    """ "2026-04" -> (completed, due, due and done, overdue, officers overdue, expired)."""
    return {
        m.label: (m.completed, m.due, m.due_done, m.overdue, m.officers_overdue, m.expired)
        for m in view.months
    }


def test_the_last_twelve_months_end_with_this_one(db, agency, history):
    view = trends.trends(agency, Filters(), today=TODAY)
    assert [m.label for m in view.months][0] == "2025-07"
    assert [m.label for m in view.months][-1] == "2026-06"
    assert len(view.months) == 12


def test_monthly_figures_for_the_agency(db, agency, history):
    months = by_month(trends.trends(agency, Filters(), today=TODAY))
    assert months["2026-01"] == (1, 0, 0, 0, 0, 0)
    assert months["2026-02"] == (0, 1, 1, 0, 0, 0)
    assert months["2026-03"] == (0, 1, 0, 1, 1, 0)
    assert months["2026-04"] == (1, 3, 1, 2, 2, 1)
    assert months["2026-05"] == (1, 0, 0, 2, 2, 0)
    assert months["2026-06"] == (0, 1, 0, 3, 3, 1)  # so far: due by today, overdue now
    assert all(months[label] == (0, 0, 0, 0, 0, 0) for label in months if label < "2026-01")


def test_completion_rate_is_of_what_was_due_that_month(db, agency, history):
    view = trends.trends(agency, Filters(), today=TODAY)
    rates = {m.label: m.completion_rate for m in view.months}
    assert rates["2026-02"] == 1.0
    assert rates["2026-04"] == pytest.approx(1 / 3)
    assert rates["2026-05"] is None  # nothing was due


@pytest.mark.parametrize(
    ("unit", "expected_april", "expected_june"),
    [("north", (1, 3, 1, 2, 2, 1), (0, 0, 0, 2, 2, 1)), ("squad", (0, 0, 0, 1, 1, 0), (0, 0, 0, 1, 1, 1))],
)
def test_a_unit_counts_with_its_sub_units(db, agency, history, unit, expected_april, expected_june):
    months = by_month(trends.trends(agency, Filters(unit_id=history[unit].id), today=TODAY))
    assert (months["2026-04"], months["2026-06"]) == (expected_april, expected_june)


def test_filtered_by_course(db, agency, history):
    months = by_month(trends.trends(agency, Filters(course_id=history["y"].id), today=TODAY))
    assert months["2026-01"] == (1, 0, 0, 0, 0, 0)
    assert months["2026-02"] == (0, 1, 1, 0, 0, 0)
    assert sum(sum(figures) for figures in months.values()) == 3


def test_another_agencys_records_never_count(db, make_agency, history):
    empty = make_agency("Quiet PD")
    months = by_month(trends.trends(empty, Filters(), today=TODAY))
    assert set(months.values()) == {(0, 0, 0, 0, 0, 0)}


def test_query_count_does_not_grow_with_the_agency(db, agency, make_user, history):
    from lms.extensions import db as database

    def queries() -> int:
        statements = []

        def on_execute(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(database.engine, "before_cursor_execute", on_execute)
        try:
            trends.trends(agency, Filters(unit_id=history["north"].id), today=TODAY)
        finally:
            event.remove(database.engine, "before_cursor_execute", on_execute)
        return len(statements)

    small = queries()
    for i in range(40):
        officer = make_user(agency, unit_id=history["squad"].id)
        assign(db, officer, history["x"], assigned=date(2026, 1, 1), due=date(2026, 1 + i % 5, 3))
    db.session.commit()
    assert queries() == small


def test_the_page_shows_charts_with_a_table(client, sign_in, coordinator, agency, history):
    sign_in(coordinator)
    response = client.get(f"/agencies/{agency.id}/compliance/trends")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        "The last 12 months",
        "Assignments completed",
        "Completion of what was due",
        "Overdue at month end",
        "Certificates expired",
        "Show the numbers as a table",
        "(so far)",
    ):
        assert text in page


def test_the_page_is_linked_from_the_dashboard(client, sign_in, coordinator, agency):
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/compliance").get_data(as_text=True)
    assert f"/agencies/{agency.id}/compliance/trends" in page


@pytest.mark.parametrize("query", [{"unit": "999999"}, {"course": "x"}, {"rank": "Admiral"}])
def test_bad_filters_are_explained(client, sign_in, coordinator, agency, query):
    sign_in(coordinator)
    response = client.get(f"/agencies/{agency.id}/compliance/trends", query_string=query)
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_officers_cannot_open_it(client, sign_in, officer, agency):
    sign_in(officer)
    assert client.get(f"/agencies/{agency.id}/compliance/trends").status_code == 403


@pytest.mark.parametrize(
    "day",
    [None, date(2025, 6, 30), date(2025, 7, 1), date(2025, 7, 31), date(2025, 8, 1), date(2026, 1, 15),
     date(2026, 5, 31), date(2026, 6, 1), date(2026, 6, 30), date(2026, 7, 1), date(2030, 1, 1)],
)  # fmt: skip
def test_a_day_falls_in_the_month_whose_bounds_hold_it(db, day):
    """The nested range tests give what a plain scan of the bounds gives: -1 before the window,
    0..11 inside it, 12 after it and for no date."""
    from sqlalchemy import Date, literal, select

    bounds = trends.month_starts(TODAY)
    expected = next(
        (i - 1 for i, bound in enumerate(bounds) if day is not None and day < bound), len(bounds) - 1
    )
    column = literal(day, Date)
    assert db.session.scalar(select(trends._month_index(column, bounds))) == expected
