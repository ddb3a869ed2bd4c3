"""Where learning events leave Ripple: xAPI statements and LTI grade passback (AGS).

The learning services call these hooks at the moments that matter (an attempt started, a
decision made, an attempt graded, a course completed, an LTI launch). Each hook only queues
rows in the current transaction, so what is reported commits or rolls back with the record
itself. `deliver_due()` sends what is queued; it runs from `flask integrations deliver`
(cron, later a Celery task) and, when cheap, right after the request that queued it commits.
A delivery failure is recorded on the row and retried with backoff; it never fails a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import after_this_request, current_app, g, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lms import tasks
from lms.extensions import db
from lms.input import id_or_none
from lms.models import (
    Assignment,
    Attempt,
    AttemptGrade,
    Completion,
    Course,
    GradeDelivery,
    LtiLaunch,
    User,
    XapiStatement,
)
from lms.models.types import utcnow
from lms.services import launch_targets, xapi

# --- xAPI objects for our records ---------------------------------------------------------------


def _course_parents(assignment: Assignment | None, item_slug: str | None) -> list[dict]:
    if assignment is None:
        return []
    parents = []
    if item_slug:
        from lms.services import learning

        try:
            module, _ = learning.item_of(assignment, item_slug)
        except learning.UnknownItem:
            module = None
        if module is not None:
            parents.append(
                xapi.activity("module", f"courses/{assignment.course_id}/modules/{module.slug}", module.title)
            )
    parents.append(
        xapi.activity("course", f"courses/{assignment.course_id}", assignment.course_version.title)
    )
    return parents


def _attempt_context(attempt: Attempt) -> tuple[dict, dict]:
    scenario = attempt.scenario_version.scenario
    obj = xapi.activity("scenario", f"scenarios/{scenario.slug}", attempt.scenario_version.title)
    assignment = db.session.get(Assignment, attempt.assignment_id) if attempt.assignment_id else None
    context: dict = {"registration": xapi.registration_of(attempt.id)}
    parents = _course_parents(assignment, attempt.item_slug)
    if parents:
        context["contextActivities"] = {"parent": parents}
    return obj, context


# --- hooks called by the learning services ---------------------------------------------------------


def attempt_started(attempt: Attempt) -> None:
    obj, context = _attempt_context(attempt)
    xapi.queue(attempt.user, "attempted", obj, context=context)


def decision_recorded(attempt: Attempt, index: int, option_ids: list[str]) -> None:
    scenario = attempt.scenario_version.scenario
    obj = xapi.activity(
        "interaction", f"scenarios/{scenario.slug}/decisions/{index + 1}", f"Decision {index + 1}"
    )
    _, context = _attempt_context(attempt)
    parents = context.setdefault("contextActivities", {}).setdefault("parent", [])
    parents.insert(0, xapi.activity("scenario", f"scenarios/{scenario.slug}", attempt.scenario_version.title))
    xapi.queue(
        attempt.user,
        "answered",
        obj,
        result={"response": "[,]".join(option_ids), "completion": True},
        context=context,
    )


def attempt_graded(attempt: Attempt, grade: AttemptGrade) -> None:
    """An attempt got a grade (automatic or an override): completed + passed/failed, and the
    score to every platform gradebook this attempt was launched from."""
    obj, context = _attempt_context(attempt)
    seconds = (
        (attempt.completed_at - attempt.started_at).total_seconds()
        if attempt.completed_at and attempt.started_at
        else None
    )
    if grade.kind == "auto":
        xapi.queue(
            attempt.user,
            "completed",
            obj,
            result=xapi.score_result(grade.score, None, completion=True, seconds=seconds),
            context=context,
        )
    verb = "passed" if grade.passed else "failed"
    xapi.queue(
        attempt.user,
        verb,
        obj,
        result=xapi.score_result(grade.score, grade.passed, completion=True, seconds=seconds),
        context=context,
    )
    from lms.services.packaging import cmi5

    cmi5.result_changed(attempt=attempt)  # cmi5 sessions that launched it: completed, passed/failed
    launches = db.session.scalars(select(LtiLaunch).where(LtiLaunch.attempt_id == attempt.id))
    for launch in _one_per_link(launches):
        queue_score(
            launch,
            attempt.user,
            grade.score,
            attempt_id=attempt.id,
            comment="Passed" if grade.passed else "Not yet passed",
        )


def course_completed(completion: Completion) -> None:
    assignment = db.session.get(Assignment, completion.assignment_id)
    user = db.session.get(User, completion.user_id)
    obj = xapi.activity("course", f"courses/{completion.course_id}", assignment.course_version.title)
    seconds = (
        (completion.completed_at - assignment.assigned_at).total_seconds()
        if completion.completed_at
        else None
    )
    xapi.queue(user, "completed", obj, result=xapi.score_result(None, True, completion=True, seconds=seconds))
    from lms.services.packaging import cmi5

    cmi5.result_changed(assignment_id=assignment.id)
    launches = db.session.scalars(select(LtiLaunch).where(LtiLaunch.assignment_id == assignment.id))
    for launch in _one_per_link(launches):
        queue_score(launch, user, 100.0, completion_id=completion.id, comment="Course completed")


def course_withdrawn(completion: Completion) -> None:
    """A course completion was withdrawn: every gradebook that was sent "Course completed"
    hears the course is no longer complete (score 0), so the platforms agree with Ripple."""
    user = db.session.get(User, completion.user_id)
    launches = db.session.scalars(
        select(LtiLaunch).where(LtiLaunch.assignment_id == completion.assignment_id)
    )
    for launch in _one_per_link(launches):
        queue_score(launch, user, 0.0, completion_id=completion.id, comment="Course completion withdrawn")


def launched(launch: LtiLaunch) -> None:
    """`launched` for what the launch opened, named by Ripple's own title (the platform's
    course title is the platform's: it names the platform's course, not our activity, and
    would give one activity as many names as there are platforms linking it)."""
    if launch.attempt_id:
        attempt = db.session.get(Attempt, launch.attempt_id)
        obj, context = _attempt_context(attempt)
        xapi.queue(launch.user, "launched", obj, context=context)
        return
    obj = xapi.activity(
        "course", f"lti/{launch.registration_id}/{launch.resource_link_id or 'launch'}", "Ripple"
    )
    parsed = launch_targets.parse_target(launch.target)
    assignment = db.session.get(Assignment, launch.assignment_id) if launch.assignment_id else None
    if assignment is not None:
        obj = xapi.activity("course", f"courses/{assignment.course_id}", assignment.course_version.title)
    elif parsed is not None and parsed[0] in ("course", "module"):
        # An instructor's look at a course (no assignment): its published title in Ripple.
        from lms.services import catalog

        course_id = id_or_none(parsed[1][0])
        course = db.session.get(Course, course_id) if course_id else None
        version = catalog.published_version(course) if course is not None else None
        if version is not None:
            obj = xapi.activity("course", f"courses/{course.id}", version.title)
    xapi.queue(launch.user, "launched", obj)


def _one_per_link(launches) -> list[LtiLaunch]:
    """The newest launch per (registration, resource link) with a grade service."""
    newest: dict[tuple, LtiLaunch] = {}
    for launch in launches:
        if not launch.ags:
            continue
        key = (launch.registration_id, launch.resource_link_id)
        if key not in newest or launch.id > newest[key].id:
            newest[key] = launch
    return list(newest.values())


def queue_score(
    launch: LtiLaunch, user: User, score: float, *, attempt_id=None, completion_id=None, comment=None
) -> GradeDelivery:
    row = GradeDelivery(
        agency_id=launch.agency_id,
        launch_id=launch.id,
        user_id=user.id,
        attempt_id=attempt_id,
        completion_id=completion_id,
        score_given=float(score),
        score_maximum=100.0,
        comment=comment,
    )
    db.session.add(row)
    db.session.flush()
    deliver_after_commit("grade", row.id)
    return row


# --- delivery ---------------------------------------------------------------------------------------


def deliver_grades(rows: list[GradeDelivery], *, now: datetime | None = None) -> tuple[int, int]:
    """Try to send these scores; returns (delivered, failed). Flushes; the caller commits."""
    import requests
    from pylti1p3.exception import LtiException, LtiServiceException

    from lms.services import lti, outbound

    now = now or utcnow()
    delivered = failed = 0
    for row in rows:
        if row.status == "delivered":
            continue
        row.tries += 1
        try:
            lti.send_score(row)
        except (
            LtiException,
            LtiServiceException,
            lti.LaunchError,
            requests.RequestException,
            ValueError,
            KeyError,
        ) as error:
            # The platform's status, never its body (see outbound.describe).
            row.last_error = outbound.describe(error, "Platform")[:1000]
            row.next_try_at = now + xapi.backoff(row.tries)
            failed += 1
        else:
            row.status, row.delivered_at, row.last_error = "delivered", now, None
            delivered += 1
    db.session.flush()
    return delivered, failed


@dataclass
class DeliveryReport:
    grades_delivered: int = 0
    grades_failed: int = 0
    statements_delivered: int = 0
    statements_failed: int = 0


def _deliver_pending(
    grades_where: list,
    statements_where: list,
    *,
    now: datetime | None = None,
    grade_limit: int | None = None,
    statement_limit: int | None = None,
) -> DeliveryReport:
    """Send the undelivered scores and statements matching these conditions, oldest first."""
    grades = (
        select(GradeDelivery)
        .where(GradeDelivery.status == "pending", *grades_where)
        .order_by(GradeDelivery.id)
        .limit(grade_limit)
    )
    statements = (
        select(XapiStatement)
        .where(XapiStatement.status == "pending", *statements_where)
        .order_by(XapiStatement.id)
        .limit(statement_limit)
    )
    report = DeliveryReport()
    report.grades_delivered, report.grades_failed = deliver_grades(list(db.session.scalars(grades)), now=now)
    report.statements_delivered, report.statements_failed = xapi.deliver(
        list(db.session.scalars(statements)), now=now
    )
    return report


def deliver_due(now: datetime | None = None) -> DeliveryReport:
    """Send every queued score and statement whose retry time has come. The background step."""
    from lms.services.packaging import cmi5

    now = now or utcnow()
    cmi5.deliver_due(now)  # cmi5 sessions' statements, in order per session
    return _deliver_pending(
        [GradeDelivery.next_try_at <= now],
        [XapiStatement.next_try_at <= now],
        now=now,
        grade_limit=xapi.BATCH,
        statement_limit=xapi.BATCH,
    )


def deliver_after_commit(kind: str, row_id: int) -> None:
    """Ask for this row to be sent once the current request has committed it."""
    if not has_request_context() or not current_app.config.get("INTEGRATIONS_DELIVER_INLINE"):
        return
    queued = g.setdefault("_outbox_queued", [])
    if not queued:
        after_this_request(_deliver_committed)
    queued.append((kind, row_id))


@event.listens_for(Session, "after_commit")
def _note_commit(session) -> None:
    if has_request_context() and g.get("_outbox_queued"):
        g._outbox_committed = True


def _deliver_committed(response):
    queued = g.pop("_outbox_queued", [])
    if not g.pop("_outbox_committed", False) or not queued:
        return response
    grade_ids = [row_id for kind, row_id in queued if kind == "grade"]
    statement_ids = [row_id for kind, row_id in queued if kind == "xapi"]
    if current_app.config.get("CELERY_BROKER_URL"):
        try:  # a worker sends them, so a slow LMS or LRS never holds up the page
            tasks.enqueue("deliver_rows", grade_ids, statement_ids)
        except tasks.NoWorker:  # broker down: the periodic "deliveries" job sends them
            current_app.logger.warning("broker unreachable; deliveries left for the periodic job")
        return response
    try:
        deliver_rows_now(grade_ids, statement_ids)
        db.session.commit()
    except Exception:  # never let a delivery problem break the page; the periodic job retries
        db.session.rollback()
        current_app.logger.exception("inline delivery failed; left queued for the periodic deliveries job")
    return response


def deliver_rows_now(grade_ids: list[int], statement_ids: list[int]) -> DeliveryReport:
    """Try these queued rows now (those already delivered are skipped by their status)."""
    return _deliver_pending([GradeDelivery.id.in_(grade_ids)], [XapiStatement.id.in_(statement_ids)])


@dataclass
class Queues:
    grades: list[GradeDelivery]
    statements: list[XapiStatement]
    grades_pending: int
    statements_pending: int
    statements_delivered: int
    statements_failed: int  # refused by the LRS as invalid: not sent again


def queues_of(agency_id: int, *, limit: int = 50) -> Queues:
    """What the coordinator sees: undelivered scores and statements (oldest first), and counts."""
    from sqlalchemy import case, func

    def count(model, status):
        return db.session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.agency_id == agency_id, model.status == status)
        )

    grades = db.session.scalars(
        select(GradeDelivery)
        .where(GradeDelivery.agency_id == agency_id)
        .order_by(GradeDelivery.status.desc(), GradeDelivery.id.desc())
        .limit(limit)
    ).all()
    # Waiting ones first (oldest first), then those the LRS refused as invalid (newest first).
    statements = db.session.scalars(
        select(XapiStatement)
        .where(XapiStatement.agency_id == agency_id, XapiStatement.status.in_(("pending", "failed")))
        .order_by(
            XapiStatement.status.desc(),
            case((XapiStatement.status == "pending", XapiStatement.id), else_=-XapiStatement.id),
        )
        .limit(limit)
    ).all()
    return Queues(
        list(grades),
        list(statements),
        count(GradeDelivery, "pending"),
        count(XapiStatement, "pending"),
        count(XapiStatement, "delivered"),
        count(XapiStatement, "failed"),
    )


def deliver_agency_now(actor: User, agency_id: int) -> DeliveryReport:
    """A coordinator's "Retry now": try every undelivered row of the agency at once."""
    return _deliver_pending(
        [GradeDelivery.agency_id == agency_id],
        [XapiStatement.agency_id == agency_id],
        statement_limit=xapi.BATCH,
    )
