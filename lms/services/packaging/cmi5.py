"""cmi5 packages: Ripple as the assignable unit (AU) an LMS launches.

The package is a zip holding `cmi5.xml`: one course with one AU whose URL is Ripple's launch
URL for the package (its public key in the path). The LMS opens that URL with `endpoint`,
`fetch`, `actor`, `registration` and `activityId`. Ripple then, in this order:

1. checks every parameter (and that the package is a live cmi5 package with a seat free)
   before it calls anything; `endpoint` and `fetch` go through the outbound guard;
2. POSTs the fetch URL once for the session's auth token (a fetch URL is single-use: a launch
   URL seen before is refused without calling it again);
3. reads the `LMS.LaunchData` state document from the LMS's LRS (launchMode, moveOn,
   masteryScore, returnURL, contextTemplate);
4. matches the person by (package, actor account name), opens the target, stores the session
   and queues `initialized`.

Results follow the cmi5 rules: `completed` at most once per registration, `passed` at most
once, no `failed` after `passed`, one of passed/failed per session, and passed or failed
decided by the LMS's masteryScore (against the scaled score) when it gives one. In Browse and
Review launches only `initialized` and `terminated` are sent. `terminated` is the session's
last statement. A result that arrives after its session ended is reported in the next
session of the same registration.

Sending: statements are queued (`Cmi5Statement`, in order) in the transaction that decides
them and sent after it commits, oldest first, each an idempotent PUT by id; the first failure
stops the session's queue (the order is the protocol) and the periodic deliveries job tries
again with backoff while the LMS's token may still be good.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import requests
from flask import after_this_request, current_app, g, has_request_context, url_for
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lms.extensions import db
from lms.input import MAX_JSON_DEPTH, control_character, json_scan, one_line, text_problem
from lms.models import (
    Assignment,
    Attempt,
    AttemptGrade,
    Completion,
    DispatchPackage,
    PackageLearner,
    ScenarioVersion,
    User,
)
from lms.models.cmi5 import LAUNCH_MODES, MOVE_ON, Cmi5Session, Cmi5Statement
from lms.models.types import utcnow
from lms.public_urls import public_url
from lms.services import launch_targets, outbound
from lms.services.packaging import packages

XAPI_VERSION = "1.0.3"
COURSE_STRUCTURE_NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
MASTERY_SCORE = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
VERBS = {
    "initialized": "http://adlnet.gov/expapi/verbs/initialized",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
    "terminated": "http://adlnet.gov/expapi/verbs/terminated",
}
MAX_URL = 2000
MAX_ACTOR = 4000
# The LMS's token lasts as long as its session; retrying beyond a day is pointless.
RETRY_FOR = timedelta(days=1)
MAX_BACKOFF = timedelta(hours=1)


class Cmi5Error(ValueError):
    """A launch or a step of a session that cannot go on; the message is for the learner."""


class LaunchUrlUsed(Cmi5Error):
    """The launch URL (its fetch URL) opened a session before."""

    def __init__(self, message: str, session: Cmi5Session):
        super().__init__(message)
        self.session = session


class LrsUnreachable(Cmi5Error):
    """The LMS or its LRS did not answer as cmi5 says (not the learner's input)."""


# --- the package --------------------------------------------------------------------------------


def _target_details(package: DispatchPackage) -> tuple[str, str, float | None]:
    """(description, moveOn, masteryScore) for the package's target."""
    from lms.services.scenario_library import latest_published, scenario_of

    parsed = launch_targets.parse_target(package.target)
    if parsed is not None and parsed[0] == "scenario":
        version = latest_published(package.agency_id, parsed[1][0])
        mastery = round(scenario_of(version).grading.pass_mark / 100, 4) if version is not None else 0.7
        return (
            "A graded Ripple scenario: the learner passes at the mastery score or above.",
            "CompletedAndPassed",
            mastery,
        )
    return ("A Ripple course: complete when every required item is done.", "Completed", None)


def launch_url(package: DispatchPackage) -> str:
    return public_url("packaging.cmi5_launch", key=package.key)


def course_structure(package: DispatchPackage) -> bytes:
    """The package's cmi5.xml: one course, one AU (Ripple's launch URL for the package).

    A scenario is judged: moveOn CompletedAndPassed with its pass mark as masteryScore. A
    course has no score: moveOn Completed."""
    description, move_on, mastery = _target_details(package)
    ElementTree.register_namespace("", COURSE_STRUCTURE_NS)

    def element(parent, tag, **attributes):
        return ElementTree.SubElement(parent, f"{{{COURSE_STRUCTURE_NS}}}{tag}", attributes)

    def texts(parent, tag, text):
        holder = element(parent, tag)
        element(holder, "langstring", lang="en-US").text = text
        return holder

    base = public_url("packaging.cmi5_launch", key=package.key).rsplit("/", 1)[0]
    root = ElementTree.Element(f"{{{COURSE_STRUCTURE_NS}}}courseStructure")
    course = element(root, "course", id=f"{base}/course")
    texts(course, "title", package.title)
    texts(course, "description", description)
    attributes = {"id": f"{base}/au", "moveOn": move_on, "launchMethod": "AnyWindow"}
    if mastery is not None:
        attributes["masteryScore"] = f"{mastery:g}"
    au = element(root, "au", **attributes)
    texts(au, "title", package.title)
    texts(au, "description", description)
    element(au, "url").text = launch_url(package)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def build_zip(package: DispatchPackage) -> bytes:
    """The package file an LMS administrator imports: a zip with cmi5.xml at its root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cmi5.xml", course_structure(package))
    return buffer.getvalue()


# --- checking the launch ------------------------------------------------------------------------


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _json(raw: bytes | str, what: str):
    """Parse another system's JSON: not nested past MAX_JSON_DEPTH and no string holding a
    character no database stores; raises Cmi5Error naming `what`."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if json_scan(data).depth > MAX_JSON_DEPTH:
        raise Cmi5Error(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise Cmi5Error(f"{what} is not JSON.") from None
    if any(control_character(text) for text in _strings(value)):
        raise Cmi5Error(f"{what} holds a control character.")
    return value


@dataclass
class LaunchParameters:
    endpoint: str
    fetch: str
    actor: dict[str, Any]
    account_name: str
    registration: str
    activity_id: str


def _split(value: str, what: str):
    """urlsplit, with a malformed address (`http://[bad`, a bad port) as a Cmi5Error."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise Cmi5Error(f"{what} is not a well-formed URL.") from None
    return parts


def _url(args, name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Cmi5Error(f"The launch URL has no `{name}` parameter.")
    value = value.strip()
    if len(value) > MAX_URL:
        raise Cmi5Error(f"The launch's `{name}` is longer than {MAX_URL} characters.")
    parts = _split(value, f"The launch's `{name}`")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Cmi5Error(f"The launch's `{name}` is not an http(s) URL.")
    refused = outbound.check_url(value)
    if refused:
        raise Cmi5Error(f"Ripple will not call the launch's `{name}`: {refused}.")
    return value


def _actor(raw) -> tuple[dict[str, Any], str]:
    if not isinstance(raw, str) or not raw.strip():
        raise Cmi5Error("The launch URL has no `actor` parameter.")
    if len(raw) > MAX_ACTOR:
        raise Cmi5Error(f"The launch's `actor` is longer than {MAX_ACTOR} characters.")
    actor = _json(raw, "The launch's `actor`")
    if not isinstance(actor, dict):
        raise Cmi5Error("The launch's `actor` is not a JSON object.")
    if actor.get("objectType", "Agent") != "Agent":
        raise Cmi5Error('The launch\'s `actor` must be an Agent (objectType "Agent").')
    account = actor.get("account")
    if not isinstance(account, dict):
        raise Cmi5Error("The launch's `actor` has no `account` (cmi5 identifies learners by account).")
    home, name = account.get("homePage"), account.get("name")
    if not isinstance(home, str) or _split(
        home, "The launch's `actor.account.homePage`"
    ).scheme.lower() not in (
        "http",
        "https",
    ):
        raise Cmi5Error("The launch's `actor.account.homePage` is not an http(s) URL.")
    if not isinstance(name, str) or text_problem(PackageLearner.learner_id, name, required=True):
        raise Cmi5Error("The launch's `actor.account.name` is empty, too long or has control characters.")
    for other in ("mbox", "mbox_sha1sum", "openid"):
        if other in actor:
            raise Cmi5Error(f"The launch's `actor` has both `account` and `{other}`; it may have only one.")
    return actor, name


def parse_launch(args) -> LaunchParameters:
    """The launch's query parameters, checked; raises Cmi5Error naming the first bad one."""
    actor, name = _actor(args.get("actor"))
    registration = args.get("registration")
    try:
        registration = str(uuid.UUID(str(registration or "")))
    except ValueError:
        raise Cmi5Error("The launch's `registration` is missing or not a UUID.") from None
    activity_id = args.get("activityId")
    if (
        not isinstance(activity_id, str)
        or not activity_id.strip()
        or len(activity_id) > MAX_URL
        or not _split(activity_id, "The launch's `activityId`").scheme
        or text_problem(Cmi5Session.activity_id, activity_id, required=True)
    ):
        raise Cmi5Error("The launch's `activityId` is missing or not an IRI.")
    return LaunchParameters(
        endpoint=_url(args, "endpoint"),
        fetch=_url(args, "fetch"),
        actor=actor,
        account_name=name,
        registration=registration,
        activity_id=activity_id.strip(),
    )


def package_for_launch(key: str) -> DispatchPackage:
    """The live cmi5 package with this key; Cmi5Error if there is none or it was revoked."""
    package = db.session.scalar(
        select(DispatchPackage).where(DispatchPackage.key == key[:64], DispatchPackage.kind == "cmi5")
    )
    if package is None:
        raise Cmi5Error("No cmi5 package of Ripple has this address. Ask your training coordinator.")
    if not package.active:
        raise Cmi5Error(
            "This package was withdrawn by the agency that issued it. Ask your training coordinator "
            "for the current one."
        )
    return package


def fetch_digest(fetch: str) -> str:
    return hashlib.sha256(fetch.encode()).hexdigest()


# --- learners -----------------------------------------------------------------------------------


def _seat_free(package: DispatchPackage, learner_id: str) -> None:
    """Cmi5Error when this learner is new and no seat is left (checked before the LMS's
    single-use token is spent)."""
    try:
        packages.check_seat(package, learner_id)
    except packages.LaunchRefused as error:
        raise Cmi5Error(str(error)) from error


def match_learner(package: DispatchPackage, learner_id: str) -> PackageLearner:
    """The person this LMS learner is in the package's agency, by (package, learner id), as for
    SCORM packages (packages.learner_for). Flushes."""
    if not package.active:
        raise Cmi5Error("This package was withdrawn by the agency that issued it.")
    try:
        return packages.learner_for(package, learner_id, one_line(f"Learner {learner_id}", User.name))
    except packages.LaunchRefused as error:
        raise Cmi5Error(str(error)) from error


# --- talking to the LMS -------------------------------------------------------------------------


def _fetch_token(http: requests.Session, fetch: str) -> str:
    try:
        response = http.post(fetch, timeout=current_app.config["INTEGRATIONS_HTTP_TIMEOUT"])
    except requests.RequestException as error:
        raise LrsUnreachable(
            f"Your learning platform's token service failed: {outbound.describe(error, 'LMS')}."
        ) from None
    if response.status_code != 200:
        raise LrsUnreachable(
            f"Your learning platform's token service failed: {outbound.answered('LMS', response)}."
        )
    try:
        body = _json(response.content, "The token service's answer")
    except Cmi5Error:
        body = None
    if not isinstance(body, dict):
        raise LrsUnreachable("Your learning platform's token service did not answer with JSON.")
    if "error-code" in body:
        code = str(body.get("error-code"))
        meaning = {
            "1": "this launch link was already used or has expired",
            "2": "it refused the launch for security reasons",
            "3": "it had an application error",
        }.get(code, "it refused the launch")
        raise Cmi5Error(
            f"Your learning platform says {meaning} (cmi5 error {code[:8]}). Open the course again "
            "from your learning platform."
        )
    token = body.get("auth-token")
    if (
        not isinstance(token, str)
        or not token
        or len(token) > 4000
        or control_character(token, single_line=True)
    ):
        raise LrsUnreachable("Your learning platform's token service sent no auth-token.")
    return token


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": XAPI_VERSION}


def _base(endpoint: str) -> str:
    return endpoint if endpoint.endswith("/") else endpoint + "/"


@dataclass
class LaunchData:
    launch_mode: str
    move_on: str
    mastery_score: float | None
    return_url: str | None
    context_template: dict[str, Any]


def _launch_data(http: requests.Session, params: LaunchParameters, token: str) -> LaunchData:
    try:
        response = http.get(
            _base(params.endpoint) + "activities/state",
            params={
                "activityId": params.activity_id,
                "agent": json.dumps(params.actor),
                "registration": params.registration,
                "stateId": "LMS.LaunchData",
            },
            headers=_headers(token),
            timeout=current_app.config["INTEGRATIONS_HTTP_TIMEOUT"],
        )
    except requests.RequestException as error:
        raise LrsUnreachable(
            f"Your learning platform's LRS failed: {outbound.describe(error, 'LRS')}."
        ) from None
    if response.status_code == 404:
        raise LrsUnreachable("Your learning platform did not provide the launch data (LMS.LaunchData).")
    if response.status_code != 200:
        raise LrsUnreachable(f"Reading the launch data failed: {outbound.answered('LRS', response)}.")
    data = _json(response.content, "The launch data (LMS.LaunchData)")
    if not isinstance(data, dict):
        raise Cmi5Error("The launch data (LMS.LaunchData) is not a JSON object.")
    mode, move_on = data.get("launchMode"), data.get("moveOn")
    if mode not in LAUNCH_MODES:
        raise Cmi5Error("The launch data's `launchMode` is not Normal, Browse or Review.")
    if move_on not in MOVE_ON:
        raise Cmi5Error("The launch data's `moveOn` is not one of the cmi5 values.")
    mastery = data.get("masteryScore")
    if mastery is not None and (
        isinstance(mastery, bool) or not isinstance(mastery, int | float) or not 0 <= mastery <= 1
    ):
        raise Cmi5Error("The launch data's `masteryScore` is not a number from 0 to 1.")
    template = data.get("contextTemplate")
    if not isinstance(template, dict):
        raise Cmi5Error("The launch data has no `contextTemplate` object.")
    activities = template.get("contextActivities", {})
    extensions = template.get("extensions", {})
    if not isinstance(activities, dict) or not isinstance(extensions, dict):
        raise Cmi5Error("The launch data's `contextTemplate` is not an xAPI context.")
    return_url = data.get("returnURL")
    if return_url is not None and (
        not isinstance(return_url, str)
        or len(return_url) > MAX_URL
        or control_character(return_url, single_line=True)
        or _split(return_url, "The launch data's `returnURL`").scheme.lower() not in ("http", "https")
    ):
        raise Cmi5Error("The launch data's `returnURL` is not an http(s) URL.")
    return LaunchData(mode, move_on, float(mastery) if mastery is not None else None, return_url, template)


# --- statements ---------------------------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    """UTC with millisecond precision, as cmi5 orders statements by it."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def duration(seconds: float) -> str:
    return f"PT{max(seconds, 0):.2f}S"


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _queue(
    session: Cmi5Session,
    verb: str,
    *,
    result: dict[str, Any] | None = None,
    source: str | None = None,
    mastery: bool = False,
    now: datetime | None = None,
) -> Cmi5Statement:
    """Queue one cmi5-defined statement of the session (the context template merged in:
    nothing of it is overwritten)."""
    now = now or utcnow()
    last = db.session.scalar(
        select(Cmi5Statement)
        .where(Cmi5Statement.session_id == session.id)
        .order_by(Cmi5Statement.seq.desc())
        .limit(1)
    )
    if last is not None:
        # cmi5 orders a session's statements by timestamp: each one strictly after the last.
        before = datetime.fromisoformat(last.statement["timestamp"].replace("Z", "+00:00"))
        now = max(now.astimezone(UTC), before + timedelta(milliseconds=1))
    context = copy.deepcopy(session.context_template or {})
    context["registration"] = session.registration
    activities = context.setdefault("contextActivities", {})
    category = _as_list(activities.get("category"))
    wanted = [CMI5_CATEGORY]
    if result is not None and ("success" in result or "completion" in result):
        wanted.append(MOVEON_CATEGORY)
    for activity_id in wanted:
        if not any(isinstance(a, dict) and a.get("id") == activity_id for a in category):
            category.append({"id": activity_id, "objectType": "Activity"})
    activities["category"] = category
    extensions = context.setdefault("extensions", {})
    extensions.setdefault(SESSION_ID, session.session_key)
    if mastery and session.mastery_score is not None:
        extensions.setdefault(MASTERY_SCORE, session.mastery_score)
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": session.actor,
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": session.activity_id},
        "timestamp": timestamp(now),
        "context": context,
    }
    if result is not None:
        statement["result"] = result
    seq = (last.seq if last is not None else 0) + 1
    row = Cmi5Statement(
        agency_id=session.agency_id,
        session_id=session.id,
        seq=seq,
        statement_id=statement["id"],
        verb=verb,
        source=source,
        statement=statement,
    )
    db.session.add(row)
    db.session.flush()
    deliver_after_commit(session)
    return row


def _registration_statements(session: Cmi5Session) -> list[Cmi5Statement]:
    """What Ripple has said in this registration (every session of it, this one included)."""
    return list(
        db.session.scalars(
            select(Cmi5Statement)
            .join(Cmi5Session, Cmi5Session.id == Cmi5Statement.session_id)
            .where(
                Cmi5Session.package_id == session.package_id,
                Cmi5Session.registration == session.registration,
                Cmi5Session.user_id == session.user_id,
            )
            .order_by(Cmi5Statement.id)
        )
    )


def _registration_attempt_ids(session: Cmi5Session) -> list[int]:
    return list(
        db.session.scalars(
            select(Cmi5Session.attempt_id).where(
                Cmi5Session.package_id == session.package_id,
                Cmi5Session.registration == session.registration,
                Cmi5Session.user_id == session.user_id,
                Cmi5Session.attempt_id.is_not(None),
            )
        )
    )


def _seconds(start: datetime | None, end: datetime | None) -> float:
    if start is None or end is None:
        return 0.0
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return (end - start).total_seconds()


def report_results(session: Cmi5Session) -> list[Cmi5Statement]:
    """Queue the completed / passed / failed the session may still say (Normal launches,
    before terminated). Idempotent: each result is said once by the registration's rules."""
    if not session.normal or session.terminated_at is not None or session.initialized_at is None:
        return []
    said = _registration_statements(session)
    verbs = {row.verb for row in said}
    in_session = {row.verb for row in said if row.session_id == session.id}
    sources = {(row.verb, row.source) for row in said}
    queued = []
    parsed = launch_targets.parse_target(session.package.target)
    if parsed is not None and parsed[0] == "scenario":
        grade = db.session.scalar(
            select(AttemptGrade)
            .where(AttemptGrade.attempt_id.in_(_registration_attempt_ids(session)))
            .order_by(AttemptGrade.id.desc())
            .limit(1)
        )
        if grade is None:
            return []
        attempt = grade.attempt
        seconds = _seconds(attempt.started_at, attempt.completed_at or grade.created_at)
        if "completed" not in verbs:
            queued.append(
                _queue(
                    session,
                    "completed",
                    result={"completion": True, "duration": duration(seconds)},
                    source=f"attempt:{attempt.id}",
                )
            )
        scaled = round(max(min(grade.score / 100, 1.0), 0.0), 4)
        passed = scaled >= session.mastery_score if session.mastery_score is not None else grade.passed
        verb = "passed" if passed else "failed"
        if "passed" in verbs or in_session & {"passed", "failed"} or (verb, f"grade:{grade.id}") in sources:
            return queued
        queued.append(
            _queue(
                session,
                verb,
                result={"success": passed, "score": {"scaled": scaled}, "duration": duration(seconds)},
                source=f"grade:{grade.id}",
                mastery=True,
            )
        )
        return queued
    assignment = db.session.get(Assignment, session.assignment_id) if session.assignment_id else None
    completion = (
        db.session.scalar(
            select(Completion).where(
                Completion.assignment_id == assignment.id, Completion.withdrawn_at.is_(None)
            )
        )
        if assignment is not None
        else None
    )
    if completion is None:
        return []
    seconds = _seconds(assignment.assigned_at, completion.completed_at)
    if "completed" not in verbs:
        queued.append(
            _queue(
                session,
                "completed",
                result={"completion": True, "duration": duration(seconds)},
                source=f"completion:{completion.id}",
            )
        )
    # A completed course has every required item passed: said as passed (scaled 1) only when
    # the LMS's moveOn needs a pass.
    if (
        session.move_on in ("Passed", "CompletedAndPassed")
        and not verbs & {"passed"}
        and not in_session & {"failed"}
    ):
        queued.append(
            _queue(
                session,
                "passed",
                result={"success": True, "score": {"scaled": 1.0}, "duration": duration(seconds)},
                source=f"completion:{completion.id}",
                mastery=True,
            )
        )
    return queued


def result_changed(*, attempt: Attempt | None = None, assignment_id: int | None = None) -> None:
    """An attempt was graded or a course completed: the open cmi5 sessions that launched it say
    so now (a session already ended leaves it to the registration's next one). Flushes."""
    where = []
    if attempt is not None:
        where.append(Cmi5Session.attempt_id == attempt.id)
    if assignment_id is not None:
        where.append(Cmi5Session.assignment_id == assignment_id)
    if not where:
        return
    sessions = db.session.scalars(
        select(Cmi5Session).where(Cmi5Session.terminated_at.is_(None), *where).order_by(Cmi5Session.id)
    )
    for session in sessions:
        report_results(session)


# --- the session --------------------------------------------------------------------------------


@dataclass
class Launched:
    session: Cmi5Session
    user: User
    redirect_to: str


def _from_allowed_lms(package: DispatchPackage, params: LaunchParameters) -> None:
    """The launch's fetch URL and LRS endpoint must be at one of the package's allowed LMS
    origins: the package key is public (it is in cmi5.xml), so without this anyone could serve
    their own fetch URL and launch data and be signed in as any learner of the package."""
    allowed = set(package.allowed_origins or [])
    for name, url in (("fetch", params.fetch), ("endpoint", params.endpoint)):
        origin = packages.origin_of(url)
        if origin not in allowed:
            raise Cmi5Error(
                f"The launch's `{name}` is at {origin or 'an address'}, which is not one of this "
                "package's allowed LMS addresses. Ask your training coordinator to add the LMS's "
                "address (and its learning record store's, if that is another) to the package."
            )


def launch(package: DispatchPackage, params: LaunchParameters) -> Launched:
    """Start a cmi5 session from checked launch parameters: fetch the token (once), read the
    launch data, match the learner, open the target, queue `initialized`. Flushes; the caller
    commits (and on any error rolls back: nothing is kept of a failed launch)."""
    digest = fetch_digest(params.fetch)
    used = db.session.scalar(select(Cmi5Session).where(Cmi5Session.fetch_digest == digest))
    if used is not None:
        raise LaunchUrlUsed(
            "This launch link was already used. Open the course again from your learning platform "
            "to get a fresh one.",
            used,
        )
    _from_allowed_lms(package, params)
    _seat_free(package, params.account_name)  # refuse before the LMS's token is spent
    with outbound.session(user_agent="Ripple-cmi5") as http:
        token = _fetch_token(http, params.fetch)
        data = _launch_data(http, params, token)
    learner = match_learner(package, params.account_name)
    user = learner.user
    key = data.context_template.get("extensions", {}).get(SESSION_ID)
    session = Cmi5Session(
        agency_id=package.agency_id,
        package_id=package.id,
        learner_id=learner.id,
        user_id=user.id,
        fetch_digest=digest,
        endpoint=params.endpoint,
        auth_token=token,
        registration=params.registration,
        activity_id=params.activity_id,
        actor=params.actor,
        session_key=str(key)[:255] if isinstance(key, str) and key else str(uuid.uuid4()),
        launch_mode=data.launch_mode,
        move_on=data.move_on,
        mastery_score=data.mastery_score,
        return_url=data.return_url,
        context_template=data.context_template,
    )
    db.session.add(session)
    db.session.flush()

    def resume(_version: ScenarioVersion) -> Attempt | None:
        # The registration's attempt in progress goes on where it was.
        ids = _registration_attempt_ids(session)
        return db.session.scalar(
            select(Attempt)
            .where(Attempt.id.in_(ids), Attempt.user_id == user.id, Attempt.status == "in_progress")
            .order_by(Attempt.id.desc())
            .limit(1)
        )

    # A scenario whose result this registration has not heard yet is said before a new attempt.
    now = utcnow()
    session.initialized_at = now
    _queue(session, "initialized", now=now)
    report_results(session)
    try:
        opened = launch_targets.open_target(
            user, package.agency_id, package.target, source="cmi5", resume=resume, default="main.index"
        )
    except launch_targets.TargetError as error:
        raise Cmi5Error(str(error)) from error
    session.attempt_id = opened.attempt.id if opened.attempt else None
    session.assignment_id = opened.assignment.id if opened.assignment else None
    db.session.flush()
    report_results(session)  # a course already completed before this launch
    return Launched(session, user, opened.redirect_to)


def opened_url(session: Cmi5Session) -> str:
    """Where the session's launch went (for a reload of the same launch URL)."""
    if session.attempt_id is not None:
        return url_for("play.attempt", attempt_id=session.attempt_id)
    if session.assignment_id is not None:
        return url_for("learn.assignment", assignment_id=session.assignment_id)
    return url_for("main.index")


def frame_origins(session: Cmi5Session) -> list[str]:
    """The LMS origins that may frame the session's pages: the package's allowed origins (a
    launch is only accepted from them, see _from_allowed_lms)."""
    origins = [o for o in (session.package.allowed_origins or []) if isinstance(o, str)]
    return [o for o in origins if o.startswith(("https://", "http://")) and " " not in o and ";" not in o][
        :10
    ]


def session_of(user: User, session_id) -> Cmi5Session | None:
    """The browser's cmi5 session, if it is this user's."""
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        return None
    row = db.session.get(Cmi5Session, session_id)
    if row is None or row.user_id != user.id or row.agency_id != user.agency_id:
        return None
    return row


def terminate(user: User, session: Cmi5Session) -> Cmi5Session:
    """The learner returns to the LMS: the results still to say, then `terminated` (the last
    statement of the session). A second call changes nothing. Flushes."""
    if session.user_id != user.id:
        raise Cmi5Error("This launch belongs to someone else.")
    if session.terminated_at is not None:
        return session
    report_results(session)
    now = utcnow()
    _queue(
        session,
        "terminated",
        result={"duration": duration(_seconds(session.initialized_at, now))},
        now=now,
    )
    session.terminated_at = now
    db.session.flush()
    return session


# --- delivery -----------------------------------------------------------------------------------


@dataclass
class Delivery:
    delivered: int = 0
    pending: int = 0
    error: str | None = None


def _backoff(failures: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(failures - 1, 0)), MAX_BACKOFF)


