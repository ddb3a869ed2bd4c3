import pytest


@pytest.fixture
def adapted(db, instructor, store_dispute):
    """The instructor's agency's draft copy of the store-dispute library scenario."""
    from lms.services import scenario_authoring

    record = scenario_authoring.duplicate(instructor, store_dispute.id, slug="store-dispute")
    db.session.commit()
    return record
