"""Bad input in LTI launches: a `ripple_target` naming a course id that cannot exist is refused
with the launch error page (it reached the database as `integer out of range` on PostgreSQL);
a platform's name and email claims with control characters or line breaks are stored as one
clean line (a NUL was a 500 on PostgreSQL); a `sub` that cannot be stored is refused."""

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


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Pat\x00Learner", "Pat Learner"),
        ("Pat\r\nLearner\x1b", "Pat Learner"),
        ("  \x00 ", "Learner"),
        ("N" * 300, "N" * 200),
    ],
)
def test_a_launch_name_is_stored_as_one_clean_line(db, client, platform, registration, sent, stored):  # noqa: F811
    from lms.models import LtiUserLink, User

    response, _ = launch_as(client, platform, user_id="learner-9", name=sent, email="pat\x00@example.test")
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).join(LtiUserLink).where(LtiUserLink.subject == "learner-9"))
    assert user.name == stored and "\x00" not in user.email


@pytest.mark.parametrize("subject", ["learner\x00nine", "x" * 256])
def test_a_launch_whose_subject_cannot_be_stored_is_refused(db, client, platform, registration, subject):  # noqa: F811
    from lms.models import LtiUserLink

    response, _ = launch_as(client, platform, claims={"sub": subject})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(LtiUserLink)) == 0
