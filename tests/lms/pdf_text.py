"""A tiny PDF text reader for tests: enough for reportlab's output (no dependency).

It checks the file's structure (header, objects, the xref table and trailer) and returns
the text shown by each page's content streams (Tj and TJ operators), one line per
text-showing operator, in page order.
"""

from __future__ import annotations

import base64
import re
import zlib

_OBJECT = re.compile(rb"\n\d+ 0 obj\b")
_STREAM = re.compile(rb"^(.*?)stream\r?\n(.*?)\s*endstream", re.S)
_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)")
_ESCAPES = {
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"b": b"\b",
    b"f": b"\f",
    b"(": b"(",
    b")": b")",
    b"\\": b"\\",
}


def check_structure(pdf: bytes) -> int:
    """Raise AssertionError unless `pdf` looks like a complete PDF; returns its page count."""
    assert pdf.startswith(b"%PDF-1."), pdf[:20]
    assert pdf.rstrip().endswith(b"%%EOF"), pdf[-40:]
    assert b"\nxref\n" in pdf and b"trailer" in pdf and b"startxref" in pdf
    start = int(pdf[pdf.rindex(b"startxref") + 9 :].split()[0])
    assert pdf[start : start + 4] == b"xref", "startxref does not point at the xref table"
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert pages >= 1
    return pages


def _unescape(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        ch = raw[i : i + 1]
        if ch == b"\\" and i + 1 < len(raw):
            nxt = raw[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 2
                continue
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8))
                i += 1 + len(octal.group())
                continue
            i += 1
            continue
        out += ch
        i += 1
    return bytes(out)


def text(pdf: bytes) -> str:
    """The text the PDF shows, one text operator per line (WinAnsi decoded as cp1252)."""
    check_structure(pdf)
    lines = []
    for chunk in _OBJECT.split(pdf)[1:]:
        found = _STREAM.match(chunk)
        if found is None:
            continue
        header, body = found.groups()
        if b"/Subtype /Image" in header:
            continue
        if b"/ASCII85Decode" in header:
            body = base64.a85decode(body.strip().removesuffix(b"~>").replace(b"\n", b""))
        if b"/FlateDecode" in header:
            body = zlib.decompress(body)
        for op in re.finditer(rb"(\[.*?\])\s*TJ|(\((?:\\.|[^\\)])*\))\s*Tj", body, re.S):
            chunk = op.group(1) or op.group(2)
            pieces = [_unescape(s[1:-1]) for s in _STRING.findall(chunk)]
            lines.append(b"".join(pieces).decode("cp1252", "replace"))
    return "\n".join(lines)


def flat(pdf: bytes) -> str:
    """The text with line breaks and runs of spaces made single spaces (for phrase checks)."""
    return " ".join(text(pdf).split())
