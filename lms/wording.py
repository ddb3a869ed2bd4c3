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


FIELD_WORDS = {"id": "ID", "url": "URL", "lti": "LTI", "api": "API", "xapi": "xAPI"}


def field_label(name: str) -> str:
    """A stored field's name as words: "cycle_months" -> "Cycle months"."""
    words = [FIELD_WORDS.get(w, w) for w in str(name).replace(".", " ").replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def value_words(value) -> str:
    """A stored value as people read it: yes/no, dates as "Dec 2, 2026", lists joined."""
    from datetime import date, datetime

    from lms.dates import day

    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(value_words(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {value_words(v)}" for k, v in value.items())
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" == value[7:8]:
        try:
            return day(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and len(value) > 10 and value[10:11] == "T":
        try:
            return day(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def changes(before: dict | None, after: dict | None) -> list[tuple[str, str | None, str]]:
    """What an audit event changed, field by field: (label, before in words or None when the
    field is new, after in words); fields that did not change are left out."""
    before, after = before or {}, after or {}
    rows = []
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if name in before and name in after and old == new:
            continue
        rows.append((field_label(name), value_words(old) if name in before else None, value_words(new)))
    return rows


def init_app(app: Flask) -> None:
    app.add_template_filter(quantity, "quantity")
    app.add_template_filter(action_label, "action_label")
    app.add_template_filter(tension_word, "tension_word")
    app.add_template_global(changes, "audit_changes")
