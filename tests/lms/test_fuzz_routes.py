"""Fuzzing every form, upload, API body and query string of the URL map (Hypothesis, bounded).

The URL map is walked with agency A's objects (tests/lms/url_map_world.py). Each route is sent,
as the person it is meant for, payloads of every class in PAYLOAD_CLASSES: empty, blank, NUL
and control characters, CR/LF, strings past every column limit, huge and negative integers,
float spellings, hostile Unicode, deep nesting, a byte-order mark before deep brackets, JSON
strings that never close (`"\\"\\"…`, raw in JSON bodies too), formula and markup text,
mutations of the page's own values (`move-module:nope:up`), unknown fields, malformed uploads,
wrong content types and, for the API's lists, cursors it never gave out. A route's fields are
read from the forms its pages really show (every `<form>` of every page, by its action), from
the WTForms classes its view uses, from the request arguments its source reads and, for the
API, from the OpenAPI document. Expected, for every request:

- never a 5xx, and no exception escapes the test client;
- an error answer is a page or a JSON error;
- a refusal (4xx, or a redirect that flashes an error) changes nothing in the database;
- no request spends more than CPU_BUDGET seconds of CPU, and none crashes the process.

The routes run in a forked child process, so that a crash (a C parser's stack overflow) or a
runaway request is reported with its route and payload instead of killing or stalling the
suite: the parent watches the child's CPU time per request, stops it past the budget, and
carries on with the next route in a new child. Every failure
is collected and reported together, once per (route, payload class, failure). Every route
gets each class's worst case (WORST_CASES) in every field at once, then a fixed number of
Hypothesis examples; derandomized, so every run sends the same requests. The whole module
stays well under a minute on SQLite and runs on PostgreSQL too (`DATABASE_URL`, as `.ci/run`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import faulthandler
import functools
import html.parser
import inspect
import io
import json
import logging
import logging.config
import os
import re
import select
import signal
import sys
import time
import traceback
from urllib.parse import urljoin, urlsplit

import pytest
from flask import got_request_exception
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from wtforms import fields as wtf
from wtforms.fields.core import UnboundField

from tests.lms.url_map_world import (
    actor_label,
    build_world,
    changed_tables,
    client_as,
    fingerprint,
    routes,
    url,
    view_of,
)

pytestmark = pytest.mark.slow

# Every route gets every class's worst cases (WORST_CASES below) and generated examples of the
# request-shaping classes; the text classes take turns at generated examples, ROTATION per route.
# Few enough that the module stays well under a minute on SQLite.
EXAMPLES = {"mutated values": 1, "unknown fields": 1, "wrong content types": 1, "malformed uploads": 4}
ROTATION = 4
CPU_BUDGET = 5.0  # CPU seconds one request may use (the slowest real one, a grading, is < 1)
STALL_SECONDS = 120  # a child that neither reports nor uses CPU this long is stuck: a backstop
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
    suppress_health_check=list(HealthCheck),
)

# --- payloads ---------------------------------------------------------------------------------

short = st.text(st.characters(codec="ascii", categories=("L", "N")), max_size=4)
HUGE_INTEGERS = (2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, -1, 0)
FLOAT_SPELLINGS = (
    "inf", "-inf", "Infinity", "nan", "NaN", "1e309", "-1e309", "1e9", "1.0e+9", "4.9e-324",
    "-0.0", "0x1A", "1_000", "1,5", "１２", "٣", "Ⅻ",
)  # fmt: skip
HOSTILE_UNICODE = (
    "\u202eevil\u202c", "שלום עולם", "مرحبا", "👮\u200d♀️🚓🏳️\u200d🌈", "Z\u0337\u0322\u034e\u0300a\u0334l",
    "e" + "\u0301" * 200, "\ufeffBOM", "\u200b\u200d\u2060", "𝕏𝔂𝔃", "ＡＢＣ", "İı", "ß", "\U0010fffd",
)  # fmt: skip
FORMULA_AND_MARKUP = (
    "=1+1", '=HYPERLINK("http://example.test","x")', "+1", "-1", "@SUM(A1)", "\t=1", "<script>alert(1)</script>",
    "{{7*7}}", "{% raw %}", "' OR '1'='1", "../../../etc/passwd", "%s%s%n", "javascript:alert(1)",
    "http://127.0.0.1:1/", "file:///etc/passwd", "*a", "&amp;", "</textarea>",
)  # fmt: skip
CONTROL_CHARACTERS = ("\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x00" * 3)
LINE_BREAKS = ("\r\n", "\r", "\n", "\r\n\r\n", "\u2028", "\x85")
JUNK_NAMES = (
    "action",
    "csrf_token",
    "id",
    "user_id",
    "agency_id",
    "role",
    "admin",
    "__proto__",
    "a[]",
    "x" * 300,
)


def _nested(pair: tuple[str, str], depth: int, closed: bool) -> str:
    """`[[[…]]]`, `{{{…`, `> > > …` (blockquotes), `- - - …`: what recursive parsers choke on."""
    opener, closer = pair
    return opener * depth + (closer * depth if closed else "")


def _indented(depth: int) -> str:
    """YAML nested by indentation alone."""
    return "\n".join(" " * i + "a:" for i in range(depth)) + " 1\n"


NESTERS = [
    ("[", "]"),
    ("{", "}"),
    ("(", ")"),
    ("> ", ""),
    ("- ", ""),
    ("*", "*"),
    ("`", "`"),
    ("<b>", "</b>"),
]
nesting = st.one_of(
    st.builds(_nested, st.sampled_from(NESTERS), st.sampled_from([64, 1000, 30_000]), st.booleans()),
    st.sampled_from([200, 600]).map(_indented),
)


def _long(char: str, n: int) -> str:
    return char * n


def _unterminated(prefix: str, escape: str, n: int) -> str:
    """A JSON string that never closes, every quote in it escaped: what a backtracking string
    pattern retries from each quote (`"\\"\\"\\"…`)."""
    return prefix + escape * n


unterminated = st.builds(
    _unterminated,
    st.sampled_from(['"', '["', '{"a": "', "x"]),
    st.sampled_from(['\\"', "\\", '\\\\\\"']),
    st.sampled_from([1000, 30_000]),
)
# A byte-order mark, then brackets: the BOM hid the nesting from the YAML pre-scan.
bom_nesting = st.builds(
    lambda pair, depth, closed: "\ufeff" + _nested(pair, depth, closed),
    st.sampled_from([("[", "]"), ("{", "}")]),
    st.sampled_from([1000, 30_000]),
    st.booleans(),
)


@dataclasses.dataclass
class Field:
    name: str
    kind: str = "text"  # text | int | decimal | date | bool | select | multi | file | submit | json
    seeds: list = dataclasses.field(default_factory=list)
    extensions: tuple = ()


def _seed(spec: Field):
    useful = _useful_seeds(spec)  # a blank `value=""` would keep the request at the first check
    return st.sampled_from(useful) if useful else st.just(DEFAULT_SEEDS.get(spec.kind, "Alpha fuzz"))


def _useful_seeds(spec: Field) -> list:
    return [s for s in spec.seeds if not isinstance(s, str) or s.strip()]


# A valid-looking value of each kind, for fields whose page offers none.
DEFAULT_SEEDS = {
    "int": "5",
    "email": "zephyrine@alpha.test",
    "decimal": "1.5",
    "date": "2027-01-31",
    "bool": "y",
    "multi": "",
}


def _mutate(value: str, junk: str, where: int) -> str:
    """A page's own value with one part replaced: `move-module:nope:up`, `5x`, ``."""
    parts = re.split(r"([:/,\-_.])", value)
    if len(parts) > 1:
        words = list(range(0, len(parts), 2))
        parts[words[where % len(words)]] = junk
        return "".join(parts)
    return [value + junk, junk + value, value[:-1], value * 50, junk][where % 5]


