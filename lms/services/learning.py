"""Taking a course: assignments, progress, lessons, knowledge checks and completion.

An assignment is pinned to one published course version, so the course an officer is taking
never changes under them. Progress is the set of `ItemCompletion` rows of the assignment:
one per item, appended once and never undone. When every required item is done the course
`Completion` is recorded (once) with the attempts it rests on, and the certificate is issued.

Rules decided here:

- An item marked `locked_until_previous` opens when every earlier required item of its
  module is done (optional items never block).
- A knowledge check can be attempted until it is passed or its attempt limit is used up.
  Every attempt is stored. Whether the item passes follows the course's attempt policy:
  `best` (any passing attempt counts, the best score is recorded) or `latest` (the latest
  attempt decides). Once passed, the item is done for good and no more attempts are taken.
- Correct answers and explanations are shown once the check is passed or out of attempts;
  before that, feedback says which questions were wrong and why the chosen answer was.
  Staff looking at an officer's attempts see everything.
- Each attempt at a knowledge check shows its own draw of the pool, in its own order, with
  the choices shuffled (`lms.services.presentation`); the attempt's number fixes them, so
  the page, the submission, the score and the review all use the same questions. Responses
  are stored against the course file's choice indexes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms import dates
from lms.course_format import ITEM_KINDS, CourseSpec, ItemSpec, ModuleSpec, QuestionSpec, score_check
from lms.extensions import db
from lms.models import (
    Assignment,
    Attempt,
    Certificate,
    CheckAttempt,
    Completion,
    Course,
    ItemCompletion,
    User,
)
from lms.models.types import utcnow
from lms.services import audit, catalog, outcomes
from lms.services.presentation import PresentedQuestion, check_key, present_check


class LearningError(Exception):
    """A learning action that cannot be done; the message is meant for the officer."""


class UnknownItem(LearningError, LookupError):
    """The course has no item with that slug."""


class ItemLocked(LearningError):
    """The item opens only when the earlier required items of its module are done."""


class NoAttemptsLeft(LearningError):
    """The attempt limit of the item is used up."""


class InvalidAnswers(LearningError):
    """Answers that cannot be scored; `errors` maps question id to a message naming it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- assignments ------------------------------------------------------------------


def assign_course(
    actor: User | None,
    user: User,
    course: Course,
    *,
    due_on: date | None = None,
    source: str = "manual",
) -> Assignment:
    """Assign the newest published version of `course` to `user` (an officer of an agency)."""
    if user.agency_id is None:
        raise LearningError("Only people who belong to an agency can be assigned courses.")
    if course.agency_id is not None and course.agency_id != user.agency_id:
        raise LearningError("That course belongs to another agency.")
    version = catalog.published_version(course)
    if version is None:
        raise LearningError(f"{course.title} has no published version yet.")
    assignment = Assignment(
        agency_id=user.agency_id,
        user_id=user.id,
        course_id=course.id,
        course_version_id=version.id,
        due_on=due_on,
        source=source,
        assigned_by_id=actor.id if actor is not None else None,
        status="assigned",
    )
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        actor,
        "assignment.created",
        assignment,
        summary=f"{course.title} assigned to {user.name} ({source})"
        + (f", due {dates.day(due_on)}" if due_on else ""),
    )
    return assignment


def assignments_for(user: User) -> list[Assignment]:
    """The user's own assignments, open ones first (by due date), then completed ones."""
    rows = db.session.scalars(
        select(Assignment)
        .options(selectinload(Assignment.course_version))  # their specs are read next, one query
        .where(Assignment.user_id == user.id, Assignment.status != "cancelled")
        .order_by(Assignment.assigned_at.desc(), Assignment.id.desc())
    ).all()
    return sorted(rows, key=lambda a: (a.status != "assigned", a.due_on or date.max, -a.id))


def spec_for(assignment: Assignment) -> CourseSpec:
    return catalog.spec_of(assignment.course_version)


def item_of(assignment: Assignment, item_slug: str) -> tuple[ModuleSpec, ItemSpec]:
    """The item and its module, or UnknownItem."""
    for module, item in spec_for(assignment).items():
        if item.slug == item_slug:
            return module, item
    raise UnknownItem("This course has no such item.")


