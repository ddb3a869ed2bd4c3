"""Playing a scenario: starting attempts, recording decisions, grading, overrides.

An attempt is (scenario version, seed, decisions). The seed is fixed when the attempt starts;
each decision is appended once, for the decision point the attempt is actually at, so a
refresh, the back button, a second tab or a double-submitted form can never record a decision
twice, skip one or change one already made.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import scenarios as engine
from lms import course_format, tasks
from lms.extensions import db
from lms.input import visible_text
from lms.models import Assignment, Attempt, AttemptDecision, AttemptGrade, Role, ScenarioVersion, User
from lms.models.types import utcnow
from lms.services import audit, outcomes
from lms.services.presentation import option_order
from lms.services.scenario_library import latest_published, scenario_of
from lms.services.scoping import NotFound, get_scoped

log = logging.getLogger(__name__)


class PlayError(ValueError):
    """A play request that cannot be carried out; the message is for the trainee."""


class StaleDecision(PlayError):
    """The decision point was already decided (another tab, a double submit, the back button)."""


@dataclass
class PlayState:
    attempt: Attempt
    scenario: engine.Scenario
    index: int  # the decision point the attempt is at; == len(decisions) when finished
    run: engine.Run | None  # the replay up to that point

    @property
    def finished(self) -> bool:
        return self.index >= len(self.scenario.decisions)

    @property
    def point(self) -> engine.DecisionPoint | None:
        return None if self.finished else self.scenario.decisions[self.index]


def new_seed() -> int:
    # Fits PostgreSQL's BIGINT; unpredictable, so a trainee cannot choose their luck.
    return secrets.randbits(62)


def _scenario_item(assignment: Assignment, item_slug: str) -> course_format.ItemSpec:
    spec = course_format.course_from_data(assignment.course_version.content)
    item = spec.item(item_slug)
    if item is None or item.kind != "scenario":
        raise NotFound(f"scenario item {item_slug}")
    return item


def _may_see(actor: User, player_id: int) -> bool:
    """Within the actor's scope: their own attempts, and all of them for instructors and coordinators."""
    return player_id == actor.id or actor.has_role(Role.INSTRUCTOR, Role.COORDINATOR, Role.ADMIN)


def get_attempt(actor: User, attempt_id: int) -> Attempt:
    """An attempt the actor may see: their own, or their agency's for instructors and coordinators."""
    attempt = get_scoped(Attempt, attempt_id, actor)
    if not _may_see(actor, attempt.user_id):
        raise NotFound(f"Attempt {attempt_id}")
    return attempt


def start_for_item(actor: User, assignment_id: int, item_slug: str) -> Attempt:
    """Start (or resume) the actor's attempt at a scenario item of one of their assignments."""
    from lms.services import learning  # learning reads attempts too: import when used

    assignment = get_scoped(Assignment, assignment_id, actor)
    if assignment.user_id != actor.id:
        raise NotFound(f"Assignment {assignment_id}")
    item = _scenario_item(assignment, item_slug)
    if assignment.status == "cancelled":
        raise PlayError("This assignment was cancelled, so it cannot be attempted.")
    if not learning.item_unlocked(assignment, item_slug):
        raise PlayError("Finish the earlier items of this course first: this scenario is locked until then.")
    open_attempt = db.session.scalar(
        select(Attempt).where(
            Attempt.assignment_id == assignment.id,
            Attempt.item_slug == item_slug,
            Attempt.status == "in_progress",
        )
    )
    if open_attempt is not None:
        return open_attempt  # resume rather than re-roll
    used = db.session.scalar(
        select(func.count())
        .select_from(Attempt)
        .where(Attempt.assignment_id == assignment.id, Attempt.item_slug == item_slug)
    )
    allowed = learning.attempts_allowed(assignment, item_slug)
    if allowed is not None and used >= allowed:
        raise PlayError(f"You have used all {allowed} attempts allowed for this scenario.")
    version = latest_published(assignment.agency_id, item.scenario)
    if version is None:
        raise PlayError(
            f'The scenario "{item.scenario}" is not available right now. Please tell your instructor.'
        )
    return _new_attempt(actor, version, assignment_id=assignment.id, item_slug=item_slug, number=used + 1)