def _mutated(spec: Field):
    seeds = spec.seeds or ["Alpha fuzz", "5"]
    return st.builds(
        _mutate,
        st.sampled_from(seeds).map(str),
        st.sampled_from(["nope", "", "-1", str(2**63), "0", "\x00", "..", "%00", "ü"]),
        st.integers(0, 9),
    )


TEXT_CLASSES = {
    "empty": lambda spec: st.just(""),
    "whitespace": lambda spec: st.text(" \t\u00a0\u2003\u3000\u200b", min_size=1, max_size=6),
    "control characters": lambda spec: st.builds(
        lambda a, c, b: a + c + b, short, st.sampled_from(CONTROL_CHARACTERS), short
    ),
    "CR/LF": lambda spec: st.builds(lambda a, c, b: a + c + b, short, st.sampled_from(LINE_BREAKS), short),
    "too long": lambda spec: st.builds(
        _long,
        st.sampled_from(["x", "é", "😀", "9"]),
        st.sampled_from([65, 101, 201, 256, 1025, 5000, 70_000]),
    ),
    "huge integers": lambda spec: st.one_of(st.sampled_from(HUGE_INTEGERS), st.integers()).map(str),
    "float spellings": lambda spec: st.sampled_from(FLOAT_SPELLINGS),
    "unicode": lambda spec: st.one_of(
        st.sampled_from(HOSTILE_UNICODE),
        st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12),
    ),
    "deep nesting": lambda spec: nesting,
    "formula and markup": lambda spec: st.sampled_from(FORMULA_AND_MARKUP),
    "unterminated escaped JSON string": lambda spec: unterminated,
    "BOM then deep brackets": lambda spec: bom_nesting,
    "mutated values": _mutated,
}
# Classes that shape the whole request rather than a field's text.
REQUEST_CLASSES = ("unknown fields", "malformed uploads", "wrong content types", "hostile paths", "cursors")
# The API's paging cursors that are not ours: what decode_cursor must refuse with a JSON 400.
HOSTILE_CURSORS = tuple(
    base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for raw in (
        # json.loads would recurse past Python's limit (which Hypothesis raises by 2,000)
        b"[" * 100_000,
        b'{"after": ' + b"[" * 100_000 + b"1" + b"]" * 100_000 + b"}",
        b'{"after": 1}' + b" " * 60,
        b'{"after": -1}',
        b'{"after": 1.5}',
        b'{"after": "1"}',
        b'{"after": true}',
        b'{"after": 1e400}',
        b'{"after": 99999999999999999999999}',
        b'{"before": 1}',
        b"[1]",
        b"\x00",
        b"\xff\xfe{}",
    )
) + ("%%%", "====", "A" * 5000, "not base64!", "eyJhZnRlciI6IDF9" + "\x00")
PAYLOAD_CLASSES = (*TEXT_CLASSES, *REQUEST_CLASSES)

MALFORMED_FILES = (
    b"",
    b"\x00" * 64,
    b"PK\x03\x04" + b"\x00" * 40,  # the start of a zip (an XLSX) and nothing else
    b'\xef\xbb\xbfbadge_number,name,email\r\n"unclosed,quote\r\n',
    "badge_number,name,email\n1,Ünïcødé,a@b.test\n".encode("utf-16"),
    b"\xff\xfe\xfa not utf-8 \xc3\x28",
    b"badge_number,name,email\n" + b",".join([b"x"] * 5000) + b"\n",
    b"badge_number,name,email\n" + b"A1,=cmd|' /C calc'!A0,a@b.test\n" * 3,
    b"badge_number;name;email\nA1;x;y\n",
    b"title: " + b"[" * 30_000 + b"]" * 30_000 + b"\n",
    b"\xef\xbb\xbf" + b"[" * 30_000,  # a byte-order mark, then brackets
    b"a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
    b"d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d]\n",
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
)


def _file_text(spec: Field, value: str) -> bytes:
    if "csv" in spec.extensions:
        return f"badge_number,name,email,rank,unit\n{value},{value},{value},{value},{value}\n".encode(
            "utf-8", "surrogatepass"
        )
    return f"title: {value}\nslug: {value}\n".encode("utf-8", "surrogatepass")


def _filename(spec: Field) -> str:
    return f"fuzz.{spec.extensions[0]}" if spec.extensions else "fuzz.txt"


@dataclasses.dataclass
class Request:
    payload_class: str
    method: str
    address: str
    kwargs: dict

    def describe(self) -> str:
        shown = {
            k: v for k, v in self.kwargs.items() if k in ("data", "json", "query_string", "content_type")
        }
        text = repr(shown)
        return text if len(text) <= 300 else text[:300] + f"... ({len(text)} characters)"