def is_overdue(assignment: Assignment, today: date | None = None) -> bool:
    today = today or date.today()
    return assignment.status == "assigned" and assignment.due_on is not None and assignment.due_on < today


# --- progress ---------------------------------------------------------------------


def done_items(assignment: Assignment) -> dict[str, ItemCompletion]:
    rows = db.session.scalars(select(ItemCompletion).where(ItemCompletion.assignment_id == assignment.id))
    return {row.item_slug: row for row in rows}


def _unlocked(module: ModuleSpec, item: ItemSpec, done: Mapping[str, Any]) -> bool:
    if not item.locked_until_previous or item.slug in done:
        return True
    for earlier in module.items:
        if earlier.slug == item.slug:
            return True
        if earlier.required and earlier.slug not in done:
            return False
    return True


def item_unlocked(assignment: Assignment, item_slug: str) -> bool:
    """True if the officer may open and attempt the item (raises UnknownItem)."""
    module, item = item_of(assignment, item_slug)
    return _unlocked(module, item, done_items(assignment))


def attempts_allowed(assignment: Assignment, item_slug: str) -> int | None:
    """The attempt limit of a graded item (None = unlimited; raises UnknownItem)."""
    _, item = item_of(assignment, item_slug)
    return spec_for(assignment).max_attempts_for(item)


def check_attempts(assignment: Assignment, item_slug: str) -> list[CheckAttempt]:
    return list(
        db.session.scalars(
            select(CheckAttempt)
            .where(CheckAttempt.assignment_id == assignment.id, CheckAttempt.item_slug == item_slug)
            .order_by(CheckAttempt.number)
        )
    )


def _attempt_counts(assignment: Assignment) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in (CheckAttempt, Attempt):
        for slug, n in db.session.execute(
            select(model.item_slug, func.count())
            .where(model.assignment_id == assignment.id)
            .group_by(model.item_slug)
        ):
            if slug is not None:
                counts[slug] = counts.get(slug, 0) + n
    return counts


@dataclass
class ItemProgress:
    module: ModuleSpec
    item: ItemSpec
    completion: ItemCompletion | None
    unlocked: bool
    attempts_used: int
    attempts_allowed: int | None

    @property
    def done(self) -> bool:
        return self.completion is not None

    @property
    def out_of_attempts(self) -> bool:
        return (
            not self.done
            and self.item.graded
            and self.attempts_allowed is not None
            and self.attempts_used >= self.attempts_allowed
        )

    @property
    def status(self) -> str:
        """done | locked | out_of_attempts | in_progress | not_started"""
        if self.done:
            return "done"
        if not self.unlocked:
            return "locked"
        if self.out_of_attempts:
            return "out_of_attempts"
        return "in_progress" if self.attempts_used else "not_started"

    @property
    def reveals_answers(self) -> bool:
        """The answer key may be shown to the officer: the item is passed or out of attempts."""
        return self.done or self.out_of_attempts

    @property
    def kind_label(self) -> str:
        if self.item.summative:
            return "Final check"
        kind = ITEM_KINDS.get(self.item.kind)
        return kind.label if kind else self.item.kind


def _percent(done: int, total: int) -> int:
    return 100 if total == 0 else int(100 * done / total)


@dataclass
class ModuleProgress:
    module: ModuleSpec
    items: list[ItemProgress]

    @property
    def required_total(self) -> int:
        return sum(1 for i in self.items if i.item.required)

    @property
    def required_done(self) -> int:
        return sum(1 for i in self.items if i.item.required and i.done)

    @property
    def percent(self) -> int:
        return _percent(self.required_done, self.required_total)


@dataclass
class CourseProgress:
    assignment: Assignment
    spec: CourseSpec
    modules: list[ModuleProgress]
    completion: Completion | None = None
    certificate: Certificate | None = None
    items: dict[str, ItemProgress] = field(default_factory=dict)

    @property
    def required_total(self) -> int:
        return sum(m.required_total for m in self.modules)

    @property
    def required_done(self) -> int:
        return sum(m.required_done for m in self.modules)

    @property
    def percent(self) -> int:
        return _percent(self.required_done, self.required_total)

    @property
    def complete(self) -> bool:
        return self.completion is not None

    @property
    def overdue(self) -> bool:
        return is_overdue(self.assignment)

    @property
    def next_item(self) -> ItemProgress | None:
        """Where to resume: the first open required item, else the first open optional one."""
        open_items = [
            i for m in self.modules for i in m.items if not i.done and i.unlocked and not i.out_of_attempts
        ]
        return next((i for i in open_items if i.item.required), open_items[0] if open_items else None)

    @property
    def started(self) -> bool:
        return any(i.done or i.attempts_used for i in self.items.values())


