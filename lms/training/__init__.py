"""Classroom and external training records and state standards reporting: recording sessions,
hours by category against the mandate's cycle per unit, and printable course files."""

from flask import Blueprint

bp = Blueprint("training", __name__)

from lms.training import routes  # noqa: E402,F401