def deliver(session: Cmi5Session, *, now: datetime | None = None) -> Delivery:
    """Send the session's pending statements in order; the first failure stops the rest
    (cmi5 orders them) and sets the retry time. Flushes; the caller commits."""
    now = now or utcnow()
    rows = [row for row in session.statements if row.status == "pending"]
    outcome = Delivery(pending=len(rows))
    if not rows:
        session.retry_at, session.delivery_error = None, None
        return outcome
    url = _base(session.endpoint) + "statements"
    with outbound.session(user_agent="Ripple-cmi5") as http:
        for row in rows:
            row.tries += 1
            try:
                response = http.put(
                    url,
                    params={"statementId": row.statement_id},
                    json=row.statement,
                    headers=_headers(session.auth_token),
                    timeout=current_app.config["INTEGRATIONS_HTTP_TIMEOUT"],
                )
                # 409: the LRS holds this id already (an earlier try got through).
                if response.status_code not in (200, 204, 409):
                    raise Cmi5Error(outbound.answered("LRS", response))
            except (requests.RequestException, Cmi5Error) as error:
                message = str(error) if isinstance(error, Cmi5Error) else outbound.describe(error, "LRS")
                row.last_error = message[:1000]
                session.delivery_failures += 1
                session.delivery_error = message[:1000]
                session.retry_at = now + _backoff(session.delivery_failures)
                outcome.error = message
                break
            row.status, row.delivered_at, row.last_error = "delivered", now, None
            outcome.delivered += 1
            outcome.pending -= 1
    if outcome.error is None:
        session.retry_at, session.delivery_error, session.delivery_failures = None, None, 0
    db.session.flush()
    return outcome


