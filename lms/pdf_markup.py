"""Markdown written by authors, as reportlab flowables for printed handouts.

The text goes through the same parser and sanitiser as the web pages (lms/rendering.py:
markdown-it, then nh3 with the same tags, attributes and link schemes; images are left out,
since a handout shows only text). The sanitised HTML is then walked and re-emitted as
reportlab's own paragraph markup, with every piece of text escaped, so nothing an author writes
reaches reportlab's parser as markup: raw HTML has been dropped by nh3 and what is left is
rebuilt tag by tag from a short list.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from xml.sax.saxutils import escape, quoteattr

import nh3

from lms.rendering import _PARSER, ATTRIBUTES, INLINE_TAGS, TAGS, URL_SCHEMES

_SPACES = re.compile(r"\s+")
PRINT_TAGS = TAGS - {"img"}
BLOCK_TAGS = {"p", "h2", "h3", "h4", "li", "pre", "tr", "blockquote"}
_INLINE_OPEN = {"strong": "<b>", "b": "<b>", "em": "<i>", "i": "<i>", "code": '<font face="Courier">'}
_INLINE_CLOSE = {"strong": "</b>", "b": "</b>", "em": "</i>", "i": "</i>", "code": "</font>"}


def safe_html(text: str | None, *, inline: bool = False) -> str:
    """The sanitised HTML the web pages would show for `text`, without images."""
    if inline:
        html = _PARSER.renderInline(text or "")
        return nh3.clean(html, tags=INLINE_TAGS, attributes={"a": {"href"}}, url_schemes=URL_SCHEMES)
    html = _PARSER.render(text or "")
    attributes = {tag: set(attrs) for tag, attrs in ATTRIBUTES.items() if tag in PRINT_TAGS}
    return nh3.clean(html, tags=PRINT_TAGS, attributes=attributes, url_schemes=URL_SCHEMES)


class Block:
    """One block of text: its kind (p, h2, li, pre, ...), list depth and reportlab markup."""

    def __init__(self, kind: str, markup: str, depth: int = 0, bullet: str = ""):
        self.kind = kind
        self.markup = markup
        self.depth = depth
        self.bullet = bullet

    def __repr__(self) -> str:  # for test failures
        return f"Block({self.kind!r}, {self.markup!r}, depth={self.depth}, bullet={self.bullet!r})"


class _Walker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.kind = "p"
        self.lists: list[list] = []  # [kind, counter] per open list
        self.links: list[str | None] = []
        self.open_inline: list[str] = []
        self.quote = 0
        self.pre = False

    # -- blocks -----------------------------------------------------------------------
    def _flush(self) -> None:
        markup = "".join(self.parts).strip()
        for tag in reversed(self.open_inline):  # a block never leaves a tag open
            markup += _INLINE_CLOSE[tag]
        self.parts = [_INLINE_OPEN[t] for t in self.open_inline]
        if markup.replace("<br/>", "").strip() and _has_text(markup):
            kind = "quote" if self.quote and self.kind == "p" else self.kind
            bullet = ""
            if kind == "li" and self.lists:
                kind_, counter = self.lists[-1]
                bullet = f"{counter}." if kind_ == "ol" else "\u2022"
            self.blocks.append(Block(kind, markup, max(0, len(self.lists) - 1), bullet))
            if kind == "li" and self.lists:
                self.kind = "li-cont"  # more text in the same item (a nested list's parent)
        self.parts = [_INLINE_OPEN[t] for t in self.open_inline]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("ul", "ol"):
            self._flush()
            self.lists.append([tag, 0])
        elif tag == "li":
            self._flush()
            if self.lists:
                self.lists[-1][1] += 1
            self.kind = "li"
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "blockquote":
                self.quote += 1
            elif tag == "pre":
                self.pre = True
                self.kind = "pre"
            elif tag == "tr":
                self.kind = "tr"
            elif self.kind not in ("li", "li-cont") or tag != "p":
                self.kind = tag
        elif tag in ("td", "th"):
            if self.parts and "".join(self.parts).strip():
                self.parts.append(" | ")
            if tag == "th":
                self.parts.append("<b>")
        elif tag in _INLINE_OPEN:
            self.parts.append(_INLINE_OPEN[tag])
            self.open_inline.append(tag)
        elif tag == "a":
            href = dict(attrs).get("href")
            self.links.append(href)
            if href:
                self.parts.append(f'<link href={quoteattr(href)} color="#143a6b"><u>')
        elif tag == "br":
            self.parts.append("<br/>")
        elif tag == "hr":
            self._flush()
            self.blocks.append(Block("hr", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
            self.kind = "li-cont" if self.lists else "p"
        elif tag == "li":
            self._flush()
            self.kind = "li-cont" if self.lists else "p"
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            if tag == "pre":
                self.pre = False
            if self.kind not in ("li", "li-cont"):
                self.kind = "p"
        elif tag == "th":
            self.parts.append("</b>")
        elif tag in _INLINE_CLOSE:
            if tag in self.open_inline:
                self.open_inline.remove(tag)
                self.parts.append(_INLINE_CLOSE[tag])
        elif tag == "a":
            href = self.links.pop() if self.links else None
            if href:
                self.parts.append("</u></link>")
                if href.startswith(("http://", "https://")):
                    self.parts.append(f" ({escape(href)})")

    def handle_data(self, data: str) -> None:
        if self.pre:
            self.parts.append(escape(data).replace("\n", "<br/>"))
        else:
            self.parts.append(escape(_SPACES.sub(" ", data)))

    def close(self) -> None:
        super().close()
        self._flush()


def _has_text(markup: str) -> bool:
    inside = False
    for ch in markup:
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
        elif not inside and not ch.isspace():
            return True
    return False


def blocks(text: str | None, *, inline: bool = False) -> list[Block]:
    """`text` (Markdown) as blocks of reportlab paragraph markup, sanitised and escaped."""
    walker = _Walker()
    walker.feed(safe_html(text, inline=inline))
    walker.close()
    return walker.blocks


def inline_markup(text: str | None) -> str:
    """One line of Markdown (a label, a prompt) as reportlab paragraph markup."""
    return " ".join(b.markup for b in blocks(text, inline=True))


def plain(text: str) -> str:
    """Text that is not Markdown (names, numbers we write), escaped for a Paragraph."""
    return escape(text)
