"""Bad input answers a clear 400 (or 404 for an id that cannot exist), never a 500.

One place for the checks every request needs, so a route cannot forget them:

- `IdConverter` replaces Flask's `<int:...>`: ids are INTEGER columns, so a path id outside
  1..2^31-1 matches no route (404) instead of reaching the database.
- `parse_id` and `page_number` read ids and page numbers from forms and query strings: a blank
  filter is no filter, a bad id is a `BadInput` naming the field, a page is clamped.
- `check_request` (before every request) refuses NUL and the other C0 control characters
  (tab, CR and LF are allowed: multi-line fields need them) in the query string, the form
  fields, the URL's path parts and JSON strings, and bounds a JSON body's size and nesting
  before anything parses it. Uploaded files are checked by their importers after decoding.
- `text_problem` checks one single-line value against the column it will be stored in
  (length, required, no line breaks), deriving the limits from the model; `FitsColumn` is the
  same check as a form validator.
- `visible_text` tells whether a reason says anything at all.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask import Flask, render_template, request
from sqlalchemy import String
from werkzeug.routing import IntegerConverter
from wtforms import DecimalField
from wtforms.validators import StopValidation, ValidationError

MAX_ID = 2**31 - 1  # every id column is an INTEGER
MAX_PAGE = 100_000  # far past any real list; keeps OFFSET well inside every database's range
MAX_JSON_BYTES = 1_000_000
MAX_JSON_DEPTH = 32

# C0 controls except tab, LF and CR; DEL; lone surrogates (which no database can store).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_BREAK = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]")
# The JSON depth scan (`json_scan`): between strings, the next quote or bracket; inside a string,
# its body up to the closing quote. Each is matched once, anchored where the scan stands, and
# neither can backtrack (every byte has one way to match), so the scan reads each byte once.
_JSON_OUTSIDE = re.compile(rb'[^"\[\]{}]*(["\[\]{}]?)')
_JSON_STRING_BODY = re.compile(rb'(?:[^"\\]|\\.)*\\?', re.DOTALL)


class BadInput(ValueError):
    """Input the request cannot be served with; `field` names the form field, query
    parameter or JSON property at fault."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


class IdConverter(IntegerConverter):
    """`<int:...>` for every route: a whole number from 1 (or `min`) to 2^31-1."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)


def parse_id(raw: Any, field: str) -> int | None:
    """A record id from a form field or query parameter: blank is None (no filter); anything
    but a whole number from 1 to 2^31-1 is a `BadInput` naming `field`."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = raw.strip() if isinstance(raw, str) else raw
    if isinstance(text, bool) or not (
        isinstance(text, int) or (isinstance(text, str) and text.isascii() and text.isdigit())
    ):
        raise BadInput(f"“{field}” must be the number of a record (a whole number).", field)
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise BadInput(f"“{field}” must be a whole number from 1 to {MAX_ID}.", field)
    return value


def id_or_none(raw: Any) -> int | None:
    """`parse_id` for where a bad id simply finds nothing (a hand-written launch target)."""
    try:
        return parse_id(raw, "id")
    except BadInput:
        return None


