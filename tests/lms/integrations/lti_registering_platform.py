"""Test platforms that take LTI Dynamic Registration 1.0, served on 127.0.0.1 (port 0).

`MoodlePlatform` follows Moodle's rules (mod/lti/openid-configuration.php and
openid-registration.php): its configuration has the platform-configuration key with the
trailing space Moodle once sent, `messages_supported` as strings with `LtiResourceLink`, a
single-use registration token, the required client metadata checked (application type,
response and grant types, login and redirect URIs, key set, private_key_jwt, the tool
configuration's domain and target link), only the scopes it supports granted, and a
deployment id in its answer. `CanvasPlatform` sends messages as `{type, placements}` objects
and `authorization_server`, answers without a deployment id, and launches with a deployment
per course. Both are also the full LTI platform of lti_platform.py (login, launch, services),
so what they registered can be launched.
"""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode, urlsplit

from flask import Response, jsonify, request

from tests.lms.integrations.lti_platform import CLIENT_ID, DEPLOYMENT_ID, Platform

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


class MoodlePlatform(Platform):
    config_path = "/mod/lti/openid-configuration.php"
    registration_path = "/mod/lti/openid-registration.php"

    def reset(self, tool_jwks: dict | None = None):
        super().reset(tool_jwks)
        self.tokens: dict[str, bool] = {}  # registration token -> used
        self.registrations: list[dict] = []  # client metadata received, in order
        self.registration_headers: list[str | None] = []
        self.supported_scopes = [
            AGS + "lineitem",
            AGS + "lineitem.readonly",
            AGS + "result.readonly",
            AGS + "score",
            NRPS,
        ]
        self.issuer: str | None = None  # None: its own base URL
        self.deployment_id = DEPLOYMENT_ID
        self.config_hits = 0
        self.configuration_body: bytes | None = None  # served instead of configuration() when set

    def registration(self, tool_jwks: dict):
        return super().registration(tool_jwks).set_deployment_id(self.deployment_id)

    def new_token(self) -> str:
        token = secrets.token_urlsafe(16)
        self.tokens[token] = False
        return token

    def registration_url(self, link: str, token: str | None = None) -> str:
        """The link as the platform opens it: with its configuration URL and a fresh token."""
        query = {
            "openid_configuration": self.url + self.config_path,
            "registration_token": token or self.new_token(),
        }
        return f"{link}{'&' if '?' in link else '?'}{urlencode(query)}"

    def configuration(self) -> dict:
        return {
            "issuer": self.issuer or self.url,
            "token_endpoint": self.url + "/token",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.url + "/jwks",
            "authorization_endpoint": self.url + "/auth",
            "registration_endpoint": self.url + self.registration_path,
            "scopes_supported": ["openid", *self.supported_scopes],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration ": {
                "product_family_code": "moodle",
                "version": "4.1.2 (Build: 20230313)",
                "messages_supported": ["LtiResourceLink", "LtiDeepLinkingRequest"],
                "placements": ["AddContentMenu"],
                "variables": ["basic-lti-launch-request", "Context.id"],
            },
        }

    def refuse_metadata(self, metadata: dict) -> str | None:
        """Moodle's checks of a tool's client registration; what is wrong, or None."""
        tool = metadata.get(TOOL_CONFIGURATION)
        checks = [
            (metadata.get("application_type") == "web", "application_type must be web"),
            ("id_token" in (metadata.get("response_types") or []), "response_types must include id_token"),
            (
                {"implicit", "client_credentials"} <= set(metadata.get("grant_types") or []),
                "grant_types must include implicit and client_credentials",
            ),
            (bool(metadata.get("initiate_login_uri")), "initiate_login_uri is required"),
            (bool(metadata.get("redirect_uris")), "redirect_uris is required"),
            (bool(metadata.get("jwks_uri")), "jwks_uri is required"),
            (metadata.get("token_endpoint_auth_method") == "private_key_jwt", "private_key_jwt is required"),
            (isinstance(tool, dict), "lti-tool-configuration is required"),
        ]
        for ok, problem in checks:
            if not ok:
                return problem
        if not tool.get("domain") or not tool.get("target_link_uri"):
            return "domain and target_link_uri are required"
        if urlsplit(tool["target_link_uri"]).netloc != tool["domain"]:
            return "target_link_uri is not in the tool's domain"
        return None

    def registration_answer(self, metadata: dict, granted: list[str]) -> dict:
        tool = dict(metadata[TOOL_CONFIGURATION])
        tool.update({"version": "1.3.0", "deployment_id": self.deployment_id})
        return {**metadata, "client_id": CLIENT_ID, "scope": " ".join(granted), TOOL_CONFIGURATION: tool}

    def wsgi(self):
        app = super().wsgi()

        def configuration():
            self.config_hits += 1
            if self.configuration_body is not None:
                return Response(self.configuration_body, content_type="application/json")
            return jsonify(self.configuration())

        def register():
            header = request.headers.get("Authorization", "")
            self.registration_headers.append(header or None)
            token = header[7:] if header.startswith("Bearer ") else None
            if token not in self.tokens or self.tokens[token]:
                return jsonify({"error": "invalid_token", "error_description": "Token already used"}), 401
            self.tokens[token] = True  # single use, whatever happens next
            metadata = request.get_json(force=True, silent=True)
            if not isinstance(metadata, dict):
                return jsonify({"error": "invalid_client_metadata"}), 400
            self.registrations.append(metadata)
            problem = self.refuse_metadata(metadata)
            if problem:
                return jsonify({"error": "invalid_client_metadata", "error_description": problem}), 400
            granted = [s for s in (metadata.get("scope") or "").split() if s in self.supported_scopes]
            return jsonify(self.registration_answer(metadata, granted))

        def tool_by_url():
            """The administrator's "add a tool by URL" page: opens the tool's registration URL
            in a frame and shows the message the tool posts back when it is done."""
            frame = html.escape(request.args["link"], quote=True)
            return (
                "<!doctype html><title>Add an LTI tool</title><p id=status>waiting</p>"
                f'<iframe src="{frame}" title="Tool registration" width=800 height=600></iframe>'
                "<script>window.addEventListener('message', (e) => {"
                "document.getElementById('status').textContent = e.data && e.data.subject; });</script>"
            )

        app.add_url_rule("/admin/tool-by-url", "tool_by_url", tool_by_url)
        app.add_url_rule(self.config_path, "openid_configuration", configuration)
        app.add_url_rule(self.registration_path, "openid_registration", register, methods=["POST"])
        return app


class CanvasPlatform(MoodlePlatform):
    config_path = "/api/lti/security/openid-configuration"
    registration_path = "/api/lti/registrations"

    def reset(self, tool_jwks: dict | None = None):
        super().reset(tool_jwks)
        self.deployment_id = "course-101-deployment"

    def configuration(self) -> dict:
        config = super().configuration()
        del config["https://purl.imsglobal.org/spec/lti-platform-configuration "]
        config["authorization_server"] = self.url + "/token"
        config["https://purl.imsglobal.org/spec/lti-platform-configuration"] = {
            "product_family_code": "canvas",
            "version": "OpenSource",
            "messages_supported": [
                {"type": "LtiResourceLinkRequest", "placements": ["course_navigation", "account_navigation"]},
                {
                    "type": "LtiDeepLinkingRequest",
                    "placements": ["link_selection", "assignment_selection", "editor_button"],
                },
            ],
            "variables": ["Canvas.course.id"],
            "https://canvas.instructure.com/lti/account_name": "Test Academy",
        }
        return config

    def registration_answer(self, metadata: dict, granted: list[str]) -> dict:
        answer = super().registration_answer(metadata, granted)
        answer[TOOL_CONFIGURATION].pop("deployment_id")  # deployments come per course, later
        return answer