def start_direct(actor: User, version: ScenarioVersion) -> Attempt:
    """An instructor's own play of a scenario (not for a course; still graded and replayable)."""
    used = db.session.scalar(
        select(func.count())
        .select_from(Attempt)
        .where(
            Attempt.user_id == actor.id,
            Attempt.scenario_version_id == version.id,
            Attempt.assignment_id.is_(None),
        )
    )
    return _new_attempt(actor, version, assignment_id=None, item_slug=None, number=used + 1)


def _new_attempt(actor, version, *, assignment_id, item_slug, number) -> Attempt:
    attempt = Attempt(
        agency_id=actor.agency_id,
        user_id=actor.id,
        scenario_version_id=version.id,
        assignment_id=assignment_id,
        item_slug=item_slug,
        number=number,
        seed=new_seed(),
        status="in_progress",
    )
    db.session.add(attempt)
    db.session.flush()
    outcomes.attempt_started(attempt)  # xAPI "attempted"
    return attempt


def shown_options(attempt: Attempt, point: engine.DecisionPoint) -> list[engine.Option]:
    """The options of a decision point in the order this attempt shows them: shuffled by the
    attempt's seed, so the same attempt always shows the same order (a reload, a replay, a
    review) and the position of the expert's option teaches nothing."""
    return option_order(point.options, attempt.seed, point.index)


def reveals_answers(actor: User, attempt: Attempt) -> bool:
    """Whether `actor` may see the expert path of `attempt` (the debrief's answer key, and
    what-if projections that would find it): always for staff looking at an officer's attempt
    and for plays outside a course; for the officer's own course attempt, once the scenario
    item is passed or every allowed attempt is used and finished."""
    from lms.services import learning

    if attempt.user_id != actor.id or attempt.assignment_id is None:
        return True
    assignment = db.session.get(Assignment, attempt.assignment_id)
    if attempt.item_slug in learning.done_items(assignment):
        return True
    try:
        allowed = learning.attempts_allowed(assignment, attempt.item_slug)
    except learning.UnknownItem:
        return True
    if allowed is None:
        return False
    statuses = db.session.scalars(
        select(Attempt.status).where(
            Attempt.assignment_id == assignment.id, Attempt.item_slug == attempt.item_slug
        )
    ).all()
    return len(statuses) >= allowed and "in_progress" not in statuses


def position(attempt: Attempt) -> tuple[engine.Scenario, int]:
    """The attempt's scenario and the index of the decision point it is at (no replay)."""
    return scenario_of(attempt.scenario_version), len(attempt.decisions)


def state(attempt: Attempt) -> PlayState:
    """Replay the attempt to the decision point it is at."""
    scenario = scenario_of(attempt.scenario_version)
    choices = attempt.choices
    index = len(choices)
    run = None
    if index < len(scenario.decisions):
        run = engine.simulate(scenario, choices, attempt.seed, stop_at_decision=index)
    return PlayState(attempt, scenario, index, run)


