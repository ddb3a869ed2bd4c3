"""Agency isolation, checked on every route of the URL map for every role.

For each route, agency A's objects are substituted into the URL, and every role of agency A,
every role of agency B, a platform admin and an anonymous visitor request it with each method
the route accepts. Expected:

- never a 500;
- anonymous visitors are sent to sign in (or get 401 from an API) unless the view is public;
- agency B's people get 403 or 404, or a page that shows nothing of agency A (public pages such
  as certificate verification excepted: they show what they are meant to), and their POSTs
  change nothing of agency A's;
- agency A's people get 403 exactly when their roles are not among the view's allowed roles.

New routes are covered automatically; a route with a URL parameter this test does not know
fails the test until tests/lms/url_map_world.py makes an object for it. Every integer URL
parameter is also tried with ids that exist nowhere: 0, negative, and above the 32- and 64-bit
limits (2**31 is past PostgreSQL's `integer`), each answered exactly like a missing record.
The whole module runs on PostgreSQL too (`DATABASE_URL`, as `.ci/run` does).
"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.lms.pdf_text import flat
from tests.lms.url_map_world import (
    SENTINELS,
    actor_label,
    agency_a_state,
    build_world,
    client_as,
    routes,
    url,
    view_of,
)

# Ids that exist nowhere: zero, negative, and past the 32-bit (PostgreSQL `integer`) and 64-bit
# (`bigint`, SQLite) limits.
MISSING_IDS = (0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30)


@pytest.fixture
def world(make_agency, make_user):
    return build_world(make_agency, make_user)


def test_every_route_respects_agency_and_role(app, db, client, sign_in, world):
    checked = 0
    for rule, method in routes(app):
        address = url(rule, world.objects)
        view = view_of(app, rule)
        for label, person in world.people.items():
            test_client = app.test_client()
            if person is not None:
                sign_in(person, test_client)
            before = agency_a_state(db, world) if method != "GET" and label.startswith("B.") else None
            response = test_client.open(address, method=method)
            where = f"{method} {rule.rule} as {label}"
            assert response.status_code != 500, f"{where}: server error"
            checked += 1

            if rule.endpoint == "static":
                continue
            if person is None:
                if not getattr(view, "is_public", False):
                    assert response.status_code in (302, 401), f"{where}: reachable without signing in"
                continue
            if label.startswith("B."):
                # Public pages (certificate verification, badges) show what they are meant to.
                if response.status_code < 300 and not getattr(view, "is_public", False):
                    # a PDF (a library scenario's facilitator guide) is read as the text it shows
                    body = (
                        flat(response.data)
                        if response.mimetype == "application/pdf"
                        else response.get_data(as_text=True)
                    )
                    leaked = [s for s in SENTINELS if s in body]
                    assert not leaked, f"{where}: shows agency A's data {leaked}"
                if before is not None:
                    assert agency_a_state(db, world) == before, f"{where}: changed agency A's records"
                continue
            allowed = getattr(view, "allowed_roles", None)
            if allowed is None:
                continue
            may = label == "admin" or person.has_role(*allowed)
            if may and method == "GET":
                assert response.status_code in (200, 302), (
                    f"{where}: allowed role refused ({response.status_code})"
                )
            if not may:
                assert response.status_code == 403, (
                    f"{where}: role not allowed but got {response.status_code}"
                )
    assert checked > 50


def _integer_arguments(rule) -> list[str]:
    return sorted(
        name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)
    )


def test_ids_that_exist_nowhere_answer_like_a_missing_record(app, sign_in, world):
    """Every integer URL parameter of every route, for the person the route is meant for."""
    failures, checked = [], 0
    for rule, method in routes(app):
        label = actor_label(world, app, rule)
        for argument in _integer_arguments(rule):
            for missing in MISSING_IDS:
                address = url(rule, {**world.objects, argument: missing})
                test_client, headers = client_as(app, sign_in, world, label)
                response = test_client.open(address, method=method, headers=headers)
                checked += 1
                # A record id answers like a missing record; other numbers (a decision's index)
                # may be answered by the page they belong to, but never by a server error.
                expected = (400, 404) if argument.endswith("_id") else range(200, 500)
                if response.status_code not in expected:
                    failures.append(f"{method} {address} as {label}: {response.status_code}")
    assert checked > 100
    assert not failures, f"{len(failures)} of {checked} requests:\n" + "\n".join(failures)


def test_agency_b_coordinator_gets_404_for_agency_a_person(client, sign_in, world):
    sign_in(world.people["B.coordinator"])
    assert client.get(f"/people/{world.objects['user_id']}").status_code == 404
    assert client.get(f"/agencies/{world.agency_a.id}/people").status_code == 404


def test_agency_a_coordinator_sees_own_people(client, sign_in, world):
    sign_in(world.people["A.coordinator"])
    page = client.get(f"/agencies/{world.agency_a.id}/people").get_data(as_text=True)
    assert "Zephyrine Alphaworth" in page


def test_admin_sees_every_agency(client, sign_in, world):
    sign_in(world.people["admin"])
    assert "Alpha Sentinel Police" in client.get("/agencies/").get_data(as_text=True)
    assert "Zephyrine Alphaworth" in client.get(f"/people/{world.objects['user_id']}").get_data(as_text=True)
