"""Fixtures for agency identity: a directory sign-in (provider) of the test agency."""

import pytest


@pytest.fixture
def make_provider(db):
    from lms.models import IdentityProvider

    def make(agency, *, kind="oidc", domains=("riverside.test",), **fields):
        provider = IdentityProvider(
            agency_id=agency.id,
            kind=kind,
            name=fields.pop("name", "Riverside directory"),
            email_domains="\n".join(domains),
            identifier_claim=fields.pop("identifier_claim", "employee_id"),
            groups_claim=fields.pop("groups_claim", "groups"),
            group_rules=fields.pop("group_rules", []),
            settings=fields.pop("settings", {}),
            **fields,
        )
        db.session.add(provider)
        db.session.commit()
        return provider

    return make


@pytest.fixture
def provider(make_provider, agency):
    return make_provider(agency)
