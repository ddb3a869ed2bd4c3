"""A course's `sources:` and `credits:`: validated with paths and lines, and round-tripped."""

from __future__ import annotations

import pytest

from lms.course_format import CourseFormatError, SourceSpec, dump_course, load_course

from .test_course_format import MINIMAL

SOURCES = """\
sources:
  - cite: "Tyler, T. R. (1990). Why People Obey the Law. Yale University Press."
    note: "Procedural justice: voice, neutrality, respect, trustworthy motives (module 5)."
    url: https://example.org/why-people-obey
  - cite: "Braga, A. A., & Weisburd, D. (2012). The effects of focused deterrence strategies."
credits: |
  The framework follows the **partnership** model the course describes.

  Written by the Ripple team.
"""


def issues_of(text: str) -> list[str]:
    with pytest.raises(CourseFormatError) as info:
        load_course(text)
    return [str(issue) for issue in info.value.issues]


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_sources_and_credits_load_in_file_order():
    spec = load_course(MINIMAL + SOURCES)
    assert spec.sources == (
        SourceSpec(
            "Tyler, T. R. (1990). Why People Obey the Law. Yale University Press.",
            "Procedural justice: voice, neutrality, respect, trustworthy motives (module 5).",
            "https://example.org/why-people-obey",
        ),
        SourceSpec("Braga, A. A., & Weisburd, D. (2012). The effects of focused deterrence strategies."),
    )
    assert spec.credits.startswith("The framework follows the **partnership**")


def test_a_course_without_them_has_none():
    spec = load_course(MINIMAL)
    assert spec.sources == () and spec.credits is None
    assert "sources" not in dump_course(spec) and "credits" not in dump_course(spec)


def test_they_round_trip_through_dump_course():
    spec = load_course(MINIMAL + SOURCES)
    text = dump_course(spec)
    assert "sources:" in text and "credits: |" in text
    assert load_course(text) == spec


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "url: https://example.org/why-people-obey",
            "url: javascript:alert(1)",
            "sources[0].url: must be an http:// or https:// address",
        ),
        (
            "url: https://example.org/why-people-obey",
            "url: ftp://example.org/x",
            "sources[0].url: must be an http:// or https:// address",
        ),
        (
            "url: https://example.org/why-people-obey",
            "url: https://",
            "sources[0].url: must be an http:// or https:// address",
        ),
        (
            "url: https://example.org/why-people-obey",
            'url: "https://example.org/a b"',
            "sources[0].url: must not contain spaces",
        ),
        (
            '  - cite: "Braga',
            '  - note: only a note\n    cited: "Braga',
            'sources[1]: missing required key "cite"',
        ),
        ('  - cite: "Braga', '  - cite: ""\n    note: "Braga', "sources[1].cite: must not be empty"),
        ('    note: "Procedural', '    note: 7\n    x: "Procedural', "sources[0].note: expected text"),
        (
            '  - cite: "Braga',
            '  - title: "Braga',
            'sources[1].title: unknown key "title"; known: cite, note, url',
        ),
        ("sources:\n", "sources: {cite: x}\nunused:\n", "sources: expected a list"),
    ],
)
def test_each_problem_names_its_path_and_line(old, new, expected):
    text = MINIMAL + SOURCES
    assert old in text
    found = issues_of(text.replace(old, new, 1))
    assert any(expected in issue for issue in found), found
    hit = next(issue for issue in found if expected in issue)
    assert "(line " in hit, hit


def test_lengths_are_bounded():
    cite = "c" * 401
    text = MINIMAL + SOURCES.replace(
        "Tyler, T. R. (1990). Why People Obey the Law. Yale University Press.", cite
    )
    assert issues_of(text) == [
        f"sources[0].cite: is 401 characters long; at most 400 are allowed (line {line_of(text, cite)})"
    ]
    note = "n" * 401
    text = MINIMAL + SOURCES.replace(
        "Procedural justice: voice, neutrality, respect, trustworthy motives (module 5).", note
    )
    assert issues_of(text) == [
        f"sources[0].note: is 401 characters long; at most 400 are allowed (line {line_of(text, note)})"
    ]
    ok = MINIMAL + SOURCES.replace(
        "Tyler, T. R. (1990). Why People Obey the Law. Yale University Press.", "c" * 400
    )
    load_course(ok)
    credits = "credits: |\n  " + "w" * 4001 + "\n"
    text = MINIMAL + credits
    assert issues_of(text) == [
        f"credits: is 4,002 characters long; at most 4,000 are allowed (line {line_of(text, 'credits:')})"
    ]
    assert issues_of(MINIMAL + "credits: [a]\n")[0].startswith("credits: expected text")


def test_authoring_keeps_sources_through_import_settings_and_export(db, instructor, library):
    from lms.services import authoring

    text = MINIMAL.replace("scenario: crew-shooting-rumour", "scenario: store-dispute") + SOURCES
    text = text.replace("renewal: {course: tiny, window_days: 30}\n", "")
    course, version = authoring.import_text(instructor, text)
    db.session.commit()
    form = {"title": "Tiny course, renamed", "summary": "Short.", "category": "Community policing",
            "credit_hours": "0.1", "certificate_valid_months": "12", "max_attempts": "2", "counts": "latest"}  # fmt: skip
    authoring.edit_course(instructor, course, authoring.settings_change(form))
    db.session.commit()
    exported = load_course(authoring.export_text(authoring.working_version(course)))
    assert exported.title == "Tiny course, renamed"
    assert exported.sources == load_course(MINIMAL + SOURCES).sources
    assert exported.credits == load_course(MINIMAL + SOURCES).credits
