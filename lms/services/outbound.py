"""Outbound HTTP to learning platforms and LRSs: public addresses only, checked at connect time.

Every server-side request Ripple makes to a system a coordinator configured (the LRS, a
platform's token, key-set, grade and roster services) goes through `session()`. Its connections
resolve the host once, refuse the whole host if ANY of its addresses is not public (loopback,
RFC 1918, link-local and cloud metadata, CGNAT, multicast, reserved, unspecified, IPv6
ULA/link-local/site-local, and IPv4 addresses wrapped in IPv6), and then connect to exactly the
addresses they checked, so a DNS answer that changes between the check and the connect (DNS
rebinding) gains nothing. TLS still verifies the certificate for the host name (SNI), and the
`Host` header is the name. Redirects are followed (at most `MAX_REDIRECTS`) only through the same
connection check. Only https is used, except to allow-listed hosts or with `OUTBOUND_ALLOW_HTTP`.
Proxies and `.netrc` from the environment are ignored. Bodies are read up to `MAX_BODY_BYTES`.

`OUTBOUND_ALLOWED_HOSTS` lists, for on-premise installs, host names (`lrs.internal`, or
`.corp.example` for a whole domain) and addresses or networks (`10.0.0.0/8`, `127.0.0.1`) that
may be reached although they are not public.

`check_url()` is the same rule at save time (forms); `describe()` and `answered()` turn errors
and answers into short text for people, never carrying the remote body.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

MAX_BODY_BYTES = 1_000_000
MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
# Both addresses of an IPv6 address that embeds an IPv4 one are checked (NAT64 well-known prefix).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_ULA = ipaddress.ip_network("fc00::/7")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class OutboundRefused(requests.exceptions.ConnectionError):
    """A request Ripple will not make (the message is for people: it names the host and why)."""


class ResponseTooLarge(requests.exceptions.RequestException):
    """The answer was longer than Ripple reads, or took too long to arrive."""


class _Refused(Exception):
    # Raised inside urllib3's connect step; not an OSError, so urllib3 neither retries it nor
    # wraps it, and the adapter turns it into an OutboundRefused.
    pass


def resolve(host: str, port: int) -> list[tuple[socket.AddressFamily, str]]:
    """The addresses a host name resolves to (family, address). Tests may replace this with a
    hosts table; production uses the system resolver."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, socket.AddressFamily] = {}
    for family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]).split("%", 1)[0], family)
    return [(family, address) for address, family in seen.items()]


def forbidden_reason(address: str | IPAddress) -> str | None:
    """Why an address is not public ("a loopback address" ...), or None if it is."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            if reason:
                return f"{reason} inside an IPv6 address"
        if ip.teredo:
            return "a Teredo tunnel address"
        if ip.is_site_local:
            return "a site-local address"
        if ip in _ULA:
            return "a unique local address"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (cloud metadata lives here)"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a carrier-grade NAT address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "an address that is not public"),
    )
    return next((reason for hit, reason in checks if hit), None)


def _split_entries(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [entry.strip().lower() for entry in value if entry and entry.strip()]


def _host_of(value: str) -> str:
    return value.strip("[]").rstrip(".").lower()


def _as_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(_host_of(host))
    except ValueError:
        return None


@dataclass(frozen=True)
class Policy:
    """What outbound requests may reach (built from the app's settings by `policy()`)."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()
    allow_http: bool = False
    timeout: float = 5.0
    max_body: int = MAX_BODY_BYTES
    max_redirects: int = MAX_REDIRECTS

    @classmethod
    def build(
        cls,
        allowed_hosts: str | Iterable[str] | None = None,
        *,
        allow_http: bool = False,
        timeout: float = 5.0,
        max_body: int = MAX_BODY_BYTES,
    ) -> Policy:
        names, suffixes, networks = set(), [], []
        for entry in _split_entries(allowed_hosts):
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if entry.startswith(("*.", ".")):
                    suffixes.append("." + entry.lstrip("*."))
                else:
                    names.add(entry.rstrip("."))
        return cls(frozenset(names), tuple(suffixes), tuple(networks), allow_http, timeout, max_body)

    def name_listed(self, host: str) -> bool:
        host = _host_of(host)
        return host in self.names or any(host.endswith(suffix) for suffix in self.suffixes)

    def address_listed(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)

    def host_listed(self, host: str) -> bool:
        """The host is named in the allow-list, or is a literal address inside it."""
        ip = _as_ip(host)
        return self.name_listed(host) or (ip is not None and self.address_listed(ip))

    def check_scheme(self, url: str) -> str:
        """The URL's host, if its scheme may be used; raises _Refused otherwise."""
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        if scheme not in ("http", "https") or not host:
            raise _Refused(f"{url[:200]} is not an http(s) URL with a host")
        if scheme == "http" and not (self.allow_http or self.host_listed(host)):
            raise _Refused(
                f"{host} must be reached over https (plain http only to hosts your Ripple "
                "administrator allows: OUTBOUND_ALLOWED_HOSTS or OUTBOUND_ALLOW_HTTP)"
            )
        return host

    def checked_addresses(self, host: str, port: int) -> list[tuple[socket.AddressFamily, str]]:
        """Resolve the host once and check every address; the addresses to connect to."""
        host = _host_of(host)
        try:
            addresses = resolve(host, port)
        except (socket.gaierror, UnicodeError) as error:
            raise socket.gaierror(getattr(error, "errno", socket.EAI_NONAME), str(error)) from error
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} has no addresses")
        if self.name_listed(host):
            return addresses
        for _family, address in addresses:
            ip = ipaddress.ip_address(address)
            reason = None if self.address_listed(ip) else forbidden_reason(ip)
            if reason:
                subject = f"{host} is" if _as_ip(host) else f"{host} resolves to"
                raise _Refused(
                    f"{subject} {reason}; Ripple only connects to public addresses, unless your "
                    "Ripple administrator allows this host (OUTBOUND_ALLOWED_HOSTS)"
                )
        return addresses


