"""Outbound requests to LRSs and learning platforms reach public addresses only.

Every check runs against real HTTP servers on 127.0.0.1. The test configuration allow-lists
127.0.0.1 (the test LRS and platform live there); these tests take the allow-list away, or
narrow it to a name, and show the same peer is refused at save time, at send time, at connect
time (a public-looking name that resolves to 127.0.0.1) and behind a redirect; and that what a
peer says in its body never reaches a page or the stored error.
"""

from __future__ import annotations

import pytest
import requests

from lms.models import LrsSettings, LtiRegistration, XapiStatement
from lms.services import outbound, xapi
from tests.lms.integrations.conftest import PUBLIC_ADDRESS, PUBLIC_LOOKING


def _lrs_form(endpoint):
    return {"endpoint": endpoint, "key": "k", "secret": "s", "active": "y"}


def _use_lrs(coordinator, agency, endpoint: str) -> None:
    xapi.save_settings(
        coordinator, agency, endpoint=endpoint, key="k", secret="s", include_email=False, active=True
    )


def _queue_statement(coordinator):
    return xapi.queue(coordinator, "launched", xapi.activity("course", "courses/1", "Patrol 101"))


# --- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT
        "0.0.0.0",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fd00::1",  # ULA
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    ],
)
def test_addresses_that_are_not_public_are_refused(address):
    assert outbound.forbidden_reason(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert outbound.forbidden_reason(address) is None


@pytest.mark.parametrize(
    ("allow_list", "url", "refused"),
    [
        ("", "https://lrs.example.org/xapi", False),
        ("", "http://lrs.example.org/xapi", True),  # plain http only when the host is listed
        ("lrs.example.org", "http://lrs.example.org/xapi", False),
        (".example.org", "http://lrs.example.org/xapi", False),
        ("10.0.0.0/8", "http://10.9.8.7/xapi", False),
        ("10.0.0.0/8", "http://11.0.0.1/xapi", True),
        ("", "ftp://lrs.example.org/xapi", True),
    ],
)
def test_schemes_follow_the_allow_list(allow_list, url, refused, hosts):
    hosts["lrs.example.org"] = [PUBLIC_ADDRESS]
    problem = outbound.check_url(url, outbound.Policy.build(allow_list))
    assert bool(problem) is refused, problem


# --- at save time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:{port}/internal-admin?x=",
        "http://localhost:{port}/xapi",
        "http://2130706433:{port}/xapi",  # 127.0.0.1 as one number
        "http://169.254.169.254/latest/meta-data",
        "http://lrs.example.org:{port}/xapi",  # resolves to 127.0.0.1 (the hosts table)
    ],
)
def test_the_lrs_form_refuses_an_endpoint_that_is_not_public(
    client, sign_in, coordinator, agency, db, peer, hosts, allowed, endpoint
):
    hosts[PUBLIC_LOOKING] = ["127.0.0.1"]
    allowed("", http=True)  # plain http allowed, so only the address can be the reason
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/integrations/lrs", data=_lrs_form(endpoint.format(port=peer.port))
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="endpoint-error"' in page and "Ripple will not call this address" in page
    assert db.session.scalar(db.select(LrsSettings)) is None
    assert peer.hits == []  # the check resolves; it never calls


def test_the_lrs_form_accepts_the_same_peer_when_allow_listed(client, sign_in, coordinator, agency, db, peer):
    sign_in(coordinator)  # the test configuration lists 127.0.0.1
    response = client.post(f"/agencies/{agency.id}/integrations/lrs", data=_lrs_form(peer.url + "/xapi"))
    assert response.status_code == 302
    assert db.session.scalar(db.select(LrsSettings)).endpoint == peer.url + "/xapi"


@pytest.mark.parametrize("field", ["auth_token_url", "key_set_url"])
def test_the_registration_form_refuses_a_service_url_that_is_not_public(
    client, sign_in, coordinator, agency, db, peer, allowed, field
):
    allowed("", http=True)
    sign_in(coordinator)
    data = {
        "issuer": "https://moodle.county.test",
        "client_id": "ripple-1",
        "deployment_ids": "1",
        "auth_login_url": "https://moodle.county.test/auth",
        "auth_token_url": "https://moodle.county.test/token",
        "key_set_url": "https://moodle.county.test/certs",
        "active": "y",
        field: peer.url + "/service",
    }
    response = client.post(f"/agencies/{agency.id}/integrations/lti/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and "127.0.0.1 is a loopback address" in page
    assert db.session.scalar(db.select(LtiRegistration)) is None


# --- at send time and at connect time --------------------------------------------------------


def test_delivery_refuses_again_when_the_allow_list_no_longer_covers_the_endpoint(
    db, agency, coordinator, peer, allowed
):
    _use_lrs(coordinator, agency, peer.url + "/xapi")
    row = _queue_statement(coordinator)
    allowed("", http=True)
    assert xapi.deliver([row]) == (0, 1)
    assert row.status == "pending" and "loopback" in row.last_error
    assert peer.hits == []


def test_a_name_that_resolves_to_loopback_by_send_time_is_refused_at_connect(
    db, agency, coordinator, peer, hosts, allowed
):
    """DNS rebinding: public when the coordinator saved it, 127.0.0.1 when Ripple connects."""
    allowed("", http=True)
    hosts[PUBLIC_LOOKING] = [PUBLIC_ADDRESS]
    endpoint = f"http://{PUBLIC_LOOKING}:{peer.port}/xapi"
    _use_lrs(coordinator, agency, endpoint)
    row = _queue_statement(coordinator)
    hosts[PUBLIC_LOOKING] = ["127.0.0.1"]
    assert xapi.deliver([row]) == (0, 1)
    assert f"{PUBLIC_LOOKING} resolves to a loopback address" in row.last_error
    assert peer.hits == []


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], [PUBLIC_ADDRESS, "127.0.0.1"]],  # one bad address refuses the whole host
    ids=["loopback", "public-and-loopback"],
)
def test_the_connection_checks_every_address_it_resolves(peer, hosts, allowed, addresses):
    allowed("", http=True)
    hosts[PUBLIC_LOOKING] = addresses
    with outbound.session() as session, pytest.raises(outbound.OutboundRefused, match="loopback"):
        session.get(f"http://{PUBLIC_LOOKING}:{peer.port}/ok")
    assert peer.hits == []