def decide(actor: User, attempt: Attempt, index: int, option_ids: list[str]) -> bool:
    """Record the decision for point `index`; on the last one, grade the attempt.

    Returns whether the attempt is now finished. The replay to the next point is left to
    whoever shows it, so a click simulates once.
    """
    if attempt.user_id != actor.id:
        raise PlayError("Only the officer who started this attempt can make its decisions.")
    if attempt.status != "in_progress":
        raise StaleDecision("This attempt is already finished; its decisions cannot be changed.")
    scenario = scenario_of(attempt.scenario_version)
    choices = attempt.choices
    if index != len(choices):
        raise StaleDecision(
            "That decision was already made (perhaps in another tab or by pressing Back). "
            "Here is where your attempt stands."
        )
    point = scenario.decisions[index]
    chosen = [option_id for option_id in dict.fromkeys(option_ids) if option_id]
    if not chosen:
        raise PlayError("Choose an option before you continue.")
    if point.kind == "single" and len(chosen) != 1:
        raise PlayError("Choose exactly one option.")
    if len(chosen) > point.max_choices:
        raise PlayError(f"Choose at most {point.max_choices} options here.")
    problems = engine.validate_decisions(scenario, choices + [chosen], partial_ok=True)
    if problems:
        raise PlayError("That choice is not one of the options: " + "; ".join(problems))
    attempt.decisions.append(AttemptDecision(index=index, option_ids=chosen))
    try:
        db.session.flush()
    except IntegrityError as error:  # a concurrent request recorded this point first
        db.session.rollback()  # nothing else of this request was written yet
        raise StaleDecision("That decision was already recorded.") from error
    outcomes.decision_recorded(attempt, index, chosen)  # xAPI "answered"
    if len(attempt.choices) == len(scenario.decisions):
        if current_app.config.get("GRADE_IN_BACKGROUND"):
            attempt.status = "grading"  # the durable queue: a worker, or the sweeper, grades it
            db.session.flush()
            _enqueue_grading_after_commit(attempt.id)
        else:
            _finish(attempt, scenario)
        return True
    return False


def _enqueue_grading_after_commit(attempt_id: int) -> None:
    """Hand the grading to Celery once the decision is committed. If the broker cannot be
    reached, grade in a thread of this process instead; `flask attempts grade-pending` (and
    the worker's periodic sweep) catches anything still waiting."""
    from sqlalchemy import event

    app = current_app._get_current_object()

    def enqueue(_session):
        try:
            tasks.enqueue("grade_attempt", attempt_id)
        except tasks.NoWorker:  # broker down: do it here rather than wait
            app.logger.warning("broker unreachable; grading attempt %s in-process", attempt_id)
            import threading

            threading.Thread(target=_grade_in_thread, args=(app, attempt_id), daemon=True).start()

    event.listen(db.session(), "after_commit", enqueue, once=True)


def _grade_in_thread(app, attempt_id: int) -> None:
    with app.app_context():
        try:
            grade_pending(attempt_id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            app.logger.exception("grading attempt %s failed; it stays queued for the sweeper", attempt_id)
        finally:
            db.session.remove()


# When the grading page asks again: soon when nothing waits ahead (a grade takes a fraction of
# a second), later the longer the queue, so that a class waiting at once does not add its polls
# to the load that keeps it waiting.
POLL_FIRST_MS, POLL_PER_AHEAD_MS, POLL_MOST_MS = 1000, 500, 10_000


def poll_after_ms(ahead: int) -> int:
    """Milliseconds before the grading page polls again, with ``ahead`` attempts before it."""
    return min(POLL_MOST_MS, POLL_FIRST_MS + POLL_PER_AHEAD_MS * ahead)


@dataclass
class AttemptStatus:
    id: int
    status: str
    ahead: int  # attempts waiting to be graded before this one

    @property
    def poll_after_ms(self) -> int:
        return poll_after_ms(self.ahead)


def status_of(actor: User, attempt_id: int) -> AttemptStatus:
    """An attempt's status, for the grading page's polling: the same access rule as
    `get_attempt`, but one small query (no relationships loaded). NotFound if not visible."""
    from lms.services.scoping import scoped

    row = db.session.execute(
        scoped(Attempt, actor)
        .where(Attempt.id == attempt_id)
        .with_only_columns(Attempt.id, Attempt.status, Attempt.user_id)
    ).one_or_none()
    if row is None or not _may_see(actor, row.user_id):
        raise NotFound(f"Attempt {attempt_id}")
    return AttemptStatus(row.id, row.status, _ahead_of(row.id, row.status))


def _ahead_of(attempt_id: int, status: str) -> int:
    if status != "grading":
        return 0
    return db.session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.status == "grading", Attempt.id < attempt_id)
    )


def grading_queue_position(attempt: Attempt) -> int:
    """How many attempts are waiting to be graded ahead of this one (0 when it is not waiting)."""
    return _ahead_of(attempt.id, attempt.status)


