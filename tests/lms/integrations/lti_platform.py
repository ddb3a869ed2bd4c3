"""A real LTI 1.3 platform for the tests, built on the `lti1p3platform` package.

The platform's web services (JWKS, OAuth2 token, AGS line items and scores, NRPS roster) are
served over HTTP on 127.0.0.1; its login/launch step (what the platform does in the browser)
runs in the test, which carries the redirects between the platform and Ripple's test client.

For browser tests it also has the platform side of 1EdTech Platform Storage
("LTI postMessage Storage"): a course page that frames Ripple beside a named storage frame
answering lti.put_data and lti.get_data (and lti.capabilities on the page itself), each
checking the message's origin. `browser_url` is the address browsers use for the platform (a
name of its own, another site than Ripple's 127.0.0.1), while Ripple calls its services at `url`.
"""

from __future__ import annotations

import json
import typing as t
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration

from tests.lms.integrations.conftest import serve

CLIENT_ID = "ripple-tool"
DEPLOYMENT_ID = "deployment-1"
STORAGE_FRAME = "post_message_forwarding"
TOOL_FRAME = "ripple-tool"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# The course page: the storage frame loads first, then Ripple's login in the tool frame. The page
# itself answers lti.capabilities (when offered) for messages from Ripple's origin only.
_COURSE_PAGE = """<!doctype html><html lang="en"><title>Patrol 101</title><h1>Patrol 101</h1>
%(frames)s
<iframe name="ripple-tool" id="tool" title="Ripple" width="1100" height="900"></iframe>
<script>
var TOOL = %(tool)s;
window.addEventListener("message", function (event) {
  var m = event.data;
  if (!%(capabilities)s || !m || m.subject !== "lti.capabilities" || event.origin !== TOOL) return;
  event.source.postMessage({subject: "lti.capabilities.response", message_id: m.message_id,
    supported_messages: [{subject: "lti.put_data", frame: %(storage)s},
                         {subject: "lti.get_data", frame: %(storage)s}]}, event.origin);
});
function start() { document.getElementById("tool").src = %(login)s; }
// The login starts once every helper frame (storage, and the other site's in hostile runs) has
// loaded, so none of them can miss Ripple's first message.
var waiting = [document.getElementsByName(%(storage)s)[0], document.getElementsByName("evil")[0]]
  .filter(Boolean);
var left = waiting.length;
waiting.forEach(function (frame) {
  frame.addEventListener("load", function () { if (--left === 0) start(); });
});
if (!left) start();
</script></html>"""

# The storage frame: values kept per sender origin, answers only to Ripple's origin (and to the
# origin the message came from). window.lti_log records every message it saw.
_STORAGE_FRAME = """<!doctype html><html lang="en"><title>Platform storage</title><script>
var TOOL = %(tool)s, MODE = %(mode)s, EVIL = %(evil)s;
var store = {};
window.lti_log = [];
window.addEventListener("message", function (event) {
  var m = event.data;
  if (!m || typeof m !== "object" || typeof m.subject !== "string") return;
  window.lti_log.push({subject: m.subject, key: m.key, origin: event.origin});
  if (event.origin !== TOOL) return;
  var kept = store[event.origin] = store[event.origin] || {};
  var reply = {message_id: m.message_id, key: m.key};
  if (m.subject === "lti.put_data") {
    kept[m.key] = m.value;
    reply.subject = "lti.put_data.response";
    reply.value = m.value;
  } else if (m.subject === "lti.get_data") {
    reply.subject = "lti.get_data.response";
    reply.value = kept[m.key];
    if (MODE === "tamper" && m.key.indexOf("lti_nonce_") === 0) reply.value = "nonce-of-another-login";
    if (MODE === "forge") {
      // Another site's frame learns the message id and answers first; ours answers later.
      window.parent.frames["evil"].postMessage({forge: m.message_id, key: m.key}, EVIL);
      setTimeout(function () { event.source.postMessage(reply, event.origin); }, 400);
      return;
    }
  } else {
    return;
  }
  event.source.postMessage(reply, event.origin);
});
</script></html>"""

# A frame of another site that answers get_data with its own value, from the wrong origin.
_EVIL_FRAME = """<!doctype html><html lang="en"><title>Another site</title><script>
window.sent = 0;
window.addEventListener("message", function (event) {
  var m = event.data;
  if (!m || !m.forge) return;
  window.parent.frames["ripple-tool"].postMessage({subject: "lti.get_data.response",
    message_id: m.forge, key: m.key, value: "forged-by-another-site"}, "*");
  window.sent += 1;
});
</script></html>"""


