"""The coordinator's roster: finding people, roles, deactivation and the audit log."""

from __future__ import annotations

from sqlalchemy import select

from lms.models import AuditEvent, Role, Unit, User


def test_roster_lists_active_people_by_default(client, sign_in, coordinator, make_user, agency, db):
    gone = make_user(agency, name="Gone Person", active=False)
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/people").get_data(as_text=True)
    assert coordinator.name in page
    assert gone.name not in page
    assert gone.name in client.get(f"/agencies/{agency.id}/people?status=inactive").get_data(as_text=True)


def test_roster_search_matches_name_email_or_badge(client, sign_in, coordinator, make_user, agency):
    make_user(agency, name="Findable Fran", badge_number="X-991")
    sign_in(coordinator)
    for q in ("findable", "X-991"):
        assert "Findable Fran" in client.get(f"/agencies/{agency.id}/people", query_string={"q": q}).get_data(
            as_text=True
        )
    assert "Findable Fran" not in client.get(f"/agencies/{agency.id}/people?q=zzz").get_data(as_text=True)


def test_unit_filter_includes_sub_units(client, sign_in, coordinator, make_user, agency, db):
    top = agency.units[0]
    child = Unit(agency_id=agency.id, code="SQ1", name="Squad One", parent_id=top.id)
    db.session.add(child)
    db.session.commit()
    make_user(agency, name="Squad Member", unit_id=child.id)
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/people", query_string={"unit": top.id}).get_data(as_text=True)
    assert "Squad Member" in page


def test_roster_rejects_a_unit_of_another_agency(client, sign_in, coordinator, make_agency, agency):
    other = make_agency("Elsewhere PD")
    sign_in(coordinator)
    response = client.get(f"/agencies/{agency.id}/people", query_string={"unit": other.units[0].id})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_changing_roles_is_audited_with_before_and_after(client, sign_in, coordinator, officer, db):
    sign_in(coordinator)
    response = client.post(f"/people/{officer.id}/roles", data={"officer": "y", "instructor": "y"})
    assert response.status_code == 302
    person = db.session.get(User, officer.id)
    db.session.refresh(person)
    assert person.roles == {Role.OFFICER, Role.INSTRUCTOR}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.roles_changed")).one()
    assert event.before == {"roles": ["officer"]}
    assert event.after == {"roles": ["instructor", "officer"]}
    assert event.actor_id == coordinator.id
    page = client.get(f"/agencies/{officer.agency_id}/audit").get_data(as_text=True)
    assert "Roles:</span> officer → instructor, officer" in page and "&#34;roles&#34;" not in page


def test_deactivation_needs_a_reason_and_keeps_the_person(client, sign_in, coordinator, officer, db):
    sign_in(coordinator)
    response = client.post(
        f"/people/{officer.id}/status", data={"active": "0", "reason": ""}, follow_redirects=True
    )
    assert "Give a reason" in response.get_data(as_text=True)
    assert db.session.get(User, officer.id).active is True
    client.post(f"/people/{officer.id}/status", data={"active": "0", "reason": "Retired"})
    db.session.expire_all()
    assert db.session.get(User, officer.id).active is False
    page = client.get(f"/agencies/{officer.agency_id}/audit").get_data(as_text=True)
    assert "User deactivated" in page and "user.deactivated" not in page and "Retired" in page


def test_coordinator_cannot_deactivate_themselves(client, sign_in, coordinator, db):
    sign_in(coordinator)
    response = client.post(
        f"/people/{coordinator.id}/status", data={"active": "0", "reason": "oops"}, follow_redirects=True
    )
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).active is True


def test_coordinator_cannot_grant_platform_admin(app, coordinator, officer, db):
    import pytest

    from lms.services import accounts

    with pytest.raises(accounts.AccountError):
        accounts.set_roles(coordinator, officer, {Role.OFFICER, Role.ADMIN})


def test_unit_overview_shows_headcounts(client, sign_in, coordinator, officer, agency):
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/").get_data(as_text=True)
    assert agency.units[0].name in page


def test_person_page_shows_assignments_attempts_certificates_and_hours(
    client, sign_in, coordinator, officer, db
):
    from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

    course = publish(course_data(slug="record-course"))
    pass_course(officer, enrol(officer, course))
    enrol(officer, course)
    sign_in(coordinator)
    page = client.get(f"/people/{officer.id}").get_data(as_text=True)
    for text in ("Assignments", "completed", "Scenario attempts", "Certificates", "credit hours"):
        assert text in page