def policy(config: Mapping | None = None) -> Policy:
    """The policy the app's settings describe (the current app's when not given)."""
    if config is None:
        from flask import current_app

        config = current_app.config
    return Policy.build(
        config.get("OUTBOUND_ALLOWED_HOSTS"),
        allow_http=bool(config.get("OUTBOUND_ALLOW_HTTP")),
        timeout=float(config.get("INTEGRATIONS_HTTP_TIMEOUT") or 5),
    )


# --- connections ------------------------------------------------------------------------------


class _GuardedConnection:
    """Mixin for urllib3's connections: connect only to checked addresses of the host."""

    outbound_policy: Policy

    def _new_conn(self) -> socket.socket:  # replaces urllib3's resolve-and-connect
        host, port = self._dns_host, self.port  # type: ignore[attr-defined]
        try:
            addresses = self.outbound_policy.checked_addresses(host, port)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error  # type: ignore[attr-defined,arg-type]
        last_error: OSError | None = None
        for _family, address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, port),
                    self.timeout,  # type: ignore[attr-defined]
                    source_address=self.source_address,  # type: ignore[attr-defined]
                    socket_options=self.socket_options,  # type: ignore[attr-defined]
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(
                    self,
                    f"Connection to {self.host} timed out. (connect timeout={self.timeout})",  # type: ignore[attr-defined]
                ) from error
            except OSError as error:
                last_error = error
                continue
            # The socket's peer is the address that was checked; say so rather than assume it.
            peer = ipaddress.ip_address(str(sock.getpeername()[0]).split("%", 1)[0])
            if peer != ipaddress.ip_address(address):
                sock.close()
                raise _Refused(f"{host} connected to an address that was not checked")
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")  # type: ignore[arg-type]


