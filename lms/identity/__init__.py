"""Agency identity pages: the sign-in policy, directory sign-ins (OIDC, SAML), provisioning,
second factors and sessions. Protocol work lives in lms.services.identity; routes stay thin."""

from flask import Blueprint

bp = Blueprint("identity", __name__)

from lms.identity import routes  # noqa: E402,F401
