"""A launch whose `ripple_target` names a course id that cannot exist is refused with the
launch error page (it reached the database as `integer out of range` on PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.lms.integrations.test_lti import (  # noqa: F401  (fixtures shared with the LTI tests)
    _platform_server,
    launch_as,
    platform,
    registration,
)


@pytest.mark.parametrize("course_id", [str(2**31), str(2**63), "9" * 40, "0", "²", "-1", "x"])
def test_a_launch_target_naming_an_impossible_course_is_refused(client, platform, registration, course_id):  # noqa: F811
    response, _ = launch_as(client, platform, custom={"ripple_target": f"course:{course_id}"})
    assert response.status_code == 400
    assert "The linked course is not available in Ripple." in response.get_data(as_text=True)
