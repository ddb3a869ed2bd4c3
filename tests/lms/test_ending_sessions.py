"""Both ways of ending many people's sessions (end_for_users, and deactivating them, which ends
them at flush) send the ids in lists of CHUNK and spare the session they are told to keep."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.models import UserSession
from lms.services import sessions


@pytest.mark.parametrize(
    ("how", "reason"), [("end_for_users", "signed-out"), ("deactivation", "deactivated")]
)
def test_ending_more_people_than_one_list_holds_spares_only_the_kept_session(
    app, db, make_user, agency, monkeypatch, how, reason
):
    monkeypatch.setattr(sessions, "CHUNK", 2)
    people = [make_user(agency) for _ in range(5)]
    for person in people:
        sessions.start(person)
    db.session.commit()
    if how == "end_for_users":
        kept = sessions.start(people[0])
        assert sessions.end_for_users([p.id for p in people], reason, keep=kept) == 5
        assert kept.ended_at is None
    else:
        for person in people:
            person.active = False
        kept = sessions.start(people[0])  # started in the same flush as the change: not ended
    db.session.commit()
    db.session.expire_all()
    reasons = {row.id: row.end_reason for row in db.session.scalars(select(UserSession))}
    assert reasons.pop(kept.id) is None
    assert list(reasons.values()) == [reason] * 5
