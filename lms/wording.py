"""Numbers with their units, worded for people: "1 hour", "2.5 hours", "1 minute"."""

from __future__ import annotations

from flask import Flask


def quantity(value: float, unit: str, plural: str | None = None) -> str:
    """`value` (as "%g": no trailing zeros) and `unit`, plural unless the value is exactly 1."""
    return f"{value:g} {unit if value == 1 else plural or unit + 's'}"


def init_app(app: Flask) -> None:
    app.add_template_filter(quantity, "quantity")
