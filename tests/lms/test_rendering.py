"""Instructors' Markdown: the lesson features, linear work on hostile input, a length limit per
field wherever text is saved, imported or previewed, and published text rendered once rather
than on every view."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from markupsafe import Markup

from benchmarks.markdown import HOSTILE, hostile
from lms import course_format as cf
from lms import rendering
from tests.lms.learning_fixtures import LESSON_BODY, enrol, publish

REPO = Path(__file__).resolve().parents[2]

# --- what a lesson can use -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "wanted"),
    [
        (
            "| a | b |\n|:--|--:|\n| 1 | 2 |",
            ["<table>", '<th align="left">a</th>', '<td align="right">2</td>'],
        ),
        ("- [ ] Call\n- [x] Read", ['<li class="task-item">', "☐</span> Call", "☑</span> Read"]),
        ("- [ ] Call\n\n- [x] Read", ["☐</span> \n<p>Call</p>", "☑</span> \n<p>Read</p>"]),
        ("1. one\n2. two\n\n- a\n* b", ["<ol>\n<li>one</li>", "<ul>\n<li>a</li>\n</ul>\n<ul>\n<li>b</li>"]),
        (
            "[partners](https://example.test/p)",
            ['<a href="https://example.test/p" rel="noopener noreferrer">'],
        ),
        ("![map](images/rumour-race.svg)", ['src="/learn/images/rumour-race.svg"', 'alt="map"']),
        ("> quoted *words*", ["<blockquote>\n<p>quoted <em>words</em></p>\n</blockquote>"]),
        ("Some `code` and **bold**", ["<code>code</code>", "<strong>bold</strong>"]),
    ],
    ids=["table", "tasks", "loose-tasks", "sane-lists", "link-rel", "image", "quote", "inline"],
)
def test_lessons_keep_their_markdown_features(app, markdown, wanted):
    with app.test_request_context():
        html = str(rendering.render_markdown(markdown))
    assert all(part in html for part in wanted), html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        '<img src="x" onerror="alert(1)">',
        "![x](https://evil.test/a.png) ![y](../secrets.png) ![z](/etc/passwd)",
        '<p style="color:red" onclick="x()">styled</p>',
    ],
)
def test_lessons_are_sanitised(app, markdown):
    with app.test_request_context():
        html = str(rendering.render_markdown(markdown))
    for bad in (
        "<script",
        'href="javascript',
        "onerror",
        "onclick",
        "style=",
        "evil.test",
        "secrets",
        "/etc/",
    ):
        assert bad not in html


def test_the_inline_renderer_gives_inline_html_only(app):
    html = str(rendering.render_inline("*Call* the `pastor` [now](https://example.test)\n\n# not a heading"))
    assert html.startswith("<em>Call</em> the <code>pastor</code> <a href=")
    assert 'rel="noopener noreferrer"' in html and "<p>" not in html and "<h1>" not in html


# --- linear work on hostile input --------------------------------------------------------


def _rendering_work(text: str) -> int:
    """Function calls made while rendering `text`: a deterministic measure of the work."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        rendering.render_markdown(text)
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("name", HOSTILE)
def test_doubling_hostile_markdown_roughly_doubles_the_rendering_work(name):
    small, large = _rendering_work(hostile(name, 2_000)), _rendering_work(hostile(name, 4_000))
    assert large <= 2.5 * small, f"{name}: {small} -> {large} calls"


def test_hostile_markdown_at_the_lesson_limit_renders_without_hanging():
    # Python-Markdown needed 17 s for 2,000 backticks and 42 s for 20,000 "[": at 20,000 of each
    # it would run for many minutes. A hang shows as the subprocess's timeout.
    script = textwrap.dedent(
        f"""
        from benchmarks.markdown import HOSTILE, hostile
        from lms.rendering import render_markdown
        for name in HOSTILE:
            render_markdown(hostile(name, {cf.MAX_LESSON_CHARS}))
        print("rendered", len(HOSTILE))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=240, check=True
    )
    assert done.stdout.strip() == f"rendered {len(HOSTILE)}"


# --- published text is rendered once ------------------------------------------------------


@pytest.fixture
def parses(app, monkeypatch):
    """Every text the Markdown parser is asked to parse from now on, in order."""
    app.extensions["ripple_rendered_markdown"].clear()  # the app outlives a test; its cache too
    seen: list[str] = []
    parse = rendering._PARSER.parse

    def spy(src, env=None):
        seen.append(src)
        return parse(src, env)

    monkeypatch.setattr(rendering._PARSER, "parse", spy)
    return seen


def test_a_published_lesson_is_parsed_once_however_often_it_is_opened(client, sign_in, officer, parses):
    assignment = enrol(officer, publish())
    sign_in(officer)
    for _ in range(3):
        page = client.get(f"/learn/assignments/{assignment.id}/items/intro")
        assert page.status_code == 200 and "<h2>Why partners matter</h2>" in page.get_data(as_text=True)
    assert parses.count(LESSON_BODY) == 1


def test_the_rendered_cache_stays_within_its_size_dropping_the_least_recently_used():
    cache = rendering.RenderedCache(max_chars=30)

    def render(text):
        return Markup(text.upper())

    for text in ("a" * 10, "b" * 10, "c" * 10):
        cache.rendered(text, render)
    cache.rendered("a" * 10, render)  # used again: "b" is now the oldest
    cache.rendered("d" * 10, render)
    assert [html[0] for html in cache._entries.values()] == ["C", "A", "D"]
    assert cache.rendered("e" * 31, render) == "E" * 31 and len(cache._entries) == 3  # too big to keep