def grade_pending(attempt_id: int, spread: bool = False) -> AttemptGrade | None:
    """Grade an attempt waiting in "grading". Safe to run twice or concurrently: the attempt
    row is locked where the database can, and an attempt that has its grade is left alone.

    ``spread``: a Celery worker's grade may use the machine's cores while it is idle
    (lms.services.grading_spread); the grade is the same."""
    attempt = db.session.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
    if attempt is None or attempt.status != "grading" or any(g.kind == "auto" for g in attempt.grades):
        return None
    return _finish(attempt, scenario_of(attempt.scenario_version), spread)


def finished_at():
    """When an attempt's last decision was made, as a correlated subquery on ``Attempt``: for
    filtering waiting attempts by how long they have waited, in one query."""
    return (
        select(func.max(AttemptDecision.made_at))
        .where(AttemptDecision.attempt_id == Attempt.id)
        .scalar_subquery()
    )


def grade_all_pending(waiting_since: datetime | None = None) -> int:
    """Grade every attempt still waiting (the sweeper for a lost task or a dead broker).

    With `waiting_since`, only attempts finished before then: the periodic sweep leaves
    fresh ones to the task already queued for them.
    """
    stmt = select(Attempt.id).where(Attempt.status == "grading")
    if waiting_since is not None:
        stmt = stmt.where(finished_at() <= waiting_since)
    ids = db.session.scalars(stmt.order_by(Attempt.id)).all()
    for attempt_id in ids:
        try:
            grade_pending(attempt_id)
        except engine.EventBudgetExceeded as error:  # its scenario's runs explode: grade the rest
            db.session.rollback()
            log.error("attempt %s cannot be graded: %s", attempt_id, error)
            continue
        db.session.commit()
    return len(ids)


def _finish(attempt: Attempt, scenario: engine.Scenario, spread: bool = False) -> AttemptGrade:
    from lms.services.debrief import distribution_summary, store_references
    from lms.services.grading_spread import spread_for

    # The version's references (the debrief's bands and the grade's reference means), worked
    # out by its first grading and kept on it: every grade of the version uses the same ones.
    refs = store_references(attempt.scenario_version, scenario)
    runs = current_app.config.get("SCENARIO_GRADING_RUNS")
    if runs:  # a fixed count set for tests or drills: exactly that many runs
        distribution = engine.monte_carlo(scenario, attempt.choices, runs, attempt.seed)
        result = engine.grade(scenario, attempt.choices, distribution, refs)
    else:  # the adaptive rule (scenarios/adaptive.py): as many runs as the verdict needs
        rule = scenario.grading.adaptive
        how = spread_for(attempt.id, rule) if spread else None
        result, distribution = engine.adaptive.grade(
            scenario, attempt.choices, attempt.seed, refs, spread=how
        )
    breakdown = result.to_dict()
    breakdown["distribution"] = distribution_summary(distribution)
    grade = AttemptGrade(
        attempt=attempt,
        agency_id=attempt.agency_id,
        kind="auto",
        score=round(result.score, 2),
        passed=result.passed,
        breakdown=breakdown,
    )
    db.session.add(grade)
    attempt.status = "completed"
    attempt.completed_at = utcnow()
    db.session.flush()
    outcomes.attempt_graded(attempt, grade)  # xAPI completed/passed/failed; LTI score passback
    _credit(attempt, grade)
    return grade


def _credit(attempt: Attempt, grade: AttemptGrade) -> None:
    from lms.services import learning

    if grade.passed and attempt.assignment_id is not None:
        assignment = db.session.get(Assignment, attempt.assignment_id)
        learning.record_item_passed(
            attempt.user,
            assignment,
            attempt.item_slug,
            kind="scenario",
            score=grade.score,
            evidence={"attempt": attempt.id, "grade": grade.id},
        )


