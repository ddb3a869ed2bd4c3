"""CSRF, checked on every state-changing route of the URL map.

TestConfig switches CSRF protection off for the rest of the suite; here it is on. Every POST,
PUT, PATCH and DELETE route that Flask-WTF protects (all but the views and blueprints the code
exempts with `csrf.exempt`, read from the extension itself) is sent, as the person the route is
meant for, with no token, a forged token and another session's token, in the form and in the
header. Each such request is refused with 400 before the view runs, changes nothing in the
database and leaves the person signed in; the same request with the page's own token reaches
the view, so the refusal is the token's doing. An exempt route must carry its own proof instead
of the session: only public views (the bearer-token API, the LTI login and launch) may be exempt.
"""

from __future__ import annotations

import functools
import re

import pytest

from tests.lms.url_map_world import (
    actor_label,
    build_world,
    changed_tables,
    client_as,
    csrf_exempt,
    fingerprint,
    is_public,
    state_changing_routes,
    url,
)

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
# Pages with a form for anyone (the sign-in page) and for anyone signed in (the layout's sign-out).
TOKEN_PAGES = {"anonymous": "/auth/sign-in", "signed in": "/"}


@pytest.fixture
def world(make_agency, make_user):
    return build_world(make_agency, make_user)


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def entered(app, monkeypatch):
    """Endpoint -> how many times its view function was entered during the test."""
    calls: dict[str, int] = {}
    for endpoint, view in list(app.view_functions.items()):

        def spy(*args, _view=view, _endpoint=endpoint, **kwargs):
            calls[_endpoint] = calls.get(_endpoint, 0) + 1
            return _view(*args, **kwargs)

        # Keeps the name, module and declared roles: CSRFProtect and the access rules read them.
        monkeypatch.setitem(app.view_functions, endpoint, functools.wraps(view)(spy))
    return calls


def _page_token(test_client, label: str) -> str:
    page = test_client.get(TOKEN_PAGES["anonymous" if label == "anonymous" else "signed in"])
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on the page for {label} ({page.status_code})"
    return match.group(1) or match.group(2)


def _protected(app):
    return [(rule, method) for rule, method in state_changing_routes(app) if not csrf_exempt(app, rule)]


def _probes(app, sign_in, world, label):
    """(name, form fields, headers) of requests whose token is missing, forged or another's."""
    other_client, _ = client_as(app, sign_in, world, label)
    others = _page_token(other_client, label)
    forged = "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.forged.signature"
    return [
        ("no token", {}, {}),
        ("a forged token", {"csrf_token": forged}, {}),
        ("another session's token", {"csrf_token": others}, {}),
        ("a forged header", {}, {"X-CSRFToken": forged}),
        ("another session's header", {}, {"X-CSRFToken": others}),
    ]


def test_the_matrix_covers_the_state_changing_routes(app):
    protected = _protected(app)
    assert len(protected) >= 40, [f"{m} {r.rule}" for r, m in protected]
    assert {m for _, m in protected} <= {"POST", "PUT", "PATCH", "DELETE"}


def test_every_state_changing_route_refuses_a_missing_or_wrong_token(
    app, db, sign_in, world, csrf_on, entered
):
    failures, sent = [], 0
    for rule, method in _protected(app):
        label = actor_label(world, app, rule)
        address = url(rule, world.objects)
        test_client, headers = client_as(app, sign_in, world, label)
        for probe, fields, probe_headers in _probes(app, sign_in, world, label):
            where = f"{method} {rule.rule} as {label} with {probe}"
            before = fingerprint(db)
            entered.clear()
            response = test_client.open(
                address,
                method=method,
                data={"name": "CSRF probe", **fields},
                headers={**headers, **probe_headers},
            )
            sent += 1
            if response.status_code != 400:
                failures.append(f"{where}: answered {response.status_code}, not 400")
            if entered.get(rule.endpoint):
                failures.append(f"{where}: the view ran")
            if changed := changed_tables(before, fingerprint(db)):
                failures.append(f"{where}: changed {changed}")
            if label != "anonymous" and test_client.get("/learn/").status_code != 200:
                failures.append(f"{where}: signed the person out")
                test_client, headers = client_as(app, sign_in, world, label)
        # The same request with the page's own token gets past the check to the view.
        entered.clear()
        token = _page_token(test_client, label)
        test_client.open(address, method=method, data={"csrf_token": token}, headers=headers)
        if not entered.get(rule.endpoint):
            failures.append(f"{method} {rule.rule} as {label}: refused even with a valid token")
    assert sent >= 200
    assert not failures, f"{len(failures)} problems in {sent} requests:\n" + "\n".join(failures)


def test_only_views_with_their_own_proof_are_exempt(app):
    """A CSRF-exempt route must not act on the session's say-so: it has to be public (the API's
    bearer token, the LTI launch's signed id_token and server-side state)."""
    exempt = [(rule, method) for rule, method in state_changing_routes(app) if csrf_exempt(app, rule)]
    assert exempt, "the API and the LTI launch are exempt: the derivation found none"
    not_public = [f"{method} {rule.rule}" for rule, method in exempt if not is_public(app, rule)]
    assert not not_public, f"exempt from CSRF but authenticated by the session: {not_public}"


def test_exempt_routes_are_not_refused_for_want_of_a_token(app, sign_in, world, csrf_on, entered):
    for rule, method in state_changing_routes(app):
        if not csrf_exempt(app, rule):
            continue
        test_client, headers = client_as(app, sign_in, world, actor_label(world, app, rule))
        entered.clear()
        test_client.open(url(rule, world.objects), method=method, headers=headers)
        assert entered.get(rule.endpoint), f"{method} {rule.rule}: exempt in the code but refused"
