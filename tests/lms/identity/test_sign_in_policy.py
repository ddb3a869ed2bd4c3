"""The coordinator's Sign-in page: the policy form, and what the service refuses."""

import pytest

from lms.models import Agency
from lms.services.identity import policy, providers


def _form(**fields):
    values = {"mfa_grace_days": "14", "idle_minutes": "30"}
    values.update(fields)
    return values


def test_the_coordinator_saves_the_policy(client, sign_in, coordinator, agency, db):
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/sign-in")
    assert page.status_code == 200 and b"Sign-in policy" in page.data
    answer = client.post(f"/agencies/{agency.id}/sign-in", data=_form(mfa_for_staff="y", idle_minutes="15"))
    assert answer.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Agency, agency.id)
    assert (saved.mfa_for_staff, saved.idle_minutes, saved.mfa_required_since is not None) == (True, 15, True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"idle_minutes": "7"}, b"Not a valid choice"),
        ({"mfa_grace_days": "400"}, b"0 to 90 days"),
        ({"mfa_grace_days": "soon"}, b"Not a valid integer value"),
        ({"sso_only": "y"}, b"first add a directory sign-in"),
    ],
)
def test_a_bad_policy_is_refused_and_changes_nothing(
    client, sign_in, coordinator, agency, db, fields, message
):
    sign_in(coordinator)
    answer = client.post(f"/agencies/{agency.id}/sign-in", data=_form(**fields))
    assert answer.status_code == 400 and message in answer.data
    db.session.expire_all()
    saved = db.session.get(Agency, agency.id)
    assert (saved.sso_only, saved.idle_minutes, saved.mfa_grace_days) == (False, 30, 14)


def test_officers_and_instructors_cannot_open_it(client, sign_in, officer, instructor, agency):
    for person in (officer, instructor):
        sign_in(person)
        assert client.get(f"/agencies/{agency.id}/sign-in").status_code == 403


def test_a_coordinator_of_another_agency_cannot_change_it(db, make_agency, make_user, agency):
    from lms.models import Role

    stranger = make_user(make_agency("Other PD"), (Role.COORDINATOR,))
    with pytest.raises(providers.ProviderError):
        policy.update(stranger, agency, policy.SignInPolicy(False, True, 14, 30))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gmail.com", "public mail service"),
        ("not a domain!", "is not a domain"),
        ("", "give at least one"),
    ],
)
def test_bad_email_domains_are_refused(db, agency, text, message):
    with pytest.raises(providers.ProviderError, match=message):
        providers.parse_domains(text, agency=agency, provider=None)


def test_a_domain_of_another_agencys_provider_is_refused(db, agency, make_agency, make_provider):
    make_provider(make_agency("Other PD"), domains=("other.gov",))
    with pytest.raises(providers.ProviderError, match="another agency"):
        providers.parse_domains("riverside.gov\nother.gov", agency=agency, provider=None)


def test_group_rules_read_back_as_written(db, agency):
    rules = providers.parse_group_rules(
        "Training Staff -> instructor, unit HQ\n# a comment\nCommand -> coordinator", agency
    )
    assert rules == [
        {"group": "Training Staff", "role": "instructor", "unit": "HQ"},
        {"group": "Command", "role": "coordinator", "unit": None},
    ]
    assert providers.parse_group_rules(providers.rules_text(rules), agency) == rules


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Staff instructor", "line 1"),
        ("Staff -> admin", "neither a role"),
        ("Staff -> unit NOPE", "no unit with code"),
    ],
)
def test_bad_group_rules_name_the_line(db, agency, text, message):
    with pytest.raises(providers.ProviderError, match=message):
        providers.parse_group_rules(text, agency)