def progress(assignment: Assignment) -> CourseProgress:
    """Everything the course page shows: per item, per module and for the whole course."""
    spec = spec_for(assignment)
    done = done_items(assignment)
    counts = _attempt_counts(assignment)
    modules = []
    items: dict[str, ItemProgress] = {}
    for module in spec.modules:
        entries = []
        for item in module.items:
            entry = ItemProgress(
                module=module,
                item=item,
                completion=done.get(item.slug),
                unlocked=_unlocked(module, item, done),
                attempts_used=counts.get(item.slug, 0),
                attempts_allowed=spec.max_attempts_for(item) if item.graded else None,
            )
            entries.append(entry)
            items[item.slug] = entry
        modules.append(ModuleProgress(module, entries))
    completion = completion_of(assignment)
    certificate = None
    if completion is not None:
        certificate = db.session.scalar(
            select(Certificate)
            .where(Certificate.completion_id == completion.id)
            .order_by(Certificate.id.desc())
            .limit(1)
        )
    return CourseProgress(assignment, spec, modules, completion, certificate, items)


def completion_of(assignment: Assignment) -> Completion | None:
    return db.session.scalar(select(Completion).where(Completion.assignment_id == assignment.id))


# --- doing items -------------------------------------------------------------------


def _require_learner(actor: User, assignment: Assignment) -> None:
    if actor.id != assignment.user_id:
        raise LearningError("Only the officer taking this course can do that.")
    if assignment.status == "cancelled":
        raise LearningError("This assignment was cancelled.")


def _require_open(module: ModuleSpec, item: ItemSpec, done: Mapping[str, Any]) -> None:
    if not _unlocked(module, item, done):
        raise ItemLocked(f"“{item.title}” opens when you have finished the items before it in this module.")


def mark_lesson_read(actor: User, assignment: Assignment, item_slug: str) -> Completion | None:
    """The officer has read a lesson. Returns the course completion if this finished it."""
    _require_learner(actor, assignment)
    module, item = item_of(assignment, item_slug)
    if item.kind != "lesson":
        raise LearningError("Only lessons are marked as read; checks and scenarios are passed.")
    done = done_items(assignment)
    _require_open(module, item, done)
    return record_item_passed(
        actor, assignment, item_slug, kind="lesson", score=None, evidence={"read": True}
    )


def record_item_passed(
    actor: User | None,
    assignment: Assignment,
    item_slug: str,
    *,
    kind: str,
    score: float | None,
    evidence: dict[str, Any] | None,
) -> Completion | None:
    """Record that an item of the assignment is done (a lesson read, a check or scenario passed).

    Idempotent: an item already done is left as it was. When every required item is done the
    course completion is recorded once and the certificate issued. Returns the course's
    completion if the course is complete (now or before), else None. The caller has already
    decided the item passed (e.g. the scenario grader); `kind` must match the item's kind.
    """
    _, item = item_of(assignment, item_slug)
    if item.kind != kind:
        raise LearningError(f"“{item.title}” is a {item.kind}, not a {kind}.")
    if assignment.status == "cancelled":
        raise LearningError("This assignment was cancelled.")
    exists = db.session.scalar(
        select(ItemCompletion.id).where(
            ItemCompletion.assignment_id == assignment.id, ItemCompletion.item_slug == item_slug
        )
    )
    if exists is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    ItemCompletion(
                        agency_id=assignment.agency_id,
                        user_id=assignment.user_id,
                        assignment_id=assignment.id,
                        item_slug=item_slug,
                        kind=kind,
                        score=score,
                        evidence=evidence,
                    )
                )
        except IntegrityError:
            pass  # recorded by a concurrent request: same outcome
    return _complete_if_done(actor, assignment)


