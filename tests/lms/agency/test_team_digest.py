"""The supervisor's weekly digest: overdue, due this week and expiring certificates of their team."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from lms.models import Certificate, OutboxMessage
from lms.services import reminders, team_digest
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

TODAY = date.today()
NO_MAIL = reminders.MailSettings(server=None)


@pytest.fixture
def course(app):
    return publish(course_data(slug="digest-course", title="Partnership Basics"))


@pytest.fixture
def team(db, agency, make_user):
    """Sam supervises Ola (badge 4410) and Ben (badge 4411)."""
    sam = make_user(agency, name="Sam Supervisor")
    ola = make_user(agency, name="Ola Officer", badge_number="4410", supervisor_id=sam.id)
    ben = make_user(agency, name="Ben Officer", badge_number="4411", supervisor_id=sam.id)
    return sam, ola, ben


def digests_sent(db) -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "team_digest")).all()


def sunday_of(day: date) -> date:
    return team_digest.week_of(day) + timedelta(days=6)


def test_the_digest_lists_overdue_due_this_week_and_expiring(db, team, course):
    sam, ola, ben = team
    enrol(ola, course, due_on=TODAY - timedelta(days=4))
    enrol(ben, course, due_on=sunday_of(TODAY))
    done = enrol(ben, course, due_on=TODAY + timedelta(days=90))
    pass_course(ben, done)
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == ben.id))
    certificate.expires_on = TODAY + timedelta(days=20)
    db.session.commit()
    [message] = team_digest.send_digests(TODAY, NO_MAIL)
    assert message.to_email == sam.email
    body = message.body
    assert "Overdue (1):\n- Ola Officer (badge 4410): Partnership Basics, " in body
    assert "Due this week (1):\n- Ben Officer (badge 4411): Partnership Basics, " in body
    assert "Certificates expiring within 30 days (1):\n- Ben Officer (badge 4411): Partnership Basics" in body
    expires = TODAY + timedelta(days=20)
    assert f"{expires:%b} {expires.day}, {expires.year}" in body  # dates as people read them
    assert message.details == {
        "week_of": team_digest.week_of(TODAY).isoformat(),
        "overdue": 1,
        "due_this_week": 1,
        "expiring": 1,
    }


def test_nothing_to_say_sends_nothing(db, team, course):
    _, ola, _ = team
    enrol(ola, course, due_on=sunday_of(TODAY) + timedelta(days=1))  # next week
    assert team_digest.send_digests(TODAY, NO_MAIL) == []


def test_once_a_week_however_often_the_job_runs(db, team, course):
    _, ola, _ = team
    enrol(ola, course, due_on=TODAY - timedelta(days=1))
    assert len(team_digest.send_digests(TODAY, NO_MAIL)) == 1
    assert team_digest.send_digests(TODAY, NO_MAIL) == []
    assert team_digest.send_digests(sunday_of(TODAY), NO_MAIL) == []
    assert len(team_digest.send_digests(sunday_of(TODAY) + timedelta(days=1), NO_MAIL)) == 1
    assert len(digests_sent(db)) == 2


def test_inactive_officers_and_supervisors_are_left_out(db, agency, make_user, team, course):
    sam, ola, ben = team
    enrol(ola, course, due_on=TODAY - timedelta(days=1))
    ola.active = False
    lead = make_user(agency, name="Retired Lead", active=False)
    enrol(make_user(agency, supervisor_id=lead.id), course, due_on=TODAY - timedelta(days=1))
    db.session.commit()
    assert team_digest.send_digests(TODAY, NO_MAIL) == []


def test_a_supervisor_in_another_agency_gets_nothing(db, agency, make_agency, make_user, course):
    outsider = make_user(make_agency("Bravo PD"), name="Bravo Boss")
    enrol(make_user(agency, supervisor_id=outsider.id), course, due_on=TODAY - timedelta(days=1))
    assert team_digest.send_digests(TODAY, NO_MAIL) == []


def test_the_daily_job_sends_the_digests(app, db, team, course):
    from datetime import UTC, datetime

    from lms import schedule

    _, ola, _ = team
    enrol(ola, course, due_on=TODAY - timedelta(days=1))
    job = next(job for job in schedule.JOBS if job.name == "team-digests")
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 6, tzinfo=UTC)
    assert job.run(now) == "1 digest(s)"


def test_query_count_does_not_grow_with_the_teams(db, agency, make_user, team, course):
    from lms.extensions import db as database

    def queries() -> int:
        count = 0

        def on_execute(*args):
            nonlocal count
            count += 1

        event.listen(database.engine, "before_cursor_execute", on_execute)
        try:
            team_digest.digests(TODAY)
        finally:
            event.remove(database.engine, "before_cursor_execute", on_execute)
        return count

    _, ola, _ = team
    enrol(ola, course, due_on=TODAY - timedelta(days=1))
    small = queries()
    for _ in range(5):
        boss = make_user(agency)
        for _ in range(3):
            enrol(make_user(agency, supervisor_id=boss.id), course, due_on=TODAY)
    assert queries() == small