@st.composite
def form_requests(draw, payload_class: str, method: str, address: str, fields: list[Field]):
    """A form or upload request of `payload_class` for a route with `fields`."""
    files = [f for f in fields if f.kind == "file"]
    plain = [f for f in fields if f.kind not in ("file", "json")] or [Field("name"), Field("q")]
    data: dict = {}
    targets = set()
    if payload_class in TEXT_CLASSES:
        targets = draw(st.sets(st.sampled_from([f.name for f in plain + files]), min_size=1))
    for spec in plain:
        make = TEXT_CLASSES[payload_class] if spec.name in targets else _seed
        value = draw(make(spec))
        if spec.kind == "multi" and spec.name not in targets:
            value = draw(st.lists(_seed(spec), max_size=3))
        data[spec.name] = value
    for spec in files:
        if payload_class == "malformed uploads":
            content = draw(st.sampled_from(MALFORMED_FILES) | st.binary(max_size=300))
        elif spec.name in targets and payload_class == "BOM then deep brackets":
            content = draw(TEXT_CLASSES[payload_class](spec)).encode()  # the BOM opens the file
        elif spec.name in targets:
            content = _file_text(spec, draw(TEXT_CLASSES[payload_class](spec)))
        else:
            content = _file_text(spec, "Alpha fuzz")
        name = draw(
            st.sampled_from([_filename(spec), "", "fuzz", "../../fuzz.csv", "fuzz.xlsx", "ü\x00.csv"])
        )
        data[spec.name] = (
            io.BytesIO(content),
            name,
            draw(st.sampled_from(["text/csv", "application/octet-stream"])),
        )
    if payload_class == "unknown fields":
        data.update(draw(st.dictionaries(st.sampled_from(JUNK_NAMES), short | st.lists(short, max_size=3))))
        for spec in plain:
            if draw(st.booleans()):
                data[spec.name] = draw(st.lists(_seed(spec) | short, min_size=2, max_size=4))  # repeated
    kwargs: dict = {"data": data}
    if files:
        kwargs["content_type"] = "multipart/form-data"
    if payload_class == "wrong content types":
        seeded = {k: v for k, v in data.items() if isinstance(v, str)}
        kwargs = draw(
            st.sampled_from(
                [
                    {"json": seeded},
                    {"data": json.dumps(seeded), "content_type": "application/json"},
                    {"data": "[" * 5000, "content_type": "application/json"},
                    {
                        "data": b"\xff\xfe" + "&".join(seeded).encode(),
                        "content_type": "application/x-www-form-urlencoded",
                    },
                    {"data": "a=1&" * 20, "content_type": "text/plain"},
                    {"data": b"--x\r\nbroken", "content_type": "multipart/form-data"},
                    {"data": b"--x\r\nbroken", "content_type": "multipart/form-data; boundary=x"},
                    {"data": "", "content_type": "application/x-www-form-urlencoded; charset=ebcdic"},
                ]
            )
        )
    return Request(payload_class, method, address, kwargs)


def _json_value(payload_class: str, spec: Field):
    if payload_class in TEXT_CLASSES:
        typed = {
            "huge integers": st.sampled_from(HUGE_INTEGERS) | st.integers(),
            "float spellings": st.sampled_from([1e308, -1e308, 5e-324, -0.0, 1.5]),
            "empty": st.sampled_from(["", None, [], {}]),
        }.get(payload_class)
        return typed | TEXT_CLASSES[payload_class](spec) if typed else TEXT_CLASSES[payload_class](spec)
    return _seed(spec)


@st.composite
def json_requests(draw, payload_class: str, method: str, address: str, fields: list[Field]):
    """A JSON body of `payload_class` for an API route whose body has `fields`."""
    names = [f.name for f in fields] or ["name"]
    body = {f.name: draw(_json_value(payload_class, f)) for f in fields}
    kwargs: dict = {"json": body}
    if payload_class == "deep nesting":
        name = draw(st.sampled_from(names))
        depth = draw(st.sampled_from([64, 1000, 100_000]))
        raw = draw(
            st.sampled_from(["[" * depth + "]" * depth, "[" * depth, '{"a":' * depth + "1" + "}" * depth])
        )
        text = draw(st.sampled_from([raw, json.dumps(body)[:-1] + f', "{name}": {raw}}}']))
        kwargs = {"data": text, "content_type": "application/json"}
    elif payload_class == "unterminated escaped JSON string" and draw(st.booleans()):
        name = draw(st.sampled_from(names))
        raw = draw(unterminated)
        text = draw(st.sampled_from([raw, json.dumps(body)[:-1] + f', "{name}": "{raw}']))
        kwargs = {"data": text, "content_type": "application/json"}
    elif payload_class == "unknown fields":
        body.update(draw(st.dictionaries(st.sampled_from(JUNK_NAMES), short | st.integers() | st.none())))
        if draw(st.booleans()):
            kwargs = {"json": draw(st.sampled_from([[body], "text", 5, None, True]))}
    elif payload_class in ("wrong content types", "malformed uploads"):
        kwargs = draw(
            st.sampled_from(
                [
                    {"data": {k: str(v) for k, v in body.items()}},
                    {"data": json.dumps(body), "content_type": "text/plain"},
                    {"data": b"\xff\xfe{}", "content_type": "application/json"},
                    {"data": '{"name": NaN, "email": Infinity}', "content_type": "application/json"},
                    {"data": '{"name": "a", "name": "b"}', "content_type": "application/json"},
                    {"data": "", "content_type": "application/json"},
                    {"data": json.dumps(body), "content_type": "application/json; charset=utf-16"},
                ]
            )
        )
    return Request(payload_class, method, address, kwargs)


@st.composite
def query_requests(draw, payload_class: str, address: str, params: list[Field], path_variants: list[str]):
    """A GET of `address` with a fuzzed query string, or of a variant with a fuzzed path segment."""
    query: dict = {}
    targets = draw(st.sets(st.sampled_from([p.name for p in params]), min_size=1)) if params else set()
    for spec in params:
        if spec.name in targets and payload_class in TEXT_CLASSES:
            query[spec.name] = draw(TEXT_CLASSES[payload_class](spec))
        elif draw(st.booleans()):
            query[spec.name] = draw(_seed(spec))
    if payload_class == "unknown fields":
        names = st.sampled_from(JUNK_NAMES + COMMON_QUERY)
        values = st.sampled_from(["", " ", "-1", str(2**63), "nan", "\x00", "[" * 1000]) | short
        query.update(draw(st.dictionaries(names, values | st.lists(values, max_size=3))))
    if payload_class == "cursors":
        query = {"cursor": draw(st.sampled_from(HOSTILE_CURSORS))}
    target = draw(st.sampled_from(path_variants)) if payload_class == "hostile paths" else address
    return Request(payload_class, "GET", target, {"query_string": query})