def withdraw_item_pass(
    actor: User, assignment: Assignment, item_slug: str, *, reason: str
) -> Completion | None:
    """An item's pass no longer stands (the grade it rested on was overridden to a fail).

    The item is no longer done; if the course was complete, its completion is withdrawn (kept,
    marked with the reason, left out of hours and every report) and the assignment reopened.
    Certificates are the caller's decision. Returns the withdrawn completion, if any.
    """
    row = db.session.scalar(
        select(ItemCompletion).where(
            ItemCompletion.assignment_id == assignment.id, ItemCompletion.item_slug == item_slug
        )
    )
    if row is None:
        return None
    _, item = item_of(assignment, item_slug)
    before = {
        "item": item_slug,
        "score": row.score,
        "evidence": row.evidence,
        "completed_at": str(row.completed_at),
    }
    db.session.delete(row)
    db.session.flush()
    audit.record(
        actor,
        "item.pass_withdrawn",
        assignment,
        summary=f"“{item.title}” is no longer passed for {assignment.user.name}: {reason}",
        before=before,
    )
    completion = completion_of(assignment)
    if completion is None:
        return None
    completion.withdrawn_at = utcnow()
    completion.withdrawn_reason = reason
    assignment.status = "assigned"
    assignment.completed_at = None
    db.session.flush()
    audit.record(
        actor,
        "course.completion_withdrawn",
        completion,
        summary=f"{assignment.user.name}'s completion of {assignment.course_version.title} withdrawn: {reason}",
        before={"credit_hours": completion.credit_hours, "completed_at": str(completion.completed_at)},
        after={"withdrawn_reason": reason},
    )
    outcomes.course_withdrawn(completion)
    return completion


def move_item_pass(
    actor: User,
    assignment: Assignment,
    item_slug: str,
    *,
    score: float | None,
    evidence: dict[str, Any],
    reason: str,
) -> ItemCompletion | None:
    """The grade an item's pass rested on no longer passes, but another attempt of the same
    item still does: the item stays passed, now resting on that attempt (`score`, `evidence`).

    The course completion stays; its record of what it rests on is pointed at the new
    evidence too, so it never cites a grade that no longer passes. Returns the item's
    completion, or None if the item was not recorded as done.
    """
    row = db.session.scalar(
        select(ItemCompletion).where(
            ItemCompletion.assignment_id == assignment.id, ItemCompletion.item_slug == item_slug
        )
    )
    if row is None:
        return None
    _, item = item_of(assignment, item_slug)
    before = {"item": item_slug, "score": row.score, "evidence": row.evidence}
    row.score = score
    row.evidence = dict(evidence)
    completion = completion_of(assignment)
    if completion is not None:
        # A new list and dict: the JSON column only notices a replaced value.
        items = [
            {**entry, "score": score, **evidence} if entry.get("item") == item_slug else entry
            for entry in (completion.evidence or {}).get("items", [])
        ]
        completion.evidence = {**completion.evidence, "items": items}
    db.session.flush()
    audit.record(
        actor,
        "item.pass_moved",
        assignment,
        summary=(
            f"“{item.title}” stays passed for {assignment.user.name} on another attempt "
            f"after a grade change: {reason}"
        ),
        before=before,
        after={"item": item_slug, "score": score, "evidence": row.evidence},
    )
    return row


def _withdrawn_completion(assignment: Assignment) -> Completion | None:
    return db.session.scalar(
        select(Completion)
        .where(Completion.assignment_id == assignment.id, Completion.withdrawn_at.is_not(None))
        .execution_options(include_withdrawn=True)
    )


def _reinstate(
    actor: User | None, assignment: Assignment, completion: Completion, rests_on: list
) -> Completion:
    """The course is complete again after a withdrawal: the same completion row (one per
    assignment) counts again, resting on today's evidence; a certificate is issued as for any
    completion unless the one it had was kept."""
    from lms.services import certificates

    completion.withdrawn_at = None
    completion.withdrawn_reason = None
    completion.completed_at = utcnow()
    completion.evidence = {**completion.evidence, "items": rests_on}
    assignment.status = "completed"
    assignment.completed_at = completion.completed_at
    db.session.flush()
    audit.record(
        actor,
        "course.completion_reinstated",
        completion,
        summary=f"{assignment.user.name} completed {assignment.course_version.title} again",
    )
    if certificates.standing_for(completion) is None:
        certificates.issue_for_completion(actor, completion)
    outcomes.course_completed(completion)
    return completion


