"""Fixtures for the integrations tests: servers on 127.0.0.1 standing in for other systems."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@contextmanager
def serve(wsgi_app, ssl_context=None):
    """Serve a WSGI app on a free port of 127.0.0.1 (over TLS with an ssl_context); yields its
    base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _invalid_mbox(statement: dict) -> bool:
    """Whether the actor's mbox is not a real address, as an LRS that validates it sees it
    (email-validator's syntax rules refuse special-use domains such as .invalid)."""
    from email_validator import EmailNotValidError, validate_email

    mbox = (statement.get("actor") or {}).get("mbox")
    if mbox is None:
        return False
    try:
        validate_email(str(mbox).removeprefix("mailto:"), check_deliverability=False)
    except EmailNotValidError:
        return True
    return not str(mbox).startswith("mailto:")


class RecordingLrs:
    """A tiny LRS: accepts PUT /xapi/statements?statementId=…, records what it got.
    `down` makes it answer 503, as an LRS outage would; `status` makes it answer that status
    to every statement (a wrong key: 401, a rate limit: 429 ...). A statement whose actor mbox is
    not a real address is refused with `invalid_status` (400 as xAPI says; LRSs that validate
    with a schema answer 422) and not recorded."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.statements: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.down = False
        self.status: int | None = None
        self.invalid_status = 400

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
        if self.status is not None:
            return Response(status=self.status)(environ, start_response)
        statement_id = request.args.get("statementId")
        body = request.get_json()
        if _invalid_mbox(body):
            return Response('{"detail": "actor.mbox"}', status=self.invalid_status)(environ, start_response)
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


# --- peers for the outbound guard (lms.services.outbound) --------------------------------------

SENTINEL = "root:x:0:0:SENTINEL-5b1e"
PUBLIC_LOOKING = "lrs.example.org"  # resolved through the `hosts` table below, never by DNS
PUBLIC_ADDRESS = "93.184.216.34"  # only ever resolved to, never connected to


class Peer:
    """A server standing in for whatever an endpoint points at; counts what reached it."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.hits: list[str] = []
        self.host_headers: list[str] = []
        self.body_size = 0

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.hits.append(request.path)
        self.host_headers.append(request.host)
        if request.path == "/redirect":
            response = Response(status=302, headers={"Location": request.args["to"]})
        elif request.path == "/big":
            response = Response(b"x" * self.body_size)
        elif request.path == "/big-streamed":  # no Content-Length: the cap applies while reading
            response = Response(iter([b"x" * 1000] * (self.body_size // 1000)))
        elif request.path == "/not-json":
            response = Response(f"<html>{SENTINEL}</html>", content_type="text/html")
        elif request.path.endswith("/statements"):
            # What the issue saw: an internal page's error whose body leaked onto Deliveries;
            # the reason phrase is the peer's too.
            response = Response(f"{SENTINEL}\n" * 20, status=f"500 {SENTINEL}")
        else:
            response = Response('{"ok": true}', content_type="application/json")
        return response(environ, start_response)


@pytest.fixture(autouse=True)
def _connections_stay_on_this_machine(monkeypatch):
    """A safety net, not a stand-in: should the guard ever let a test's public-looking address
    through, the connection fails here instead of leaving 127.0.0.1."""
    from lms.services import outbound

    connect = outbound.urllib3_connection.create_connection

    def local_only(address, *args, **kwargs):
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"test safety net: no connection to {address[0]}")
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(outbound.urllib3_connection, "create_connection", local_only)


@pytest.fixture(scope="session")
def _peer_server():
    peer = Peer()
    with serve(peer) as url:
        peer.url = url
        peer.port = int(url.rsplit(":", 1)[1])
        yield peer


@pytest.fixture
def peer(_peer_server):
    _peer_server.reset()
    return _peer_server


def _self_signed(name: str, directory) -> tuple[str, str]:
    """A certificate for `name` (and its key), as PEM files in `directory`."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture(scope="session")
def tls_peer(tmp_path_factory):
    """The same kind of peer over https, with a certificate for `lrs.partner.test` only."""
    import ssl

    cert_file, key_file = _self_signed("lrs.partner.test", tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    peer = Peer()
    with serve(peer, ssl_context=context) as url:
        peer.url, peer.port, peer.ca_file = url, int(url.rsplit(":", 1)[1]), cert_file
        yield peer


@pytest.fixture
def hosts(monkeypatch):
    """A hosts table in front of the system resolver: name -> addresses."""
    from lms.services import outbound

    table: dict[str, list[str]] = {}
    system = outbound.resolve

    def resolve(host, port):
        if host in table:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, a) for a in table[host]]
        return system(host, port)

    monkeypatch.setattr(outbound, "resolve", resolve)
    return table


@pytest.fixture
def allowed(app, monkeypatch):
    """Set OUTBOUND_ALLOWED_HOSTS (and plain http) for one test."""

    def configure(hosts: str = "", *, http: bool = False):
        monkeypatch.setitem(app.config, "OUTBOUND_ALLOWED_HOSTS", hosts)
        monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_HTTP", http)

    return configure


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
