"""`/api/v1`: thin views over `services.api_records`, authenticated by bearer token.

Every view is `@public` for the session-based sign-in check and does its own token check, so
a browser's session never grants API access. Errors are JSON: `{"error", "detail", "status"}`
(plus `field` when one input is at fault).
"""

from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

from lms.access import public
from lms.api import bp, rate_limits
from lms.api.openapi import openapi_document
from lms.errors import MESSAGES, retry_after_seconds
from lms.extensions import db
from lms.input import MAX_ID, BadInput, parse_id
from lms.services import api_records, api_tokens
from lms.services.api_records import ApiInputError


def _error(status: int, detail: str, *, title: str | None = None, field: str | None = None, headers=None):
    title = title or _TITLES.get(status) or MESSAGES.get(status, ("Error",))[0]
    body: dict = {"error": title, "detail": detail, "status": status}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


_TITLES = {401: "Authentication required", 409: "Conflict", 422: "Unprocessable request"}


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    db.session.rollback()
    detail = {
        404: "No such record for this token's agency.",
        405: "That method is not allowed on this resource.",
        429: "Too many requests for this token; slow down and retry after the Retry-After seconds.",
    }.get(error.code or 500, error.description or "")
    retry = {"Retry-After": str(retry_after_seconds(error))} if error.code == 429 else None
    return _error(error.code or 500, detail, headers=retry)


@bp.errorhandler(ApiInputError)
def _input_error(error: ApiInputError):
    db.session.rollback()
    return _error(
        error.status, str(error), title=_TITLES.get(error.status, "Invalid request"), field=error.field
    )


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _too_many(detail: str, seconds: int):
    return _error(429, f"{detail}; retry after {seconds} seconds.", headers={"Retry-After": str(seconds)})


def token_required(scope: str):
    """Require a valid, unrevoked bearer token holding `scope`; the token is `g.api_token`.

    Rate limits (lms.api.rate_limits): an address that failed to authenticate too often is
    refused before its token is looked up; a verified token spends its own budget.
    """

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            wait = rate_limits.failures_exhausted()
            if wait is not None:
                return _too_many("Too many failed authentications from this address", wait)
            token = api_tokens.authenticate(_bearer())
            if token is None:
                rate_limits.note_failure()
                return _error(
                    401,
                    "Send a valid API token as `Authorization: Bearer <token>`.",
                    headers={"WWW-Authenticate": 'Bearer realm="ripple"'},
                )
            wait = rate_limits.spend(token)
            if wait is not None:
                db.session.commit()  # keep last_used_at
                return _too_many("Too many requests for this token", wait)
            if scope not in token.scopes:
                db.session.commit()  # keep last_used_at
                return _error(403, f"This token lacks the `{scope}` scope.", title="Forbidden")
            g.api_token = token
            response = view(*args, **kwargs)
            db.session.commit()
            return response

        wrapped.api_scope = scope
        return public(wrapped)

    return decorate


def _bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiInputError(f"`{name}` must be true or false.", name)


def _int_arg(name: str) -> int | None:
    try:
        return parse_id(request.args.get(name), name)
    except BadInput:
        raise ApiInputError(f"`{name}` must be a whole number from 1 to {MAX_ID}.", name) from None


def _paging() -> dict:
    return {
        "since": api_records.parse_since(request.args.get("since")),
        "cursor": request.args.get("cursor"),
        "limit": api_records.parse_limit(request.args.get("limit")),
    }


@bp.route("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document())


@bp.route("/people")
@token_required("people:read")
def people():
    page = api_records.list_people(g.api_token, active=_bool_arg("active"), **_paging())
    return jsonify(page.to_dict())


@bp.route("/people/<int:person_id>")
@token_required("people:read")
def person(person_id: int):
    found = api_records.get_person(g.api_token, person_id)
    if found is None:
        return _error(404, "No such person in this token's agency.")
    return jsonify(api_records.person_dict(found))


@bp.route("/people/by-badge/<badge_number>", methods=["PUT"])
@token_required("people:write")
def upsert_person(badge_number: str):
    body = request.get_json(silent=True)
    if body is None:
        raise ApiInputError("Send a JSON object with Content-Type: application/json.")
    found, created = api_records.upsert_person(g.api_token, badge_number, body)
    return jsonify(api_records.person_dict(found)), 201 if created else 200


@bp.route("/assignments")
@token_required("assignments:read")
def assignments():
    page = api_records.list_assignments(
        g.api_token, status=request.args.get("status"), person_id=_int_arg("person_id"), **_paging()
    )
    return jsonify(page.to_dict())


@bp.route("/completions")
@token_required("completions:read")
def completions():
    page = api_records.list_completions(g.api_token, person_id=_int_arg("person_id"), **_paging())
    return jsonify(page.to_dict())


@bp.route("/certificates")
@token_required("certificates:read")
def certificates():
    page = api_records.list_certificates(g.api_token, person_id=_int_arg("person_id"), **_paging())
    return jsonify(page.to_dict())
