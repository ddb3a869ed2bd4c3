"""The evidence: active minutes on the transcript, the person page and the exports; the course
page's declared and estimated hours; measured scenario times; refusals on import."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from lms import course_format as cf
from lms.services import attempts, authoring, learning, time_on_task
from lms.services.scenario_authoring import AuthoringError
from lms.services.scenario_library import scenario_of
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _spend(officer, assignment, item, seconds, start=T0):
    """`seconds` of active time on an item, as beats 30 s apart would record it."""
    beat = time_on_task.Beat(active_seconds=0, assignment_id=assignment.id, item_slug=item)
    time_on_task.record_beat(officer, beat, now=start)
    at = 0
    while at < seconds:
        step = min(30, seconds - at)
        at += step
        beat = time_on_task.Beat(active_seconds=step, assignment_id=assignment.id, item_slug=item)
        time_on_task.record_beat(officer, beat, now=start + timedelta(seconds=at))
    return start + timedelta(seconds=at + 1)


@pytest.fixture
def done(db, officer):
    assignment = enrol(officer, publish())
    later = _spend(officer, assignment, "intro", 120)
    learning.mark_lesson_read(officer, assignment, "intro")  # the check opens after the lesson
    _spend(officer, assignment, "basics-check", 90, start=later)
    pass_course(officer, assignment)
    db.session.commit()
    return assignment


def test_the_transcript_shows_active_minutes_per_course_and_item(client, sign_in, officer, done):
    page = sign_in(officer).get("/learn/transcript").get_data(as_text=True)
    assert "Time on task" in page
    assert "Test Partnership Course: <strong>4 active minutes</strong>" in page  # 210 s
    assert '<td>Intro lesson</td><td>lesson</td><td class="num">2.0</td>' in page
    assert '<td>Knowledge check: basics</td><td>knowledge check</td><td class="num">1.5</td>' in page


def test_the_coordinators_person_page_shows_them_too(client, sign_in, coordinator, officer, done):
    page = sign_in(coordinator).get(f"/learn/people/{officer.id}/training").get_data(as_text=True)
    assert "Test Partnership Course: <strong>4 active minutes</strong>" in page


def test_the_transcript_csv_carries_active_minutes(client, sign_in, officer, done):
    rows = list(
        csv.DictReader(io.StringIO(sign_in(officer).get("/learn/transcript.csv").get_data(as_text=True)))
    )
    assert [row["active_minutes"] for row in rows] == ["3.5"]


def _export(client, agency, fmt):
    return client.get(f"/agencies/{agency.id}/exports/time-on-task.{fmt}")


def test_the_time_on_task_export_lists_each_item_with_its_minutes(
    client, sign_in, coordinator, agency, officer, done
):
    sign_in(coordinator)
    table = list(csv.reader(io.StringIO(_export(client, agency, "csv").get_data(as_text=True))))
    assert table[0][-4:] == ["course active minutes", "item", "kind", "item active minutes"]
    body = sorted(tuple(row[3:]) for row in table[1:])
    assert body == [
        ("Test Partnership Course", "completed", "4", "3.5", "Intro lesson", "lesson", "2"),
        (
            "Test Partnership Course",
            "completed",
            "4",
            "3.5",
            "Knowledge check: basics",
            "knowledge_check",
            "1.5",
        ),
    ]
    assert table[1][1] == officer.name
    sheet = load_workbook(io.BytesIO(_export(client, agency, "xlsx").data), read_only=True).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert sorted(row[-1] for row in values[1:]) == [1.5, 2.0]  # minutes as numbers


def test_another_agencys_time_is_not_in_the_export(client, sign_in, make_agency, make_user, done):
    from lms.models import Role

    other = make_agency(name="Other PD")
    sign_in(make_user(other, (Role.COORDINATOR,)))
    table = list(csv.reader(io.StringIO(_export(client, other, "csv").get_data(as_text=True))))
    assert len(table) == 1


def test_the_course_page_shows_declared_hours_and_the_estimate(client, sign_in, officer, done):
    page = sign_in(officer).get(f"/learn/assignments/{done.id}").get_data(as_text=True)
    assert "Hours: declared and estimated" in page
    assert "<dt>Declared</dt><dd>4 credit hours</dd>" in page
    assert "4 questions x 1 min" in page and "Scenarios" in page


def test_the_author_page_shows_the_estimate(client, sign_in, instructor, course):
    page = sign_in(instructor).get(f"/author/courses/{course.id}").get_data(as_text=True)
    assert "Hours: declared and estimated" in page and "words at 200 words a minute" in page


# --- measured scenario time ------------------------------------------------------------------------


def _beats(officer, attempt, minutes, start):
    """`minutes` of active time on an attempt's page, as beats 30 s apart record it."""
    time_on_task.record_beat(officer, time_on_task.Beat(0, attempt_id=attempt.id), now=start)
    for i in range(minutes * 2):
        beat = time_on_task.Beat(30, attempt_id=attempt.id)
        time_on_task.record_beat(officer, beat, now=start + timedelta(seconds=30 * (i + 1)))
    return start + timedelta(minutes=minutes + 1)


