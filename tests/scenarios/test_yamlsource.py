"""The YAML loader remembers lines; the collector reports every problem at once."""

from __future__ import annotations

import pytest

from scenarios.yamlsource import DocumentError, Issue, IssueCollector, format_path, parse_yaml

TEXT = """\
title: Example
items:
  - name: first
    tags: [a, b]
  - name: second
    size: 3
"""


def test_data_is_plain_python():
    doc = parse_yaml(TEXT)
    assert doc.data == {
        "title": "Example",
        "items": [{"name": "first", "tags": ["a", "b"]}, {"name": "second", "size": 3}],
    }


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 1),
        (("title",), 1),
        (("items", 0), 3),
        (("items", 0, "tags", 1), 4),
        (("items", 1, "size"), 6),
        (("items", 1, "nope", 3), 5),
    ],
)
def test_line_of_finds_the_node_or_its_nearest_ancestor(path, line):
    assert parse_yaml(TEXT).line_of(path) == line


def test_format_path():
    assert format_path(("decisions", 2, "options", 1)) == "decisions[2].options[1]"
    assert format_path(()) == "(document)"


def test_issue_reads_like_a_sentence():
    issue = Issue(
        "decisions[2].options[1].actions[0].partner", 'unknown partner "pastr"; known: faith_leader', 48
    )
    assert (
        str(issue)
        == 'decisions[2].options[1].actions[0].partner: unknown partner "pastr"; known: faith_leader (line 48)'
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: [1,\n", 2), ("a: b: c\n", 1), ("a: 1\nb:\n  - x\n - y\n", 4), ("a: 1\na: 2\n", 2)],
)
def test_syntax_errors_carry_a_line(text, line):
    with pytest.raises(DocumentError) as err:
        parse_yaml(text)
    assert err.value.issues[0].line == line


def test_collector_gathers_all_problems_with_lines():
    doc = parse_yaml(TEXT)
    c = IssueCollector(doc)
    c.require(doc.data, "missing", (), str)
    c.optional(doc.data["items"][1], "size", ("items", 1), int, 1, max=2)
    c.choice("c", ("items", 0, "tags", 1), ["a", "b"], what="tag")
    assert c.optional(doc.data, "absent", (), int, 7) == 7
    with pytest.raises(DocumentError) as err:
        c.raise_if_any()
    assert [str(i) for i in err.value.issues] == [
        '(document): missing required key "missing" (line 1)',
        "items[1].size: must be at most 2, got 3 (line 6)",
        'items[0].tags[1]: unknown tag "c"; known: a, b (line 4)',
    ]
    assert "3 problems" in str(err.value)


def test_type_mismatch_is_named():
    doc = parse_yaml("n: yes\n")
    c = IssueCollector(doc)
    c.require(doc.data, "n", (), int)
    assert str(c.issues[0]) == "n: expected a whole number, got true or false (line 1)"
