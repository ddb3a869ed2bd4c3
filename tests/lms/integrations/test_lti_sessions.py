"""An LTI launch signs in the way a password does: a session record, ended like any other."""
# ruff: noqa: F811  (the LTI platform fixtures are imported from test_lti and used by name)

from __future__ import annotations

from sqlalchemy import select

from lms.models import UserSession
from tests.lms.integrations.test_lti import _platform_server, launch_as, platform, registration  # noqa: F401


def test_a_launch_signs_in_with_a_session_record_that_sign_out_ends(
    app, db, client, platform, registration, store_scenario
):
    response, _ = launch_as(client, platform, custom={"ripple_target": "scenario:store-dispute"})
    assert response.status_code == 302, response.get_data(as_text=True)
    record = db.session.scalars(select(UserSession)).one()
    assert record.via == "lti" and record.ended_at is None
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/auth/password").status_code == 200
    client.post("/auth/sign-out")
    assert copy.get("/auth/password").status_code == 302