def _played(officer, attempt, minutes, start, path="expert_path"):
    later = _beats(officer, attempt, minutes, start)
    for index, choice in enumerate(getattr(scenario_of(attempt.scenario_version), path)):
        attempts.decide(officer, attempt, index, choice)
    return later


@pytest.fixture
def scenario_course(db, library):
    data = course_data()
    data["modules"][1]["items"][1]["scenario"] = "store-dispute"
    return publish(data)


def test_ten_officers_first_course_attempts_replace_the_content_estimate(
    db, make_user, agency, officer, store_dispute, scenario_course
):
    officers = [make_user(agency) for _ in range(10)]
    start, first_assignment = T0, None
    for n, person in enumerate(officers):
        assignment = enrol(person, scenario_course)
        first_assignment = first_assignment or assignment
        attempt = attempts.start_for_item(person, assignment.id, "practice-scenario")
        start = _played(person, attempt, 6 + n, start, path="baseline_path" if n == 0 else "expert_path")
        if n == 9:
            break  # the tenth officer comes last: nine officers are not enough
        # reading the debrief again weeks later is credited to the officer, not to the median
        _beats(person, attempt, 60, attempt.completed_at + timedelta(days=20))
        times = time_on_task.scenario_times_for(agency.id, ["store-dispute"])
        assert times["store-dispute"].basis == "content"
    # what does not count: a second attempt of the same officer, a direct (staff-style) play
    again = attempts.start_for_item(officers[0], first_assignment.id, "practice-scenario")
    start = _played(officers[0], again, 90, start)
    start = _played(officer, attempts.start_direct(officer, store_dispute), 90, start)
    time = time_on_task.scenario_times_for(agency.id, ["store-dispute"])["store-dispute"]
    assert (time.basis, time.attempts) == ("measured", 10)
    assert time.minutes == 10.5 + 5  # the median of 6..15 minutes of play, plus the debrief's 5


# --- refusals where authors meet them -------------------------------------------------------------


def test_an_over_claiming_import_is_refused_with_the_estimate_and_nothing_written(db, instructor, library):
    text = cf.dump_course(cf.course_from_data(course_data(slug="imported")))
    with pytest.raises(AuthoringError) as raised:
        authoring.import_text(instructor, text.encode())
    (issue,) = raised.value.issues
    assert issue.path == "credit_hours" and issue.line
    assert issue.message.startswith("4 credit hours declared, but the content supports about 0.")
    assert "with the 10% margin" in issue.message


def test_an_edit_that_over_claims_changes_nothing(db, instructor, course):
    before = authoring.working_version(course).content
    form = {"title": "T", "summary": "S", "category": "C", "credit_hours": "8", "certificate_valid_months": "",
            "max_attempts": "", "counts": "best"}  # fmt: skip
    with pytest.raises(AuthoringError) as raised:
        authoring.edit_course(instructor, course, authoring.settings_change(form))
    assert "8 credit hours declared" in raised.value.issues[0].message
    assert authoring.working_version(course).content == before
