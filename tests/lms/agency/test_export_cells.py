"""Every export writes people's text as text: nothing a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from lms.models import Mandate, Unit
from lms.services import exports
from lms.services.cells import FORMULA_STARTS
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

# One text per dangerous first character, each in a different field people type.
HOSTILE = {
    "name": '=HYPERLINK("http://evil.test","open")',
    "badge_number": "+1+cmd|' /C calc'!A0",
    "rank": "-2+3",
    "unit": "@SUM(A1:A9)",
    "course": "\t=1+1",
    "supervisor": "\r=2+2",
}


@pytest.fixture
def hostile_agency(db, agency, make_user):
    """An officer whose every text field starts like a formula: one overdue course, one
    completed (certificate, mandate hours) with a supervisor likewise named."""
    unit = Unit(agency_id=agency.id, code="EVIL", name=HOSTILE["unit"])
    db.session.add(unit)
    db.session.add(Mandate(agency_id=agency.id, hours=10, cycle_months=12, cycle_start=date(2020, 1, 1)))
    db.session.commit()
    boss = make_user(agency, name=HOSTILE["supervisor"], unit_id=unit.id)
    officer = make_user(
        agency,
        name=HOSTILE["name"],
        badge_number=HOSTILE["badge_number"],
        rank=HOSTILE["rank"],
        unit_id=unit.id,
        supervisor_id=boss.id,
    )
    done = publish(course_data(slug="done", title=HOSTILE["course"]))
    late = publish(course_data(slug="late", title=HOSTILE["course"] + " (late)"))
    done_assignment = enrol(officer, done)
    pass_course(officer, done_assignment)
    enrol(officer, late, due_on=date.today() - timedelta(days=3))
    _time_on_task(officer, done_assignment)
    waived = enrol(officer, publish(course_data(slug="waived", title=HOSTILE["course"])))
    waived.status, waived.excused_reason = "excused", HOSTILE["name"]  # the excused-training report
    db.session.commit()
    return agency


def _time_on_task(officer, assignment) -> None:
    """A minute on the course's first lesson, so the time-on-task export has a row."""
    from datetime import UTC, datetime

    from lms.extensions import db
    from lms.services import time_on_task

    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for seconds, active in ((0, 0), (30, 30), (60, 30)):
        beat = time_on_task.Beat(active_seconds=active, assignment_id=assignment.id, item_slug="intro")
        time_on_task.record_beat(officer, beat, now=start + timedelta(seconds=seconds))
    db.session.commit()


def _csv(client, agency, report) -> list[list[str]]:
    response = client.get(f"/agencies/{agency.id}/exports/{report}.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("report", sorted(exports.REPORTS))
def test_csv_exports_quote_every_cell_that_starts_like_a_formula(
    client, sign_in, coordinator, hostile_agency, report
):
    sign_in(coordinator)
    cells = [cell for row in _csv(client, hostile_agency, report)[1:] for cell in row]
    assert any(cell.lstrip("'") in HOSTILE.values() for cell in cells)  # the report has some
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert {cell[1:] for cell in cells if cell.startswith("'")} <= set(HOSTILE.values()) | {
        HOSTILE["course"] + " (late)"
    }


@pytest.mark.parametrize("report", sorted(exports.REPORTS))
def test_xlsx_exports_keep_the_text_exactly_and_never_hold_a_formula(
    client, sign_in, coordinator, hostile_agency, report
):
    from openpyxl import load_workbook

    sign_in(coordinator)
    response = client.get(f"/agencies/{hostile_agency.id}/exports/{report}.xlsx")
    assert response.status_code == 200
    cells = [cell for row in load_workbook(io.BytesIO(response.data)).active.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    hostile = [
        cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)
    ]
    assert hostile, "the report shows some of the officer's text"
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in hostile)
    assert {cell.value for cell in hostile} <= set(HOSTILE.values()) | {HOSTILE["course"] + " (late)"}


def test_xlsx_export_survives_control_characters_in_stored_names(
    db, client, sign_in, coordinator, agency, make_user
):
    from openpyxl import load_workbook

    make_user(agency, name="Bell\x07Escape\x1bEnd")  # (PostgreSQL stores no NUL at all)
    sign_in(coordinator)
    response = client.get(f"/agencies/{agency.id}/exports/mandate-hours.xlsx")
    assert response.status_code == 200
    names = [row[1].value for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=2)]
    assert "BellEscapeEnd" in names


def test_transcript_csv_quotes_formula_course_titles(client, sign_in, officer):
    pass_course(officer, enrol(officer, publish(course_data(slug="formula", title="@SUM(A1)"))))
    text = sign_in(officer).get("/learn/transcript.csv").get_data(as_text=True)
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[1] == "'@SUM(A1)"
