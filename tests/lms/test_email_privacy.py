"""An agency cannot learn, through the API or a roster dry run, whose an email address is or in
which agency it is used, and can never attach another agency's account. Within its own agency
the answer names the person holding the address."""

# ruff: noqa: F811  (the API fixtures are imported, then named as test arguments)
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import Role, User
from lms.services import roster_import
from tests.lms.agency.test_roster_import import roster
from tests.lms.integrations.test_api import api, openapi, token_for  # noqa: F401 (fixtures)


@pytest.fixture
def holders(make_agency, make_user):
    """Addresses held outside the agency: another agency's officer and a platform admin."""
    elsewhere = make_agency("Elsewhere County Sheriff")
    return {
        "another agency's officer": make_user(elsewhere, name="Eve Elsewhere", email="eve@county.test"),
        "a platform admin": make_user(None, (Role.ADMIN,), name="Pat Platform", email="pat@ripple.test"),
    }


def _people(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _secrets(holder) -> list[str]:
    return [holder.name, holder.badge_number or "-", "Elsewhere", "another account", "exists", "already"]


@pytest.mark.parametrize("kind", ["another agency's officer", "a platform admin"])
@pytest.mark.parametrize("existing", [False, True], ids=["new person", "existing person"])
def test_api_answers_an_address_held_elsewhere_without_saying_so(
    db, api, openapi, agency, make_user, holders, kind, existing
):
    holder = holders[kind]
    if existing:
        make_user(agency, badge_number="N-300", email="own@riverside.test")
    before = _people(db)
    response = api("PUT", "/people/by-badge/N-300", json={"name": "Copy", "email": holder.email.upper()})
    openapi("/people/by-badge/{badge_number}", "PUT", response)
    body = response.get_json()
    assert (response.status_code, body["field"]) == (400, "email")
    assert body["detail"] == "`email` cannot be used for this person; give their own work address."
    assert not [word for word in _secrets(holder) if word.lower() in body["detail"].lower()]
    db.session.expire_all()
    assert _people(db) == before
    assert db.session.get(User, holder.id).agency_id == holder.agency_id
    if existing:
        person = db.session.scalar(select(User).where(User.badge_number == "N-300"))
        assert person.email == "own@riverside.test"


def test_api_gives_the_same_answer_whoever_holds_the_address(api, holders):
    answers = {
        kind: api("PUT", "/people/by-badge/N-301", json={"name": "X", "email": h.email}).get_json()
        for kind, h in holders.items()
    }
    assert len({str(sorted(answer.items())) for answer in answers.values()}) == 1


def test_api_names_the_holder_within_the_agency(api, openapi, agency, make_user):
    colleague = make_user(agency, badge_number="B-77", email="colleague@riverside.test")
    response = api("PUT", "/people/by-badge/N-302", json={"name": "X", "email": colleague.email})
    openapi("/people/by-badge/{badge_number}", "PUT", response)
    assert response.status_code == 409
    assert "badge B-77" in response.get_json()["detail"]


@pytest.mark.parametrize("kind", ["another agency's officer", "a platform admin"])
def test_roster_dry_run_does_not_say_whose_an_address_is(db, coordinator, agency, holders, kind):
    holder = holders[kind]
    _, plan = roster_import.check(
        coordinator, agency, "roster.csv", roster(f"2003,Ann Lee,{holder.email},,,,,")
    )
    [problem] = plan.problems
    assert (problem.line, problem.column) == (2, "email")
    assert problem.message == f"{holder.email} cannot be used for this person; give their own work address"
    assert not [word for word in _secrets(holder) if word.lower() in problem.message.lower()]


def test_roster_names_a_colleague_without_a_badge_number_and_does_not_fail_on_apply(
    db, coordinator, agency, make_user
):
    make_user(agency, badge_number=None, name="Nora Nobadge", email="nora@riverside.test")
    record, plan = roster_import.check(
        coordinator, agency, "roster.csv", roster("2004,Nora Again,nora@riverside.test,,,,,")
    )
    [problem] = plan.problems
    assert "Nora Nobadge" in problem.message and "no badge number" in problem.message
    with pytest.raises(ValueError, match="problem"):
        roster_import.apply(coordinator, record)
