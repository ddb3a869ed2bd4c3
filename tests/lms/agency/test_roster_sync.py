"""Safe roster sync: two modes, a typed confirmation before deactivating many people, units
by code or name, and the plan in plain words."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from lms.models import Role, RosterImport, Unit, User
from lms.services import roster_import

HEADER = "badge_number,name,email,rank,unit,supervisor_badge,hire_date,status\n"
NEW_HIRES = (
    HEADER
    + "".join(
        f"N{n},New Hire {n},new{n}@riverside.test,Officer,HQ,,2026-11-0{n},active\n" for n in range(1, 5)
    )
).encode()


def roster(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


@pytest.fixture
def department(db, agency, coordinator, make_user):
    """42 active people: the coordinator and 41 officers."""
    officers = [make_user(agency, name=f"Officer {n:02}", badge_number=f"P{n:02}") for n in range(41)]
    return agency, officers


@pytest.fixture
def precincts(db, agency):
    north = Unit(agency_id=agency.id, code="NORTH", name="North Precinct")
    south = Unit(agency_id=agency.id, code="SOUTH", name="South Precinct")
    db.session.add_all([north, south])
    db.session.commit()
    return north, south


def active_count(db, agency) -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.agency_id == agency.id, User.active.is_(True))
    )


def upload(client, agency, raw, mode=None):
    data = {"roster": (io.BytesIO(raw), "roster.csv")}
    if mode:
        data["mode"] = mode
    response = client.post(
        f"/agencies/{agency.id}/roster/import", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


# --- modes ---------------------------------------------------------------------------------------


def test_by_default_a_file_of_new_hires_adds_them_and_leaves_everyone_else_alone(
    db, client, sign_in, coordinator, department
):
    agency, _ = department
    sign_in(coordinator)
    upload(client, agency, NEW_HIRES)
    record = db.session.scalars(select(RosterImport)).one()
    assert record.mode == roster_import.ADD_UPDATE
    _, plan = roster_import.check(coordinator, agency, "roster.csv", NEW_HIRES)
    assert (len(plan.create), plan.deactivate, plan.left_alone) == (4, [], 42)
    roster_import.apply(coordinator, record)
    db.session.commit()
    assert active_count(db, agency) == 46


@pytest.mark.parametrize("mode", [roster_import.ADD_UPDATE, roster_import.FULL_SYNC])
def test_the_mode_chosen_on_upload_is_kept_with_the_import(db, client, sign_in, coordinator, agency, mode):
    sign_in(coordinator)
    upload(client, agency, NEW_HIRES, mode)
    assert db.session.scalars(select(RosterImport)).one().mode == mode


def test_an_unknown_mode_is_refused_on_the_form(db, client, sign_in, coordinator, agency):
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/roster/import",
        data={"roster": (io.BytesIO(NEW_HIRES), "roster.csv"), "mode": "delete_everyone"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "What to do with people who are not in the file: Not a valid choice" in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count()).select_from(RosterImport)) == 0


def test_full_sync_deactivates_the_people_missing_from_the_file(db, coordinator, department):
    agency, officers = department
    kept = officers[:40]
    raw = roster(*(f"{o.badge_number},{o.name},{o.email},,HQ,,," for o in kept))
    record, plan = roster_import.check(coordinator, agency, "roster.csv", raw, roster_import.FULL_SYNC)
    assert [c.badge_number for c in plan.deactivate] == [officers[40].badge_number]
    roster_import.apply(coordinator, record)  # 1 of 42: no confirmation needed
    db.session.commit()
    db.session.refresh(officers[40])
    assert officers[40].active is False


def test_a_full_sync_applied_once_changes_nothing_the_second_time(db, coordinator, department):
    agency, officers = department
    raw = roster(*(f"{o.badge_number},{o.name},{o.email},,HQ,,," for o in officers[:40]))
    record, _ = roster_import.check(coordinator, agency, "roster.csv", raw, roster_import.FULL_SYNC)
    roster_import.apply(coordinator, record)
    db.session.commit()
    _, again = roster_import.check(coordinator, agency, "roster.csv", raw, roster_import.FULL_SYNC)
    assert (again.changes, again.unchanged) == (0, 40)


# --- the guard against deactivating most of the agency ------------------------------------------


def test_a_full_sync_of_four_new_hires_against_42_people_needs_a_typed_confirmation(
    db, client, sign_in, coordinator, department
):
    agency, _ = department
    sign_in(coordinator)
    page = client.get(upload(client, agency, NEW_HIRES, roster_import.FULL_SYNC)).get_data(as_text=True)
    assert "This import deactivates 41 people of the 42 active in Riverside Test PD" in page
    assert "Type the number of people to deactivate, or the agency&#39;s name, to confirm" in page
    assert "Add 4 people and deactivate 41 people not in the file</button>" in page


@pytest.mark.parametrize("typed", [None, "", "40", "Riverside", "42"])
def test_applying_a_mass_deactivation_without_the_right_confirmation_is_refused_and_changes_nothing(
    db, client, sign_in, coordinator, department, typed
):
    agency, _ = department
    sign_in(coordinator)
    upload(client, agency, NEW_HIRES, roster_import.FULL_SYNC)
    record = db.session.scalars(select(RosterImport)).one()
    response = client.post(
        f"/agencies/{agency.id}/roster/imports/{record.id}/apply",
        data={} if typed is None else {"confirmation": typed},
    )
    assert response.status_code == 400
    assert "would deactivate 41 people of 42 active" in response.get_data(as_text=True)
    db.session.expire_all()
    assert active_count(db, agency) == 42
    assert db.session.get(RosterImport, record.id).status == "checked"


@pytest.mark.parametrize("typed", ["41", " 41 ", "Riverside Test PD", "  riverside   test pd "])
def test_the_number_of_people_or_the_agencys_name_confirms_a_mass_deactivation(
    db, client, sign_in, coordinator, department, typed
):
    agency, _ = department
    sign_in(coordinator)
    upload(client, agency, NEW_HIRES, roster_import.FULL_SYNC)
    record = db.session.scalars(select(RosterImport)).one()
    response = client.post(
        f"/agencies/{agency.id}/roster/imports/{record.id}/apply", data={"confirmation": typed}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert active_count(db, agency) == 1 + 4  # the coordinator and the new hires


def test_rows_marked_inactive_count_towards_the_guard(db, coordinator, department):
    agency, officers = department
    raw = roster(*(f"{o.badge_number},{o.name},{o.email},,HQ,,,inactive" for o in officers[:5]))
    record, plan = roster_import.check(coordinator, agency, "roster.csv", raw)
    assert (plan.deactivating, plan.needs_confirmation) == (5, True)
    with pytest.raises(roster_import.ConfirmationNeeded):
        roster_import.apply(coordinator, record)


def test_deactivating_up_to_one_in_ten_needs_no_confirmation(db, coordinator, department):
    agency, officers = department
    raw = roster(*(f"{o.badge_number},{o.name},{o.email},,HQ,,,inactive" for o in officers[:4]))
    _, plan = roster_import.check(coordinator, agency, "roster.csv", raw)
    assert (plan.deactivating, plan.needs_confirmation) == (4, False)


# --- units by code or name -----------------------------------------------------------------------


@pytest.mark.parametrize("written", ["NORTH", "north", "North Precinct", "  north   PRECINCT "])
def test_a_unit_is_found_by_code_or_by_name_whatever_the_case_and_spacing(
    db, coordinator, agency, precincts, written
):
    record, plan = roster_import.check(
        coordinator, agency, "roster.csv", roster(f'2001,Dana Brooks,dana@riverside.test,,"{written}",,,')
    )
    assert plan.ok, plan.problems
    roster_import.apply(coordinator, record)
    db.session.commit()
    assert db.session.scalar(select(User).where(User.badge_number == "2001")).unit.code == "NORTH"


def test_a_unit_name_shared_by_two_units_is_a_row_problem_naming_both(db, coordinator, agency, precincts):
    db.session.add(Unit(agency_id=agency.id, code="NORTH-K9", name="North Precinct"))
    db.session.commit()
    _, plan = roster_import.check(
        coordinator, agency, "roster.csv", roster("2001,Dana Brooks,dana@riverside.test,,north precinct,,,")
    )
    (problem,) = plan.problems
    assert (problem.line, problem.column) == (2, "unit")
    assert problem.message == (
        '"north precinct" is the name of 2 units: North Precinct (code NORTH), '
        "North Precinct (code NORTH-K9); give the code instead"
    )


def test_the_units_page_shows_each_units_code(client, sign_in, coordinator, agency, precincts):
    page = sign_in(coordinator).get(f"/agencies/{agency.id}/").get_data(as_text=True)
    assert "<code>NORTH</code>" in page and "<code>SOUTH</code>" in page


# --- the plan in plain words ---------------------------------------------------------------------


@pytest.fixture
def dana(db, agency, precincts, make_user):
    north, _ = precincts
    return make_user(
        agency, name="Dana Brooks", email="dana@riverside.test", badge_number="2001", rank="Officer",
        unit_id=north.id, active=False,
    )  # fmt: skip


def test_a_change_is_described_in_plain_words(db, coordinator, dana):
    _, plan = roster_import.check(
        coordinator, dana.agency, "roster.csv",
        roster("2001,Dana Brooks,dana@riverside.test,Sergeant,SOUTH,,2015-06-01,active"),
    )  # fmt: skip
    (change,) = plan.update
    assert change.words == [
        "Rank: Officer → Sergeant",
        "Unit: North Precinct → South Precinct",
        "Hire date: none → Jun 1, 2015",
        "Reactivate",
    ]


def test_the_plan_page_groups_the_changes_in_plain_words(db, client, sign_in, coordinator, dana, department):
    agency, _ = department
    sign_in(coordinator)
    raw = roster(
        "2001,Dana Brooks,dana@riverside.test,Sergeant,SOUTH,,,active",
        f"{coordinator.badge_number},{coordinator.name},{coordinator.email},,HQ,,,active",
        "N1,New Hire,new1@riverside.test,Officer,North Precinct,2001,,active",
    )
    page = client.get(upload(client, agency, raw, roster_import.FULL_SYNC)).get_data(as_text=True)
    for words in (
        "New: add 1 person",
        "Changed: update 1 person",
        "Deactivate 41 people not in the file",
        "Rank: Officer → Sergeant",
        "Unit: North Precinct → South Precinct",
        "Supervisor: Dana Brooks (badge 2001)",
        "Reactivate",
        "Unchanged: 1 person in the file already matches the roster.",
    ):
        assert words in page, words
    for repr_text in ("True", "False", "None", "active:", "unit_id"):
        assert repr_text not in page, repr_text


def test_an_applied_import_keeps_whom_it_added(db, coordinator, agency):
    record, _ = roster_import.check(coordinator, agency, "roster.csv", NEW_HIRES)
    roster_import.apply(coordinator, record)
    db.session.commit()
    added = db.session.scalars(select(User).where(User.id.in_(record.added_user_ids))).all()
    assert sorted(u.badge_number for u in added) == ["N1", "N2", "N3", "N4"]
    assert all(u.has_role(Role.OFFICER) for u in added)


def test_the_command_line_needs_confirm_for_a_mass_deactivation(app, db, department, tmp_path):
    agency, _ = department
    path = tmp_path / "new-hires.csv"
    path.write_bytes(NEW_HIRES)
    base = ["roster", "import", str(path), "--agency", agency.slug, "--full-sync", "--apply"]
    refused = app.test_cli_runner().invoke(args=base)
    assert refused.exit_code != 0 and "--confirm" in refused.output
    assert active_count(db, agency) == 42
    applied = app.test_cli_runner().invoke(args=[*base, "--confirm", "42"])
    assert applied.exit_code == 0, applied.output
    assert active_count(db, agency) == 4


@pytest.mark.parametrize("blank", ["", " ", "\xa0", "\r\n"])
def test_a_blank_mode_imports_in_the_default_mode(db, client, sign_in, coordinator, agency, blank):
    sign_in(coordinator)
    upload(client, agency, NEW_HIRES, blank or None)
    assert db.session.scalars(select(RosterImport)).one().mode == roster_import.ADD_UPDATE