@dataclass(frozen=True)
class OverridePreview:
    """What a new grade would change, shown to the instructor before it is recorded."""

    attempt: Attempt
    previous: AttemptGrade
    score: float
    passed: bool
    pass_mark: float
    item_title: str | None
    course_title: str | None
    # the course completion that would be withdrawn (pass → fail), and its certificate
    completion: Any = None
    certificate: Any = None
    # pass → fail, but another attempt of the item still passes: the item's pass moves to it
    still_passed_by: Attempt | None = None
    course_stays_complete: bool = False

    @property
    def flips(self) -> bool:
        return self.previous.passed != self.passed

    @property
    def fails_now(self) -> bool:
        return self.previous.passed and not self.passed


CERTIFICATE_CHOICES = ("revoke", "keep")


def _check_override(actor: User, attempt: Attempt, score: float, reason: str) -> str:
    if not (actor.has_role(Role.INSTRUCTOR) or actor.is_platform_admin):
        raise PlayError("Only instructors can override a grade.")
    if attempt.user_id == actor.id:
        raise PlayError("You cannot override the grade of your own attempt.")
    if attempt.status != "completed" or attempt.grade is None:
        raise PlayError("Only a finished, graded attempt can have its grade overridden.")
    reason = visible_text(reason)
    if not reason:  # (spaces, a NUL or a zero-width space are not a reason)
        raise PlayError("Give a reason for the new grade; it is kept with the grade and in the audit log.")
    if not 0 <= score <= 100:
        raise PlayError("The score must be between 0 and 100.")
    return reason


def _item_pass_rests_on(attempt: Attempt):
    """The item completion this attempt's pass earned, if the course records it."""
    from lms.models import ItemCompletion

    if attempt.assignment_id is None:
        return None
    row = db.session.scalar(
        select(ItemCompletion).where(
            ItemCompletion.assignment_id == attempt.assignment_id,
            ItemCompletion.item_slug == attempt.item_slug,
        )
    )
    return row if row is not None and (row.evidence or {}).get("attempt") == attempt.id else None


def _still_passing_attempt(attempt: Attempt) -> Attempt | None:
    """Another finished attempt of the same assignment item whose grade in force passes (the
    earliest, as the item's pass rests on the first passing attempt): if there is one, an
    override of this attempt to a fail leaves the item passed."""
    others = db.session.scalars(
        select(Attempt)
        .where(
            Attempt.assignment_id == attempt.assignment_id,
            Attempt.item_slug == attempt.item_slug,
            Attempt.id != attempt.id,
            Attempt.status == "completed",
        )
        .order_by(Attempt.number, Attempt.id)
    )
    return next((other for other in others if other.grade is not None and other.grade.passed), None)


def preview_override(actor: User, attempt: Attempt, *, score: float, reason: str) -> OverridePreview:
    """What overriding the grade to `score` would change; checks it as `override_grade` does
    and writes nothing."""
    from lms.services import certificates, learning

    _check_override(actor, attempt, score, reason)
    previous = attempt.grade
    pass_mark = previous.breakdown.get("pass_mark", 0)
    score = round(score, 2)
    passed = score >= pass_mark
    item_title = course_title = None
    completion = certificate = still_passed_by = None
    course_stays_complete = False
    if attempt.assignment_id is not None:
        assignment = db.session.get(Assignment, attempt.assignment_id)
        course_title = assignment.course_version.title
        item_title = learning.item_of(assignment, attempt.item_slug)[1].title
        if previous.passed and not passed and _item_pass_rests_on(attempt) is not None:
            still_passed_by = _still_passing_attempt(attempt)
            if still_passed_by is not None:
                course_stays_complete = learning.completion_of(assignment) is not None
            else:
                completion = learning.completion_of(assignment)
                certificate = certificates.standing_for(completion) if completion is not None else None
    return OverridePreview(
        attempt,
        previous,
        score,
        passed,
        pass_mark,
        item_title,
        course_title,
        completion,
        certificate,
        still_passed_by,
        course_stays_complete,
    )


