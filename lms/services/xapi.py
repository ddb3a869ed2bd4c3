"""xAPI statements about learning in Ripple, queued per agency and delivered to its LRS.

Statements use the ADL verb IRIs and account-based actors (`{homePage, name: our person id}`;
the email only when the agency opts in and the person has confirmed it, see
User.confirmed_email). Ids are built from lms.public_urls.base_url(), the same in a request and
in the worker. A scenario attempt is the statement's
`context.registration` (a UUID derived from the attempt), with the course and module as parent
activities. Statements are queued in the same transaction as the record they report and sent
later by `deliver_due()` with an idempotent PUT per statement id, so an LRS outage or a lost
answer loses and duplicates nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import select

from lms import public_urls
from lms.extensions import db
from lms.models import Agency, LrsSettings, User, XapiStatement
from lms.models.people import is_placeholder_email
from lms.models.types import utcnow
from lms.services import audit, outbound

XAPI_VERSION = "1.0.3"
VERBS = {
    "launched": "http://adlnet.gov/expapi/verbs/launched",
    "attempted": "http://adlnet.gov/expapi/verbs/attempted",
    "answered": "http://adlnet.gov/expapi/verbs/answered",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "module": "http://adlnet.gov/expapi/activities/module",
    "scenario": "http://adlnet.gov/expapi/activities/simulation",
    "interaction": "http://adlnet.gov/expapi/activities/cmi.interaction",
}
MAX_BACKOFF = timedelta(hours=6)
BATCH = 200


# What an LRS answers for a statement it will never accept (xAPI 1.0.3 part 3, 2.1.1: 400 for
# a malformed statement; 413 too large; 422 from LRSs that validate with a schema): sending it
# again cannot help, so the row is marked failed. 409 means it holds the statement already
# (delivered). Everything else (401/403: the key; 404/405: the endpoint; 429; 5xx) is the
# setup or the moment, fixable without changing the statement, and is retried.
REFUSED_AS_INVALID = frozenset({400, 413, 422})


class LrsError(ValueError):
    """LRS settings that cannot be saved; the message is for the coordinator."""


class StatementRefused(LrsError):
    """The LRS refused this statement as invalid: it is not sent again."""


def base_url() -> str:
    """The site's address every id is built from: the same in a request and outside one (the
    worker, the grading sweep, CLI commands), see lms.public_urls.base_url."""
    return public_urls.base_url()


def activity(kind: str, path: str, title: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": f"{base_url()}/xapi/activities/{path}",
        "definition": {"name": {"en-US": title}, "type": ACTIVITY_TYPES[kind]},
    }


def registration_of(attempt_id: int) -> str:
    """The attempt as an xAPI registration: a UUID stable for this site and attempt."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url()}/attempts/{attempt_id}"))


def actor_of(user: User, settings: LrsSettings | None) -> dict[str, Any]:
    actor: dict[str, Any] = {
        "objectType": "Agent",
        "name": user.name,
        "account": {"homePage": base_url(), "name": str(user.id)},
    }
    email = user.confirmed_email
    if settings is not None and settings.include_email and email:
        # An Agent has exactly one inverse functional identifier: the email replaces the account.
        # Only an address the person confirmed: a placeholder or an address someone else typed
        # (a roster, a platform) would name a stranger, or nobody, and the LRS refuses it.
        del actor["account"]
        actor["mbox"] = f"mailto:{email}"
    return actor


def iso_duration(seconds: float) -> str:
    return f"PT{max(seconds, 0):.2f}S"


def score_result(score: float | None, passed: bool | None, *, completion: bool, seconds: float | None = None):
    result: dict[str, Any] = {"completion": completion}
    if score is not None:
        result["score"] = {"scaled": round(score / 100, 4), "raw": score, "min": 0, "max": 100}
    if passed is not None:
        result["success"] = passed
    if seconds is not None:
        result["duration"] = iso_duration(seconds)
    return result


def settings_of(agency_id: int) -> LrsSettings | None:
    """The agency's LRS settings, switched on or not."""
    return db.session.scalar(select(LrsSettings).where(LrsSettings.agency_id == agency_id))


def settings_for(agency_id: int | None) -> LrsSettings | None:
    if agency_id is None:
        return None
    settings = db.session.scalar(select(LrsSettings).where(LrsSettings.agency_id == agency_id))
    return settings if settings is not None and settings.active else None


def queue(
    user: User,
    verb: str,
    obj: dict[str, Any],
    *,
    result: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
) -> XapiStatement | None:
    """Queue one statement for the person's agency LRS; nothing when the agency has none."""
    settings = settings_for(user.agency_id)
    if settings is None:
        return None
    statement_id = str(uuid.uuid4())
    statement: dict[str, Any] = {
        "id": statement_id,
        "actor": actor_of(user, settings),
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": obj,
        "timestamp": (timestamp or utcnow()).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "context": {"platform": "Ripple", "language": "en-US", **(context or {})},
    }
    if result is not None:
        statement["result"] = result
    row = XapiStatement(
        agency_id=user.agency_id, statement_id=statement_id, user_id=user.id, verb=verb, statement=statement
    )
    db.session.add(row)
    db.session.flush()
    from lms.services import outcomes

    outcomes.deliver_after_commit("xapi", row.id)
    return row


# --- settings -----------------------------------------------------------------------------


