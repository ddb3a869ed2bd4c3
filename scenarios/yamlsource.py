"""YAML with line numbers, and a collector of validation issues.

Shared by the scenario format and the course format: nothing here knows about
scenarios. ``parse_yaml`` builds plain Python data from PyYAML's node graph and
remembers the line of every node, so a validator can say *where* a problem is.
``IssueCollector`` gathers every problem in one pass, so an author sees them all
at once instead of fixing one error per run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MISSING",
    "Document",
    "DocumentError",
    "Issue",
    "IssueCollector",
    "check_limits",
    "format_path",
    "parse_yaml",
]

Path = tuple  # elements: str keys and int indexes


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def format_path(path: Sequence[str | int]) -> str:
    """``("decisions", 2, "options", 1)`` -> ``"decisions[2].options[1]"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True)
class Issue:
    """One problem found in a document: where, what, and on which line."""

    path: str
    message: str
    line: int | None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.path}: {self.message}{where}"


class DocumentError(ValueError):
    """A document is invalid; ``.issues`` lists every problem found."""

    def __init__(self, issues: Iterable[Issue]):
        self.issues: list[Issue] = list(issues)
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.issues:
            return "invalid document"
        if len(self.issues) == 1:
            return str(self.issues[0])
        lines = [f"{len(self.issues)} problems:"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._render()


@dataclass
class Document:
    """Parsed YAML: ``data`` is plain Python; ``line_of(path)`` finds source lines."""

    data: Any
    text: str = ""
    _lines: dict[tuple, int] = field(default_factory=dict, repr=False)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the node at ``path``, else of its nearest known ancestor."""
        key = tuple(path)
        while True:
            if key in self._lines:
                return self._lines[key]
            if not key:
                return None
            key = key[:-1]


# --- limits checked before the YAML parser sees the text ---------------------------
#
# PyYAML's libyaml composer recurses once per nesting level in C: 30,000 "[" overflow the
# C stack and kill the process (there is no Python exception to catch). Aliases can expand
# a small text into billions of nodes. So one linear pass over the text bounds nesting,
# aliases and size first. It errs on the side of counting too much: what it cannot place
# (a quote that runs over lines, a bracket at the start of a continuation line) counts as
# nesting, so a document passes only if the parser cannot nest deeper than the limit.

MAX_DEPTH = 50  # a scenario or course file nests about 8 deep
MAX_ALIASES = 100  # references to anchors (``*name``); the library and courses use none
MAX_DOCUMENT_BYTES = 2_000_000  # the largest built-in course is ~90 kB

# "[a: b]" nests a mapping in the sequence without a bracket of its own: every bracket
# counts as two levels
_FLOW_LEVELS = 2
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_BLOCK_HEADER = re.compile(r"[|>][0-9+-]*[ \t]*(?:#.*)?$")


def check_limits(text: str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
    """Raise ``DocumentError`` if ``text`` is too large, nests too deeply or has too many aliases.

    One pass over the characters and no parser, so it is safe on any input. Nesting
    counts flow collections (``[``, ``{``) and block indentation levels together; the
    issue names the line where the limit is passed.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise _limit_error(f"the document is {size:,} bytes; at most {max_bytes:,} are allowed", None)
    scan = _LimitScan()
    # exactly YAML's line breaks: splitting on fewer would hide lines from the scan, on
    # more (form feeds ...) would forget indentation the parser still counts
    for number, line in enumerate(_LINE_BREAK.split(text), 1):
        scan.line(line, number)


def _limit_error(message: str, line: int | None) -> DocumentError:
    return DocumentError([Issue("(document)", message, line)])


class _LimitScan:
    """The state of ``check_limits`` between lines."""

    def __init__(self) -> None:
        self.flow = 0  # open flow collections
        self.columns: list[int] = []  # block nesting: the columns of the open block nodes
        self.quote = ""  # inside a quoted scalar that runs over lines
        self.quote_base = 0  # flow depth where that quote started
        self.block_scalar: int | None = None  # in a | or > block: lines indented past this
        self.aliases = 0

    def _check_depth(self, number: int) -> None:
        if len(self.columns) + self.flow > MAX_DEPTH:
            raise _limit_error(f"nesting deeper than {MAX_DEPTH} levels", number)

    def line(self, line: str, number: int) -> None:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if self.block_scalar is not None:
            if not stripped.strip(" \t") or indent > self.block_scalar:
                return
            self.block_scalar = None
        end = len(line)
        if self.quote:
            i, self.flow, closed = _scan_quote(line, 0, self.quote, self.flow, self.quote_base)
            self._check_depth(number)
            if not closed:
                return
            self.quote = ""
            at_start = False
        else:
            if not stripped or stripped.startswith("#"):
                return
            i = indent
            if self.flow == 0:
                while self.columns and self.columns[-1] > indent:
                    self.columns.pop()
            at_start = True  # where a node may begin
        columns = self.columns
        owner = indent  # a block scalar's lines are those indented past its owner
        node = indent  # where the last node began (a key, before its ":")
        space_before = True
        while i < end:
            ch = line[i]
            if ch == " " or ch == "\t":
                space_before = True
                i += 1
                continue
            if ch == "#" and space_before:
                return  # a comment
            space_before = False
            nxt = line[i + 1] if i + 1 < end else " "
            if at_start:
                node = i
                if self.flow == 0 and (not columns or i > columns[-1]):
                    columns.append(i)
                    self._check_depth(number)
            if ch in "[{" and (self.flow or at_start):
                self.flow += _FLOW_LEVELS
                self._check_depth(number)
                at_start = True
            elif ch in "]}" and self.flow:
                self.flow -= _FLOW_LEVELS
                at_start = False
            elif ch == ",":
                at_start = True  # also in block context: counting too much is safe
            elif ch == ":" and (nxt in " \t" or self.flow):
                # in flow context a value may follow ":" directly ({"a":'b'}): take every ":"
                at_start = True
                owner = node
            elif ch in "-?" and at_start and nxt in " \t":
                owner = i
                if ch == "-" and self.flow == 0 and columns[-1] == i and columns[-2:-1] != [i]:
                    columns.append(i)  # "key:" then "- item" below it: a sequence in the same column
                    self._check_depth(number)
            elif ch in "-." and at_start and i == 0 and line[:3] == ch * 3 and line[3:4] in ("", " ", "\t"):
                i += 3  # a document marker: a node may follow "---"
                continue
            elif at_start and ch in "'\"":
                after, flow, closed = _scan_quote(line, i + 1, ch, self.flow, self.flow)
                if not closed:  # brackets inside may be structure after all: count them
                    self.flow, self.quote, self.quote_base = flow, ch, self.flow
                    self._check_depth(number)
                    return
                i, at_start = after, False
                continue
            elif at_start and ch == "*":
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise _limit_error(f"more than {MAX_ALIASES} aliases (*name)", number)
                at_start = False
            elif at_start and ch in "&!":
                while i < end and line[i] not in " \t,[]{}":
                    i += 1  # an anchor or a tag: the node follows
                continue
            elif at_start and self.flow == 0 and ch in "|>" and _BLOCK_HEADER.match(line, i):
                self.block_scalar = owner
                return
            else:
                at_start = False
            i += 1


def _scan_quote(line: str, i: int, quote: str, flow: int, base: int) -> tuple[int, int, bool]:
    """Scan a quoted scalar from ``i``: (position after it, flow depth, closed on this line).

    Brackets inside raise the flow depth (a caller that knows the quote closes on its
    own line ignores that) and never close below ``base``.
    """
    end = len(line)
    while i < end:
        ch = line[i]
        if ch == quote:
            if quote == "'" and i + 1 < end and line[i + 1] == "'":
                i += 2  # '' is an escaped quote
                continue
            return i + 1, flow, True
        if ch == "\\" and quote == '"':
            i += 2
            continue
        if ch in "[{":
            flow += _FLOW_LEVELS
        elif ch in "]}" and flow > base:
            flow -= _FLOW_LEVELS
        i += 1
    return i, flow, False


# The libyaml-backed SafeLoader composes ~15x faster and gives the same node graph
# and marks; the pure-Python SafeLoader is the fallback where libyaml is missing.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):
    """SafeLoader whose composed node graph we walk ourselves."""


# YAML 1.1 reads a float only with a dot ("1.0e+9"); "1e9" would be text. Read it as a
# number (as YAML 1.2 does), so range checks see it and can say what is wrong.
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _construct_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    return loader.construct_object(node, deep=True)


_MAX_NODES = 200_000  # guards against alias bombs ("billion laughs")


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: tuple, lines: dict) -> Any:
    lines[path] = node.start_mark.line + 1
    if len(lines) > _MAX_NODES:
        raise DocumentError([Issue("(document)", "document is too large", None)])
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # a key is walked with lines of its own: only a scalar, so an alias to a huge
            # collection cannot make the walk expand it outside the node count
            key = (
                _walk(loader, key_node, path + ("<key>",), {})
                if isinstance(key_node, yaml.ScalarNode)
                else []
            )
            if isinstance(key, (list, dict)):
                raise DocumentError(
                    [
                        Issue(
                            format_path(path),
                            "a mapping key must be a plain value",
                            key_node.start_mark.line + 1,
                        )
                    ]
                )
            if key in result:
                raise DocumentError(
                    [
                        Issue(
                            format_path(path + (str(key),)),
                            f'duplicate key "{key}"',
                            key_node.start_mark.line + 1,
                        )
                    ]
                )
            child = path + (key if isinstance(key, (str, int)) else str(key),)
            result[key] = _walk(loader, value_node, child, lines)
            # a key's own line is more useful than its value's (block scalars)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, path + (i,), lines) for i, item in enumerate(node.value)]
    try:
        value = _construct_scalar(loader, node)
    except ValueError:  # e.g. a whole number of more than 4,300 digits
        raise DocumentError(
            [Issue(format_path(path), "cannot be read: a number this long is not allowed", lines[path])]
        ) from None
    # dates and timestamps become strings: data stays JSON-friendly
    if not isinstance(value, (str, int, float, bool, type(None))):
        value = str(node.value)
    return value


def parse_yaml(text: str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    """Parse one YAML document; syntax errors become a ``DocumentError`` with the line.

    Every YAML text of the scenario and course formats comes through here, and
    ``check_limits`` sees it before the parser does (size, nesting, aliases).
    """
    if not isinstance(text, str):
        raise DocumentError([Issue("(document)", "expected YAML text", None)])
    check_limits(text, max_bytes=max_bytes)
    loader = _LineLoader(text)
    try:
        try:
            node = loader.get_single_node()
            lines: dict[tuple, int] = {}
            data = None if node is None else _walk(loader, node, (), lines)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise DocumentError([Issue("(document)", f"YAML syntax: {problem}", line)]) from None
    except yaml.YAMLError as exc:
        raise DocumentError([Issue("(document)", f"YAML syntax: {exc}", None)]) from None
    except RecursionError:
        raise DocumentError([Issue("(document)", "document is nested too deeply", None)]) from None
    return Document(data=data, text=text, _lines=lines)


_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
}


def _type_name(types: type | tuple[type, ...]) -> str:
    if isinstance(types, tuple):
        return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
    return _TYPE_NAMES.get(types, types.__name__)


def _actual_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class IssueCollector:
    """Collects issues against a Document; getters record problems instead of raising.

    Every getter returns a usable value (the default, or ``MISSING``) so validation
    can carry on and report all problems in one pass.
    """

    def __init__(self, document: Document | None = None, error_class: type = DocumentError):
        self.document = document
        self.error_class = error_class
        self.issues: list[Issue] = []

    # -- recording ---------------------------------------------------------
    def add(self, path: Sequence[str | int], message: str) -> None:
        line = self.document.line_of(path) if self.document is not None else None
        self.issues.append(Issue(format_path(path), message, line))

    def raise_if_any(self) -> None:
        if self.issues:
            raise self.error_class(self.issues)

    def __bool__(self) -> bool:
        return bool(self.issues)

    # -- type checks ---------------------------------------------------------
    def check_type(self, value: Any, path: Sequence, types: type | tuple) -> bool:
        """True if value has the type; numbers accept ints where floats are asked."""
        want = types if isinstance(types, tuple) else (types,)
        if float in want and isinstance(value, int) and not isinstance(value, bool):
            return True
        ok = False if isinstance(value, bool) and bool not in want else isinstance(value, want)
        if not ok:
            self.add(path, f"expected {_type_name(types)}, got {_actual_name(value)}")
        return ok

    def mapping(self, value: Any, path: Sequence, *, allowed: Iterable[str] | None = None) -> dict:
        """Value as a dict (``{}`` after recording an issue); flags unknown keys."""
        if value is MISSING:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"expected a mapping, got {_actual_name(value)}")
            return {}
        if allowed is not None:
            allowed = list(allowed)
            for key in value:
                if key not in allowed:
                    self.add(
                        tuple(path) + (str(key),),
                        f'unknown key "{key}"; known: {", ".join(allowed)}',
                    )
        return value

    def sequence(self, value: Any, path: Sequence, *, min_len: int = 0, max_len: int | None = None) -> list:
        """Value as a list (``[]`` after recording an issue), with length bounds."""
        if value is MISSING:
            return []
        if not isinstance(value, list):
            self.add(path, f"expected a list, got {_actual_name(value)}")
            return []
        if len(value) < min_len:
            self.add(path, f"needs at least {min_len} item(s), has {len(value)}")
        if max_len is not None and len(value) > max_len:
            self.add(path, f"allows at most {max_len} item(s), has {len(value)}")
        return value

    def require(
        self,
        mapping: Any,
        key: str,
        path: Sequence,
        types: type | tuple = str,
        *,
        min: float | None = None,
        max: float | None = None,
        choices: Iterable | None = None,
        nonempty: bool = True,
    ) -> Any:
        """A required key; records "missing" or a type/range/choice issue, returns MISSING."""
        path = tuple(path)
        if not isinstance(mapping, dict) or key not in mapping:
            self.add(path, f'missing required key "{key}"')
            return MISSING
        return self._checked(mapping[key], path + (key,), types, min, max, choices, nonempty, MISSING)

    def optional(
        self,
        mapping: Any,
        key: str,
        path: Sequence,
        types: type | tuple = str,
        default: Any = None,
        *,
        min: float | None = None,
        max: float | None = None,
        choices: Iterable | None = None,
        nonempty: bool = True,
    ) -> Any:
        """An optional key; absent or null gives ``default``; a bad value records an issue."""
        path = tuple(path)
        if not isinstance(mapping, dict) or key not in mapping or mapping[key] is None:
            return default
        return self._checked(mapping[key], path + (key,), types, min, max, choices, nonempty, default)

    def number(
        self,
        value: Any,
        path: Sequence,
        *,
        min: float | None = None,
        max: float | None = None,
        default: Any = MISSING,
    ) -> Any:
        """A number within [min, max]; returns ``default`` after recording an issue."""
        return self._checked(value, tuple(path), float, min, max, None, True, default)

    def choice(
        self, value: Any, path: Sequence, choices: Iterable, *, what: str = "value", default: Any = MISSING
    ) -> Any:
        """One of ``choices``; the issue lists the known ones."""
        choices = list(choices)
        if value in choices and not isinstance(value, bool):
            return value
        known = ", ".join(str(c) for c in choices) or "(none)"
        self.add(path, f'unknown {what} "{value}"; known: {known}')
        return default

    def _checked(self, value, path, types, lo, hi, choices, nonempty, fallback):
        if not self.check_type(value, path, types):
            return fallback
        if isinstance(value, str) and nonempty and not value.strip():
            self.add(path, "must not be empty")
            return fallback
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value != value:  # NaN
                self.add(path, "must be a number, got NaN")
                return fallback
            if lo is not None and value < lo:
                self.add(path, f"must be at least {_number_text(lo)}, got {_number_text(value)}")
                return fallback
            if hi is not None and value > hi:
                self.add(path, f"must be at most {_number_text(hi)}, got {_number_text(value)}")
                return fallback
            if value in (math.inf, -math.inf):
                self.add(path, f"must be a finite number, got {value}")
                return fallback
            if types is float:
                value = float(value)
        if choices is not None:
            return self.choice(value, path, choices, default=fallback)
        return value


def _number_text(value: int | float) -> str:
    """A number for a message: ``1e+09``, ``inf``; a huge whole number by its size."""
    if isinstance(value, int) and abs(value) >= 10**15:
        return f"a number of {len(str(abs(value)))} digits"
    if isinstance(value, int) or (value.is_integer() and abs(value) < 10**15):
        return str(int(value))
    return f"{value:g}"
