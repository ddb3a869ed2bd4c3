"""Declared hours checked again once officers' measured play times replace a scenario's content
estimate: a published course whose hours the estimate no longer supports is flagged to its
instructors, on its page and in their course list, with what to do."""

from __future__ import annotations

import pytest

from lms import course_format as cf
from lms import seat_time as st
from lms.services import authoring, time_on_task
from tests.lms.learning_fixtures import course_data, publish

QUICK_PLAYS = [1.0] * st.MEASURED_MIN_ATTEMPTS  # ten officers, a minute of play each


def _timed_course_data(agency_id: int) -> dict:
    """The test course, its hours set to what its content supports when it was published."""
    data = course_data(slug="hours-course", title="Hours course")
    spec = cf.course_from_data(data)
    data["credit_hours"] = round(time_on_task.course_estimate(spec, agency_id).hours, 2)
    return data


@pytest.fixture
def hours_course(db, instructor, library):
    """The instructor's agency's published course with a library scenario item, declaring
    the hours its content estimate supports."""
    return publish(_timed_course_data(instructor.agency_id), agency_id=instructor.agency_id)


@pytest.fixture
def quick_plays(monkeypatch):
    """Measured play times have arrived, far shorter than the scenario's content estimate."""
    monkeypatch.setattr(time_on_task, "measured_minutes", lambda version: list(QUICK_PLAYS))


def test_the_estimate_supports_the_declared_hours_before_measured_times(hours_course, instructor):
    assert authoring.courses_over_their_hours(instructor) == []


def test_measured_times_below_the_declared_hours_flag_the_course(hours_course, instructor, quick_plays):
    [found] = authoring.courses_over_their_hours(instructor)
    assert found.course.id == hours_course.id
    short = found.shortfall
    assert short.declared_hours > short.max_hours and short.excess_hours == pytest.approx(
        short.declared_hours - short.max_hours
    )
    assert short.measured_items == ("Practice scenario",)


def test_the_pure_check_matches_the_import_check():
    spec = cf.course_from_data(course_data())
    measured = st.ScenarioTime(minutes=6, basis="measured", attempts=10)
    estimate = st.estimate(spec, {slug: measured for slug in spec.scenario_slugs})
    assert (st.hours_shortfall(estimate) is None) == (st.over_claims(estimate) == [])


def test_another_agencys_instructor_is_not_told(hours_course, make_agency, make_user, quick_plays):
    from lms.models import Role

    other = make_user(make_agency(), (Role.INSTRUCTOR,), name="Other Instructor")
    assert authoring.courses_over_their_hours(other) == []


def test_the_course_page_warns_by_how_much_and_what_to_do(
    client, sign_in, hours_course, instructor, quick_plays
):
    sign_in(instructor)
    page = client.get(f"/author/courses/{hours_course.id}").get_data(as_text=True)
    [found] = authoring.courses_over_their_hours(instructor)
    assert 'id="hours-warning"' in page
    assert (
        f"{found.shortfall.excess_hours:.2f} hours more than the {found.shortfall.max_hours:.2f} hours"
        in page
    )
    assert "lower <em>Credit hours</em>" in page and "new version" in page


def test_the_course_page_has_no_warning_while_the_hours_are_supported(
    client, sign_in, hours_course, instructor
):
    sign_in(instructor)
    assert 'id="hours-warning"' not in client.get(f"/author/courses/{hours_course.id}").get_data(as_text=True)


def test_the_course_list_names_the_course_to_fix(client, sign_in, hours_course, instructor, quick_plays):
    sign_in(instructor)
    page = client.get("/author/").get_data(as_text=True)
    assert 'id="hours-recheck"' in page and "Hours course</a>, version 1" in page


def test_officers_course_page_shows_no_authors_warning(
    db, client, sign_in, hours_course, officer, quick_plays
):
    from tests.lms.learning_fixtures import enrol

    assignment = enrol(officer, hours_course)
    sign_in(officer)
    page = client.get(f"/learn/assignments/{assignment.id}").get_data(as_text=True)
    assert 'id="hours-warning"' not in page


@pytest.mark.parametrize("role", ["instructor", "coordinator"])
def test_the_home_page_lists_the_course_for_instructors_and_coordinators(
    request, client, sign_in, hours_course, quick_plays, role
):
    sign_in(request.getfixturevalue(role))
    page = client.get("/").get_data(as_text=True)
    assert 'id="hours-recheck"' in page and "Hours course" in page and "hours over" in page


def test_the_home_page_says_nothing_while_the_hours_are_supported(client, sign_in, hours_course, coordinator):
    sign_in(coordinator)
    assert 'id="hours-recheck"' not in client.get("/").get_data(as_text=True)