def save_settings(
    actor: User,
    agency: Agency,
    *,
    endpoint: str,
    key: str,
    secret: str | None,
    include_email: bool,
    active: bool,
) -> LrsSettings:
    """Create or change the agency's LRS; an empty secret keeps the stored one."""
    endpoint = (endpoint or "").strip().rstrip("/")
    if not endpoint.startswith(("https://", "http://")):
        raise LrsError("The LRS endpoint must be an http(s) URL, e.g. https://lrs.example.org/xapi.")
    refused = outbound.check_url(endpoint)
    if refused:
        raise LrsError(f"Ripple will not call this address: {refused}.")
    settings = db.session.scalar(select(LrsSettings).where(LrsSettings.agency_id == agency.id))
    if settings is None:
        if not secret:
            raise LrsError("Enter the LRS secret.")
        settings = LrsSettings(agency_id=agency.id)
        db.session.add(settings)
    settings.endpoint, settings.key = endpoint[:500], (key or "").strip()[:255]
    if secret:
        settings.secret = secret[:255]
    settings.include_email, settings.active = include_email, active
    db.session.flush()
    audit.record(
        actor,
        "lrs.saved",
        settings,
        summary=f"LRS {settings.endpoint} ({'on' if active else 'off'}, emails {'in' if include_email else 'out'})",
        agency_id=agency.id,
    )
    return settings


# --- delivery -----------------------------------------------------------------------------


def backoff(tries: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(tries - 1, 0)), MAX_BACKOFF)


def _send(settings: LrsSettings, row: XapiStatement, session: requests.Session) -> None:
    # The guarded session checks the endpoint's addresses again now: DNS may have changed.
    response = session.put(
        settings.endpoint + "/statements",
        params={"statementId": row.statement_id},
        json=row.statement,
        auth=(settings.key, settings.secret),
        headers={"X-Experience-API-Version": XAPI_VERSION},
        timeout=current_app.config["INTEGRATIONS_HTTP_TIMEOUT"],
    )
    # 409: the LRS already holds this statement id (an earlier try got through).
    if response.status_code in REFUSED_AS_INVALID:
        problems = validate_statement(row.statement)
        found = f" Ripple's own check found: {'; '.join(problems)}." if problems else ""
        raise StatementRefused(
            f"{outbound.answered('LRS', response)}: it refused this statement as invalid, so it is "
            f"not sent again.{found}"
        )
    if response.status_code not in (200, 204, 409):
        raise LrsError(outbound.answered("LRS", response))  # never the body: it is the LRS's to say


def deliver(rows: list[XapiStatement], *, now: datetime | None = None) -> tuple[int, int]:
    """Try to send these statements; returns (delivered, failed). Flushes; the caller commits."""
    now = now or utcnow()
    delivered = failed = 0
    settings_by_agency: dict[int, LrsSettings | None] = {}
    with outbound.session(user_agent="Ripple-xAPI") as session:
        for row in rows:
            if row.status != "pending":  # delivered, or refused by the LRS as invalid
                continue
            if row.agency_id not in settings_by_agency:
                settings_by_agency[row.agency_id] = settings_for(row.agency_id)
            settings = settings_by_agency[row.agency_id]
            row.tries += 1
            try:
                if settings is None:
                    raise LrsError("The agency's LRS is switched off or not set up.")
                _send(settings, row, session)
            except StatementRefused as error:
                row.status, row.last_error = "failed", str(error)[:1000]
                failed += 1
            except (requests.RequestException, LrsError) as error:
                row.last_error = outbound.describe(error, "LRS")[:1000]
                row.next_try_at = now + backoff(row.tries)
                failed += 1
            else:
                row.status, row.delivered_at, row.last_error = "delivered", now, None
                delivered += 1
    db.session.flush()
    return delivered, failed


def validate_statement(statement: dict[str, Any]) -> list[str]:
    """Problems with a statement against the xAPI 1.0.3 required fields (empty if none)."""
    problems = []
    try:
        uuid.UUID(str(statement.get("id")))
    except ValueError:
        problems.append("id must be a UUID")
    actor = statement.get("actor") or {}
    ifis = [key for key in ("mbox", "mbox_sha1sum", "openid", "account") if key in actor]
    if len(ifis) != 1:
        problems.append("actor must have exactly one inverse functional identifier")
    if "account" in actor and not {"homePage", "name"} <= set(actor["account"]):
        problems.append("actor.account needs homePage and name")
    if "mbox" in actor:
        address = str(actor["mbox"]).removeprefix("mailto:")
        if not str(actor["mbox"]).startswith("mailto:") or "@" not in address:
            problems.append("actor.mbox must be mailto: and an email address")
        elif is_placeholder_email(address):
            problems.append("actor.mbox is a placeholder address that no mail reaches")
    verb = statement.get("verb") or {}
    if not str(verb.get("id", "")).startswith(("http://", "https://")):
        problems.append("verb.id must be an IRI")
    obj = statement.get("object") or {}
    if not str(obj.get("id", "")).startswith(("http://", "https://")):
        problems.append("object.id must be an IRI")
    result = statement.get("result")
    if result and "score" in result:
        score = result["score"]
        if not -1 <= score.get("scaled", 0) <= 1:
            problems.append("result.score.scaled must be within -1..1")
        if "raw" in score and not score.get("min", score["raw"]) <= score["raw"] <= score.get(
            "max", score["raw"]
        ):
            problems.append("result.score.raw must be within min..max")
    context = statement.get("context") or {}
    if "registration" in context:
        try:
            uuid.UUID(context["registration"])
        except ValueError:
            problems.append("context.registration must be a UUID")
    try:
        datetime.fromisoformat(str(statement.get("timestamp", "")).replace("Z", "+00:00"))
    except ValueError:
        problems.append("timestamp must be ISO 8601")
    return problems
