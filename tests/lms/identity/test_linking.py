"""A verified directory sign-in becomes one of our people: by (provider, subject), linked once
by badge number, never by email alone; roles and unit follow the provider's group rules."""

import pytest

from lms.models import AuditEvent, ExternalIdentity, Role, Unit, User
from lms.services.identity.linking import DirectoryPerson, SignInRefused, person_for, provider_for_email


def _count(db, model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_a_first_sign_in_links_the_roster_record_with_the_badge_number(db, provider, officer):
    user = person_for(
        provider,
        DirectoryPerson(subject="sub-1", email="x@riverside.test", identifier=officer.badge_number.lower()),
    )
    assert user.id == officer.id
    db.session.commit()
    # The next time the link alone finds the person, whatever the directory says of the badge.
    again = person_for(provider, DirectoryPerson(subject="sub-1", identifier="something-else"))
    assert again.id == officer.id
    assert _count(db, ExternalIdentity) == 1


def test_an_email_alone_never_links_an_account(db, provider, officer):
    provider.create_accounts = True
    officer.email = "olive@riverside.test"
    db.session.commit()
    with pytest.raises(SignInRefused, match="not linked"):
        person_for(provider, DirectoryPerson(subject="sub-2", email="olive@riverside.test"))
    assert _count(db, ExternalIdentity) == 0


def test_without_a_roster_record_and_no_account_creation_nothing_is_created(db, provider, agency):
    before = _count(db, User)
    with pytest.raises(SignInRefused, match="no roster record for you yet"):
        person_for(provider, DirectoryPerson(subject="sub-3", email="new@riverside.test", identifier="N-1"))
    assert _count(db, User) == before


def test_account_creation_makes_an_officer_of_the_providers_agency(db, provider, agency):
    provider.create_accounts = True
    user = person_for(
        provider,
        DirectoryPerson(
            subject="sub-4", email="New.Hire@riverside.test", name=" New  Hire ", identifier="N-2"
        ),
    )
    assert (user.agency_id, user.name, user.badge_number, user.roles) == (
        agency.id,
        "New Hire",
        "N-2",
        {Role.OFFICER},
    )
    assert db.session.scalar(
        db.select(AuditEvent.action).where(AuditEvent.action == "identity.account_created")
    )


def test_an_address_outside_the_providers_domains_is_refused(db, provider):
    provider.create_accounts = True
    with pytest.raises(SignInRefused, match="not at a domain"):
        person_for(provider, DirectoryPerson(subject="sub-5", email="someone@elsewhere.test"))


def test_a_badge_already_linked_to_another_subject_is_refused(db, provider, officer):
    person_for(provider, DirectoryPerson(subject="first", identifier=officer.badge_number))
    db.session.commit()
    with pytest.raises(SignInRefused, match="already linked"):
        person_for(provider, DirectoryPerson(subject="second", identifier=officer.badge_number))


def test_a_deactivated_person_cannot_sign_in(db, provider, officer):
    officer.active = False
    db.session.commit()
    with pytest.raises(SignInRefused, match="turned off"):
        person_for(provider, DirectoryPerson(subject="sub-6", identifier=officer.badge_number))


def test_another_agencys_badge_number_is_not_linked(db, provider, make_agency, make_user):
    other = make_user(make_agency("Other PD"), badge_number="SHARED-1")
    with pytest.raises(SignInRefused, match="no roster record"):
        person_for(provider, DirectoryPerson(subject="sub-7", identifier="SHARED-1"))
    assert other.id not in {row.user_id for row in db.session.scalars(db.select(ExternalIdentity))}


def test_group_rules_set_staff_roles_and_unit_but_never_admin(db, provider, officer, agency):
    db.session.add(Unit(agency_id=agency.id, code="ACAD", name="Academy"))
    provider.group_rules = [
        {"group": "Training Staff", "role": "instructor", "unit": "ACAD"},
        {"group": "Ripple Admins", "role": "admin", "unit": None},
    ]
    db.session.commit()
    user = person_for(
        provider,
        DirectoryPerson(
            subject="s", identifier=officer.badge_number, groups=("training staff", "Ripple Admins")
        ),
    )
    assert user.roles == {Role.OFFICER, Role.INSTRUCTOR}
    assert user.unit.code == "ACAD"
    db.session.commit()
    # Leaving the group takes the role away at the next sign-in.
    user = person_for(provider, DirectoryPerson(subject="s", groups=()))
    assert user.roles == {Role.OFFICER}


def test_the_email_domain_picks_the_active_provider(db, provider):
    assert provider_for_email("Pat@Riverside.Test") == provider
    assert provider_for_email("pat@elsewhere.test") is None
    provider.active = False
    assert provider_for_email("pat@riverside.test") is None