# The worst case of each class, sent to every field at once on every route before the generated
# examples (the inputs among them: 30,000 `[` then `]`, 2,000 backticks, 2**31 on
# PostgreSQL, NUL in any text).
WORST_CASES = {
    "empty": [""],
    "whitespace": [" "],
    "control characters": ["a\x00b"],
    "CR/LF": ["a\r\nb"],
    "too long": ["x" * 5000],
    "huge integers": [str(2**63)],  # past bigint, and so past integer too
    "float spellings": ["nan"],
    "unicode": ["\u202e👮\u200d♀️Z\u0337\u0322\ufeff"],
    "deep nesting": ["[" * 30_000 + "]" * 30_000 + "`" * 2000],  # YAML's and Markdown's worst at once
    "formula and markup": ["=1+1"],
    "unterminated escaped JSON string": ['"' + '\\"' * 30_000],  # 60 kB: 24 s for the old pattern
    "BOM then deep brackets": ["\ufeff" + "[" * 30_000],
}
# Whole bodies sent raw as JSON (to every route: the JSON guard runs before any view, signed
# in or not), for the classes whose worst case is in the body's syntax rather than a value.
RAW_JSON_BODIES = {
    "deep nesting": ["[" * 100_000],
    "unterminated escaped JSON string": ['"' + '\\"' * 30_000, '{"name": "' + '\\"' * 30_000],
}


def _seed_text(spec: Field) -> str:
    useful = _useful_seeds(spec)
    return str(useful[0]) if useful else DEFAULT_SEEDS.get(spec.kind, "Alpha fuzz")


def _nope(value: str) -> str:
    """The page's own value with its next-to-last part unknown: `move-module:nope:up`."""
    parts = value.split(":")
    parts[-2 if len(parts) > 1 else 0] = "nope"
    return ":".join(parts)


def worst_cases(
    payload_class: str, kind: str, method: str, address: str, fields: list[Field]
) -> list[Request]:
    """The explicit requests of `payload_class`: every field (every parameter, for a query) at
    once, for each worst-case value; for mutations, each kind of action the page offers with
    a part that does not exist."""
    requests = []
    if payload_class == "mutated values":
        for spec in fields:
            seen = {}
            for seed in spec.seeds:
                if isinstance(seed, str) and ":" in seed:
                    seen.setdefault(seed.split(":", 1)[0], seed)
            for seed in list(seen.values())[:3]:
                data = {f.name: _seed_text(f) for f in fields if f.kind != "file"}
                data[spec.name] = _nope(seed)
                requests.append(Request(payload_class, method, address, {"data": data}))
        return requests
    worst = [{f.name: value for f in fields} for value in WORST_CASES.get(payload_class, [])]
    if payload_class in ("control characters", "CR/LF"):
        # Inside each field's own value too (`zeph\x00yrine@alpha.test`), past its format checks.
        inside = WORST_CASES[payload_class][0][1:-1]
        worst.append({f.name: _seed_text(f)[:4] + inside + _seed_text(f)[4:] for f in fields})
    for values in worst:
        if kind == "query":
            kwargs = {"query_string": values}
        elif kind == "json":
            kwargs = {"json": values}
        else:
            data: dict = {}
            for spec in fields:
                if spec.kind == "file":
                    data[spec.name] = (
                        io.BytesIO(_file_text(spec, values[spec.name])),
                        _filename(spec),
                        "text/csv",
                    )
                else:
                    data[spec.name] = values[spec.name]
            kwargs = {"data": data or {"name": WORST_CASES.get(payload_class, [""])[0]}}
            if any(f.kind == "file" for f in fields):
                kwargs["content_type"] = "multipart/form-data"
        requests.append(Request(payload_class, method, address, kwargs))
    if payload_class == "cursors":
        for cursor in HOSTILE_CURSORS:  # alone: a seeded filter (`since=Alpha fuzz`) is refused first
            requests.append(Request(payload_class, method, address, {"query_string": {"cursor": cursor}}))
    if kind != "query" and (kind == "json" or payload_class != "deep nesting"):
        for raw in RAW_JSON_BODIES.get(payload_class, []):
            requests.append(
                Request(payload_class, method, address, {"data": raw, "content_type": "application/json"})
            )
    return requests


# --- what each route accepts ------------------------------------------------------------------


