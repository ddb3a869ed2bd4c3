"""Time on task: heartbeats credit only what the server's clock saw, on the officer's own items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.models import ActiveTime
from lms.services import time_on_task as tot
from tests.lms.learning_fixtures import enrol, publish

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def assignment(db, officer):
    return enrol(officer, publish())


def _beat(officer, assignment, seconds_after, active, item="intro"):
    beat = tot.Beat(active_seconds=active, assignment_id=assignment.id, item_slug=item)
    return tot.record_beat(officer, beat, now=T0 + timedelta(seconds=seconds_after))


def test_the_first_beat_only_starts_the_clock(officer, assignment):
    assert _beat(officer, assignment, 0, 30) == 0
    assert tot.seconds_by_item(assignment) == {"intro": 0}


def test_a_beat_credits_the_active_seconds_it_claims(officer, assignment):
    _beat(officer, assignment, 0, 0)
    assert _beat(officer, assignment, 30, 28) == 28
    assert _beat(officer, assignment, 60, 30) == 30
    assert tot.seconds_by_item(assignment) == {"intro": 58}


def test_a_beat_never_credits_more_than_the_time_since_the_last_one(officer, assignment):
    _beat(officer, assignment, 0, 0)
    assert _beat(officer, assignment, 10, 30) == 10  # claims 30 s, only 10 s passed


def test_a_duplicated_beat_credits_nothing(officer, assignment):
    _beat(officer, assignment, 0, 0)
    assert _beat(officer, assignment, 30, 30) == 30
    assert _beat(officer, assignment, 30, 30) == 0  # the same beat again, at the same moment


def test_a_beat_credits_at_most_the_cap(officer, assignment):
    _beat(officer, assignment, 0, 0)
    assert _beat(officer, assignment, 600, 600) == tot.CAP_SECONDS


def test_time_away_is_not_credited_after_a_pause(officer, assignment):
    """Hidden or idle, the page stops counting; its next beat claims only the active part."""
    _beat(officer, assignment, 0, 0)
    assert _beat(officer, assignment, 1800, 12) == 12


def test_two_pages_at_once_share_the_clock(officer, assignment):
    _beat(officer, assignment, 0, 0, item="intro")
    _beat(officer, assignment, 5, 0, item="wrap-up")
    assert _beat(officer, assignment, 30, 30, item="intro") == 25
    assert _beat(officer, assignment, 35, 30, item="wrap-up") == 5
    assert sum(tot.seconds_by_item(assignment).values()) == 30  # never more than the wall clock


def test_another_persons_item_is_refused(db, make_user, agency, officer, assignment):
    colleague = make_user(agency=agency)  # same agency, another officer
    with pytest.raises(tot.NotFound):
        _beat(colleague, assignment, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(ActiveTime)) == 0


def test_an_unknown_item_is_refused(officer, assignment):
    with pytest.raises(tot.NotFound):
        _beat(officer, assignment, 0, 0, item="no-such-item")


def test_a_finished_attempts_debrief_time_is_kept_apart_from_its_play(db, officer, officers_finished_attempt):
    attempt = officers_finished_attempt
    after = attempt.completed_at
    tot.record_beat(officer, tot.Beat(active_seconds=0, attempt_id=attempt.id), now=after)
    beat = tot.Beat(active_seconds=20, attempt_id=attempt.id)
    assert tot.record_beat(officer, beat, now=after + timedelta(seconds=20)) == 20
    row = db.session.scalar(select(ActiveTime).where(ActiveTime.attempt_id == attempt.id))
    assert (row.place, row.seconds) == (f"t{attempt.id}{tot.DEBRIEF_PLACE}", 20)
    assert tot.measured_minutes(attempt.scenario_version) == []  # a direct play, and debrief time


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "active: is required"),
        ({"active": "ten", "attempt": "1"}, "active: must be a whole number, got 'ten'"),
        ({"active": "-5", "attempt": "1"}, "active: must be a whole number, got '-5'"),
        ({"active": "100000", "attempt": "1"}, "active: must be between 0 and 600, got 100000"),
        ({"active": "3"}, "a beat names a scenario attempt, or an assignment and one of its items"),
        ({"active": "3", "assignment": "1"}, "a beat names a scenario attempt, or an assignment"),
        ({"active": "3", "assignment": "1", "item": "Bad Slug!"}, "item: must be an item slug"),
        ({"active": "3", "assignment": "0", "item": "intro"}, "assignment: must be between 1 and"),
        ({"active": "3", "attempt": "9" * 40}, "attempt: must be a whole number"),
    ],
)
def test_bad_input_is_refused_with_a_message(form, message):
    with pytest.raises(tot.BeatRefused) as refused:
        tot.parse_beat(form)
    assert str(refused.value).startswith(message)


# --- the route --------------------------------------------------------------------------------


def test_the_route_credits_a_beat(db, client, sign_in, officer, assignment):
    sign_in(officer)
    first = client.post("/activity/beat", data={"active": "0", "assignment": assignment.id, "item": "intro"})
    assert (first.status_code, first.json) == (200, {"credited": 0})
    row = db.session.scalar(select(ActiveTime))
    assert (row.user_id, row.assignment_id, row.item_slug, row.agency_id) == (
        officer.id,
        assignment.id,
        "intro",
        assignment.agency_id,
    )


def test_the_route_answers_bad_input_with_400_and_a_message(client, sign_in, officer, assignment):
    sign_in(officer)
    response = client.post(
        "/activity/beat", data={"active": "lots", "assignment": assignment.id, "item": "intro"}
    )
    assert response.status_code == 400
    assert response.json == {"error": "active: must be a whole number, got 'lots'"}


def test_the_route_refuses_another_agencys_officer(db, client, sign_in, make_agency, make_user, assignment):
    other = make_user(agency=make_agency(name="Other PD"))
    sign_in(other)
    response = client.post(
        "/activity/beat", data={"active": "0", "assignment": assignment.id, "item": "intro"}
    )
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ActiveTime)) == 0


def test_the_route_needs_a_csrf_token(app, client, sign_in, officer, assignment):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        sign_in(officer)
        response = client.post(
            "/activity/beat", data={"active": "0", "assignment": assignment.id, "item": "intro"}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400


def test_the_item_page_carries_the_heartbeat_only_for_its_officer(
    client, sign_in, officer, coordinator, assignment
):
    sign_in(officer)
    page = client.get(f"/learn/assignments/{assignment.id}/items/intro").get_data(as_text=True)
    assert 'data-heartbeat-url="/activity/beat"' in page and f'data-assignment="{assignment.id}"' in page
    sign_in(coordinator)
    page = client.get(f"/learn/assignments/{assignment.id}/items/intro").get_data(as_text=True)
    assert "data-heartbeat-url" not in page


def test_the_debrief_carries_the_heartbeat_for_its_officer(
    client, sign_in, officer, officers_finished_attempt
):
    page = (
        sign_in(officer).get(f"/play/attempts/{officers_finished_attempt.id}/debrief").get_data(as_text=True)
    )
    assert f'data-attempt="{officers_finished_attempt.id}"' in page and "js/heartbeat.js" in page


@pytest.mark.parametrize(
    "field",
    ["active", "assignment", "attempt"],
)
@pytest.mark.parametrize(
    "hostile", ["²", "٣", "１２", "3\u00b3", "1e3", "0x10", "+5", "1_000", "1.5", " 7 8"]
)
def test_hostile_numbers_are_refused_with_400(client, sign_in, officer, assignment, field, hostile):
    sign_in(officer)
    form = {"active": "3", "assignment": str(assignment.id), "item": "intro", field: hostile}
    response = client.post("/activity/beat", data=form)
    assert response.status_code == 400
    assert response.json["error"].startswith(f"{field}: must be a whole number")


@pytest.mark.parametrize("field", ["assignment", "attempt"])
def test_ids_above_the_largest_id_are_refused(field):
    from lms.input import MAX_ID

    form = {"active": "3", "assignment": "1", "item": "intro", field: str(MAX_ID + 1)}
    with pytest.raises(tot.BeatRefused, match=f"{field}: must be between 1 and {MAX_ID}"):
        tot.parse_beat(form)


def test_a_locked_item_earns_no_time(db, officer, assignment):
    """basics-check opens only once the intro lesson is read."""
    with pytest.raises(tot.BeatRefused, match="item: is locked"):
        _beat(officer, assignment, 0, 0, item="basics-check")
    assert db.session.scalar(select(func.count()).select_from(ActiveTime)) == 0
    from lms.services import learning

    learning.mark_lesson_read(officer, assignment, "intro")
    assert _beat(officer, assignment, 0, 0, item="basics-check") == 0


def test_a_cancelled_assignment_earns_no_time(db, officer, assignment):
    _beat(officer, assignment, 0, 0)
    assignment.status = "cancelled"
    db.session.flush()
    with pytest.raises(tot.BeatRefused, match="assignment: was cancelled"):
        _beat(officer, assignment, 30, 30)
    assert tot.seconds_by_item(assignment) == {"intro": 0}


def test_a_cancelled_assignments_scenario_attempt_earns_no_time(db, officer, assignment, library):
    from lms.models import Attempt

    attempt = Attempt(
        agency_id=assignment.agency_id,
        user_id=officer.id,
        scenario_version_id=library["store-dispute"].id,
        assignment_id=assignment.id,
        item_slug="practice-scenario",
        seed=1,
    )
    db.session.add(attempt)
    assignment.status = "cancelled"
    db.session.flush()
    with pytest.raises(tot.BeatRefused, match="assignment: was cancelled"):
        tot.record_beat(officer, tot.Beat(active_seconds=0, attempt_id=attempt.id), now=T0)


def test_a_locked_item_page_has_no_heartbeat(client, sign_in, officer, assignment):
    sign_in(officer)
    page = client.get(f"/learn/assignments/{assignment.id}/items/basics-check").get_data(as_text=True)
    assert "data-heartbeat-url" not in page
    page = client.get(f"/learn/assignments/{assignment.id}/items/intro").get_data(as_text=True)
    assert "data-heartbeat-url" in page


# --- reading it back: a fixed number of queries ----------------------------------------------


def _queries_for_transcript(db, user_id, *, course_times=True):
    from sqlalchemy import event

    from lms.models import User
    from lms.services import transcript

    db.session.expunge_all()  # nothing loaded beforehand: every lazy load would show
    user = db.session.get(User, user_id)
    seen = []

    def count(*args, **kwargs):
        seen.append(args[2])

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        t = transcript.transcript_for(user, course_times=course_times)
        titles = [(c.title, c.seconds) for c in t.course_times]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen), titles


def test_the_transcript_reads_course_times_in_queries_that_do_not_grow(db, officer, assignment):
    from tests.lms.learning_fixtures import course_data

    _beat(officer, assignment, 0, 0)
    _beat(officer, assignment, 30, 30)
    one, titles = _queries_for_transcript(db, officer.id)
    assert titles == [("Test Partnership Course", 30)]
    from lms.models import User

    officer = db.session.get(User, officer.id)
    for n in range(3):
        other = enrol(officer, publish(course_data(slug=f"course-{n}", title=f"Course {n}")))
        _beat(officer, other, 60 + 100 * n, 0, item="wrap-up")
        _beat(officer, other, 90 + 100 * n, 20, item="wrap-up")
    db.session.commit()
    four, titles = _queries_for_transcript(db, officer.id)
    assert len(titles) == 4 and sorted(s for _, s in titles) == [20, 20, 20, 30]
    assert four == one
    csv_queries, titles = _queries_for_transcript(db, officer.id, course_times=False)
    assert titles == [] and csv_queries < four  # the CSV does not read them at all
