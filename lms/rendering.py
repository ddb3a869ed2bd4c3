"""Markdown written by instructors (lessons, briefings, feedback) to safe HTML: rendered with
Markdown, then sanitised with nh3. Registered as the template filters `markdown` and `inline_md`."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import markdown as md
import nh3
from flask import Flask, url_for
from markupsafe import Markup

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "i", "img", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
_TASK = re.compile(r"<li>(?:<p>)?\[( |x|X)\]\s")


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


def render_markdown(text: str) -> Markup:
    """Safe HTML for lesson Markdown; `- [ ]` list items become checklist items."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"])
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        attribute_filter=_rewrite,
        link_rel="noopener noreferrer",
    )

    def task(match: re.Match) -> str:
        mark = "☑" if match.group(1).lower() == "x" else "☐"
        prefix = "<p>" if match.group(0).startswith("<li><p>") else ""
        return f'<li class="task-item"><span class="task-box" aria-hidden="true">{mark}</span> {prefix}'

    return Markup(_TASK.sub(task, clean))


INLINE_TAGS = {"a", "code", "em", "strong", "b", "i", "br"}


def render_inline(text: str | None) -> Markup:
    """Safe HTML for one line of Markdown (question prompts, choices, feedback)."""
    html = md.markdown(text or "")
    clean = nh3.clean(
        html,
        tags=INLINE_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean.strip())


def init_app(app: Flask) -> None:
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_inline, "inline_md")
