"""The REST API: tokens, scopes, agency isolation, paging, date filters, upsert, errors, and
every response checked against the OpenAPI document it serves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from lms.models import Role

ALL = ["people:read", "people:write", "assignments:read", "completions:read", "certificates:read"]


@pytest.fixture
def token_for(db, make_user):
    from lms.services import api_tokens

    def make(agency, scopes=ALL):
        coordinator = make_user(agency, (Role.COORDINATOR,))
        token, raw = api_tokens.create_token(coordinator, agency, "Records system", scopes)
        db.session.commit()
        return token, raw

    return make


@pytest.fixture
def api(client, agency, token_for):
    _, raw = token_for(agency)

    def call(method, path, raw_token=raw, **kwargs):
        headers = {"Authorization": f"Bearer {raw_token}"} if raw_token else {}
        return client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    return call


@pytest.fixture
def openapi(client):
    document = client.get("/api/v1/openapi.json").get_json()
    registry = Registry().with_resource("urn:ripple-api", DRAFT202012.create_resource(document))

    def check(path_template: str, method: str, response) -> None:
        """Validate a real response against the documented schema for its status."""
        operation = document["paths"][path_template][method.lower()]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method} {path_template}: status {response.status_code} undocumented"
        schema = documented["content"]["application/json"]["schema"]
        validator = Draft202012Validator({"$ref": "urn:ripple-api" + schema["$ref"]}, registry=registry)
        errors = sorted(validator.iter_errors(response.get_json()), key=str)
        assert not errors, f"{method} {path_template} {response.status_code}: {errors[0].message}"

    check.document = document
    return check


def test_openapi_document_is_valid_openapi_31(openapi):
    document = openapi.document
    assert document["openapi"].startswith("3.1")
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert {"/people", "/assignments", "/completions", "/certificates"} <= set(document["paths"])


@pytest.mark.parametrize("path", ["/people", "/assignments", "/completions", "/certificates", "/people/1"])
def test_without_a_token_every_endpoint_answers_401_json(client, openapi, path):
    response = client.get("/api/v1" + path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in response.get_json()["detail"]
    openapi("/people/{person_id}" if path == "/people/1" else path, "GET", response)


def test_a_session_does_not_grant_api_access(client, sign_in, coordinator):
    sign_in(coordinator)
    assert client.get("/api/v1/people").status_code == 401


def test_people_are_listed_for_the_tokens_agency_only(api, openapi, officer, make_agency, make_user):
    other = make_user(make_agency("Other PD"), name="Not Ours")
    response = api("GET", "/people")
    assert response.status_code == 200
    openapi("/people", "GET", response)
    names = [p["name"] for p in response.get_json()["data"]]
    assert officer.name in names and other.name not in names
    assert api("GET", f"/people/{other.id}").status_code == 404
    one = api("GET", f"/people/{officer.id}")
    openapi("/people/{person_id}", "GET", one)
    assert one.get_json()["badge_number"] == officer.badge_number


def test_cursor_pagination_visits_everyone_once(api, agency, make_user):
    for _ in range(5):
        make_user(agency)
    seen, cursor, pages = [], None, 0
    while True:
        response = api("GET", "/people?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        body = response.get_json()
        seen += [p["id"] for p in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6  # five officers + the token's coordinator
    assert pages == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("cursor=%%%", "cursor"),
        ("since=yesterday", "since"),
        ("active=maybe", "active"),
    ],
)
def test_bad_query_parameters_get_a_json_400_naming_them(api, openapi, query, field):
    response = api("GET", "/people?" + query)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    openapi("/people", "GET", response)


def test_since_filters_for_incremental_sync(api, db, agency, make_user):
    old = make_user(agency, name="Old Timer")
    old.created_at = datetime.now(UTC) - timedelta(days=30)
    db.session.commit()
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    names = [p["name"] for p in api("GET", f"/people?since={since}").get_json()["data"]]
    assert "Old Timer" not in names and names


def test_scopes_are_enforced(client, agency, token_for, openapi):
    _, raw = token_for(agency, ["people:read"])
    response = client.get("/api/v1/completions", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    assert "completions:read" in response.get_json()["detail"]
    openapi("/completions", "GET", response)
    put = client.put(
        "/api/v1/people/by-badge/X1",
        json={"name": "A", "email": "a@x.test"},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert put.status_code == 403


def test_revoked_token_is_refused(client, db, agency, token_for, coordinator):
    from lms.services import api_tokens

    token, raw = token_for(agency)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/people", headers=headers).status_code == 200
    api_tokens.revoke_token(coordinator, db.session.get(type(token), token.id))
    db.session.commit()
    assert client.get("/api/v1/people", headers=headers).status_code == 401


def test_tokens_are_stored_hashed(db, agency, token_for):
    token, raw = token_for(agency)
    assert raw not in (token.token_hash, token.prefix) and raw.startswith(f"rpl_{token.prefix}_")


def test_upsert_creates_then_updates_a_person(api, openapi, db, agency):
    created = api(
        "PUT",
        "/people/by-badge/N-100",
        json={"name": "New Recruit", "email": "New@Example.test", "unit_code": "HQ"},
    )
    assert created.status_code == 201
    openapi("/people/by-badge/{badge_number}", "PUT", created)
    body = created.get_json()
    assert body["email"] == "new@example.test" and body["roles"] == ["officer"] and body["unit_code"] == "HQ"
    updated = api("PUT", "/people/by-badge/N-100", json={"rank": "Sergeant", "active": False})
    assert updated.status_code == 200
    openapi("/people/by-badge/{badge_number}", "PUT", updated)
    assert updated.get_json()["rank"] == "Sergeant" and updated.get_json()["active"] is False
    assert updated.get_json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "No Email"}, 400, "email"),
        ({"name": "X", "email": "not-an-email"}, 400, "email"),
        ({"name": "X", "email": "x@x.test", "unit_code": "NOPE"}, 400, "unit_code"),
        ({"name": "X", "email": "x@x.test", "hire_date": "last year"}, 400, "hire_date"),
        ({"name": "X", "email": "x@x.test", "favourite": "tea"}, 400, "favourite"),
        ({"name": "", "email": "x@x.test"}, 400, "name"),
        ([1, 2], 400, None),
    ],
)
def test_upsert_rejects_bad_input_and_changes_nothing(api, openapi, db, body, status, field):
    from lms.models import AuditEvent

    before = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    response = api("PUT", "/people/by-badge/N-200", json=body)
    assert response.status_code == status
    openapi("/people/by-badge/{badge_number}", "PUT", response)
    assert response.get_json().get("field") == field
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == before


def test_upsert_with_another_accounts_email_is_a_conflict(api, openapi, officer):
    response = api("PUT", "/people/by-badge/N-300", json={"name": "Copy", "email": officer.email})
    assert response.status_code == 409
    openapi("/people/by-badge/{badge_number}", "PUT", response)


def test_upsert_body_that_is_not_json_is_400(api):
    response = api(
        "PUT", "/people/by-badge/N-400", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400 and response.is_json


def test_learning_records_are_listed_and_validate(api, openapi, db, officer, coordinator):
    from tests.lms.learning_fixtures import learning_objects

    learning_objects(officer)
    for path in ("/assignments", "/completions", "/certificates"):
        response = api("GET", path)
        assert response.status_code == 200, path
        openapi(path, "GET", response)
        assert response.get_json()["data"], path
    assert api("GET", "/assignments?status=bogus").status_code == 400


def test_rate_limit_answers_429_json(app, api, openapi):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    try:
        responses = [api("GET", "/people") for _ in range(3)]
    finally:
        app.config["API_RATE_LIMIT"] = "100000 per minute"
    limited = responses[-1]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert limited.is_json and limited.headers.get("Retry-After")
    openapi("/people", "GET", limited)


def test_coordinator_creates_and_revokes_a_token_in_the_browser(client, sign_in, coordinator, agency, db):
    from lms.models import ApiToken

    sign_in(coordinator)
    page = client.post(
        f"/agencies/{agency.id}/integrations/tokens", data={"name": "HR system", "scopes": ["people:read"]}
    ).get_data(as_text=True)
    assert "not shown again" in page
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.name == "HR system"))
    raw = page.split(f"rpl_{token.prefix}_")[1].split("<")[0]
    assert (
        client.get(
            "/api/v1/people", headers={"Authorization": f"Bearer rpl_{token.prefix}_{raw}"}
        ).status_code
        == 200
    )
    client.post(f"/agencies/{agency.id}/integrations/tokens/{token.id}/revoke")
    assert (
        client.get(
            "/api/v1/people", headers={"Authorization": f"Bearer rpl_{token.prefix}_{raw}"}
        ).status_code
        == 401
    )


def test_token_form_without_scopes_is_refused(client, sign_in, coordinator, agency):
    sign_in(coordinator)
    response = client.post(f"/agencies/{agency.id}/integrations/tokens", data={"name": "HR"})
    assert response.status_code == 400
    assert "Choose at least one scope" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/people/99999999999999999999999",
        "/people?person_id=1",
        "/assignments?person_id=99999999999999999999999",
        "/completions?person_id=-3",
    ],
)
def test_out_of_range_ids_never_500(api, path):
    assert api("GET", path).status_code in (200, 400, 404)


def test_a_huge_cursor_is_refused(api):
    from lms.services.api_records import encode_cursor

    assert api("GET", f"/people?cursor={encode_cursor(2**70)}").status_code == 400