class _Forms(html.parser.HTMLParser):
    """Every <form> of a page: method, action and fields with the values the page offers."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page, self.forms, self._form, self._select, self._textarea = page, [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            action = urlsplit(urljoin(self.page, a.get("action") or self.page)).path
            self._form = {"method": (a.get("method") or "get").upper(), "action": action, "fields": {}}
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._select.seeds.append(a.get("value", ""))
            return
        name = a["name"]
        spec = self._form["fields"].setdefault(name, Field(name))
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            spec.kind = {
                "number": "int",
                "checkbox": "multi",
                "file": "file",
                "date": "date",
                "email": "email",
            }.get(kind, spec.kind)
            if kind == "file":
                spec.extensions = tuple(
                    e.strip(". ") for e in (a.get("accept") or "").split(",") if e.strip()
                )
            elif "value" in a:
                spec.seeds.append(a["value"])
        elif tag == "select":
            spec.kind = "multi" if "multiple" in a else "select"
            self._select = spec
        elif tag == "textarea":
            self._textarea = spec
        elif tag == "button" and "value" in a:
            spec.kind = "submit"
            spec.seeds.append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None and data.strip():
            self._textarea.seeds.append(data)


def _merge(into: dict, fields) -> None:
    for spec in fields:
        have = into.setdefault(spec.name, Field(spec.name, spec.kind, [], spec.extensions))
        if have.kind == "text":
            have.kind = spec.kind
        have.extensions = have.extensions or spec.extensions
        have.seeds.extend(s for s in spec.seeds if s not in have.seeds and len(have.seeds) < 40)


FIELD_KINDS = (
    (wtf.FileField, "file"),
    (wtf.SelectMultipleField, "multi"),
    (wtf.SelectField, "select"),
    (wtf.RadioField, "select"),
    (wtf.BooleanField, "bool"),
    (wtf.SubmitField, "submit"),
    (wtf.IntegerField, "int"),
    (wtf.DecimalField, "decimal"),
    (wtf.FloatField, "decimal"),
    (wtf.DateField, "date"),
    (wtf.EmailField, "email"),
)
ARGUMENT = re.compile(r"request\.(args|form|values|files)\.(?:get|getlist)\(\s*[\"']([^\"']+)[\"']")


def _form_classes(view) -> list[type]:
    """The WTForms classes a view's code names (its module's globals)."""
    function = inspect.unwrap(view)
    names, codes = set(), [function.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if inspect.iscode(c))
    found = [function.__globals__.get(name) for name in sorted(names)]
    return [c for c in found if inspect.isclass(c) and issubclass(c, FlaskForm) and c is not FlaskForm]


def _class_fields(form_class) -> list[Field]:
    fields = []
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if not isinstance(unbound, UnboundField):
            continue
        kind = next((k for cls, k in FIELD_KINDS if issubclass(unbound.field_class, cls)), "text")
        choices = unbound.kwargs.get("choices")
        seeds = (
            [str(c[0] if isinstance(c, tuple) else c) for c in choices] if isinstance(choices, list) else []
        )
        extensions = ()
        for validator in unbound.kwargs.get("validators") or ():
            upload_set = getattr(validator, "upload_set", None)
            if upload_set:
                extensions = tuple(upload_set)
        fields.append(Field(name, kind, seeds, extensions))
    return fields


def _source_fields(view, sources: tuple[str, ...]) -> list[Field]:
    try:
        text = inspect.getsource(inspect.unwrap(view))
    except (OSError, TypeError):
        return []
    return [
        Field(name, "file" if where == "files" else "text")
        for where, name in ARGUMENT.findall(text)
        if where in sources
    ]


def _api_fields(app, rule, where: str = "body") -> list[Field]:
    """The JSON body's properties (or the query parameters), from the OpenAPI document."""
    document = app.test_client().get(f"{app.blueprints['api'].url_prefix}/openapi.json").get_json()
    prefix = app.blueprints["api"].url_prefix or ""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(prefix) :])
    fields = []
    for operation in document.get("paths", {}).get(path, {}).values():
        schema = (
            operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if isinstance(operation, dict)
            else {}
        )
        if where == "query":
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if "$ref" in parameter:
                    parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
                if parameter.get("in") == "query":
                    enum = parameter.get("schema", {}).get("enum", [])
                    fields.append(Field(parameter["name"], "text", [v for v in enum if isinstance(v, str)]))
            continue
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        for name, prop in schema.get("properties", {}).items():
            seeds = [v for v in prop.get("enum", []) if isinstance(v, str)]
            fields.append(Field(name, "json", seeds or ["Alpha fuzz"]))
    return fields


COMMON_QUERY = (
    "page",
    "sort",
    "order",
    "q",
    "limit",
    "cursor",
    "since",
    "per_page",
    "next",
    "status",
    "unit",
    "course",
)


# --- the world, with a few objects deeper routes need -----------------------------------------


@dataclasses.dataclass
class Target:
    rule: object
    method: str
    address: str
    label: str


def _fuzz_objects(world) -> dict:
    """Variants of agency A's objects for routes the shared world reaches only shallowly:
    an editable course draft, an attempt still at its first decision, a check and a scenario item."""
    from sqlalchemy import select

    from lms.extensions import db
    from lms.models import Assignment, Course
    from lms.services import attempts, authoring, learning
    from lms.services.scenario_library import sync_library

    instructor = world.people["A.instructor"]
    library_course = db.session.get(Course, world.objects["course_id"])
    draft = authoring.adapt(instructor, library_course)
    version = next(v for v in sync_library() if v.scenario.slug == "store-dispute")
    open_attempt = attempts.start_direct(world.target, version)
    assignment = db.session.get(Assignment, world.objects["assignment_id"])
    learning.mark_lesson_read(world.target, assignment, "intro")
    db.session.commit()
    assert db.session.scalar(select(Course).where(Course.id == draft.id)).agency_id == world.agency_a.id
    return {
        "author.": [{"course_id": draft.id}],
        "author.edit_item": [
            {"course_id": draft.id, "item_slug": "intro"},
            {"course_id": draft.id, "item_slug": "basics-check"},
        ],
        "play.decide": [{"attempt_id": open_attempt.id, "index": 0}],
        "play.attempt": [{"attempt_id": open_attempt.id}, {}],
        "learn.submit_check": [{"item_slug": "basics-check"}],
        "learn.item": [{}, {"item_slug": "basics-check"}, {"item_slug": "practice-scenario"}],
        "play.start": [{"item_slug": "practice-scenario"}],
    }


def _examples(turn: int, payload_class: str) -> int:
    """Generated examples of `payload_class` on the `turn`-th route."""
    if payload_class not in TEXT_CLASSES or payload_class == "mutated values":
        return EXAMPLES.get(payload_class, 1)
    text = [c for c in TEXT_CLASSES if c != "mutated values"]
    return int(payload_class in {text[(turn * ROTATION + k) % len(text)] for k in range(ROTATION)})


def _addresses(rule, world, variants) -> list[str]:
    chosen = variants.get(rule.endpoint) or (
        variants["author."] if rule.endpoint.startswith("author.") else [{}]
    )
    return list(dict.fromkeys(url(rule, {**world.objects, **variant}) for variant in chosen))


@pytest.fixture
def world(make_agency, make_user):
    return build_world(make_agency, make_user)


@pytest.fixture
def fuzz(app, db, sign_in, world):
    """The world, its route variants, and what every POST/PUT/PATCH route's pages offer."""
    variants = _fuzz_objects(world)
    offered: dict[tuple[str, str], dict] = {}
    for rule, method in routes(app):
        if method != "GET" or rule.endpoint == "static":
            continue
        labels = {actor_label(world, app, rule)}
        if not getattr(view_of(app, rule), "allowed_roles", None):
            labels |= {"A.instructor", "A.coordinator"}  # staff see more forms on shared pages
        for address in _addresses(rule, world, variants):
            for label in sorted(labels):
                test_client, headers = client_as(app, sign_in, world, label)
                response = test_client.get(address, headers=headers)
                if response.status_code != 200 or response.mimetype != "text/html":
                    continue
                page = _Forms(address)
                page.feed(response.get_data(as_text=True))
                for form in page.forms:
                    _merge(offered.setdefault((form["method"], form["action"]), {}), form["fields"].values())
    db.session.commit()
    return world, variants, offered


