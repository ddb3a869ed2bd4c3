"""A cmi5 launch in a real browser: the test LMS (tests/lms/packaging) launches Ripple's package
against ralph; the learner sees the banner on the scenario, presses Return to the learning
platform and lands back on the LMS's page, and ralph holds initialized then terminated."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.lms.packaging.conftest import _lms_server, lms, ralph  # noqa: F401  (shared peers)


@pytest.fixture
def au(app, db, agency, store_dispute, live_server, lms):  # noqa: F811
    from lms.models import DispatchPackage
    from lms.services.packaging import cmi5

    # live_server makes its address the public one (PUBLIC_BASE_URL) for the test.
    package = DispatchPackage(
        agency_id=agency.id,
        allowed_origins=lms.origins,
        kind="cmi5",
        target="scenario:store-dispute",
        title="Store dispute",
        key=secrets.token_urlsafe(24),
    )
    db.session.add(package)
    db.session.commit()
    with app.test_request_context():
        return lms.import_package(cmi5.build_zip(package))


def test_a_learner_launched_by_the_lms_returns_to_it(page, lms, ralph, au, axe_violations):  # noqa: F811
    launch = lms.launch(au)
    page.goto(launch.url)
    assert "/play/attempts/" in page.url
    banner = page.get_by_role("region", name="Learning platform")
    expect(banner).to_contain_text("You opened Store dispute from your learning platform.")
    assert axe_violations() == []
    banner.get_by_role("button", name="Return to the learning platform").click()
    expect(page.get_by_text("Back in the LMS")).to_be_visible()
    assert page.url == f"{lms.url}/course/{launch.registration}"
    said = [s["verb"]["id"].rsplit("/", 1)[1] for s in ralph.statements(launch.registration)]
    assert said == ["launched", "initialized", "terminated"]
