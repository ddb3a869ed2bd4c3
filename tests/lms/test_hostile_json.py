"""Hostile JSON costs work in proportion to its size, and a cursor is only ever one of ours.

`check_request` scans every JSON body, signed in or not, before anything parses it: its depth
scan (`lms.input.json_scan`) reads each byte once, whatever the text (a string that never
closes, a run of escapes, brackets inside strings). The work is measured by the scan's own
count of anchored matches and bytes read, never by the clock. The API's cursors are short
tokens this API made; anything longer is refused before it is decoded.
"""

from __future__ import annotations

import base64
import json

import pytest

from lms import input as request_input
from lms.services import api_records, api_tokens

SIZE = 200_000  # bytes of each hostile body (the old string pattern took minutes on this)

# Bodies that make a backtracking string pattern retry from every quote: strings that never
# close, escapes that hide every closing quote, a lone backslash at the end.
UNTERMINATED = {
    "escaped quotes": b'"' + b'\\"' * (SIZE // 2),
    "backslashes": b'"' + b"\\" * SIZE,
    "in an array": b'["' + b'\\"' * (SIZE // 2),
    "as a property": b'{"name": "' + b'\\"' * (SIZE // 2),
    "quotes and escapes": b'"\\"' * (SIZE // 3),
    "escaped backslashes and quotes": b'"' + b'\\\\\\"' * (SIZE // 4),
}
# Bodies that close every string but still make the scan stop often: short strings, brackets.
CLOSED = {
    "empty strings": b'["' + b'",""' * (SIZE // 4) + b'"]',
    "brackets in strings": json.dumps(["[{" * 10] * (SIZE // 30)).encode(),
    "flat array": b"[" + b"[]," * (SIZE // 3) + b"[]]",
}


def _significant(raw: bytes) -> int:
    return sum(raw.count(mark) for mark in (b'"', b"[", b"]", b"{", b"}"))


@pytest.mark.parametrize("raw", [*UNTERMINATED.values(), *CLOSED.values()], ids=[*UNTERMINATED, *CLOSED])
def test_the_depth_scan_reads_each_byte_once(raw):
    scan = request_input.json_scan(raw)
    assert scan.bytes_read <= len(raw) + 1
    assert scan.steps <= _significant(raw) + 1


@pytest.mark.parametrize("name", sorted(UNTERMINATED))
def test_the_depth_scan_work_grows_linearly_with_an_unterminated_string(name):
    small, large = UNTERMINATED[name][: SIZE // 8], UNTERMINATED[name]
    work = [request_input.json_scan(raw) for raw in (small, large)]
    assert work[1].bytes_read <= len(large) + 1 and work[0].bytes_read <= len(small) + 1
    assert work[1].steps <= 8 * work[0].steps + 8


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"[]", 1),
        (b'[[["[[[["]]]', 3),
        (b'{"a": "\\"[[[", "b": [1, {"c": []}]}', 4),
        (b'"\\\\"[[', 2),  # an escaped backslash closes nothing: the quote after it does
        (b'[["[[[[' + b"[" * 100, 2),  # an unterminated string runs to the end, as for the parser
        (b"[" * 40, 33),  # the scan stops once past MAX_JSON_DEPTH
        (b"", 0),
    ],
)
def test_the_depth_scan_counts_nesting_outside_strings(raw, depth):
    assert request_input.json_scan(raw).depth == depth


@pytest.fixture
def api(client, db, agency, coordinator):
    scopes = ["people:read", "people:write", "assignments:read", "completions:read", "certificates:read"]
    _, raw = api_tokens.create_token(coordinator, agency, "Records system", scopes)
    db.session.commit()

    def call(method, path, signed=True, **kwargs):
        headers = {"Authorization": f"Bearer {raw}"} if signed else {}
        return client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    return call


@pytest.fixture
def scans(monkeypatch):
    """Every depth scan the requests make."""
    seen = []
    real = request_input.json_scan

    def spy(raw, **kwargs):
        seen.append((len(raw), scan := real(raw, **kwargs)))
        return scan

    monkeypatch.setattr(request_input, "json_scan", spy)
    return seen


@pytest.mark.parametrize("name", sorted(UNTERMINATED))
@pytest.mark.parametrize("signed", [False, True], ids=["anonymous", "with a token"])
def test_an_unterminated_json_string_is_answered_after_one_linear_scan(db, api, scans, name, signed):
    response = api(
        "PUT", "/people/by-badge/77", signed=signed, data=UNTERMINATED[name], content_type="application/json"
    )
    assert response.status_code in ((400,) if signed else (401,))
    assert response.is_json and response.get_json()["status"] == response.status_code
    assert [size for size, _ in scans] == [len(UNTERMINATED[name])]
    assert all(scan.bytes_read <= size + 1 for size, scan in scans)


LISTS = ["/people", "/assignments", "/completions", "/certificates"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(b"[" * 3000).decode(),  # json.loads would recurse past the limit
        base64.urlsafe_b64encode(b'{"after": 1, "pad": "' + b"x" * 100 + b'"}').decode(),
        base64.urlsafe_b64encode(b'{"after": 1}' + b" " * 40).decode(),
    ],
    ids=["deep brackets", "padded", "padded with spaces"],
)
def test_a_cursor_longer_than_ours_is_refused_before_it_is_decoded(api, path, cursor):
    response = api("GET", f"{path}?cursor={cursor}")
    assert response.status_code == 400
    assert response.get_json()["field"] == "cursor"
    assert response.get_json()["detail"] == "The cursor is not one this API gave out."


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("after", ["true", "false", "-1", "1.5", '"1"', "null", "2147483648"])
def test_a_short_cursor_that_is_not_ours_is_refused(api, path, after):
    cursor = base64.urlsafe_b64encode(f'{{"after": {after}}}'.encode()).decode().rstrip("=")
    response = api("GET", f"{path}?cursor={cursor}")
    assert response.status_code == 400 and response.get_json()["field"] == "cursor"


@pytest.mark.parametrize("last_id", [0, 1, 2**31 - 1])
def test_every_cursor_this_api_gives_out_fits_the_limit(last_id):
    cursor = api_records.encode_cursor(last_id)
    assert len(cursor) <= api_records.MAX_CURSOR_LENGTH and api_records.decode_cursor(cursor) == last_id