def override_grade(
    actor: User,
    attempt: Attempt,
    *,
    score: float,
    reason: str,
    certificate: str | None = None,
    certificate_reason: str | None = None,
    reviewed_grade_id: int | None = None,
) -> AttemptGrade:
    """An instructor's grade for a finished attempt, with a required reason.

    The original grade stays in the history; the change is in the audit log. The records
    follow the new grade: a pass turned fail withdraws the item's pass and the course
    completion (reopening the assignment) and, as the instructor chose, revokes the
    certificate (`certificate="revoke"`, with `certificate_reason` shown on the verification
    page) or keeps it (`"keep"`, the reason recorded). If another attempt of the item still passes,
    the item's pass moves to that attempt instead and the course stays complete. A fail turned pass records the item and completes the course as any pass does. The officer gets a message either way.
    `reviewed_grade_id`: the grade the instructor reviewed; if it has changed since, nothing
    is recorded.
    """
    from lms.services import certificates, learning, reminders

    preview = preview_override(actor, attempt, score=score, reason=reason)
    reason = visible_text(reason)
    if reviewed_grade_id is not None and reviewed_grade_id != preview.previous.id:
        raise PlayError("The grade changed after you reviewed it; review the change again.")
    standing = preview.certificate
    if standing is not None:
        if certificate not in CERTIFICATE_CHOICES:
            raise PlayError(f"Choose whether certificate {standing.code} is revoked or kept.")
        try:
            certificate_reason = certificates.clean_reason(certificate_reason)
        except certificates.CertificateError as error:
            raise PlayError(f"Certificate {standing.code}: {error}") from None
    previous = preview.previous
    grade = AttemptGrade(
        attempt=attempt,
        agency_id=attempt.agency_id,
        kind="override",
        score=preview.score,
        passed=preview.passed,
        breakdown={**previous.breakdown, "overrides": previous.id},
        reason=reason,
        graded_by_id=actor.id,
    )
    db.session.add(grade)
    db.session.flush()
    audit.record(
        actor,
        "attempt.grade_overridden",
        attempt,
        summary=reason,
        before={"score": previous.score, "passed": previous.passed, "grade": previous.id},
        after={"score": grade.score, "passed": grade.passed, "grade": grade.id},
    )
    # Every flip is re-sent: the LRS gets passed/failed and each gradebook the new score.
    outcomes.attempt_graded(attempt, grade)
    withdrawn = None
    item_pass = _item_pass_rests_on(attempt)
    still_passed_by = preview.still_passed_by
    if preview.fails_now and item_pass is not None and still_passed_by is not None:
        assignment = db.session.get(Assignment, attempt.assignment_id)
        other = still_passed_by.grade
        learning.move_item_pass(
            actor,
            assignment,
            attempt.item_slug,
            score=other.score,
            evidence={"attempt": still_passed_by.id, "grade": other.id},
            reason=reason,
        )
    elif preview.fails_now and item_pass is not None:
        assignment = db.session.get(Assignment, attempt.assignment_id)
        withdrawn = learning.withdraw_item_pass(actor, assignment, attempt.item_slug, reason=reason)
        if standing is not None and certificate == "revoke":
            certificates.revoke(actor, standing, certificate_reason)
        elif standing is not None:
            certificates.keep(actor, standing, certificate_reason)
    elif item_pass is not None and grade.passed:
        item_pass.score = grade.score  # still passed: the record shows the current score
        item_pass.evidence = {**(item_pass.evidence or {}), "grade": grade.id}
    else:
        _credit(attempt, grade)
    reminders.grade_changed(
        attempt, previous, grade, course_title=preview.course_title, withdrawn=withdrawn,
        certificate=standing, certificate_choice=certificate, still_passed_by=still_passed_by,
    )  # fmt: skip
    return grade


def attempts_for_review(actor: User, *, status: str = "completed", limit: int = 200) -> list[Attempt]:
    """Attempts of the actor's agency (all agencies for admins), newest first."""
    from lms.services.scoping import scoped

    stmt = scoped(Attempt, actor).where(Attempt.user_id != actor.id)
    if status:
        stmt = stmt.where(Attempt.status == status)
    return list(db.session.scalars(stmt.order_by(Attempt.started_at.desc(), Attempt.id.desc()).limit(limit)))
