"""Excel exports hold real dates and numbers, in fitted columns under a bold, frozen and
filtered header; CSV stays ISO 8601."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from lms.services import exports
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

TODAY = date.today()  # exports use the real date


@pytest.fixture
def records(db, agency, make_user):
    """One officer overdue, one with a course completed (and its certificate)."""
    course = publish(course_data(slug="export-course"))
    late, done = make_user(agency, name="Late Officer"), make_user(agency, name="Done Officer")
    enrol(late, course, due_on=TODAY - timedelta(days=10))
    pass_course(done, enrol(done, course, due_on=TODAY + timedelta(days=60)))
    return late, done


def _sheet(client, agency, report):
    response = client.get(f"/agencies/{agency.id}/exports/{report}.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data)).active


def _column(sheet, name):
    header = [cell.value for cell in sheet[1]]
    return [row[header.index(name)] for row in sheet.iter_rows(min_row=2)]


@pytest.fixture
def signed_in(client, sign_in, coordinator, records):
    sign_in(coordinator)
    return client


@pytest.mark.parametrize(
    ("report", "column"),
    [
        ("overdue", "due on"),
        ("certifications", "issued on"),
        ("certifications", "expires on"),
        ("mandate-hours", "cycle start"),
    ],
)
def test_dates_are_date_cells_with_a_date_format(signed_in, agency, report, column):
    cells = _column(_sheet(signed_in, agency, report), column)
    assert cells and all(isinstance(cell.value, datetime) for cell in cells)
    assert {cell.number_format for cell in cells} == {"mmm d, yyyy"}


def test_dates_follow_the_agency_style(db, signed_in, agency):
    agency.date_style = "en-GB"
    db.session.commit()
    cells = _column(_sheet(signed_in, agency, "overdue"), "due on")
    assert {cell.number_format for cell in cells} == {"d mmm yyyy"}


@pytest.mark.parametrize(
    ("report", "column", "kind"),
    [
        ("overdue", "days overdue", int),
        ("mandate-hours", "hours", float),
        ("completion", "officers assigned", int),
    ],
)
def test_counts_and_hours_are_numbers(signed_in, agency, report, column, kind):
    cells = _column(_sheet(signed_in, agency, report), column)
    assert cells and all(isinstance(cell.value, int | float) for cell in cells)
    assert all(isinstance(cell.value, kind) or kind is float for cell in cells)


def test_the_completion_rate_is_a_percentage(signed_in, agency):
    (cell,) = _column(_sheet(signed_in, agency, "completion"), "completion rate")
    assert cell.value == pytest.approx(0.5) and cell.number_format == "0.0%"


@pytest.mark.parametrize("report", sorted(exports.REPORTS))
def test_the_header_is_bold_frozen_and_filtered(signed_in, agency, report):
    sheet = _sheet(signed_in, agency, report)
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.auto_filter.ref.startswith("A1:")


def test_columns_fit_their_content_within_bounds(db, signed_in, agency, records):
    records[0].name = "An Officer With A Very Long Name Indeed " * 4
    db.session.commit()
    sheet = _sheet(signed_in, agency, "overdue")
    header = [cell.value for cell in sheet[1]]
    width = {name: sheet.column_dimensions[chr(ord("A") + i)].width for i, name in enumerate(header)}
    assert width["name"] == exports.MAX_WIDTH  # capped
    assert width["badge"] >= exports.MIN_WIDTH
    assert width["supervisor"] == len("supervisor") + 2  # the header is the widest


def test_csv_keeps_iso_dates_and_plain_numbers(signed_in, agency):
    text = signed_in.get(f"/agencies/{agency.id}/exports/overdue.csv").get_data(as_text=True)
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["due on"] == (TODAY - timedelta(days=10)).isoformat() and row["days overdue"] == "10"
