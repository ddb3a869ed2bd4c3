import pytest


@pytest.fixture
def direct_attempt(db, instructor, store_dispute):
    """An instructor's direct play of the smallest library scenario, not yet decided."""
    from lms.services import attempts

    attempt = attempts.start_direct(instructor, store_dispute)
    db.session.commit()
    return attempt
