import pytest


@pytest.fixture
def library(db):
    """The built-in scenarios in the platform library: slug -> published version."""
    from lms.services.scenario_library import sync_library

    versions = sync_library()
    db.session.commit()
    return {version.scenario.slug: version for version in versions}


@pytest.fixture
def store_dispute(library):
    return library["store-dispute"]


@pytest.fixture
def adapted(db, instructor, store_dispute):
    """The instructor's agency's draft copy of the store-dispute library scenario."""
    from lms.services import scenario_authoring

    record = scenario_authoring.duplicate(instructor, store_dispute.id, slug="store-dispute")
    db.session.commit()
    return record