def _keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs):
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs):
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs.get("hint", "message-hint")

    def get_redirect(self, url):
        return url


class _Request:
    def __init__(self, get_data: dict):
        self.get_data = get_data
        self.form_data: dict = {}


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data, **kwargs):
        return launch_data


class Platform:
    """One platform (issuer = its base URL) with one course, line items, scores and a roster."""

    def __init__(self, tool_root: str = "http://localhost"):
        self.private_key, self.public_key = _keypair()
        self.tool_root = tool_root
        self.url = ""
        self.browser_url = ""
        self.reset()

    def reset(self, tool_jwks: dict | None = None):
        self.scores: list[dict] = []
        self.lineitems: list[dict] = []
        self.members: list[dict] = []
        self.token_requests = 0
        self.fail_scores = False
        self.tool_jwks = tool_jwks
        self.next_launch: dict = {}  # keyword arguments of launch() for the browser's next /auth
        self.deep_link_items: list[dict] = []
        # Platform storage: the frame named in lti_storage_target (None: not offered), whether
        # the course page answers lti.capabilities, and "tamper" (get_data answers another
        # nonce) or "forge" (a frame of another origin answers get_data first) for hostile runs.
        self.storage_target: str | None = None
        self.capabilities = False
        self.storage_mode = ""
        self.evil_url = ""

    # --- the platform's registration of Ripple -----------------------------------------------
    def registration(self, tool_jwks: dict) -> Registration:
        return (
            Registration()
            .set_iss(self.url)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(self.tool_root + "/lti/login")
            .set_launch_url(self.tool_root + "/lti/launch")
            .set_deeplink_launch_url(self.tool_root + "/lti/launch")
            .set_platform_public_key(self.public_key)
            .set_platform_private_key(self.private_key)
            .set_tool_key_set(tool_jwks)
        )

    def conf(self) -> _Conf:
        return _Conf(registration=self.registration(self.tool_jwks))

    # --- HTTP services -----------------------------------------------------------------------
    def wsgi(self) -> Flask:
        app = Flask("test-platform")

        def authorised() -> bool:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return False
            try:
                return self.conf().validate_token(header[7:])
            except Exception:  # noqa: BLE001 - any bad token is a 401 here
                return False

        @app.get("/jwks")
        def jwks():
            return {"keys": self.registration(self.tool_jwks).get_jwks()}

        @app.post("/token")
        def token():
            self.token_requests += 1
            conf = self.conf()
            conf.get_registration()
            return jsonify(conf.get_access_token(request.form.to_dict()))

        @app.route("/course/lineitems", methods=["GET", "POST"])
        def lineitems():
            if not authorised():
                return "", 401
            if request.method == "POST":
                item = {
                    **request.get_json(force=True),
                    "id": f"{self.url}/course/lineitems/{len(self.lineitems) + 1}",
                }
                self.lineitems.append(item)
                return jsonify(item), 201
            return jsonify(self.lineitems)

        @app.post("/course/lineitems/<int:n>/scores")
        def scores(n: int):
            if not authorised():
                return "", 401
            if self.fail_scores:
                return "gradebook down", 503
            self.scores.append({"lineitem": n, **request.get_json(force=True)})
            return "", 204

        @app.get("/auth")
        def auth():
            """The platform's OIDC authorisation endpoint, as a browser reaches it: answers with
            the self-submitting id_token form to the tool's redirect URI."""
            form = self.launch(request.url, **self.next_launch)
            target = (
                f'<input type="hidden" name="lti_storage_target" value="{self.storage_target}">'
                if self.storage_target
                else ""
            )
            return (
                f'<!doctype html><title>Launching</title><form id="f" method="post" action="{form["launch_url"]}">'
                f'<input type="hidden" name="id_token" value="{form["id_token"]}">'
                f'<input type="hidden" name="state" value="{form["state"]}">{target}</form>'
                '<script>document.getElementById("f").submit()</script>'
            )

        @app.get("/course/page")
        def course_page():
            """A course page: Ripple in an iframe, beside the platform's storage frame."""
            return self.course_page(request.args["user"])

        @app.get("/storage")
        def storage_frame():
            return _STORAGE_FRAME % {
                "tool": json.dumps(_origin(self.tool_root)),
                "mode": json.dumps(self.storage_mode),
                "evil": json.dumps(_origin(self.evil_url)) if self.evil_url else '""',
            }

        @app.get("/evil")
        def evil_frame():
            return _EVIL_FRAME

        @app.post("/deep-link-return")
        def deep_link_return():
            items = self.read_deep_link_response(request.form["JWT"])
            self.deep_link_items.extend(items)
            titles = ", ".join(item.get("title", "?") for item in items)
            return f"<!doctype html><title>Platform</title><h1>Added to Patrol 101: {titles}</h1>"

        @app.get("/course/memberships")
        def memberships():
            if not authorised():
                return "", 401
            return jsonify(
                {
                    "id": request.url,
                    "context": {"id": "course-1", "title": "Patrol 101"},
                    "members": self.members,
                }
            )

        return app

    def start(self):
        self._server = serve(self.wsgi())
        self.url = self._server.__enter__()
        self.browser_url = self.browser_url or self.url
        return self

    def stop(self):
        self._server.__exit__(None, None, None)

    # --- what the platform does in the browser -----------------------------------------------
    def login_url(self, user_id: str) -> str:
        login = _Login(None, self.conf())
        login.set_lti_message_hint(hint="resource-link-1")
        url = login.prepare_preflight_url(user_id)
        if self.storage_target:
            url += "&" + urlencode({"lti_storage_target": self.storage_target})
        return url

    def course_page(self, user_id: str) -> str:
        """The platform's page framing Ripple's login (what a browser opens to launch)."""
        tool = _origin(self.tool_root)
        frames = ""
        if self.storage_target or self.capabilities:
            frames += (
                f'<iframe name="{STORAGE_FRAME}" src="/storage" title="Platform storage" hidden></iframe>'
            )
        if self.storage_mode == "forge":
            frames += f'<iframe name="evil" src="{self.evil_url}/evil" title="Another site" hidden></iframe>'
        return _COURSE_PAGE % {
            "frames": frames,
            "login": json.dumps(self.login_url(user_id)),
            "tool": json.dumps(tool),
            "capabilities": "true" if self.capabilities else "false",
            "storage": json.dumps(STORAGE_FRAME),
        }

    def launch(
        self,
        auth_redirect: str,
        *,
        user_id: str,
        roles: list[str],
        name: str = "Pat Learner",
        email: str | None = "pat@example.test",
        custom: dict | None = None,
        deep_link: bool = False,
        lineitem: int | None = 1,
        claims: dict | None = None,
        expiration: int = 300,
    ) -> dict[str, t.Any]:
        """The platform's answer to Ripple's OIDC redirect: the id_token form (launch_url, id_token, state)."""
        query = dict(parse_qsl(urlsplit(auth_redirect).query))
        launch = _Launch(_Request(query), self.conf())
        launch.set_id_token_expiration(expiration)
        launch.set_user_data(user_id, roles, full_name=name, email_address=email)
        launch.set_launch_context_claim("course-1", context_title="Patrol 101")
        launch.set_resource_link_claim("resource-link-1", title="Ripple scenario")
        if custom:
            launch.set_custom_parameters_claim(custom)
        launch.set_ags(
            lineitems_url=f"{self.url}/course/lineitems",
            lineitem_url=f"{self.url}/course/lineitems/{lineitem}" if lineitem else None,
            allow_creating_lineitems=True,
        )
        launch.set_nrps(f"{self.url}/course/memberships")
        if deep_link:
            launch.set_dl(f"{self.url}/deep-link-return", title="Add content")
        if claims:
            launch.set_extra_claims(claims)
        return launch.lti_launch()

    def read_deep_link_response(self, jwt_token: str) -> list[dict]:
        conf = self.conf()
        conf.get_registration()
        return conf.validate_deeplinking_resp({"JWT": jwt_token})


def register(coordinator, agency, platform: Platform):
    """Register the test platform with `agency` as its coordinator would (not committed)."""
    from lms.services import lti

    return lti.save_registration(
        coordinator,
        agency,
        lti.RegistrationInput(
            name="Test Moodle",
            issuer=platform.url,
            client_id=CLIENT_ID,
            auth_login_url=(platform.browser_url or platform.url) + "/auth",
            auth_token_url=platform.url + "/token",
            key_set_url=platform.url + "/jwks",
            auth_audience=None,
            deployment_ids=[DEPLOYMENT_ID],
        ),
    )