def test_localhost_by_the_system_resolver_is_refused_at_connect(peer, allowed):
    allowed("", http=True)
    with outbound.session() as session, pytest.raises(outbound.OutboundRefused, match="localhost"):
        session.get(f"http://localhost:{peer.port}/ok")
    assert peer.hits == []


@pytest.mark.parametrize(
    ("allow_list", "http", "reached"),
    [
        ("127.0.0.0/8", False, False),  # the address is listed, the name is not: https only
        ("127.0.0.0/8", True, True),
        ("lrs.partner.test", False, True),
    ],
)
def test_plain_http_is_refused_at_send_time_unless_allowed(peer, hosts, allowed, allow_list, http, reached):
    allowed(allow_list, http=http)
    hosts["lrs.partner.test"] = ["127.0.0.1"]
    with outbound.session() as session:
        if reached:
            assert session.get(f"http://lrs.partner.test:{peer.port}/ok").ok
        else:
            with pytest.raises(outbound.OutboundRefused, match="https"):
                session.get(f"http://lrs.partner.test:{peer.port}/ok")
    assert peer.hits == (["/ok"] if reached else [])


def test_an_allow_listed_name_may_reach_its_private_address(peer, hosts, allowed):
    allowed("lrs.partner.test")
    hosts["lrs.partner.test"] = ["127.0.0.1"]
    with outbound.session() as session:
        assert session.get(f"http://lrs.partner.test:{peer.port}/ok").json() == {"ok": True}
    assert peer.hits == ["/ok"]


def test_https_connects_to_the_checked_address_with_the_name_for_tls_and_host(tls_peer, hosts, allowed):
    allowed("lrs.partner.test 127.0.0.1")
    hosts["lrs.partner.test"] = ["127.0.0.1"]
    tls_peer.reset()
    url = f"https://lrs.partner.test:{tls_peer.port}/ok"
    with outbound.session() as session:
        assert session.get(url, verify=tls_peer.ca_file).json() == {"ok": True}
        # The certificate names lrs.partner.test, not the address connected to.
        with pytest.raises(requests.exceptions.SSLError):
            session.get(f"https://127.0.0.1:{tls_peer.port}/ok", verify=tls_peer.ca_file)
    assert tls_peer.host_headers == [f"lrs.partner.test:{tls_peer.port}"]


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/ok", "http://localhost:{port}/ok"])
def test_a_redirect_to_a_forbidden_address_is_refused(peer, hosts, allowed, target):
    allowed("lrs.partner.test", http=True)  # only this name may be private
    hosts["lrs.partner.test"] = ["127.0.0.1"]
    start = f"http://lrs.partner.test:{peer.port}/redirect"
    with outbound.session() as session, pytest.raises(outbound.OutboundRefused, match="loopback"):
        session.get(start, params={"to": target.format(port=peer.port)})
    assert peer.hits == ["/redirect"]  # the first hop was allowed; the second never connected


def test_redirects_are_bounded(app, peer):
    url = f"{peer.url}/redirect?to={peer.url}/redirect?to={peer.url}/redirect?to={peer.url}/redirect?to={peer.url}/ok"
    with outbound.session() as session, pytest.raises(requests.TooManyRedirects):
        session.get(url)
    assert len(peer.hits) == outbound.MAX_REDIRECTS + 1


@pytest.mark.parametrize("path", ["/big", "/big-streamed"])
def test_an_answer_longer_than_the_cap_is_not_read(peer, path):
    peer.body_size = 20_000
    capped = outbound.Policy.build("127.0.0.1", max_body=10_000)
    with (
        outbound.session(capped) as session,
        pytest.raises(outbound.ResponseTooLarge, match="longer than 10 kB"),
    ):
        session.get(peer.url + path)
    peer.body_size = 9_000
    with outbound.session(capped) as session:
        assert len(session.get(peer.url + path).content) == 9_000


# --- what people see ---------------------------------------------------------------------------


def test_the_deliveries_page_never_shows_what_the_lrs_said(client, sign_in, db, agency, coordinator, peer):
    _use_lrs(coordinator, agency, peer.url + "/xapi")
    _queue_statement(coordinator)
    db.session.commit()
    sign_in(coordinator)
    client.post(f"/agencies/{agency.id}/integrations/deliveries/retry")
    page = client.get(f"/agencies/{agency.id}/integrations/deliveries").get_data(as_text=True)
    (row,) = db.session.scalars(db.select(XapiStatement)).all()
    assert row.last_error == "LRS answered 500 Internal Server Error"
    assert "LRS answered 500 Internal Server Error" in page
    assert "SENTINEL" not in page and "root:x" not in page
    assert peer.hits == ["/xapi/statements"]
