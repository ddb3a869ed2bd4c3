"""Download file names: every `Content-Disposition` header Ripple sends is built here.

Names are made from what people type (badge numbers, agency and course slugs), so they are
reduced to letters, digits, `.`, `-` and `_` before they reach a header: no quote, semicolon,
slash, control character or line break can end the name early, add a parameter or a header,
or point outside the downloads folder. A name with letters beyond ASCII also gets RFC 6266's
`filename*` (RFC 8187 UTF-8 percent-encoding), with a plain-ASCII `filename` beside it for
older clients.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME = 120
_RUNS = re.compile(r"_{2,}")


def _keep(char: str) -> bool:
    return char in ".-_" or unicodedata.category(char)[0] in "LN"


def safe_filename(name: str, default: str = "download") -> str:
    """`name` with everything but letters, digits, `.`, `-` and `_` turned into `_`, no leading
    dot, at most MAX_NAME characters (the extension kept); `default` if nothing is left."""
    cleaned = "".join(c if _keep(c) else "_" for c in unicodedata.normalize("NFC", name or ""))
    cleaned = _RUNS.sub("_", cleaned).strip("._")
    if len(cleaned) > MAX_NAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and len(extension) <= 16:
            cleaned = stem[: MAX_NAME - len(extension) - 1].rstrip("._") + "." + extension
        else:
            cleaned = cleaned[:MAX_NAME].rstrip("._")
    return cleaned or default


def attachment(name: str, default: str = "download") -> str:
    """The `Content-Disposition` value that downloads a file called (a safe form of) `name`."""
    safe = safe_filename(name, default)
    fallback = safe_filename(unicodedata.normalize("NFKD", safe).encode("ascii", "ignore").decode(), default)
    stem, dot, extension = safe.rpartition(".")
    if dot and stem and not fallback.endswith("." + extension):
        fallback = safe_filename(f"{default}.{extension}")  # nothing of the name was ASCII
    if fallback == safe:
        return f'attachment; filename="{safe}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe, safe='')}"
