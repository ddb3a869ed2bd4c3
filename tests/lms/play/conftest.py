import pytest


@pytest.fixture
def library(db):
    """The built-in scenarios loaded into the platform library: slug -> published version."""
    from lms.services.scenario_library import sync_library

    versions = sync_library()
    db.session.commit()
    return {version.scenario.slug: version for version in versions}


@pytest.fixture
def store_dispute(library):
    return library["store-dispute"]


@pytest.fixture
def direct_attempt(db, instructor, store_dispute):
    """An instructor's direct play of the smallest library scenario, not yet decided."""
    from lms.services import attempts

    attempt = attempts.start_direct(instructor, store_dispute)
    db.session.commit()
    return attempt
