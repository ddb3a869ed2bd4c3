"""Course drafts in the browser: settings, modules and items with reorder, knowledge checks of
every question kind, versioning that leaves officers on their version, export and import."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from lms import course_format as cf
from lms.models import AuditEvent, Course, CourseVersion
from lms.services import authoring
from lms.services.scenario_authoring import AuthoringError
from tests.lms.learning_fixtures import course_data, enrol, publish


def _spec(course):
    return cf.course_from_data(authoring.working_version(course).content)


def test_new_course_is_a_valid_draft(course, instructor):
    version = authoring.working_version(course)
    assert version.status == "draft" and course.agency_id == instructor.agency_id
    assert _spec(course).modules[0].items[0].kind == "lesson"


def test_settings_are_saved_to_the_draft(db, course, instructor):
    # the starter lesson supports a minute: the hours declared may not go beyond it (lms.seat_time)
    form = {"title": "Renamed", "summary": "S", "category": "Ethics", "credit_hours": "0.01",
            "certificate_valid_months": "12", "renewal_course": "my-course", "renewal_window_days": "30",
            "max_attempts": "", "counts": "latest"}  # fmt: skip
    authoring.edit_course(instructor, course, authoring.settings_change(form))
    spec = _spec(course)
    assert (spec.title, spec.credit_hours, spec.certificate_valid_months) == ("Renamed", 0.01, 12)
    assert spec.renewal.window_days == 30 and spec.attempt_policy == cf.AttemptPolicy(None, "latest")


def test_bad_settings_change_nothing(db, course, instructor):
    before = authoring.working_version(course).content
    with pytest.raises(AuthoringError):
        authoring.edit_course(
            instructor, course, authoring.settings_change({"title": "", "credit_hours": "x"})
        )
    assert authoring.working_version(course).content == before


@pytest.mark.parametrize("kind", ["lesson", "knowledge_check"])
def test_items_are_added_and_reordered(db, course, instructor, kind):
    module = _spec(course).modules[0].slug
    authoring.edit_course(
        instructor, course, authoring.structure_change(f"add-item:{module}", {f"{module}-kind": kind})
    )
    items = _spec(course).modules[0].items
    assert items[-1].kind == kind
    authoring.edit_course(
        instructor, course, authoring.structure_change(f"move-item:{items[-1].slug}:up", {})
    )
    assert _spec(course).modules[0].items[0].slug == items[-1].slug


def test_modules_are_added_moved_and_deleted(db, course, instructor):
    authoring.edit_course(
        instructor, course, authoring.structure_change("add-module", {"module_title": "Second"})
    )
    second = _spec(course).modules[1]
    assert second.title == "Second"
    authoring.edit_course(instructor, course, authoring.structure_change(f"move-module:{second.slug}:up", {}))
    assert _spec(course).modules[0].slug == second.slug
    authoring.edit_course(instructor, course, authoring.structure_change(f"delete-module:{second.slug}", {}))
    assert len(_spec(course).modules) == 1


def test_deleting_the_only_module_is_refused(db, course, instructor):
    module = _spec(course).modules[0].slug
    with pytest.raises(AuthoringError):
        authoring.edit_course(instructor, course, authoring.structure_change(f"delete-module:{module}", {}))


@pytest.mark.parametrize("kind", list(cf.QUESTION_KINDS))
def test_every_question_kind_can_be_added_and_edited(db, course, instructor, kind):
    module = _spec(course).modules[0].slug
    authoring.edit_course(
        instructor,
        course,
        authoring.structure_change(f"add-item:{module}", {f"{module}-kind": "knowledge_check"}),
    )
    check = _spec(course).modules[0].items[-1]
    authoring.edit_course(
        instructor, course, authoring.item_change(check.slug, {"title": "Check"}, f"add-question:{kind}")
    )
    question = _spec(course).item(check.slug).questions[-1]
    assert question.kind == kind
    form = {"title": "Check", "pass_mark": "60", "q1-prompt": "Edited?", "q1-explanation": "Because."}
    if kind in ("single_choice", "multiple_choice"):
        form |= {"q1-c0-text": "Yes", "q1-c0-feedback": "Right.", "q1-c1-text": "No", "q1-c1-feedback": "Wrong.",
                 "q1-c2-text": "Maybe", "q1-c0-correct": "y", "q1-correct": "0"}  # fmt: skip
    elif kind == "true_false":
        form["q1-answer"] = "false"
    else:
        form["q1-sequence"] = "One\nTwo\nThree"
    authoring.edit_course(instructor, course, authoring.item_change(check.slug, form))
    item = _spec(course).item(check.slug)
    question = item.questions[1]
    assert item.pass_mark == 60 and question.prompt == "Edited?" and question.explanation == "Because."
    if kind in ("single_choice", "multiple_choice"):
        assert [c.text for c in question.choices] == ["Yes", "No", "Maybe"]
        assert question.choices[0].feedback == "Right." and question.correct_choices == {0}
    elif kind == "true_false":
        assert question.answer is False
    else:
        assert question.sequence == ("One", "Two", "Three")


def test_a_single_choice_question_without_a_correct_answer_is_refused(db, course, instructor):
    module = _spec(course).modules[0].slug
    authoring.edit_course(
        instructor,
        course,
        authoring.structure_change(f"add-item:{module}", {f"{module}-kind": "knowledge_check"}),
    )
    check = _spec(course).modules[0].items[-1]
    authoring.edit_course(
        instructor, course, authoring.item_change(check.slug, {"title": "C"}, "add-question:single_choice")
    )
    with pytest.raises(AuthoringError) as raised:
        authoring.edit_course(
            instructor,
            course,
            authoring.item_change(
                check.slug, {"title": "C", "q1-prompt": "?", "q1-c0-text": "a", "q1-c1-text": "b"}
            ),
        )
    assert "exactly one correct choice" in str(raised.value.issues)


def test_editing_a_published_course_makes_a_draft_and_officers_keep_their_version(
    db, instructor, officer, library
):
    course = publish(course_data(slug="agency-course", credit_hours=0.25), agency_id=instructor.agency_id)
    assignment = enrol(officer, course)
    pinned = assignment.course_version_id
    authoring.edit_course(instructor, course, authoring.settings_change(
        {"title": "New title", "summary": "x", "category": "c", "credit_hours": "0.25", "certificate_valid_months": "24",
         "max_attempts": "2", "counts": "best"}))  # fmt: skip
    draft = authoring.draft_of(course)
    assert draft.number == 2 and draft.status == "draft"
    version = authoring.publish(instructor, course)
    db.session.commit()
    assert version.status == "published"
    db.session.refresh(assignment)
    assert assignment.course_version_id == pinned
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "course.published")
        )
        == 1
    )


def test_export_then_import_into_another_agency(db, course, instructor, make_agency, make_user):
    from lms.models import Role

    text = authoring.export_text(authoring.working_version(course))
    other = make_user(make_agency(), (Role.INSTRUCTOR,))
    imported, draft = authoring.import_text(other, text.encode())
    assert imported.agency_id == other.agency_id and draft.status == "draft"
    assert cf.course_from_data(draft.content) == _spec(course)


def test_import_reports_every_problem_with_its_line_and_writes_nothing(db, instructor):
    bad = cf.dump_course(cf.course_from_data(course_data(slug="imported"))).replace(
        "pass_mark: 75", "pass_mark: 175"
    )
    bad = bad.replace("credit_hours: 4", "credit_hours: many")
    before = db.session.scalar(select(func.count()).select_from(Course))
    with pytest.raises(AuthoringError) as raised:
        authoring.import_text(instructor, bad.encode())
    issues = raised.value.issues
    assert len(issues) >= 2 and all(issue.line for issue in issues)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Course)) == before


def test_import_checks_scenario_references(db, instructor):
    text = cf.dump_course(cf.course_from_data(course_data(slug="imported")))
    with pytest.raises(AuthoringError) as raised:
        authoring.import_text(instructor, text)  # no scenarios are published in this database
    assert any("scenario" in issue.message for issue in raised.value.issues)


def test_import_page_lists_problems(client, sign_in, instructor):
    sign_in(instructor)
    response = client.post(
        "/author/courses/import",
        data={"course_file": (io.BytesIO(b"ripple_course: 1\nslug: [\n"), "bad.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "line" in response.get_data(as_text=True)


def test_course_pages_work_in_the_browser(db, client, sign_in, course, instructor):
    sign_in(instructor)
    assert client.get("/author/").status_code == 200
    page = client.get(f"/author/courses/{course.id}")
    assert page.status_code == 200 and "Course settings" in page.get_data(as_text=True)
    item = _spec(course).modules[0].items[0]
    preview = client.post(
        f"/author/courses/{course.id}/items/{item.slug}", data={"action": "preview", "body": "**bold**"}
    )
    assert "<strong>bold</strong>" in preview.get_data(as_text=True)
    saved = client.post(
        f"/author/courses/{course.id}/items/{item.slug}",
        data={"action": "save", "title": "T", "body": "New *body*", "required": "y"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert _spec(course).item(item.slug).body == "New *body*"
    assert (
        client.post("/author/markdown-preview", data={"body": "<script>x</script>*a*"})
        .json["html"]
        .count("<script>")
        == 0
    )
    export = client.get(f"/author/courses/{course.id}/export")
    assert export.status_code == 200 and b"ripple_course: 1" in export.data
    published = client.post(f"/author/courses/{course.id}/publish")
    assert published.status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalar(select(CourseVersion.status).where(CourseVersion.course_id == course.id))
        == "published"
    )


def test_library_courses_are_read_only_but_can_be_adapted(db, client, sign_in, instructor, library):
    library = publish(course_data(slug="library-course", credit_hours=0.25))
    sign_in(instructor)
    page = client.get(f"/author/courses/{library.id}").get_data(as_text=True)
    assert "Adapt for your agency" in page and "Course settings" not in page
    assert client.post(f"/author/courses/{library.id}/settings", data={"title": "x"}).status_code == 404
    response = client.post(f"/author/courses/{library.id}/adapt")
    assert response.status_code == 302
    copy = db.session.scalar(select(Course).where(Course.agency_id == instructor.agency_id))
    assert copy.slug == "library-course" and authoring.draft_of(copy) is not None


def test_a_refused_question_edit_shows_what_was_typed(db, client, sign_in, course, instructor):
    module = _spec(course).modules[0].slug
    authoring.edit_course(
        instructor,
        course,
        authoring.structure_change(f"add-item:{module}", {f"{module}-kind": "knowledge_check"}),
    )
    db.session.commit()
    check = _spec(course).modules[0].items[-1]
    sign_in(instructor)
    response = client.post(
        f"/author/courses/{course.id}/items/{check.slug}",
        data={"action": "save", "title": "Check", "pass_mark": "80", "q0-prompt": "Typed but unsaved", "q0-answer": "maybe",
              "q0-explanation": "x", "minutes": "lots"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 400
        and "Typed but unsaved" in page
        and "Minutes must be a whole number" in page
    )
    db.session.expire_all()
    assert _spec(course).item(check.slug).questions[0].prompt == "Write the question."


def test_an_admin_editing_an_agencys_course_times_scenarios_as_that_agency_plays_them(
    db, course, admin, monkeypatch
):
    from lms.services import time_on_task

    asked = []

    class Recording(time_on_task.AgencyScenarioTimes):
        def __init__(self, agency_id, *args, **kwargs):
            asked.append(agency_id)
            super().__init__(agency_id, *args, **kwargs)

    monkeypatch.setattr(time_on_task, "AgencyScenarioTimes", Recording)
    form = {"title": "Renamed", "summary": "S", "category": "Ethics", "credit_hours": "0.01",
            "certificate_valid_months": "", "renewal_course": "", "renewal_window_days": "",
            "max_attempts": "", "counts": "best"}  # fmt: skip
    authoring.edit_course(admin, course, authoring.settings_change(form))
    authoring.publish(admin, course)
    assert asked == [course.agency_id, course.agency_id] and course.agency_id is not None
