"""The coordinator's Integrations pages: LTI registrations, the LRS, API tokens, delivery queues."""

from flask import Blueprint

bp = Blueprint("integrations", __name__)

from lms.integrations import lti_setup, routes  # noqa: E402,F401