def _complete_if_done(actor: User | None, assignment: Assignment) -> Completion | None:
    existing = completion_of(assignment)
    if existing is not None:
        return existing
    spec = spec_for(assignment)
    done = done_items(assignment)
    required = [item for _, item in spec.items() if item.required]
    if any(item.slug not in done for item in required):
        return None
    version = assignment.course_version
    rests_on = [
        {
            "item": item.slug,
            "kind": done[item.slug].kind,
            "score": done[item.slug].score,
            "item_completion": done[item.slug].id,
            **(done[item.slug].evidence or {}),
        }
        for item in required
    ]
    withdrawn = _withdrawn_completion(assignment)
    if withdrawn is not None:
        return _reinstate(actor, assignment, withdrawn, rests_on)
    completion = Completion(
        agency_id=assignment.agency_id,
        user_id=assignment.user_id,
        course_id=assignment.course_id,
        course_version_id=assignment.course_version_id,
        assignment_id=assignment.id,
        credit_hours=version.credit_hours,
        category=version.category,
        evidence={"course_version": version.number, "items": rests_on},
    )
    try:
        with db.session.begin_nested():
            db.session.add(completion)
    except IntegrityError:
        return completion_of(assignment)  # completed by a concurrent request
    assignment.status = "completed"
    assignment.completed_at = completion.completed_at or utcnow()
    db.session.flush()
    audit.record(
        actor,
        "course.completed",
        completion,
        summary=f"{assignment.user.name} completed {version.title}",
    )
    from lms.services import certificates

    certificates.issue_for_completion(actor, completion)
    outcomes.course_completed(completion)  # xAPI "completed"; LTI score passback
    return completion


# --- knowledge checks ----------------------------------------------------------------


def ordering_display(question: QuestionSpec, key: str) -> list[str]:
    """The items of an ordering question in the (stable, shuffled) order they are shown."""
    shown = list(question.sequence)
    random.Random(f"{key}:{question.id}").shuffle(shown)
    if shown == list(question.sequence):  # never show the answer as the starting order
        shown = shown[1:] + shown[:1]
    return shown


def next_check_number(assignment: Assignment, item_slug: str) -> int:
    """The number the officer's next attempt at a knowledge check will have."""
    return len(check_attempts(assignment, item_slug)) + 1


def display_key(assignment: Assignment, item: ItemSpec, number: int | None = None) -> str:
    """The key of attempt `number` at a check (default: the next one, the one the page shows)."""
    if number is None:
        number = next_check_number(assignment, item.slug)
    return check_key(assignment.id, item.slug, number)


def presented(assignment: Assignment, item: ItemSpec, number: int | None = None) -> list[PresentedQuestion]:
    """Attempt `number` (default: the next) as the officer sees it: its draw, in its order."""
    return present_check(item, display_key(assignment, item, number))


