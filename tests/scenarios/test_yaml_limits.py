"""Hostile YAML is refused before the parser sees it: size, nesting and aliases.

PyYAML's C composer recurses once per nesting level, so 30,000 "[" kill the process
with a segfault. Every YAML text goes through ``parse_yaml``, whose pre-scan answers
such a text with a validation issue instead. The crash tests parse in a subprocess,
so that without the pre-scan they fail instead of killing pytest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import scenarios as engine
from lms import course_format as cf
from scenarios.yamlsource import MAX_ALIASES, MAX_DEPTH, DocumentError, Issue, check_limits, parse_yaml

ROOT = Path(__file__).resolve().parents[2]
DEEP_FLOW = "[" * 30_000 + "]" * 30_000
HOSTILE = {
    "deep flow sequence": DEEP_FLOW,
    "deep flow mapping": "{a: " * 30_000 + "}" * 30_000,
    "deep value": "title: " + DEEP_FLOW,
    "deep compact sequences": "- " * 30_000 + "x\n",
    "deep indentation": "".join(" " * i + "- a:\n" for i in range(0, 4 * MAX_DEPTH, 2)),
}


def _issue(text: str, **kwargs):
    with pytest.raises(DocumentError) as caught:
        parse_yaml(text, **kwargs)
    (issue,) = caught.value.issues
    return issue


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_deep_nesting_is_an_issue_with_its_line(text):
    issue = _issue(text)
    assert issue.path == "(document)"
    assert issue.message == f"nesting deeper than {MAX_DEPTH} levels"
    assert issue.line is not None


def test_the_line_is_where_the_limit_is_passed():
    text = "title: ok\nsummary: fine\nbriefing: " + "[" * (MAX_DEPTH + 5) + "\n"
    assert _issue(text).line == 3


@pytest.mark.parametrize(
    "text",
    [
        "a: [[1, 2], {b: [c]}]\n",
        # brackets in text are not nesting: quoted, block scalars, comments, plain words
        "a: '" + "[" * 200 + "'\nb: \"" + "{" * 200 + '"\n',
        "a: |\n  " + "[" * 200 + "\n  more [[[[ text\nb: 1\n",
        "- >-\n " + "[" * 200 + "\n- 2\n",
        "a: 1  # " + "[" * 200 + "\n",
        "title: Officer [" + "[" * 200 + " notes\n",
        "label: it's fine [[[[[[[[ isn't it\n",
    ],
)
def test_text_that_only_looks_deep_is_accepted(text):
    parse_yaml(text)


@pytest.mark.parametrize(
    "text",
    [
        # a bracket that closes inside a quote running over lines cannot hide later nesting
        'a: ["x\n]]]]\n", ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "]\n",
        # nor can a quote-like character in a continuation line
        "a: x\n  'y\nb: " + "[" * (MAX_DEPTH + 1) + "\nc: '\n",
        # a value right after ":" in flow context is a node, so its quote is a quote
        "[\"a\":'x #', " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "]\n",
        # a block scalar ends where its owner's indentation comes back
        "- k: |\n    text\n  o: " + "[" * (MAX_DEPTH + 1) + "\n",
    ],
)
def test_nesting_behind_quotes_and_blocks_is_still_counted(text):
    assert _issue(text).message == f"nesting deeper than {MAX_DEPTH} levels"


def test_alias_bombs_are_refused():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    issue = _issue("\n".join(levels) + "\n")
    assert issue.message == f"more than {MAX_ALIASES} aliases (*name)"
    assert issue.line == 12  # the 101st alias


@pytest.mark.parametrize(("count", "refused"), [(MAX_ALIASES, False), (MAX_ALIASES + 1, True)])
def test_the_alias_limit_counts_every_alias_exactly(count, refused):
    text = "a: &a x\nb: [" + ", ".join(["*a"] * count) + "]\n"
    if refused:
        assert _issue(text) == Issue("(document)", f"more than {MAX_ALIASES} aliases (*name)", 2)
    else:
        assert parse_yaml(text).data["b"] == ["x"] * count


def test_a_lone_surrogate_is_an_issue_with_its_line():
    assert _issue("a: 1\nb: x\ud800y\n") == Issue(
        "(document)", "cannot be read: U+D800 is not a character", 2
    )


def test_an_alias_as_a_key_is_not_expanded():
    text = "big: &big [" + ", ".join(["x"] * 50) + "]\n? *big\n: value\n"
    assert _issue(text).message == "a mapping key must be a plain value"


def test_size_is_limited_before_parsing():
    issue = _issue("a: " + "x" * 100 + "\n", max_bytes=50)
    assert issue.message == "the document is 104 bytes; at most 50 are allowed"
    assert issue.line is None


@pytest.mark.parametrize("path", [*engine.list_library(), *cf.builtin_course_paths()], ids=lambda p: p.name)
def test_every_built_in_file_passes_the_limits(path):
    check_limits(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "load", [engine.load_scenario, cf.load_course], ids=["scenario format", "course format"]
)
@pytest.mark.parametrize("text", [DEEP_FLOW, "title: " + DEEP_FLOW + "\n"], ids=["document", "title"])
def test_both_formats_report_it_as_a_validation_issue(load, text):
    with pytest.raises(DocumentError) as caught:
        load(text)
    assert [str(i) for i in caught.value.issues] == [
        f"(document): nesting deeper than {MAX_DEPTH} levels (line 1)"
    ]


def _in_subprocess(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *(("-c", code) if code else ()), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("loader", ["scenarios.load_scenario", "lms.course_format.load_course"])
def test_the_crash_input_does_not_kill_the_process(loader):
    module, name = loader.rsplit(".", 1)
    code = (
        f"import sys; from {module} import {name}\n"
        f"try:\n    {name}('[' * 30000 + ']' * 30000)\n"
        "except ValueError as error:\n    print(error)\n"
    )
    done = _in_subprocess(code)
    assert done.returncode == 0, (
        f"killed by signal {-done.returncode}" if done.returncode < 0 else done.stderr
    )
    assert f"nesting deeper than {MAX_DEPTH} levels" in done.stdout


# libyaml skips a byte-order mark at the start of any line: these crashed a pre-scan that
# read it as text. (text, the line where the limit is passed)
BOM = "\ufeff"
BEHIND_A_BOM = {
    "before flow nesting": (BOM + "[" * 30_000, 1),
    "before compact sequences": (BOM + "- " * 30_000 + "x\n", 1),
    "on the value's line": ("title:\n" + BOM + "  " + "[" * 30_000, 2),
    "on every indented line": ("".join(BOM + " " * i + "- a:\n" for i in range(0, 4 * MAX_DEPTH, 2)), 26),
}


@pytest.mark.parametrize(("text", "line"), list(BEHIND_A_BOM.values()), ids=list(BEHIND_A_BOM))
def test_nesting_behind_a_byte_order_mark_is_an_issue_not_a_crash(text, line):
    code = (
        "import sys\nfrom scenarios.yamlsource import parse_yaml\n"
        "try:\n    parse_yaml(sys.stdin.read())\nexcept ValueError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=text, cwd=ROOT, capture_output=True, text=True, encoding="utf-8"
    )
    assert done.returncode == 0, (
        f"killed by signal {-done.returncode}" if done.returncode < 0 else done.stderr
    )
    assert done.stdout == f"(document): nesting deeper than {MAX_DEPTH} levels (line {line})\n"


# Every way to nest, a million characters deep, behind the characters libyaml skips or reads
# as line breaks: the limits answer each with an issue, in one process that must survive.
ODD = {"nothing": "", "BOM": BOM, "NEL": "\x85", "LS": "\u2028", "PS": "\u2029", "tab": "\t", "CR": "\r"}


def nested_texts():
    """(name, text): each nesting shape after each odd character."""
    for odd_name, odd in ODD.items():
        # lines end with the odd line break, else a newline (and a BOM starts every line)
        eol = {"": "\n", "\t": "\n", BOM: "\n" + BOM}.get(odd, odd)
        shapes = {
            "[": "[" * 10**6,
            "{": "{" * 10**6,
            "{a: ": "{a: " * 250_000,
            "- ": "- " * 500_000 + "x",
            "? ": "? " * 500_000,
            "[a: ": "[a: " * 250_000,
            "mixed": "- " * 30 + "[{a: " * 200_000,
            "indentation": "".join(" " * i + "a:" + eol for i in range(1400)),
            "indented sequences": "".join(" " * i + "- a:" + eol for i in range(0, 2800, 2)),
        }
        for shape_name, shape in shapes.items():
            yield f"{shape_name} after {odd_name}", odd + shape


def test_no_nesting_shape_behind_odd_characters_crashes_the_limits():
    code = (
        "from scenarios.yamlsource import DocumentError, check_limits\n"
        "from tests.scenarios.test_yaml_limits import nested_texts\n"
        "for name, text in nested_texts():\n"
        "    try:\n        check_limits(text)\n        print(name, '= accepted')\n"
        "    except DocumentError as error:\n        print(name, '=', error.issues[0].message.split(':')[0])\n"
    )
    done = _in_subprocess(code)
    assert done.returncode == 0, (
        f"killed by signal {-done.returncode}" if done.returncode < 0 else done.stderr
    )
    answers = dict(line.split(" = ") for line in done.stdout.splitlines())
    assert list(answers) == [name for name, _ in nested_texts()]
    # a tab cannot start a token in YAML: that text is refused as a syntax error instead
    assert answers == {
        name: "YAML syntax" if name.endswith("after tab") else f"nesting deeper than {MAX_DEPTH} levels"
        for name in answers
    }


@pytest.mark.parametrize("text", [DEEP_FLOW, BOM + DEEP_FLOW], ids=["plain", "after a byte-order mark"])
def test_cli_validate_reports_it_and_exits_with_the_validation_code(tmp_path, text):
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(text + "\n", encoding="utf-8")
    done = _in_subprocess("", "-m", "scenarios", "validate", str(hostile))
    assert done.returncode == 1, (
        f"killed by signal {-done.returncode}" if done.returncode < 0 else done.stderr
    )
    assert f"nesting deeper than {MAX_DEPTH} levels (line 1)" in done.stdout


# Random texts from YAML's indicators, breaks, indentation and the characters libyaml skips
# or reads as breaks (BOM, NEL, LS, PS, tabs, lone CR).
PIECES = [
    "[", "]", "{", "}", ",", ": ", ":", "- ", "-", "? ", "'", '"', "#", " #", "|", ">", "|-",
    "\n", "\n  ", "\n    ", "\n      ", " ", "  ", "a", "key", "&x ", "!t ", "\\", "''",
    "\t", "\r\n", "\r", "--- ", "...", "\x0c", "\u2028", "\u2029", "\x85", "\ufeff",
]  # fmt: skip


def _random_texts(count: int):
    import random

    rng = random.Random(13)
    for _ in range(count):
        yield "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 60)))


BREAKS = ["\n", "\r\n", "\r", "\x85", "\u2028", "\u2029"]


def _random_documents(count: int):
    """Random nested data written in random YAML styles, with YAML's other line breaks and
    byte-order marks at line starts: texts that mostly parse, unlike the random pieces."""
    import random

    import yaml

    rng = random.Random(13)

    def data(level: int):
        kind = rng.random()
        if level > 7 or kind < 0.3:
            return rng.choice(["a", 1, "x y", None, "[", "- b", "#c"])
        items = [data(level + 1) for _ in range(rng.randint(0, 3))]
        return items if kind < 0.6 else {f"k{i}": item for i, item in enumerate(items)}

    for _ in range(count):
        text = yaml.safe_dump(
            data(0), default_flow_style=rng.choice([False, None, True]), indent=rng.choice([2, 3])
        )
        lines = [("\ufeff" if rng.random() < 0.2 else "") + line for line in text.split("\n")]
        yield "".join(line + rng.choice(BREAKS) for line in lines)


def _composed(text: str):
    """libyaml's own node graph of every document in ``text``, or the YAML error it raises."""
    import yaml

    loader = yaml.CSafeLoader(text)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
        return nodes
    except yaml.YAMLError as error:
        return error
    finally:
        loader.dispose()


