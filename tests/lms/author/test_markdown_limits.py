"""Every Markdown field has a maximum length, checked where text is previewed, saved or imported,
with a message naming the field; nothing is stored when a field is over."""

from __future__ import annotations

import io

import pytest
import yaml
from sqlalchemy import func, select

from lms import course_format as cf
from lms.models import Course
from lms.services import authoring, scenario_authoring
from lms.services.scenario_authoring import AuthoringError
from scenarios.yamlsource import parse_yaml
from tests.lms.learning_fixtures import course_data

OVER = cf.MAX_LESSON_CHARS + 1


def _too_long(limit: int) -> str:
    return f"is {limit + 1:,} characters long; at most {limit:,} are allowed"


def _yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**9)


# --- the lesson editor -------------------------------------------------------------------


@pytest.mark.parametrize(("length", "status"), [(cf.MAX_LESSON_CHARS, 200), (OVER, 413)])
def test_the_live_preview_refuses_text_over_the_lesson_limit(client, sign_in, instructor, length, status):
    sign_in(instructor)
    response = client.post("/author/markdown-preview", data={"body": "`" * length})
    assert response.status_code == status
    if status == 413:
        assert response.json == {
            "error": f"The lesson text {_too_long(cf.MAX_LESSON_CHARS)}; shorten it to see the preview.",
            "field": "body",
        }


def _lesson(course):
    return cf.course_from_data(authoring.working_version(course).content).modules[0].items[0]


@pytest.mark.parametrize("action", ["preview", "save"])
def test_the_lesson_editor_refuses_a_body_over_the_limit(db, client, sign_in, instructor, course, action):
    sign_in(instructor)
    lesson = _lesson(course)
    response = client.post(
        f"/author/courses/{course.id}/items/{lesson.slug}",
        data={"action": action, "title": "T", "body": "[" * OVER, "required": "y"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "body</code>" in page and _too_long(cf.MAX_LESSON_CHARS) in page
    db.session.expire_all()
    assert _lesson(course).body == lesson.body


# --- course import -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "limit"),
    [
        (("modules", 0, "items", 0, "body"), cf.MAX_LESSON_CHARS),
        (("modules", 1, "items", 1, "intro"), cf.MAX_LESSON_CHARS),
        (("modules", 0, "items", 1, "questions", 0, "prompt"), cf.MAX_INLINE_CHARS),
        (("modules", 0, "items", 1, "questions", 0, "explanation"), cf.MAX_FEEDBACK_CHARS),
        (("modules", 0, "items", 1, "questions", 0, "choices", 0, "text"), cf.MAX_INLINE_CHARS),
        (("modules", 0, "items", 1, "questions", 0, "choices", 0, "feedback"), cf.MAX_FEEDBACK_CHARS),
    ],
    ids=["lesson-body", "scenario-intro", "prompt", "explanation", "choice-text", "choice-feedback"],
)
def test_an_import_names_the_markdown_field_over_its_limit_and_its_line(library, instructor, where, limit):
    data = course_data()
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = "*a" * (limit // 2) + "*"  # one character over
    spec, issues = authoring.check_import(instructor, _yaml(data))
    assert spec is None
    assert [(i.path, i.message) for i in issues] == [(cf.format_path(where), _too_long(limit))]
    assert issues[0].line is not None


def test_the_import_page_refuses_an_overlong_lesson_and_creates_nothing(
    db, library, client, sign_in, instructor
):
    sign_in(instructor)
    data = course_data()
    data["modules"][0]["items"][0]["body"] = "`" * OVER
    response = client.post(
        "/author/courses/import",
        data={"course_file": (io.BytesIO(_yaml(data).encode()), "course.yaml")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "modules[0].items[0].body" in page and _too_long(cf.MAX_LESSON_CHARS) in page
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


# --- scenarios: briefing and feedback ------------------------------------------------------

SCENARIO_FIELDS = [
    (("briefing",), cf.MAX_BRIEFING_CHARS),
    (("decisions", 0, "options", 1, "feedback"), cf.MAX_FEEDBACK_CHARS),
]


def _scenario_with(adapted, where: tuple, text: str) -> str:
    data = parse_yaml(scenario_authoring.current_version(adapted).source_text).data
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = text
    return _yaml(data)


@pytest.mark.parametrize(("where", "limit"), SCENARIO_FIELDS, ids=["briefing", "option-feedback"])
def test_a_scenario_save_refuses_markdown_over_its_limit(db, instructor, adapted, where, limit):
    before = scenario_authoring.current_version(adapted).source_text
    with pytest.raises(AuthoringError) as refused:
        scenario_authoring.save_text(instructor, adapted, _scenario_with(adapted, where, "[" * (limit + 1)))
    (issue,) = refused.value.issues
    assert (issue.path, issue.message) == (cf.format_path(where), _too_long(limit))
    assert issue.line is not None
    db.session.rollback()
    assert scenario_authoring.current_version(adapted).source_text == before


@pytest.mark.parametrize(("where", "limit"), SCENARIO_FIELDS, ids=["briefing", "option-feedback"])
def test_a_scenario_at_its_limits_is_saved(db, instructor, adapted, where, limit):
    text = _scenario_with(adapted, where, "[" * limit)
    assert scenario_authoring.save_text(instructor, adapted, text).source_text == text


@pytest.mark.parametrize("endpoint", ["validate", "save"])
def test_the_scenario_editor_shows_the_overlong_briefing_with_its_line(
    client, sign_in, instructor, adapted, endpoint
):
    sign_in(instructor)
    text = _scenario_with(adapted, ("briefing",), "`" * (cf.MAX_BRIEFING_CHARS + 1))
    if endpoint == "validate":
        response = client.post(f"/author/scenarios/{adapted.id}/validate", data={"source": text})
        (issue,) = response.json["issues"]
        assert issue["path"] == "briefing" and issue["line"] is not None
        assert issue["message"] == _too_long(cf.MAX_BRIEFING_CHARS)
    else:
        response = client.post(f"/author/scenarios/{adapted.id}", data={"source": text})
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "briefing</code>" in page and _too_long(cf.MAX_BRIEFING_CHARS) in page