def parse_check_form(item: ItemSpec, form: Any, *, key: str) -> dict[str, Any]:
    """Turn submitted form fields into scoring responses, or raise InvalidAnswers.

    Only the questions attempt `key` presents are read. Fields: `q-<id>` (the position of a
    choice as shown, several for multiple choice, or "true"/"false"), and for ordering
    `q-<id>-<n>` = the position (1..N) given to the n-th item as shown. Responses use the
    course file's choice indexes. `form` is a werkzeug MultiDict or any mapping of name to a
    list of values.
    """

    def values(name: str) -> list[str]:
        if hasattr(form, "getlist"):
            return [v for v in form.getlist(name) if v != ""]
        raw = form.get(name, [])
        raw = raw if isinstance(raw, list) else [raw]
        return [str(v) for v in raw if v != ""]

    responses: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for shown in present_check(item, key):
        question = shown.question
        label = f"Question {shown.number}"
        name = f"q-{question.id}"
        if question.kind in ("single_choice", "multiple_choice"):
            chosen = values(name)
            if not chosen:
                errors[question.id] = f"{label}: choose an answer."
                continue
            if question.kind == "single_choice" and len(chosen) > 1:
                errors[question.id] = f"{label}: choose only one answer."
                continue
            try:
                indexes = [shown.file_index(int(v)) for v in chosen]
            except ValueError:
                indexes = [None]
            if None in indexes or len(set(indexes)) != len(indexes):
                errors[question.id] = f"{label}: that answer is not one of the choices."
                continue
            responses[question.id] = indexes[0] if question.kind == "single_choice" else sorted(indexes)
        elif question.kind == "true_false":
            chosen = values(name)
            if not chosen:
                errors[question.id] = f"{label}: choose true or false."
            elif len(chosen) > 1 or chosen[0] not in ("true", "false"):
                errors[question.id] = f"{label}: answer true or false."
            else:
                responses[question.id] = chosen[0] == "true"
        elif question.kind == "ordering":
            shown = ordering_display(question, key)
            n = len(shown)
            positions: list[int] = []
            for index in range(n):
                chosen = values(f"{name}-{index}")
                try:
                    positions.append(int(chosen[0]) if len(chosen) == 1 else 0)
                except ValueError:
                    positions.append(0)
            if sorted(positions) != list(range(1, n + 1)):
                errors[question.id] = f"{label}: give each item a different position from 1 to {n}."
                continue
            responses[question.id] = [text for _, text in sorted(zip(positions, shown, strict=True))]
        else:
            errors[question.id] = f"{label}: this kind of question cannot be answered here."
    if errors:
        raise InvalidAnswers(errors)
    return responses


@dataclass
class CheckOutcome:
    attempt: CheckAttempt
    item_passed: bool
    completion: Completion | None


def _counting_attempt(attempts: list[CheckAttempt], counts: str) -> CheckAttempt | None:
    if not attempts:
        return None
    if counts == "latest":
        return attempts[-1]
    return max(attempts, key=lambda a: (a.passed, a.score, -a.number))


class StaleCheck(LearningError):
    """The answers were for an attempt already submitted (another tab, a double submit)."""

    def __init__(self, number: int | None, next_number: int):
        given = f"attempt {number}" if number is not None else "an earlier attempt"
        super().__init__(
            f"Those answers were for {given}, which was already submitted (perhaps in another "
            f"tab). Here is attempt {next_number}: its questions and their order are new."
        )


def _require_current(number: int | None, submitted: int) -> None:
    """StaleCheck unless ``number`` is the attempt after the ``submitted`` ones."""
    if number != submitted + 1:
        raise StaleCheck(number, submitted + 1)