def _fields_of(app, rule, method, address, offered) -> list[Field]:
    fields: dict = {}
    view = view_of(app, rule)
    if rule.endpoint.startswith("api."):
        _merge(fields, _api_fields(app, rule))
        return list(fields.values())
    _merge(fields, offered.get((method, address), {}).values())
    for form_class in _form_classes(view):
        _merge(fields, _class_fields(form_class))
    _merge(fields, _source_fields(view, ("form", "values", "files")))
    fields.pop("csrf_token", None)
    return list(fields.values())


def _query_fields(app, rule, address, offered) -> list[Field]:
    fields: dict = {}
    view = view_of(app, rule)
    if rule.endpoint.startswith("api."):
        _merge(fields, _api_fields(app, rule, "query"))
    _merge(fields, offered.get(("GET", address), {}).values())
    for form_class in _form_classes(view):
        _merge(fields, _class_fields(form_class))
    _merge(fields, _source_fields(view, ("args", "values")))
    return list(fields.values())


def _path_variants(rule, world, variants) -> list[str]:
    """The route's address with one string path segment (a slug, a code, a badge) replaced by
    hostile text."""
    names = [
        n for n, c in rule._converters.items() if type(c).__name__ in ("UnicodeConverter", "PathConverter")
    ]
    out = []
    for name in names:
        for value in ("", " ", "\x00", "a\r\nb", "x" * 5000, "..", "%00", "\u202e", "[" * 1000, "=1+1"):
            with contextlib.suppress(Exception):
                out.append(
                    url(rule, {**world.objects, **(variants.get(rule.endpoint) or [{}])[0], name: value})
                )
    return out


# --- running one route in a child process -----------------------------------------------------


@dataclasses.dataclass
class Outcome:
    failures: dict  # (payload class, what) -> first request showing it, and how often
    requests: int = 0
    classes: set = dataclasses.field(default_factory=set)
    cpu_seconds: float = 0.0  # the child's, for the summary


