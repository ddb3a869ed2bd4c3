"""Fixtures for the integrations tests: servers on 127.0.0.1 standing in for other systems."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server


@contextmanager
def serve(wsgi_app):
    """Serve a WSGI app on a free port of 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class RecordingLrs:
    """A tiny LRS: accepts PUT /xapi/statements?statementId=…, records what it got.
    `down` makes it answer 503, as an LRS outage would."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.statements: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.down = False

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "version": request.headers.get("X-Experience-API-Version"),
                "auth": request.authorization.parameters if request.authorization else None,
            }
        )
        if self.down:
            return Response("unavailable", status=503)(environ, start_response)
        if request.method != "PUT" or request.path != "/xapi/statements":
            return Response("no", status=405)(environ, start_response)
        statement_id = request.args.get("statementId")
        body = request.get_json()
        if statement_id in self.statements:
            status = 204 if self.statements[statement_id] == body else 409
        else:
            self.statements[statement_id] = body
            status = 204
        return Response(status=status)(environ, start_response)


@pytest.fixture(scope="session")
def _lrs_server():
    recorder = RecordingLrs()
    with serve(recorder) as url:
        recorder.url = url + "/xapi"
        yield recorder


@pytest.fixture
def lrs(_lrs_server):
    """The local test LRS, emptied for each test."""
    _lrs_server.reset()
    return _lrs_server


@pytest.fixture
def store_scenario(db):
    """The library's smallest scenario, published."""
    from lms.services.scenario_library import sync_library

    version = next(v for v in sync_library() if v.scenario.slug == "store-dispute")
    db.session.commit()
    return version


def play_expert_path(actor, attempt):
    from lms.services import attempts
    from lms.services.scenario_library import scenario_of

    for index, choice in enumerate(scenario_of(attempt.scenario_version).expert_path):
        attempts.decide(actor, attempt, index, choice)