def _nesting(node) -> int:
    """How deep the composer recursed for ``node`` (the texts have no aliases)."""
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return 1 + max((_nesting(item) for item in node.value), default=0)
    if isinstance(node, yaml.MappingNode):
        return 1 + max((_nesting(part) for pair in node.value for part in pair), default=0)
    return 0


def test_the_depth_limit_is_exactly_the_nesting_libyaml_composes(monkeypatch):
    import scenarios.yamlsource as yamlsource

    checked = 0
    for text in [*_random_texts(20_000), *_random_documents(3_000)]:
        nodes = _composed(text)
        if isinstance(nodes, Exception) or not nodes:
            continue
        depth = max(_nesting(node) for node in nodes)
        if depth < 2:
            continue
        monkeypatch.setattr(yamlsource, "MAX_DEPTH", depth)
        check_limits(text)  # as deep as allowed: accepted
        monkeypatch.setattr(yamlsource, "MAX_DEPTH", depth - 1)
        with pytest.raises(DocumentError, match="nesting deeper than"):
            check_limits(text)
        checked += 1
    assert checked > 600, checked


def test_a_syntax_error_met_by_the_limits_is_the_issue_the_parser_gives():
    import yaml

    from scenarios.yamlsource import _syntax_issue

    checked = 0
    for text in _random_texts(5_000):
        error = _composed(text)
        if not isinstance(error, yaml.YAMLError) or isinstance(error, yaml.composer.ComposerError):
            continue
        with pytest.raises(DocumentError) as caught:
            check_limits(text)
        assert caught.value.issues == [_syntax_issue(error)], repr(text)
        checked += 1
    assert checked > 1_000, checked
