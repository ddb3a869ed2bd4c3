"""Wording for people: numbers with their units ("1 hour", "2.5 hours") and audit actions
("rule.created" is shown as "Rule created")."""

from __future__ import annotations

from flask import Flask


def quantity(value: float, unit: str, plural: str | None = None) -> str:
    """`value` (as "%g": no trailing zeros) and `unit`, plural unless the value is exactly 1."""
    return f"{value:g} {unit if value == 1 else plural or unit + 's'}"


def join_words(items) -> str:
    """ "A", "A and B", "A, B and C": repeats dropped, and a trailing full stop of each item
    too, so a list of sentences reads as one."""
    words = [str(i).strip().rstrip(".;,") for i in items]
    words = list(dict.fromkeys(w for w in words if w))
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def tension_word(anger: float) -> str:
    """A group's tension in the words partners use: calm, uneasy, tense, volatile."""
    from scenarios.model.world import TENSION_WORDS, tension_level

    return TENSION_WORDS[tension_level(anger)]


ABBREVIATIONS = {"api": "API", "lti": "LTI", "csv": "CSV", "xapi": "xAPI", "lrs": "LRS"}


def action_label(action: str) -> str:
    """An audit event's action ("api_token.created") as words: "API token created"."""
    words = [ABBREVIATIONS.get(w, w) for w in action.replace(".", " ").replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def init_app(app: Flask) -> None:
    app.add_template_filter(quantity, "quantity")
    app.add_template_filter(action_label, "action_label")
    app.add_template_filter(tension_word, "tension_word")
