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
# a small text into billions of nodes. libyaml's parser (scanner and event parser) keeps
# its state on the heap; only the composer, which builds nodes from the events, recurses.
# So the limits are counted over the parser's event stream, which is exactly the nesting
# the composer would recurse through, and the count stops at the first event past a limit.

MAX_DEPTH = 50  # a scenario or course file nests about 8 deep
MAX_ALIASES = 100  # references to anchors (``*name``); the library and courses use none
MAX_DOCUMENT_BYTES = 2_000_000  # the largest built-in course is ~90 kB

# The libyaml-backed SafeLoader composes ~15x faster and gives the same node graph
# and marks; the pure-Python SafeLoader is the fallback where libyaml is missing.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks
_COLLECTION_START = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_END = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def check_limits(text: str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
    """Raise ``DocumentError`` if ``text`` is too large, nests too deeply or has too many aliases.

    Size is measured first; then nesting (flow and block collections alike) and aliases
    are counted over the YAML parser's events, which never recurses, so this is safe on
    any input. The issue names the line of the first event past a limit. A syntax error
    met on the way is raised as the same issue ``parse_yaml`` gives for it.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise _limit_error(f"the document is {size:,} bytes; at most {max_bytes:,} are allowed", None)
    _check_text(text)
    loader = _BaseLoader(text)
    depth = aliases = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, _COLLECTION_START):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _limit_error(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark.line + 1)
            elif isinstance(event, _COLLECTION_END):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise _limit_error(f"more than {MAX_ALIASES} aliases (*name)", event.start_mark.line + 1)
    except yaml.YAMLError as exc:
        raise DocumentError([_syntax_issue(exc)]) from None
    finally:
        loader.dispose()


def _limit_error(message: str, line: int | None) -> DocumentError:
    return DocumentError([Issue("(document)", message, line)])


def _check_text(text: str) -> None:
    """A lone surrogate (``"\\ud800"`` from JSON) cannot be encoded for the parser: say where."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = len(_LINE_BREAK.findall(text, 0, exc.start)) + 1
        code = ord(text[exc.start])
        raise _limit_error(f"cannot be read: U+{code:04X} is not a character", line) from None


def _syntax_issue(exc: yaml.YAMLError) -> Issue:
    """The issue for a YAML syntax error, with its line when the parser knows it."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return Issue("(document)", f"YAML syntax: {problem}", line)
    return Issue("(document)", f"YAML syntax: {exc}", None)


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
    except yaml.YAMLError as exc:  # the composer's own errors: undefined or duplicate anchors
        raise DocumentError([_syntax_issue(exc)]) from None
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