class _Capture:
    """The exceptions the app met in the current request, as `Type: first line`. Taken from the
    app itself (`handle_user_exception`, and `got_request_exception` for what no handler
    handled), not from its logger: whatever the logging state an earlier test left (a
    migration's `fileConfig` disables every logger that exists, the app's among them), a 500
    is reported with its exception."""

    def __init__(self, app):
        self.lines: list[str] = []
        handle = app.handle_user_exception

        def handle_and_record(error):
            if not isinstance(error, HTTPException):
                self.record(error)
            return handle(error)

        app.handle_user_exception = handle_and_record
        got_request_exception.connect(
            lambda sender, exception, **extra: self.record(exception), app, weak=False
        )

    def record(self, error: BaseException) -> None:
        text = str(error)
        self.lines.append(f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"[:300])


def _is_refusal(test_client, response) -> bool:
    """A 4xx, or a redirect whose messages include an error. The messages are taken, as the
    page the browser is sent to would show them, so the next request starts without them."""
    with test_client.session_transaction() as session:
        flashed = session.pop("_flashes", [])
    if response is None:
        return False
    if 400 <= response.status_code < 500:
        return True
    return response.status_code in (302, 303) and any(category == "error" for category, _ in flashed)


def _send(
    test_client, headers, request: Request, capture, baseline, control: int
) -> tuple[dict, list, object]:
    """Send one request; return the new database fingerprint, what was wrong, the response."""
    from lms.extensions import db

    capture.lines.clear()
    problems = []
    try:
        response = test_client.open(request.address, method=request.method, headers=headers, **request.kwargs)
    except Exception as error:  # noqa: BLE001 - the point is to catch anything that escapes
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        return fingerprint(db), [("an exception escaped the test client", last[:300])], None
    status = response.status_code
    if status >= 500 and (status == 500 or status != control):
        problems.append(
            (f"answered {status}", capture.lines[-1] if capture.lines else "(no exception logged)")
        )
    elif status >= 400 and response.mimetype not in ("text/html", "application/json", "text/plain"):
        problems.append(("an error that is neither a page nor JSON", f"{status} {response.mimetype}"))
    after = fingerprint(db)
    if status < 500 and _is_refusal(test_client, response) and (changed := changed_tables(baseline, after)):
        problems.append(("a refusal changed the database", f"{status}: {', '.join(changed)}"))
    return after, problems, response


def _sent_to_sign_in(app, response) -> bool:
    return (
        response is not None
        and response.status_code in (301, 302, 303)
        and urlsplit(response.location).path == app.url_map.bind("").build("auth.login")
    )


def _child(app, db, sign_in, world, jobs: list, write) -> None:
    """Runs in the forked child: every payload class's examples against each route in turn."""
    if not (
        db.engine.url.get_backend_name() == "sqlite" and db.engine.url.database in (None, "", ":memory:")
    ):
        db.engine.dispose(close=False)  # never touch the parent's connections
    app.config["PROPAGATE_EXCEPTIONS"] = False
    capture = _Capture(app)
    for index, (target, strategies) in jobs:
        write({"route": index})
        _fuzz_route(app, db, sign_in, world, target, strategies, capture, write)
    db.session.rollback()
    db.engine.dispose()


def _fuzz_route(app, db, sign_in, world, target: Target, strategies, capture, write) -> None:
    test_client, headers = client_as(app, sign_in, world, target.label)
    # The route's answer to a plain request: a 5xx it gives to no input at all (/readyz on a
    # database that was created, not migrated) is its contract here, not the payload's doing.
    write({"request": f"[(plain request)] {target.method} {target.address}"})
    control = test_client.open(target.address, method=target.method, headers=headers).status_code
    _is_refusal(test_client, None)  # takes the control's messages
    state = {"baseline": fingerprint(db), "client": test_client}

    for _, strategy, examples, explicit in strategies:

        def run(request):
            write(
                {
                    "request": f"[{request.payload_class}] {request.method} {request.address} {request.describe()}"
                }
            )
            after, problems, response = _send(
                state["client"], headers, request, capture, state["baseline"], control
            )
            state["baseline"] = after
            for what, last in problems:
                write({"failure": [request.payload_class, what, last, request.describe()]})
            write({"sent": request.payload_class})
            if target.label not in ("anonymous", "api") and (
                target.rule.endpoint == "auth.logout" or _sent_to_sign_in(app, response)
            ):
                # The request signed the person out (sign-out, a password change): sign in again.
                state["client"], _ = client_as(app, sign_in, world, target.label)
                state["baseline"] = fingerprint(db)

        test = given(request=strategy)(run)
        for request in reversed(explicit):
            test = example(request=request)(test)
        if examples or explicit:
            phases = [Phase.explicit, Phase.generate] if examples else [Phase.explicit]
            settings(FUZZ, max_examples=max(examples, 1), phases=phases)(test)()


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fork(app, db, sign_in, world, jobs: list) -> tuple[int, int]:
    """Start a child on `jobs` ((index, (target, strategies)) pairs); its pid and pipe."""
    db.session.commit()  # no connection checked out across the fork
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    os.close(read_end)  # the child: report through the pipe, never return into pytest
    code = 0
    try:

        def write(message):
            os.write(write_end, (json.dumps(message) + "\n").encode())

        _child(app, db, sign_in, world, jobs, write)
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        with contextlib.suppress(Exception):
            write(
                {
                    "failure": [
                        "(harness)",
                        "the fuzz itself failed",
                        repr(error)[:300],
                        traceback.format_exc()[-800:],
                    ]
                }
            )
        code = 3
    finally:
        os._exit(code)


def _run_isolated(app, db, sign_in, world, jobs: list[tuple[str, Target, list]]) -> dict:
    """Fuzz every job's route in forked children; a child that crashes or is stopped for
    running away is replaced by a new one starting at the next route. key -> Outcome."""
    outcomes = {key: Outcome({}) for key, _, _ in jobs}
    keys = [key for key, _, _ in jobs]
    start = 0
    while start < len(jobs):
        pid, read_end = _fork(
            app, db, sign_in, world, [(i, (t, s)) for i, (_, t, s) in enumerate(jobs) if i >= start]
        )
        current, last_request, buffer = start, "", b""
        route_cpu = cpu_at_request = 0.0
        quiet_since, killed = time.monotonic(), None
        while True:
            ready, _, _ = select.select([read_end], [], [], 0.25)
            if ready:
                chunk = os.read(read_end, 1 << 16)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    message = json.loads(line)
                    quiet_since = time.monotonic()
                    outcome = outcomes[keys[current]]
                    if "route" in message:
                        now = _cpu_seconds(pid)
                        outcome.cpu_seconds += now - route_cpu
                        current, route_cpu, last_request = message["route"], now, ""
                    elif "request" in message:
                        last_request, cpu_at_request = message["request"], _cpu_seconds(pid)
                    elif "sent" in message:
                        outcome.requests += 1
                        outcome.classes.add(message["sent"])
                    elif "failure" in message:
                        payload_class, what, last, described = message["failure"]
                        entry = outcome.failures.setdefault((payload_class, what, last), [described, 0])
                        entry[1] += 1
                continue
            used = _cpu_seconds(pid) - cpu_at_request
            if last_request and (used > CPU_BUDGET or time.monotonic() - quiet_since > STALL_SECONDS):
                killed = f"used {used:.1f} s of CPU on one request" if used > CPU_BUDGET else "stalled"
                os.kill(pid, signal.SIGKILL)
        os.close(read_end)
        _, status, usage = os.wait4(pid, 0)
        outcomes[keys[current]].cpu_seconds += max(0.0, usage.ru_utime + usage.ru_stime - route_cpu)
        if killed or os.WIFSIGNALED(status):
            payload_class = (
                last_request[1 : last_request.find("]")] if last_request.startswith("[") else "(none)"
            )
            what = killed or f"the process died of {signal.Signals(os.WTERMSIG(status)).name}"
            outcomes[keys[current]].failures[(payload_class, "crash or runaway request", what)] = [
                last_request[:400],
                1,
            ]
            start = current + 1
        else:
            start = len(jobs)
    return outcomes


def _report(outcomes: dict) -> str:
    lines = []
    for where, outcome in outcomes.items():
        for (payload_class, what, last), (shown, count) in sorted(outcome.failures.items()):
            lines.append(f"{where} [{payload_class}] {what} (x{count}): {last}\n      e.g. {shown}")
    return "\n".join(lines)


def _summary(kind: str, outcomes: dict) -> str:
    requests = sum(o.requests for o in outcomes.values())
    classes = set().union(*(o.classes for o in outcomes.values())) if outcomes else set()
    labels = {where.rsplit(" as ", 1)[-1] for where in outcomes}
    costly = sorted(outcomes.items(), key=lambda item: -item[1].cpu_seconds)[:5]
    return (
        f"{kind}: {len(outcomes)} routes, {requests} requests, {len(classes)} payload classes, "
        f"as {sorted(labels)}; CPU {sum(o.cpu_seconds for o in outcomes.values()):.0f} s, most: "
        + ", ".join(f"{where} {o.cpu_seconds:.1f} s" for where, o in costly)
    )


# --- the tests --------------------------------------------------------------------------------


def test_every_form_upload_and_api_body_survives_hostile_payloads(app, db, sign_in, fuzz):
    world, variants, offered = fuzz
    jobs = []
    for rule, method in routes(app):
        if method not in ("POST", "PUT", "PATCH"):
            continue
        label = actor_label(world, app, rule)
        build = json_requests if rule.endpoint.startswith("api.") else form_requests
        for address in _addresses(rule, world, variants):
            fields = _fields_of(app, rule, method, address, offered)
            classes = [*TEXT_CLASSES, "unknown fields", "wrong content types"]
            if any(f.kind == "file" for f in fields):
                classes.append("malformed uploads")
            kind = "json" if rule.endpoint.startswith("api.") else "form"
            strategies = [
                (
                    c,
                    build(c, method, address, fields),
                    _examples(len(jobs), c),
                    worst_cases(c, kind, method, address, fields),
                )
                for c in classes
            ]
            jobs.append((f"{method} {address} as {label}", Target(rule, method, address, label), strategies))
    outcomes = _run_isolated(app, db, sign_in, world, jobs)
    print(_summary("forms, uploads and API bodies", outcomes))
    assert len(outcomes) >= 45
    assert set().union(*(o.classes for o in outcomes.values())) == set(PAYLOAD_CLASSES) - {
        "hostile paths",
        "cursors",
    }
    assert not (report := _report(outcomes)), f"\n{_summary('tried', outcomes)}\n{report}"


def test_every_query_string_and_path_survives_hostile_values(app, db, sign_in, fuzz):
    world, variants, offered = fuzz
    jobs = []
    for rule, method in routes(app):
        if method != "GET" or rule.endpoint == "static":
            continue
        label = actor_label(world, app, rule)
        address = _addresses(rule, world, variants)[0]
        params = _query_fields(app, rule, address, offered)
        paths = _path_variants(rule, world, variants)
        # Every class for the parameters the route reads; unknown parameters and hostile path
        # segments (slugs, codes, badges) for every route.
        classes = [*(TEXT_CLASSES if params else ()), "unknown fields", *(["hostile paths"] if paths else [])]
        if any(p.name == "cursor" for p in params):
            classes.insert(-1 if paths else len(classes), "cursors")  # the API's paged lists
        strategies = [
            (
                c,
                query_requests(c, address, params, paths),
                0 if c in ("hostile paths", "cursors") else _examples(len(jobs), c),
                worst_cases(c, "query", method, address, params),
            )
            for c in classes
        ]
        if paths:  # every hostile path segment, once
            strategies[-1] = (
                *strategies[-1][:3],
                [Request("hostile paths", "GET", path, {}) for path in paths],
            )
        jobs.append((f"GET {address} as {label}", Target(rule, method, address, label), strategies))
    outcomes = _run_isolated(app, db, sign_in, world, jobs)
    print(_summary("query strings and paths", outcomes))
    assert len(outcomes) >= 50
    assert set().union(*(o.classes for o in outcomes.values())) == {
        *TEXT_CLASSES,
        "unknown fields",
        "hostile paths",
        "cursors",
    }
    assert not (report := _report(outcomes)), f"\n{_summary('tried', outcomes)}\n{report}"


def test_the_harness_reports_each_kind_of_failure(app, db, sign_in, monkeypatch):
    """A server error, a refusal that writes, a crash and a runaway request are each reported
    with their route, and the routes after a crash are still fuzzed in a new child."""
    from lms.extensions import db as database
    from lms.models import Agency

    def server_error():
        raise ValueError("boom")

    def refusal_that_writes():
        database.session.add(Agency(slug=f"written-{os.urandom(4).hex()}", name="Written by a refusal"))
        database.session.commit()
        return "no", 400

    def crash():
        faulthandler.disable()  # a real crash's dump shows where; this one would only be noise
        os.kill(os.getpid(), signal.SIGSEGV)

    def runaway():
        while True:
            pass

    views = {"main.healthz": server_error, "main.readyz": refusal_that_writes, "main.metrics": crash}
    views["verify.lookup"] = runaway
    for endpoint, view in views.items():
        monkeypatch.setitem(app.view_functions, endpoint, functools.wraps(app.view_functions[endpoint])(view))
    monkeypatch.setattr(sys.modules[__name__], "CPU_BUDGET", 1.0)
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    never_drawn = st.just(Request("empty", "GET", "/", {}))  # 0 generated examples: explicit only
    jobs = []
    for endpoint in [*views, "main.index"]:
        address = rules[endpoint].rule
        explicit = [Request("empty", "GET", address, {"query_string": {"q": ""}})]
        target = Target(rules[endpoint], "GET", address, "anonymous")
        jobs.append((endpoint, target, [("empty", never_drawn, 0, explicit)]))
    outcomes = _run_isolated(app, db, sign_in, None, jobs)
    found = {key: {what for (_, what, _) in outcome.failures} for key, outcome in outcomes.items()}
    assert found == {
        "main.healthz": {"answered 500"},
        "main.readyz": {"a refusal changed the database"},
        "main.metrics": {"crash or runaway request"},
        "verify.lookup": {"crash or runaway request"},
        "main.index": set(),
    }
    assert "SIGSEGV" in next(iter(outcomes["main.metrics"].failures))[2]
    assert "CPU" in next(iter(outcomes["verify.lookup"].failures))[2]
    assert "ValueError: boom" in next(iter(outcomes["main.healthz"].failures))[2]
    assert outcomes["main.index"].requests == 1


# What earlier tests in a serial run may leave logging as.
LOGGING_STATES = {
    "after a migration's fileConfig": lambda app: logging.config.fileConfig(
        os.path.join(os.path.dirname(app.root_path), "migrations", "alembic.ini")
    ),
    "the app's logger disabled": lambda app: setattr(app.logger, "disabled", True),
    "logging disabled": lambda app: logging.disable(logging.CRITICAL),
    "the app's logger silent": lambda app: (
        app.logger.handlers.clear(),
        app.logger.setLevel(logging.CRITICAL),
    ),
}


@pytest.fixture
def logging_restored():
    """Logging as it was before the test, afterwards: every logger's state, the root's handlers."""
    manager = logging.Logger.manager
    loggers = [
        (logger, logger.disabled, logger.level, list(logger.handlers), logger.propagate)
        for logger in [logging.getLogger(), *manager.loggerDict.values()]
        if isinstance(logger, logging.Logger)
    ]
    disabled_below = manager.disable
    yield
    logging.disable(disabled_below)
    for logger, disabled, level, handlers, propagate in loggers:
        logger.disabled, logger.propagate = disabled, propagate
        logger.setLevel(level)
        logger.handlers[:] = handlers


@pytest.mark.parametrize("state", sorted(LOGGING_STATES))
def test_the_harness_names_a_500s_exception_whatever_the_logging_state(
    app, db, sign_in, monkeypatch, logging_restored, state
):
    def server_error():
        raise ValueError("boom")

    endpoint = "main.healthz"
    monkeypatch.setitem(
        app.view_functions, endpoint, functools.wraps(app.view_functions[endpoint])(server_error)
    )
    LOGGING_STATES[state](app)
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    explicit = [Request("empty", "GET", rule.rule, {})]
    strategies = [("empty", st.just(explicit[0]), 0, explicit)]
    outcomes = _run_isolated(
        app, db, sign_in, None, [(endpoint, Target(rule, "GET", rule.rule, "anonymous"), strategies)]
    )
    assert list(outcomes[endpoint].failures) == [("empty", "answered 500", "ValueError: boom")]
