"""Officers at US agencies read US English: British spellings may not come back into what they see.

The scan covers the words people read (template text and visible attributes, JavaScript string
literals, and the display-label tables the pages draw on), not identifiers: a slug such as
`crew-shooting-rumour`, a YAML key such as `rumour` or a role id such as `neighbourhood` stays as
it is, since stored data names it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "lms" / "templates"
SCRIPTS = ROOT / "lms" / "static" / "js"

# A small list of the British spellings an audit found, or that are the most likely to creep in.
BRITISH = re.compile(
    r"\b(rumours?|neighbour\w*|behaviours?|colour\w*|organis\w*|recognis\w*|institutionalis\w*|"
    r"personalis\w*|centres?|centred|licences?|programmes?|favour\w*|honour\w*|labour\w*|"
    r"defence|offence|analys(e|ed|es|ing)|catalogues?|travelled|travelling|grey)\b",
    re.IGNORECASE,
)

# Attributes whose values people read (or hear, with a screen reader).
VISIBLE_ATTRIBUTES = re.compile(r'\b(?:alt|title|aria-label|placeholder)="([^"]*)"')


def template_text(source: str) -> str:
    """The words of a Jinja template a reader meets: text and visible attributes, without the
    template's own code, the markup, or <code> (which names format keys)."""
    source = re.sub(r"\{#.*?#\}", " ", source, flags=re.DOTALL)
    source = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", source, flags=re.DOTALL)
    source = re.sub(r"<code>.*?</code>", " ", source, flags=re.DOTALL)
    attributes = " ".join(VISIBLE_ATTRIBUTES.findall(source))
    text = re.sub(r"<[^>]*>", " ", source)
    return f"{text} {attributes}"


def script_strings(source: str) -> str:
    """The string literals of a small script (what it writes on the page), not its names."""
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.DOTALL)
    source = re.sub(r"(?m)^\s*//.*$|\s//\s.*$", " ", source)
    return " ".join(m.group(2) for m in re.finditer(r"([\"'`])((?:\\.|(?!\1).)*)\1", source))


def _display_tables() -> dict[str, str]:
    """Each display-label table the pages and PDFs draw on, flattened to its words."""
    from lms.seat_time import _KIND_WORDS
    from lms.services import debrief, measures, roster_import, situation
    from scenarios.catalogue import OBJECTIVES, PARTNER_TYPES

    return {
        "scenarios.catalogue.OBJECTIVES": " ".join(OBJECTIVES.values()),
        "scenarios.catalogue.PARTNER_TYPES": " ".join(f"{t.label}. {t.role}" for t in PARTNER_TYPES.values()),
        "lms.services.measures.MEASURES": " ".join(
            f"{m.label}. {m.doc} {m.unit}" for m in measures.MEASURES.values()
        ),
        "lms.services.debrief.KIND_LABELS": " ".join(debrief.KIND_LABELS.values()),
        "lms.services.debrief.ACTION_WORDS": " ".join(debrief.ACTION_WORDS.values()),
        "lms.services.debrief.HEADLINE_MEASURES": " ".join(label for _, label in debrief.HEADLINE_MEASURES),
        "lms.services.situation.KIND_WORDS": " ".join(situation.KIND_WORDS.values()),
        "lms.services.situation.ASKED_TO": " ".join(situation.ASKED_TO.values()),
        "lms.services.roster_import.FIELD_LABELS": " ".join(roster_import.FIELD_LABELS.values()),
        "lms.seat_time._KIND_WORDS": " ".join(_KIND_WORDS.values()),
    }


def _f_string_text(path: Path) -> str:
    """The literal parts of a module's f-strings: sentences it writes, such as a debrief line."""
    tree = ast.parse(path.read_text())
    parts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts.extend(
                v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
    return " ".join(parts)


def british_words(text: str) -> list[str]:
    return sorted({m.group(0) for m in BRITISH.finditer(text)})


def test_the_scan_finds_british_spellings_and_leaves_identifiers_alone():
    page = '<h2 id="x" class="colour">How the rumour spread</h2><a href="/crew-shooting-rumour">{{ s.rumour }}</a>'
    assert british_words(template_text(page)) == ["rumour"]
    assert british_words(template_text('<img alt="Coloured by group" src="a.svg">')) == ["Coloured"]
    assert british_words(template_text("<p>Keys: <code>rumour</code></p>")) == []
    assert british_words(script_strings('var rumour = 1; el.textContent = "heard the rumour";')) == ["rumour"]


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_are_in_us_english(path):
    assert british_words(template_text(path.read_text())) == []


@pytest.mark.parametrize("path", sorted(SCRIPTS.glob("*.js")), ids=lambda p: p.name)
def test_scripts_write_us_english(path):
    assert british_words(script_strings(path.read_text())) == []


@pytest.mark.parametrize("name", sorted(_display_tables()))
def test_display_labels_are_in_us_english(name):
    assert british_words(_display_tables()[name]) == []


@pytest.mark.parametrize(
    "module", ["debrief.py", "situation.py", "network_picture.py", "facilitator.py", "seat_time.py"]
)
def test_sentences_written_in_code_are_in_us_english(module):
    path = ROOT / "lms" / ("seat_time.py" if module == "seat_time.py" else f"services/{module}")
    assert british_words(_f_string_text(path)) == []
