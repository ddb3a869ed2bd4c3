"""Markdown written by instructors (lessons, briefings, feedback) to safe HTML.

Parsed by markdown-it-py (CommonMark with tables), whose work grows linearly with the text even
on hostile input: runs of backticks, brackets, emphasis, `<`, nested quotes and lists
(`make bench` prints the figures; Python-Markdown took 17-42 s on 20 kB of them). nh3 sanitises
the HTML afterwards. Field lengths are capped where text is saved (lms/course_format.py).

The template filters `markdown` and `inline_md` render each distinct text once per process and
keep the HTML in a bounded cache: published lessons, briefings and feedback never change, so an
officer's page view costs a lookup, not a parse. `render_markdown` itself always parses (the
editor's preview of a draft).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit

import nh3
from flask import Flask, current_app, url_for
from markdown_it import MarkdownIt
from markupsafe import Markup

from lms.course_format import MAX_LESSON_CHARS, markdown_length_problem

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "i", "img", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
INLINE_TAGS = {"a", "code", "em", "strong", "b", "i", "br"}
URL_SCHEMES = {"http", "https", "mailto"}
_TASK = re.compile(r"<li>(\s*<p>)?\[( |x|X)\]\s")

# CommonMark (whose nesting limit of 20 bounds the recursion) plus GitHub tables. Raw HTML is
# parsed so that nh3 can drop it properly. No linkify: Python-Markdown never had it either.
_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")
_ALIGN = re.compile(r'<(t[hd]) style="text-align:(left|right|center)">')

CACHE_MAX_CHARS = 8_000_000  # of HTML kept per process (a few hundred lessons at the limit)


def _rewrite(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        parts = urlsplit(value)
        if parts.scheme or parts.netloc or value.startswith("/"):
            return None  # lessons show only their own images (the CSP blocks others anyway)
        path = value.removeprefix("./")
        if not path.startswith("images/") or ".." in path.split("/"):
            return None
        return url_for("learn.content_image", filename=path.removeprefix("images/"))
    return value


def _task(match: re.Match) -> str:
    mark = "☑" if match.group(2).lower() == "x" else "☐"
    return f'<li class="task-item"><span class="task-box" aria-hidden="true">{mark}</span> {match.group(1) or ""}'


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for lesson Markdown; `- [ ]` list items become checklist items."""
    # markdown-it aligns table cells with a style attribute; the sanitiser keeps `align` only.
    html = _ALIGN.sub(r'<\1 align="\2">', _PARSER.render(text or ""))
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_rewrite,
        link_rel="noopener noreferrer",
    )
    return Markup(_TASK.sub(_task, clean))


def render_inline(text: str | None) -> Markup:
    """Safe HTML for one line of Markdown (question prompts, choices, feedback)."""
    clean = nh3.clean(
        _PARSER.renderInline(text or ""),
        tags=INLINE_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return Markup(clean.strip())


class MarkdownTooLong(ValueError):
    """Markdown over its field's limit; the message says which field and by how much."""


def render_preview(text: str | None, *, field: str = "The lesson text") -> Markup:
    """Safe HTML of a draft being edited, refusing text over the lesson limit."""
    problem = markdown_length_problem(text, MAX_LESSON_CHARS)
    if problem:
        raise MarkdownTooLong(f"{field} {problem}; shorten it to see the preview.")
    return render_markdown(text)


class RenderedCache:
    """HTML by (renderer, text digest), least recently used dropped first, bounded in size."""

    def __init__(self, max_chars: int = CACHE_MAX_CHARS):
        self.max_chars = max_chars
        self._entries: OrderedDict[tuple[str, bytes], Markup] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()  # gthread workers render from several threads

    def rendered(self, text: str | None, render: Callable[[str | None], Markup]) -> Markup:
        key = (render.__name__, hashlib.blake2b((text or "").encode("utf-8", "surrogatepass")).digest())
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
                return html
        html = render(text)  # outside the lock: two threads may both render a new text once
        with self._lock:
            if key not in self._entries and len(html) <= self.max_chars:
                self._entries[key] = html
                self._chars += len(html)
                while self._chars > self.max_chars:
                    _, dropped = self._entries.popitem(last=False)
                    self._chars -= len(dropped)
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0


def rendered_cache() -> RenderedCache:
    return current_app.extensions["ripple_rendered_markdown"]


def cached_markdown(text: str | None) -> Markup:
    """`render_markdown`, once per distinct text and process (the `markdown` filter)."""
    return rendered_cache().rendered(text, render_markdown)


def cached_inline(text: str | None) -> Markup:
    """`render_inline`, once per distinct text and process (the `inline_md` filter)."""
    return rendered_cache().rendered(text, render_inline)


def init_app(app: Flask) -> None:
    app.extensions["ripple_rendered_markdown"] = RenderedCache()
    app.add_template_filter(cached_markdown, "markdown")
    app.add_template_filter(cached_inline, "inline_md")
    from lms.services.network_picture import svg_marks

    app.add_template_filter(svg_marks, "network_marks")  # the community picture's dots and lines