def deliver_due(now: datetime | None = None, *, limit: int = 50) -> int:
    """The periodic step: sessions with statements waiting whose retry time has come (and
    whose LMS token may still be good). Returns how many statements went out. Flushes."""
    now = now or utcnow()
    sessions = db.session.scalars(
        select(Cmi5Session)
        .where(
            Cmi5Session.retry_at.is_not(None),
            Cmi5Session.retry_at <= now,
            Cmi5Session.created_at >= now - RETRY_FOR,
        )
        .order_by(Cmi5Session.retry_at)
        .limit(limit)
    )
    return sum(deliver(session, now=now).delivered for session in list(sessions))


def deliver_after_commit(session: Cmi5Session) -> None:
    """Send the session's queue once the current request has committed it (outside a request,
    e.g. grading in a worker, the periodic job sends it)."""
    if session.retry_at is None:
        session.retry_at = utcnow()  # the periodic job's cue if the inline send never happens
    if not has_request_context():
        return
    queued = g.setdefault("_cmi5_sessions", [])
    if not queued:
        after_this_request(_deliver_committed)
    if session.id not in queued:
        queued.append(session.id)


@event.listens_for(Session, "after_commit")
def _note_commit(_session) -> None:
    if has_request_context() and g.get("_cmi5_sessions"):
        g._cmi5_committed = True


def _deliver_committed(response):
    ids = g.pop("_cmi5_sessions", [])
    if not g.pop("_cmi5_committed", False) or not ids:
        return response
    try:
        for session_id in ids:
            session = db.session.get(Cmi5Session, session_id)
            if session is not None:
                deliver(session)
        db.session.commit()
    except Exception:  # never let a delivery problem break the page; the periodic job retries
        db.session.rollback()
        current_app.logger.exception("cmi5 delivery failed; left queued for the periodic job")
    return response