def page_number(raw: Any) -> int:
    """A page number from a query string, clamped to 1..MAX_PAGE (anything unreadable is 1):
    a page link is never worth an error, and a huge one must not reach OFFSET."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()):
        return 1
    return min(max(1, int(text[:7])), MAX_PAGE)


def page_arg(name: str = "page") -> int:
    return page_number(request.args.get(name))


def control_character(text: str, *, single_line: bool = False) -> str | None:
    """The first character of `text` that may not be stored (as U+XXXX), or None. Single-line
    values (names, badge numbers, emails, titles ...) may not hold line breaks either."""
    found = _CONTROL.search(text) or (_LINE_BREAK.search(text) if single_line else None)
    return f"U+{ord(found.group()):04X}" if found else None


def one_line(value: Any, attribute) -> str:
    """Text another system sent (a learning platform's name claims) made storable in
    `attribute`'s column: "" for anything but a string, every control character and line break a
    space, spaces collapsed, cut to the column's length. (Refusing it would lock the person out.)"""
    if not isinstance(value, str):
        return ""
    text = " ".join(_LINE_BREAK.sub(" ", _CONTROL.sub(" ", value)).split())
    limit = column_length(attribute)
    return text[:limit].strip() if limit else text


def visible_text(text: str | None) -> str:
    """`text` stripped of surrounding whitespace, or "" when it has no visible character at
    all (only spaces, control or format characters): such a reason is no reason."""
    stripped = (text or "").strip()
    if any(unicodedata.category(c)[0] not in "CZ" for c in stripped):
        return stripped
    return ""


def _column(attribute):
    return attribute.property.columns[0] if hasattr(attribute, "property") else attribute


def column_length(attribute) -> int | None:
    """The length limit of a String(n) column (None if it has none)."""
    column_type = _column(attribute).type
    return column_type.length if isinstance(column_type, String) else None


def text_problem(attribute, value: str | None, *, required: bool | None = None) -> str | None:
    """What is wrong with storing the single-line `value` in `attribute`'s column, in words
    ("is longer than 64 characters"), or None. Required unless the column is nullable."""
    column = _column(attribute)
    if required is None:
        required = not column.nullable
    if value is None or not value.strip():
        return "is empty" if required else None
    bad = control_character(value, single_line=True)
    if bad:
        return f"contains a line break or control character ({bad})"
    limit = column_length(column)
    if limit is not None and len(value) > limit:
        return f"is longer than {limit} characters ({len(value):,})"
    return None


class NumberField(DecimalField):
    """A DecimalField that refuses "nan" and "infinity": comparing a Decimal NaN raises, so
    every range check after it would answer 500 instead of a message."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError("Enter a number, such as 4 or 2.5.")


class FitsColumn:
    """Form validator: the value fits the model column it is stored in (see `text_problem`)."""

    def __init__(self, attribute, *, required: bool | None = None):
        self.attribute = attribute
        self.required = required
        limit = column_length(attribute)
        self.field_flags = {"maxlength": limit} if limit else {}

    def __call__(self, form, field) -> None:
        if not isinstance(field.data, str):
            return
        problem = text_problem(self.attribute, field.data.strip(), required=self.required)
        if problem:
            raise ValidationError(f"This {problem}.")


class VisibleText:
    """Form validator for a required reason: it must say something visible (see `visible_text`)."""

    def __init__(self, message: str):
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        if not visible_text(field.data if isinstance(field.data, str) else ""):
            raise StopValidation(self.message)


# --- the request-level guard --------------------------------------------------------------------


def _refuse(field: str, where: str, bad: str) -> BadInput:
    return BadInput(
        f"The {where} “{field[:60]}” contains a control character ({bad}); remove it and try again.",
        field[:60],
    )


@dataclass
class JsonScan:
    """What `json_scan` found: the deepest nesting, and its work (anchored matches made and
    bytes they read), which is linear in the size whatever the text."""

    depth: int = 0
    steps: int = 0
    bytes_read: int = 0


def json_scan(raw: bytes, *, stop_past: int = MAX_JSON_DEPTH) -> JsonScan:
    """The deepest nesting of arrays and objects in a JSON text, without parsing it (brackets
    inside strings do not count; a string that never closes runs to the end). One pass that
    stops once the depth passes `stop_past`."""
    scan = JsonScan()
    depth, position, end = 0, 0, len(raw)
    while position < end:
        found = _JSON_OUTSIDE.match(raw, position)
        scan.steps += 1
        scan.bytes_read += found.end() - position
        position, mark = found.end(), found.group(1)
        if not mark:
            break
        if mark == b'"':
            body = _JSON_STRING_BODY.match(raw, position)
            scan.steps += 1
            scan.bytes_read += body.end() - position + (body.end() < end)
            position = body.end() + 1  # past the closing quote (or the end: it never closed)
        elif mark in b"[{":
            depth += 1
            if depth > scan.depth:
                scan.depth = depth
                if depth > stop_past:
                    break
        else:
            depth -= 1
    return scan


def _json_depth(raw: bytes) -> int:
    return json_scan(raw).depth


def _json_strings(value: Any, path: str = ""):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            yield where, key
            yield from _json_strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{index}]")


def check_json_body(raw: bytes) -> None:
    """Refuse a JSON body that is too large, too deeply nested, or holds a control character
    in a string, before the view parses it. Malformed JSON is left to the view to report."""
    if len(raw) > MAX_JSON_BYTES:  # (a longer body announced up front is refused unread)
        raise BadInput(f"The JSON body is larger than {MAX_JSON_BYTES:,} bytes.", "body", status=413)
    if _json_depth(raw) > MAX_JSON_DEPTH:
        raise BadInput(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.", "body")
    try:
        body = json.loads(raw)
    except ValueError:
        return
    for path, text in _json_strings(body):
        bad = control_character(text)
        if bad:
            raise _refuse(path or "body", "JSON property", bad)


def check_request() -> None:
    """Before every request: no control characters in any text the request carries."""
    for where, values in (("query parameter", request.args), ("form field", request.form)):
        for name, items in values.lists():
            for text in (name, *items):
                bad = control_character(text)
                if bad:
                    raise _refuse(name, where, bad)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            bad = control_character(value, single_line=True)
            if bad:
                raise _refuse(name, "address part", bad)
    if request.is_json and request.content_length != 0:
        if (request.content_length or 0) > MAX_JSON_BYTES:
            raise BadInput(f"The JSON body is larger than {MAX_JSON_BYTES:,} bytes.", "body", status=413)
        check_json_body(request.get_data(cache=True))


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)

    @app.errorhandler(BadInput)
    def bad_input(error: BadInput):
        from lms.errors import wants_json
        from lms.extensions import db

        db.session.rollback()
        title = "That file is too large" if error.status == 413 else "Invalid request"
        if wants_json():
            body = {"error": title, "detail": str(error), "status": error.status}
            if error.field:
                body["field"] = error.field
            return body, error.status
        page = render_template("errors/error.html", status=error.status, title=title, detail=str(error))
        return page, error.status