def _pool_classes(outbound_policy: Policy) -> dict[str, type]:
    http_conn = type(
        "GuardedHTTPConnection", (_GuardedConnection, HTTPConnection), {"outbound_policy": outbound_policy}
    )
    https_conn = type(
        "GuardedHTTPSConnection", (_GuardedConnection, HTTPSConnection), {"outbound_policy": outbound_policy}
    )
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections check their addresses, with bounded answers."""

    def __init__(self, outbound_policy: Policy):
        self.outbound_policy = outbound_policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.outbound_policy)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise OutboundRefused("Outbound requests to platforms and LRSs do not use proxies")

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        timeout = self.outbound_policy.timeout if timeout is None else timeout
        try:
            self.outbound_policy.check_scheme(request.url)
            response = super().send(
                request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=None
            )
        except _Refused as error:
            raise OutboundRefused(str(error), request=request) from None
        _read_bounded(response, self.outbound_policy)
        return response


def _read_bounded(response: requests.Response, outbound_policy: Policy) -> None:
    """Read the whole body now, refusing more than max_body bytes or a drip-fed answer."""
    limit = outbound_policy.max_body
    declared = response.headers.get("Content-Length", "")
    too_large = ResponseTooLarge(
        f"{urlsplit(response.url).hostname} sent an answer longer than {limit // 1000} kB", response=response
    )
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise too_large
    # Each read waits at most the timeout; the whole body gets a few times that.
    deadline = time.monotonic() + 4 * float(outbound_policy.timeout)
    chunks, size = [], 0
    try:
        for chunk in response.raw.stream(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise too_large
            if time.monotonic() > deadline:
                raise ResponseTooLarge(
                    f"{urlsplit(response.url).hostname} took too long to send its answer", response=response
                )
            chunks.append(chunk)
    except ResponseTooLarge:
        response.close()
        raise
    except Exception as error:  # a broken stream: what requests would have raised reading it
        response.close()
        raise requests.exceptions.ChunkedEncodingError(str(error), response=response) from None
    response._content = b"".join(chunks)  # noqa: SLF001 (what requests itself sets when it reads)
    response._content_consumed = True  # noqa: SLF001
    response.raw.release_conn()


class _GuardedSession(requests.Session):
    def __init__(self, outbound_policy: Policy):
        super().__init__()
        self.trust_env = False  # no proxies, .netrc or CA bundles from the environment
        self.max_redirects = outbound_policy.max_redirects
        adapter = GuardedAdapter(outbound_policy)
        self.adapters.clear()
        self.mount("https://", adapter)
        self.mount("http://", adapter)


def session(outbound_policy: Policy | None = None, *, user_agent: str = "Ripple") -> requests.Session:
    """A requests session for calls to platforms and LRSs (the app's policy when not given)."""
    guarded = _GuardedSession(outbound_policy or policy())
    guarded.headers["User-Agent"] = user_agent
    return guarded


# --- at save time -----------------------------------------------------------------------------


def check_url(url: str, outbound_policy: Policy | None = None) -> str | None:
    """Why Ripple would refuse to call this URL (scheme, or an address its host resolves to
    now), or None. A name that does not resolve now passes: delivery checks again anyway."""
    outbound_policy = outbound_policy or policy()
    try:
        host = outbound_policy.check_scheme(url)
        port = urlsplit(url).port or (443 if url.lower().startswith("https") else 80)
        outbound_policy.checked_addresses(host, port)
    except _Refused as error:
        return str(error)
    except socket.gaierror:
        return None
    except ValueError:  # a port out of range
        return "the URL's port is not valid"
    return None


# --- for people -------------------------------------------------------------------------------


def answered(who: str, response: requests.Response) -> str:
    """ "LRS answered 500 Internal Server Error": the status and its standard phrase, never the
    remote's own reason text or body."""
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = "(non-standard status)"
    return f"{who} answered {response.status_code} {phrase}"


def describe(error: BaseException, who: str = "The server") -> str:
    """A short account of a failed outbound call, with nothing the remote sent but its status."""
    response = getattr(error, "response", None)
    if isinstance(response, requests.Response) and not isinstance(error, ResponseTooLarge):
        return answered(who, response)
    if isinstance(error, OutboundRefused | ResponseTooLarge):
        return f"Refused: {error}" if isinstance(error, OutboundRefused) else str(error)
    request = getattr(error, "request", None)
    host = urlsplit(request.url).hostname if getattr(request, "url", None) else None
    where = f" {host}" if host else ""
    if isinstance(error, requests.exceptions.Timeout):
        return f"No answer from{where or ' the server'} in time"
    if isinstance(error, requests.exceptions.TooManyRedirects):
        return f"Too many redirects from{where or ' the server'}"
    if isinstance(error, requests.exceptions.SSLError):
        return f"TLS failed with{where or ' the server'} (certificate or protocol)"
    if isinstance(error, requests.exceptions.ConnectionError):
        cause = str(error)
        if "NameResolutionError" in cause or "Name or service not known" in cause:
            return f"Could not resolve{where or ' the host'}"
        return f"Could not connect to{where or ' the server'}"
    if isinstance(error, requests.exceptions.RequestException):
        return f"The request to{where or ' the server'} failed ({type(error).__name__})"
    return str(error)[:300] or type(error).__name__
