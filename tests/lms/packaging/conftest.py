"""Peers for the cmi5 tests, on 127.0.0.1: a real LRS (ralph) and a small LMS that speaks the
LMS side of cmi5 (imports cmi5.xml, writes LMS.LaunchData, serves the single-use fetch URL)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import pytest
import requests

from tests.lms.integrations.conftest import serve

ROOT = Path(__file__).resolve().parents[3]
NS = {"cs": "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"}
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
SESSION_USERS = 300  # one per launch the tests make


@dataclass
class RalphLrs:
    """ralph serving its filesystem backend, with an admin account (the LMS's) and a pool of
    accounts the LMS hands out as session tokens (base64 of user:password)."""

    url: str  # the xAPI base, ".../xAPI/"
    admin: tuple[str, str]
    pool: list[tuple[str, str]]
    handed_out: int = 0

    def next_token(self) -> str:
        user, password = self.pool[self.handed_out]
        self.handed_out += 1
        return base64.b64encode(f"{user}:{password}".encode()).decode()

    def put_state(self, activity_id, agent, registration, state_id, document) -> None:
        response = requests.put(
            self.url + "activities/state",
            params={
                "activityId": activity_id,
                "agent": json.dumps(agent),
                "registration": registration,
                "stateId": state_id,
            },
            json=document,
            auth=self.admin,
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=10,
        )
        assert response.status_code == 204, response.text

    def post_statement(self, statement) -> None:
        response = requests.post(
            self.url + "statements",
            json=statement,
            auth=self.admin,
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def statements(self, registration: str) -> list[dict]:
        """Every statement of the registration ralph holds, in stored order."""
        found, url, params = [], self.url + "statements", {"registration": registration, "limit": 100}
        while url:
            response = requests.get(
                url, params=params, auth=self.admin, headers={"X-Experience-API-Version": "1.0.3"}, timeout=10
            )
            assert response.status_code == 200, response.text
            body = response.json()
            found.extend(body["statements"])
            more = body.get("more")
            url, params = (self.url.split("/xAPI/")[0] + more, None) if more else (None, None)
        return sorted(found, key=lambda s: (s["timestamp"], s.get("stored", "")))


@pytest.fixture(scope="session")
def ralph(tmp_path_factory):
    import bcrypt

    directory = tmp_path_factory.mktemp("ralph")
    salt = bcrypt.gensalt(rounds=4)  # a test's passwords: cheap to hash

    def account(user, password):
        return {
            "agent": {"account": {"homePage": "https://lrs.example.com", "name": user}},
            "scopes": ["all"],
            "hash": bcrypt.hashpw(password.encode(), salt).decode(),
            "username": user,
        }

    admin = ("lms", secrets.token_hex(8))
    pool = [(f"session-{n}", secrets.token_hex(8)) for n in range(SESSION_USERS)]
    (directory / "auth.json").write_text(json.dumps([account(*admin)] + [account(*p) for p in pool]))
    env = {
        **os.environ,
        "RALPH_APP_DIR": str(directory),
        "RALPH_AUTH_FILE": str(directory / "auth.json"),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(directory),
        "RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH": str(directory),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.lms.packaging.ralph_lrs"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(process.stdout.readline().strip())
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):  # until it answers (its start is not ours to time)
            try:
                if requests.get(base + "/__lbheartbeat__", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield RalphLrs(base + "/xAPI/", admin, pool)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class ImportedAu:
    publisher_id: str
    url: str
    move_on: str
    mastery_score: float | None
    launch_method: str
    title: str


@dataclass
class Launch:
    url: str
    fetch_code: str
    registration: str
    session_id: str
    activity_id: str
    actor: dict


@dataclass
class TestLms:
    """The LMS side of cmi5: imports a package, records who it launched and serves the fetch
    URL (the token once; the cmi5 error JSON after that)."""

    lrs: RalphLrs
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    fetches: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        if request.path.startswith("/fetch/") and request.method == "POST":
            code = request.path.rsplit("/", 1)[1]
            with self.lock:
                self.fetches[code] = self.fetches.get(code, 0) + 1
                first = self.fetches[code] == 1
            if code not in self.tokens:
                body = {"error-code": "2", "error-text": "Unknown fetch URL."}
            elif not first:
                body = {"error-code": "1", "error-text": "The authorization token has already been returned."}
            else:
                body = {"auth-token": self.tokens[code]}
            return Response(json.dumps(body), content_type="application/json")(environ, start_response)
        if request.path.startswith("/course/"):
            return Response("Back in the LMS")(environ, start_response)
        return Response("no", status=404)(environ, start_response)

    @property
    def origins(self) -> list[str]:
        """What the coordinator enters as the package's allowed LMS addresses: the LMS's and its
        LRS's (two origins here: two ports of 127.0.0.1)."""
        return [f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in (self.url, self.lrs.url)]

    def import_package(self, package_zip: bytes) -> ImportedAu:
        with zipfile.ZipFile(io.BytesIO(package_zip)) as archive:
            root = ElementTree.fromstring(archive.read("cmi5.xml"))
        assert root.tag == f"{{{NS['cs']}}}courseStructure"
        au = root.find("cs:au", NS)
        mastery = au.get("masteryScore")
        return ImportedAu(
            publisher_id=au.get("id"),
            url=au.find("cs:url", NS).text.strip(),
            move_on=au.get("moveOn"),
            mastery_score=float(mastery) if mastery is not None else None,
            launch_method=au.get("launchMethod"),
            title=au.find("cs:title/cs:langstring", NS).text,
        )

    def launch(
        self,
        au: ImportedAu,
        *,
        learner: str = "learner-1",
        registration: str | None = None,
        launch_mode: str = "Normal",
        mastery_score: float | None | str = "from-course",
        move_on: str | None = None,
        return_url: bool = True,
        overrides: dict | None = None,
        launch_data: dict | None = None,
        write_state: bool = True,
    ) -> Launch:
        """What the LMS does to launch the AU: launch data into the LRS, a launched statement,
        a single-use fetch URL; returns the launch URL."""
        registration = registration or str(uuid.uuid4())
        actor = {"objectType": "Agent", "account": {"homePage": self.url, "name": learner}}
        session_id = str(uuid.uuid4())
        activity_id = f"{self.url}/activities/{hashlib.sha256(au.publisher_id.encode()).hexdigest()[:16]}"
        mastery = au.mastery_score if mastery_score == "from-course" else mastery_score
        template = {
            "contextActivities": {"grouping": [{"id": au.publisher_id, "objectType": "Activity"}]},
            "extensions": {SESSION_ID: session_id},
        }
        data = {
            "contextTemplate": template,
            "launchMode": launch_mode,
            "moveOn": move_on or au.move_on,
            "returnURL": f"{self.url}/course/{registration}" if return_url else None,
        }
        if mastery is not None:
            data["masteryScore"] = mastery
        data = {k: v for k, v in {**data, **(launch_data or {})}.items() if v is not None}
        if write_state:
            self.lrs.put_state(activity_id, actor, registration, "LMS.LaunchData", data)
        self.lrs.post_statement(
            {
                "id": str(uuid.uuid4()),
                "actor": actor,
                "verb": {"id": "http://adlnet.gov/expapi/verbs/launched", "display": {"en-US": "launched"}},
                "object": {"id": activity_id, "objectType": "Activity"},
                "timestamp": _now(),
                "context": {
                    "registration": registration,
                    "contextActivities": {
                        **template["contextActivities"],
                        "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}],
                    },
                    "extensions": {
                        SESSION_ID: session_id,
                        "https://w3id.org/xapi/cmi5/context/extensions/launchmode": launch_mode,
                        "https://w3id.org/xapi/cmi5/context/extensions/moveon": data["moveOn"],
                        "https://w3id.org/xapi/cmi5/context/extensions/launchurl": au.url,
                    },
                },
            }
        )
        code = secrets.token_hex(8)
        self.tokens[code] = self.lrs.next_token()
        params = {
            "endpoint": self.lrs.url,
            "fetch": f"{self.url}/fetch/{code}",
            "actor": json.dumps(actor),
            "registration": registration,
            "activityId": activity_id,
            **(overrides or {}),
        }
        return Launch(f"{au.url}?{urlencode(params)}", code, registration, session_id, activity_id, actor)


def _now() -> str:
    from datetime import UTC, datetime

    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture(scope="session")
def _lms_server(ralph):
    lms = TestLms(ralph)
    with serve(lms) as url:
        lms.url = url
        yield lms


@pytest.fixture
def lms(_lms_server):
    return _lms_server