def submit_check(
    actor: User,
    assignment: Assignment,
    item_slug: str,
    responses: Mapping[str, Any],
    *,
    number: int | None = None,
) -> CheckOutcome:
    """Score and store one attempt at a knowledge check; pass the item if the policy says so.

    Only the questions the attempt presents count (its draw). `number` is the attempt the
    answers were given on (the page's); if another attempt was submitted since, nothing is
    stored and StaleCheck says so.
    """
    _require_learner(actor, assignment)
    module, item = item_of(assignment, item_slug)
    if item.kind != "knowledge_check":
        raise LearningError(f"“{item.title}” is not a knowledge check.")
    done = done_items(assignment)
    _require_open(module, item, done)
    if item_slug in done:
        raise LearningError(f"You have already passed “{item.title}”.")
    spec = spec_for(assignment)
    attempts = check_attempts(assignment, item_slug)
    allowed = spec.max_attempts_for(item)
    if allowed is not None and len(attempts) >= allowed:
        raise NoAttemptsLeft(
            f"You have used all {allowed} attempts at “{item.title}”. Please contact your training coordinator."
        )
    if number is not None:
        _require_current(number, len(attempts))
    shown_ids = [shown.question.id for shown in presented(assignment, item, len(attempts) + 1)]
    score, results = score_check(item, responses, shown_ids)
    pass_mark = item.pass_mark if item.pass_mark is not None else 0
    attempt = CheckAttempt(
        agency_id=assignment.agency_id,
        user_id=assignment.user_id,
        assignment_id=assignment.id,
        item_slug=item_slug,
        number=len(attempts) + 1,
        responses={qid: responses[qid] for qid in shown_ids if qid in responses},
        results=results,
        score=round(score, 2),
        passed=score >= pass_mark,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:  # a concurrent submit stored this attempt number first
        raise StaleCheck(attempt.number, attempt.number + 1) from None
    attempts.append(attempt)
    counting = _counting_attempt(attempts, spec.attempt_policy.counts)
    completion = None
    item_passed = counting is not None and counting.passed
    if item_passed:
        completion = record_item_passed(
            actor,
            assignment,
            item_slug,
            kind="knowledge_check",
            score=counting.score,
            evidence={"check_attempt": counting.id, "attempts": [a.id for a in attempts]},
        )
    return CheckOutcome(attempt, item_passed, completion)


def submit_check_form(actor: User, assignment: Assignment, item_slug: str, form: Any) -> CheckOutcome:
    """The check page's form: the attempt it was shown for (its ``attempt`` field), then its
    answers read with that attempt's display key. StaleCheck if that attempt was already
    submitted, InvalidAnswers if an answer is malformed."""
    _require_learner(actor, assignment)
    _, item = item_of(assignment, item_slug)
    if item.kind != "knowledge_check":
        raise LearningError(f"“{item.title}” is not a knowledge check.")
    raw = (form.get("attempt") or "").strip()
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else None
    _require_current(number, next_check_number(assignment, item_slug) - 1)
    responses = parse_check_form(item, form, key=display_key(assignment, item, number))
    return submit_check(actor, assignment, item_slug, responses, number=number)


@dataclass
class QuestionFeedback:
    number: int
    question: QuestionSpec
    correct: bool
    answer: str  # the officer's answer, in words
    feedback: list[str]  # feedback of the chosen choices
    correct_answer: str | None  # shown only when answers may be revealed
    explanation: str | None


def _answer_text(question: QuestionSpec, response: Any) -> str:
    if response is None:
        return "(no answer)"
    if question.kind == "single_choice":
        return question.choices[response].text if isinstance(response, int) else "(no answer)"
    if question.kind == "multiple_choice":
        return "; ".join(question.choices[i].text for i in response if 0 <= i < len(question.choices))
    if question.kind == "true_false":
        return "True" if response else "False"
    if question.kind == "ordering":
        return " → ".join(response)
    return str(response)


def _correct_text(question: QuestionSpec) -> str:
    if question.kind in ("single_choice", "multiple_choice"):
        return "; ".join(c.text for c in question.choices if c.correct)
    if question.kind == "true_false":
        return "True" if question.answer else "False"
    return " → ".join(question.sequence)


def attempt_questions(item: ItemSpec, attempt: CheckAttempt) -> list[PresentedQuestion]:
    """The questions a stored attempt presented, numbered in the order it showed them.

    The attempt's key gives its draw and order; its stored results name the questions it
    scored, and win if the two ever differ (an attempt stored before draws were read).
    """
    key = check_key(attempt.assignment_id, item.slug, attempt.number)
    shown = present_check(item, key)
    stored = set(attempt.results or {})
    if stored and {p.question.id for p in shown} != stored:
        shown = [p for p in present_check(replace(item, draw=None), key) if p.question.id in stored]
    return [replace(p, number=n) for n, p in enumerate(shown, start=1)]


def attempt_feedback(item: ItemSpec, attempt: CheckAttempt, *, reveal: bool) -> list[QuestionFeedback]:
    """Per-question feedback on a stored attempt, in the order it was shown; `reveal` adds
    the correct answers and explanations."""
    out = []
    for shown in attempt_questions(item, attempt):
        number, question = shown.number, shown.question
        response = attempt.responses.get(question.id)
        chosen: list[int] = []
        if question.kind == "single_choice" and isinstance(response, int):
            chosen = [response]
        elif question.kind == "multiple_choice" and isinstance(response, list):
            chosen = response
        notes = [
            question.choices[i].feedback
            for i in chosen
            if 0 <= i < len(question.choices) and question.choices[i].feedback
        ]
        correct = bool(attempt.results.get(question.id))
        out.append(
            QuestionFeedback(
                number=number,
                question=question,
                correct=correct,
                answer=_answer_text(question, response),
                feedback=notes,
                correct_answer=_correct_text(question) if reveal and not correct else None,
                explanation=question.explanation if reveal or correct else None,
            )
        )
    return out
