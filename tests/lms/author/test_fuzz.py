"""Fuzzing the scenario editor and the course import with hypothesis.

Random text, random YAML documents and mutations of real scenario and course files go
through the same paths as the editor and the import. Every failure must be a clear
validation error (an Issue with a path, a message and, where known, a line inside the
document) and must leave nothing half-saved; nothing may raise anything else or answer 500.
"""

from __future__ import annotations

import random

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios as engine
from lms import course_format as cf
from lms.services import authoring, scenario_authoring
from lms.services.scenario_authoring import AuthoringError
from tests.lms.learning_fixtures import course_data

LIBRARY_TEXT = [path.read_text(encoding="utf-8") for path in engine.list_library()]
COURSE_TEXT = cf.dump_course(cf.course_from_data(course_data(slug="fuzzed")))
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,  # no .hypothesis folder: derandomized runs are reproducible anyway
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


@st.composite
def mutated(draw, sources):
    """A real document with a few random edits: lines dropped, repeated, swapped or garbled."""
    text = draw(st.sampled_from(sources))
    lines = text.split("\n")
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 4))):
        i = rng.randrange(len(lines))
        operation = draw(st.sampled_from(["drop", "repeat", "swap", "garble", "value", "indent"]))
        if operation == "drop":
            lines.pop(i)
        elif operation == "repeat":
            lines.insert(i, lines[i])
        elif operation == "swap":
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "garble":
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)] + draw(st.text(max_size=6))
        elif operation == "value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = (
                f"{key}: {draw(st.sampled_from(['-1', '1e9', 'null', '[]', '{}', 'x', '0.5', 'true', '999']))}"
            )
        elif operation == "indent":
            lines[i] = " " + lines[i]
    return "\n".join(lines)


def _check_issues(issues, text):
    assert issues, "an invalid document must say why"
    n_lines = text.count("\n") + 1
    for issue in issues:
        assert isinstance(issue.path, str) and issue.path
        assert isinstance(issue.message, str) and issue.message
        assert issue.line is None or 1 <= issue.line <= n_lines + 1


def _check_scenario_text(text):
    try:
        engine.load_scenario(text if "\n" in text else text + "\n")
    except engine.ScenarioError as error:
        _check_issues(error.issues, text)
        assert not any("could not be read" in i.message for i in error.issues), error.issues
    issues = scenario_authoring.validate_text(text)
    for issue in issues:
        assert issue.message


@FUZZ
@given(st.text(max_size=400))
def test_random_text_is_a_clear_error(text):
    _check_scenario_text(text)


@FUZZ
@given(documents)
def test_random_yaml_documents_are_clear_errors(data):
    _check_scenario_text(yaml.safe_dump(data))


@FUZZ
@given(mutated(LIBRARY_TEXT))
def test_mutated_scenarios_are_valid_or_clear_errors(text):
    _check_scenario_text(text)


@FUZZ
@given(mutated([COURSE_TEXT]) | st.text(max_size=300) | documents.map(yaml.safe_dump))
def test_course_import_checks_never_raise(app, instructor, text):
    spec, issues = authoring.check_import(instructor, text.encode("utf-8", "surrogatepass"))
    if spec is None:
        _check_issues(issues, text)
        assert not any("could not be read" in i.message for i in issues), issues


@FUZZ
@given(st.binary(max_size=200))
def test_course_import_of_random_bytes_never_raises(app, instructor, raw):
    spec, issues = authoring.check_import(instructor, raw)
    assert spec is not None or issues


@pytest.fixture
def saved_draft(db, adapted):
    return scenario_authoring.draft_of(adapted).source_text


@FUZZ
@given(text=mutated(LIBRARY_TEXT[2:3]))
def test_the_editor_never_500s_nor_half_saves(db, client, sign_in, instructor, adapted, saved_draft, text):
    from lms.models import ScenarioVersion

    sign_in(instructor)
    before = db.session.get(ScenarioVersion, scenario_authoring.draft_of(adapted).id).source_text
    response = client.post(f"/author/scenarios/{adapted.id}", data={"source": text})
    assert response.status_code in (302, 400)
    db.session.expire_all()
    after = db.session.get(ScenarioVersion, scenario_authoring.draft_of(adapted).id).source_text
    if response.status_code == 400:
        assert after == before
    else:
        expected = text.replace("\r\n", "\n")
        assert after == (expected if expected.endswith("\n") else expected + "\n")
        engine.load_scenario(after)


@FUZZ
@given(
    st.fixed_dictionaries(
        {"pass_mark": st.one_of(st.text(max_size=5), st.integers(-200, 200).map(str)),
         "title": st.text(max_size=30), "points": st.text(max_size=6), "label": st.text(max_size=20)}
    )
)  # fmt: skip
def test_the_form_editor_gives_valid_yaml_or_a_clear_error(adapted, values):
    text = scenario_authoring.draft_of(adapted).source_text
    form = scenario_authoring.form_values(text)
    form["pass_mark"] = values["pass_mark"]
    form["title"] = values["title"]
    form["decisions"][0]["options"][0]["points"] = values["points"]
    form["decisions"][0]["options"][0]["label"] = values["label"]
    try:
        new = scenario_authoring.apply_form(text, form)
    except AuthoringError as error:
        assert error.issues and all(i.message for i in error.issues)
    else:
        parsed = engine.load_scenario(new)
        assert parsed.title == values["title"]
        assert parsed.decisions[0].options[0].label == values["label"]


@FUZZ
@given(raw=st.binary(max_size=300) | mutated([COURSE_TEXT]).map(str.encode))
def test_the_import_page_never_500s(db, client, sign_in, instructor, raw):
    import io

    from sqlalchemy import func, select

    from lms.models import Course

    sign_in(instructor)
    before = db.session.scalar(select(func.count()).select_from(Course))
    response = client.post(
        "/author/courses/import",
        data={"course_file": (io.BytesIO(raw), "course.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert db.session.scalar(select(func.count()).select_from(Course)) == before
