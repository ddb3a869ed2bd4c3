"""Packages for learning platforms that import SCORM or cmi5 instead of speaking LTI: the
coordinator's package pages, and the launch routes the packages call from inside the LMS."""

from flask import Blueprint

bp = Blueprint("packaging", __name__)

from lms.packaging import cmi5  # noqa: E402,F401
