"""Roster import: the dry run, every kind of bad row with its line, all-or-nothing apply."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from lms.models import AuditEvent, RosterImport, Unit, User
from lms.services import roster_import

HEADER = "badge_number,name,email,rank,unit,supervisor_badge,hire_date,status\n"


@pytest.fixture
def units(db, agency):
    db.session.add(Unit(agency_id=agency.id, code="NORTH", name="North Precinct"))
    db.session.commit()
    return agency


def roster(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


GOOD = roster(
    "2001,Dana Brooks,dana@riverside.test,Sergeant,NORTH,,2015-06-01,active",
    "2002,Sam Chen,sam@riverside.test,Officer,NORTH,2001,2022-01-10,active",
)


def check(coordinator, agency, raw, mode=roster_import.ADD_UPDATE):
    return roster_import.check(coordinator, agency, "roster.csv", raw, mode)


def test_dry_run_shows_what_would_be_created_and_changes_nothing(db, coordinator, units):
    record, plan = check(coordinator, units, GOOD)
    assert [c.badge_number for c in plan.create] == ["2001", "2002"]
    assert plan.ok
    assert db.session.scalar(select(func.count()).select_from(User).where(User.badge_number == "2001")) == 0
    assert record.status == "checked"


def test_apply_creates_people_with_units_and_supervisors(db, coordinator, units):
    record, _ = check(coordinator, units, GOOD)
    roster_import.apply(coordinator, record)
    db.session.commit()
    sam = db.session.scalar(select(User).where(User.badge_number == "2002"))
    assert sam.supervisor.badge_number == "2001"
    assert sam.unit.code == "NORTH"
    assert sam.hire_date.isoformat() == "2022-01-10"
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "roster.imported"))
        .one()
        .after["create"]
        == 2
    )


def test_reimporting_the_same_file_changes_nothing(db, coordinator, units):
    record, _ = check(coordinator, units, GOOD)
    roster_import.apply(coordinator, record)
    db.session.commit()
    _, again = check(coordinator, units, GOOD)
    assert again.changes == 0
    assert again.unchanged == 2


def test_in_full_sync_people_missing_from_the_file_are_deactivated_not_deleted(
    db, coordinator, officer, units
):
    record, plan = check(coordinator, units, GOOD, roster_import.FULL_SYNC)
    assert [c.badge_number for c in plan.deactivate] == [officer.badge_number]
    roster_import.apply(coordinator, record, confirmation="1")
    db.session.commit()
    db.session.refresh(officer)
    assert officer.active is False


def test_the_coordinator_is_never_deactivated_by_their_own_import(db, coordinator, units):
    _, plan = check(coordinator, units, GOOD, roster_import.FULL_SYNC)
    assert coordinator.badge_number not in [c.badge_number for c in plan.deactivate]
    assert any("your account stays active" in w for w in plan.warnings)


def test_changes_are_listed_field_by_field(db, coordinator, units):
    record, _ = check(coordinator, units, GOOD)
    roster_import.apply(coordinator, record)
    db.session.commit()
    _, plan = check(coordinator, units, roster(
        "2001,Dana Brooks,dana@riverside.test,Lieutenant,NORTH,,2015-06-01,active",
        "2002,Sam Chen,sam@riverside.test,Officer,NORTH,2001,2022-01-10,inactive",
    ))  # fmt: skip
    assert {c.badge_number: c.words for c in plan.update} == {
        "2001": ["Rank: Sergeant → Lieutenant"],
        "2002": ["Deactivate (marked inactive in the file)"],
    }


@pytest.mark.parametrize(
    "row,column,words",
    [
        ("2003,,x@riverside.test,,,,,", "name", "is empty"),
        ("2003,Ann Lee,not-an-email,,,,,", "email", "not a valid email"),
        ("2003,Ann Lee,ann@riverside.test,,SOUTH,,,", "unit", 'unknown unit "SOUTH"; this agency has: HQ'),
        ("2003,Ann Lee,ann@riverside.test,,,,31/02/2020,", "hire_date", "is not a date"),
        ("2003,Ann Lee,ann@riverside.test,,,,,retired", "status", "must be active or inactive"),
        ("2003,Ann Lee,ann@riverside.test,,,9999,,", "supervisor_badge", 'no one has badge "9999"'),
        ("2001,Ann Lee,ann@riverside.test,,,,,", "badge_number", "duplicate badge"),
        ("2003,Ann Lee,dana@riverside.test,,,,,", "email", "also on line 2"),
        ("2003,Ann Lee", "row", "has 2 fields"),
    ],
)
def test_each_bad_row_is_named_by_line_and_column(db, coordinator, units, row, column, words):
    _, plan = check(
        coordinator,
        units,
        roster("2001,Dana Brooks,dana@riverside.test,Sergeant,NORTH,,2015-06-01,active", row),
    )
    assert not plan.ok
    problem = plan.problems[0]
    assert (problem.line, problem.column) == (3, column)
    assert words in problem.message


def test_every_problem_is_reported_at_once(db, coordinator, units):
    _, plan = check(coordinator, units, roster("1,,bad,,,,,", "2,B,also-bad,,,,,"))
    assert sorted((p.line, p.column) for p in plan.problems) == [(2, "email"), (2, "name"), (3, "email")]


def test_an_email_of_another_agencys_account_is_refused_without_naming_the_agency(
    db, coordinator, units, make_agency, make_user
):
    stranger = make_user(make_agency("Elsewhere"), email="taken@elsewhere.test")
    _, plan = check(coordinator, units, roster(f"2003,Ann Lee,{stranger.email},,,,,"))
    assert "cannot be used for this person" in plan.problems[0].message
    assert "Elsewhere" not in plan.problems[0].message


@pytest.mark.parametrize(
    "raw,words",
    [
        (b"", "empty"),
        (b"name,email\nA,a@b.test\n", "missing the column badge_number"),
        ("badge_number,name,email\n1,Zo\xe9,z@x.test\n".encode("latin-1"), "not UTF-8"),
        (b"badge_number,name,email,email\n", "appears twice"),
    ],
)
def test_unreadable_files_are_explained(db, coordinator, units, raw, words):
    with pytest.raises(roster_import.RosterFileError, match=words):
        check(coordinator, units, raw)


def test_apply_refuses_a_file_with_problems_and_writes_nothing(db, coordinator, units):
    record, _ = check(
        coordinator, units, roster("2003,Ann Lee,not-an-email,,,,,", "2004,Bo Park,bo@riverside.test,,,,,")
    )
    db.session.commit()
    with pytest.raises(ValueError, match="problem"):
        roster_import.apply(coordinator, record)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.badge_number == "2004")) == 0


def test_upload_page_checks_then_applies(client, sign_in, coordinator, units, db):
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{units.id}/roster/import",
        data={"roster": (io.BytesIO(GOOD), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dana Brooks" in page and "Add 2 people</button>" in page
    record = db.session.scalars(select(RosterImport)).one()
    applied = client.post(f"/agencies/{units.id}/roster/imports/{record.id}/apply", follow_redirects=True)
    assert "Roster imported: 2 added" in applied.get_data(as_text=True)


@pytest.mark.parametrize(
    "data,words",
    [
        ({}, "Choose a CSV file"),
        ({"roster": (io.BytesIO(b"x"), "roster.xlsx")}, "must be a .csv file"),
        ({"roster": (io.BytesIO(b"a,b\n1,2\n"), "roster.csv")}, "missing the column"),
    ],
)
def test_upload_errors_are_shown_on_the_form(client, sign_in, coordinator, units, data, words):
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{units.id}/roster/import", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


def test_cli_dry_run_then_apply(app, db, units, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(GOOD)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["roster", "import", str(path), "--agency", units.slug])
    assert dry.exit_code == 0, dry.output
    assert "create 2" in dry.output and "dry run" in dry.output
    applied = runner.invoke(args=["roster", "import", str(path), "--agency", units.slug, "--apply"])
    assert applied.exit_code == 0, applied.output
    assert (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.badge_number.in_(["2001", "2002"]))
        )
        == 2
    )


def test_cli_reports_bad_rows_and_fails(app, db, units, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(roster("2003,Ann Lee,not-an-email,,,,,"))
    result = app.test_cli_runner().invoke(
        args=["roster", "import", str(path), "--agency", units.slug, "--apply"]
    )
    assert result.exit_code != 0
    assert "line 2, email" in result.output
