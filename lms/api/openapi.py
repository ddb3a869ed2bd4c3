"""The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.

The tests validate real responses against the schemas here, so this document and the API
cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any

from lms.public_urls import public_url
from lms.services.api_records import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT
from lms.services.api_tokens import SCOPES

_NULLABLE_STR = {"type": ["string", "null"]}
_DATE_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "error": {"type": "string", "description": "A short title."},
            "detail": {"type": "string", "description": "What went wrong and how to fix it."},
            "status": {"type": "integer"},
            "field": {"type": "string", "description": "The parameter or property at fault."},
        },
        ["error", "detail", "status"],
    ),
    "Person": _obj(
        {
            "id": {"type": "integer"},
            "badge_number": _NULLABLE_STR,
            "name": {"type": "string"},
            "email": {"type": "string"},
            "rank": _NULLABLE_STR,
            "unit_code": _NULLABLE_STR,
            "hire_date": _NULLABLE_DATE,
            "active": {"type": "boolean"},
            "roles": {"type": "array", "items": {"type": "string"}},
            "created_at": _DATE_TIME,
        }
    ),
    "PersonUpsert": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "email": {"type": "string", "format": "email"},
            "rank": _NULLABLE_STR,
            "unit_code": _NULLABLE_STR,
            "hire_date": _NULLABLE_DATE,
            "active": {"type": "boolean"},
        },
        "additionalProperties": False,
        "description": "Only the properties given are changed; a new person needs name and email.",
    },
    "Assignment": _obj(
        {
            "id": {"type": "integer"},
            "person_id": {"type": "integer"},
            "badge_number": _NULLABLE_STR,
            "course_id": {"type": "integer"},
            "course_title": {"type": "string"},
            "course_version": {"type": "integer"},
            "due_on": _NULLABLE_DATE,
            "status": {"type": "string", "enum": ["assigned", "completed", "cancelled"]},
            "source": {"type": "string"},
            "assigned_at": _DATE_TIME,
            "completed_at": _NULLABLE_DATE_TIME,
        }
    ),
    "Completion": _obj(
        {
            "id": {"type": "integer"},
            "person_id": {"type": "integer"},
            "assignment_id": {"type": "integer"},
            "course_id": {"type": "integer"},
            "course_title": {"type": "string"},
            "credit_hours": {"type": "number"},
            "category": {"type": "string"},
            "completed_at": _DATE_TIME,
        }
    ),
    "Certificate": _obj(
        {
            "id": {"type": "integer"},
            "person_id": {"type": "integer"},
            "course_id": {"type": "integer"},
            "course_title": {"type": "string"},
            "code": {"type": "string"},
            "credit_hours": {"type": "number"},
            "issued_on": {"type": "string", "format": "date"},
            "expires_on": _NULLABLE_DATE,
            "revoked_at": _NULLABLE_DATE_TIME,
            "revoked_reason": _NULLABLE_STR,
            "replaces_id": {"type": ["integer", "null"]},
            "created_at": _DATE_TIME,
        }
    ),
}

for _name in ("Person", "Assignment", "Completion", "Certificate"):
    SCHEMAS[f"{_name}Page"] = _obj(
        {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{_name}"}},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
        }
    )

_ERRORS = {
    code: {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for code, text in {
        "400": "Invalid input (the `field` names it).",
        "401": "Missing, unknown or revoked token.",
        "403": "The token lacks the scope this operation needs.",
        "429": "Rate limit exceeded; retry after the Retry-After seconds.",
    }.items()
}

_PAGING = [
    {
        "name": "since",
        "in": "query",
        "description": "Only records created or changed at or after this ISO 8601 date or date-time (UTC if no zone).",
        "schema": {"type": "string"},
    },
    {
        "name": "cursor",
        "in": "query",
        "description": "`next_cursor` of the previous page.",
        "schema": {"type": "string", "maxLength": MAX_CURSOR_LENGTH},
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
]
_PERSON_ID = {
    "name": "person_id",
    "in": "query",
    "description": "Only this person's records.",
    "schema": {"type": "integer"},
}


def _ok(schema: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _list(summary: str, schema: str, scope: str, extra: list | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "security": [{"bearerToken": [scope]}],
            "parameters": _PAGING + (extra or []),
            "responses": {"200": _ok(f"{schema}Page"), **_ERRORS},
        }
    }


def openapi_document() -> dict[str, Any]:
    server = public_url("api.openapi").removesuffix("/openapi.json")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ripple records API",
            "version": "1.0.0",
            "description": (
                "People, assignments, completions and certificates of one agency, for its records "
                "system. Authenticate with `Authorization: Bearer <token>`; coordinators create "
                "tokens under Agency → Integrations. Lists are ordered by id and paged by cursor. "
                "Scopes: " + "; ".join(f"`{k}` {v.lower()}" for k, v in SCOPES.items()) + "."
            ),
        },
        "servers": [{"url": server}],
        "components": {
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"bearerToken": []}],
        "paths": {
            "/people": _list(
                "People of the agency",
                "Person",
                "people:read",
                [{"name": "active", "in": "query", "schema": {"type": "boolean"}}],
            ),
            "/people/{person_id}": {
                "get": {
                    "summary": "One person",
                    "security": [{"bearerToken": ["people:read"]}],
                    "parameters": [
                        {"name": "person_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {
                        "200": _ok("Person"),
                        "404": {
                            "description": "No such person in this agency.",
                            "content": _ERRORS["400"]["content"],
                        },
                        **_ERRORS,
                    },
                }
            },
            "/people/by-badge/{badge_number}": {
                "put": {
                    "summary": "Create or update a person by badge number (roster sync)",
                    "security": [{"bearerToken": ["people:write"]}],
                    "parameters": [
                        {
                            "name": "badge_number",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 32},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/PersonUpsert"}}
                        },
                    },
                    "responses": {
                        "200": _ok("Person", "Updated"),
                        "201": _ok("Person", "Created"),
                        "409": {
                            "description": "The email belongs to another person of the token's agency.",
                            "content": _ERRORS["400"]["content"],
                        },
                        "413": {
                            "description": "The JSON body is over 1 MB (bodies nested over 32 levels are a 400).",
                            "content": _ERRORS["400"]["content"],
                        },
                        **_ERRORS,
                    },
                }
            },
            "/assignments": _list(
                "Assignments (created, or completed, since)",
                "Assignment",
                "assignments:read",
                [
                    _PERSON_ID,
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["assigned", "completed", "cancelled"]},
                    },
                ],
            ),
            "/completions": _list("Course completions", "Completion", "completions:read", [_PERSON_ID]),
            "/certificates": _list(
                "Certificates (issued, or revoked, since)", "Certificate", "certificates:read", [_PERSON_ID]
            ),
        },
    }
