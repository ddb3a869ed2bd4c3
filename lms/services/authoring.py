"""Writing courses in the browser: drafts, editing, publishing, export and import.

A course's content is the course file format (`lms.course_format`), stored whole in each
`CourseVersion`. Only a draft version changes: editing a published course first copies its
newest version into a new draft, so officers in progress keep the version they started.
Every edit is applied to a copy of the draft's content and checked with the course format's
validator before anything is stored, so a draft is always a valid course and a bad edit
changes nothing. Publishing flips the draft to published (audit-logged).

Export writes the course file (`dump_course`); import validates the whole file first,
reporting every problem with its place and line, and only then writes a draft.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lms import course_format as cf
from lms import seat_time as st
from lms.extensions import db
from lms.models import Course, CourseVersion, ScenarioRecord, ScenarioVersion, User
from lms.models.types import utcnow
from lms.services import audit, time_on_task
from lms.services.catalog import courses_offered_to, published_version, spec_of
from lms.services.scenario_authoring import AuthoringError
from lms.services.scenario_library import visible_records
from lms.services.scoping import NotFound, scoped
from lms.wording import quantity
from scenarios.yamlsource import Issue

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

__all__ = [
    "AuthoringError",
    "adapt",
    "create_course",
    "edit_course",
    "export_text",
    "import_text",
    "item_change",
    "known_scenarios",
    "publish",
    "settings_change",
    "structure_change",
]


# --- finding courses ----------------------------------------------------------------


def authorable(actor: User):
    """A SELECT of the courses the actor may edit: their agency's, or (admins) all."""
    return select(Course) if actor.is_platform_admin else scoped(Course, actor)


def visible_course(actor: User, course_id: int) -> Course:
    """A course the actor may see (their agency's or the library's), else NotFound."""
    agency = None if actor.is_platform_admin else actor.agency_id
    if agency is None and not actor.is_platform_admin:
        raise NotFound(f"Course {course_id}")
    course = db.session.scalar(courses_offered_to(agency).where(Course.id == course_id))
    if course is None:
        raise NotFound(f"Course {course_id}")
    return course


def can_edit(actor: User, course: Course) -> bool:
    return actor.is_platform_admin or (course.agency_id is not None and course.agency_id == actor.agency_id)


def editable_course(actor: User, course_id: int) -> Course:
    """A course the actor may edit, else NotFound."""
    course = visible_course(actor, course_id)
    if not can_edit(actor, course):
        raise NotFound(f"Course {course_id}")
    return course


def my_courses(actor: User) -> list[Course]:
    return list(db.session.scalars(authorable(actor).order_by(Course.title, Course.id)))


def library_courses(actor: User) -> list[Course]:
    """Platform library courses an instructor may adapt for their agency."""
    if actor.is_platform_admin:
        return []
    return list(db.session.scalars(select(Course).where(Course.agency_id.is_(None)).order_by(Course.title)))


def draft_of(course: Course) -> CourseVersion | None:
    return next((v for v in reversed(course.versions) if v.status == "draft"), None)


def _draft_for_edit(actor: User, course: Course, spec) -> CourseVersion:
    """The course's open draft, or a new one numbered after every existing version."""
    draft = draft_of(course)
    if draft is None:
        draft = CourseVersion(
            course_id=course.id,
            number=1 + max((v.number for v in course.versions), default=0),
            status="draft",
            content={},
            title=spec.title,
            created_by_id=actor.id,
        )
        db.session.add(draft)
        course.versions.append(draft)
    return draft


def latest_version(course: Course) -> CourseVersion | None:
    return course.versions[-1] if course.versions else None


def working_version(course: Course) -> CourseVersion:
    """The draft if there is one, else the newest version."""
    version = draft_of(course) or latest_version(course)
    if version is None:
        raise NotFound(f"Course {course.id} has no version")
    return version


@dataclass(frozen=True)
class HoursRecheck:
    """A published course whose declared credit hours its current estimate no longer supports."""

    course: Course
    version: CourseVersion
    shortfall: st.HoursShortfall


def hours_shortfall(spec: cf.CourseSpec, agency_id: int | None) -> st.HoursShortfall | None:
    """The course's declared hours checked again against its estimate now, with its scenarios
    timed as the agency plays them (measured medians once there are enough attempts)."""
    return st.hours_shortfall(time_on_task.course_estimate(spec, agency_id))


def courses_over_their_hours(actor: User) -> list[HoursRecheck]:
    """The actor's courses whose newest published version declares more credit hours than its
    estimate supports today: the hours check of import and edit, run again as measured play
    times arrive. The fix is a new version with lower declared hours."""
    out = []
    for course in my_courses(actor):
        version = published_version(course)
        if version is None:
            continue
        shortfall = hours_shortfall(spec_of(version), course.agency_id)
        if shortfall is not None:
            out.append(HoursRecheck(course, version, shortfall))
    return out


def known_scenarios(actor: User) -> frozenset[str]:
    """Slugs of the published scenarios the actor's agency may put in a course."""
    visible = visible_records(actor).subquery()
    return frozenset(
        db.session.scalars(
            select(ScenarioRecord.slug)
            .join(ScenarioVersion, ScenarioVersion.scenario_id == ScenarioRecord.id)
            .join(visible, visible.c.id == ScenarioRecord.id)
            .where(ScenarioVersion.status == "published")
            .distinct()
        )
    )


def _owner(actor: User) -> int | None:
    """The agency a new course of the actor belongs to (None: the platform library)."""
    return None if actor.is_platform_admin else actor.agency_id


def _scenario_times(agency_id: int | None) -> time_on_task.AgencyScenarioTimes:
    """How long each scenario takes as the course's agency (None: the library) plays it,
    for the hours check; whoever edits it."""
    return time_on_task.AgencyScenarioTimes(agency_id)


# --- drafts -------------------------------------------------------------------------


def _validate(actor: User, data: dict, *, agency_id: int | None) -> cf.CourseSpec:
    """The course content checked; its scenarios timed as ``agency_id`` (the course's) plays them."""
    try:
        return cf.course_from_data(
            data, known_scenarios=known_scenarios(actor), scenario_times=_scenario_times(agency_id)
        )
    except cf.CourseFormatError as error:
        raise AuthoringError(
            f"The course would have {quantity(len(error.issues), 'problem')}; nothing was saved.",
            error.issues,
        ) from None


def _denormalise(version: CourseVersion, spec: cf.CourseSpec) -> None:
    version.content = cf.course_to_data(spec)
    version.title = spec.title
    version.category = spec.category
    version.credit_hours = spec.credit_hours
    version.certificate_valid_months = spec.certificate_valid_months
    version.renewal_course_slug = spec.renewal.course if spec.renewal else None
    version.renewal_window_days = spec.renewal.window_days if spec.renewal else None


def edit_course(actor: User, course: Course, change: Callable[[dict], None]) -> CourseVersion:
    """Apply `change` to a copy of the working content; store it in the draft if valid.

    A published course gets a new draft first. Raises AuthoringError (nothing stored) if
    the result is not a valid course.
    """
    if not can_edit(actor, course):
        raise NotFound(f"Course {course.id}")
    base = working_version(course)
    data = copy.deepcopy(base.content)
    try:
        change(data)
    except (KeyError, IndexError, TypeError, ValueError) as error:
        if isinstance(error, AuthoringError):
            raise
        raise AuthoringError(f"That change cannot be made: {error}") from None
    spec = _validate(actor, data, agency_id=course.agency_id)
    if spec.slug != course.slug:
        raise AuthoringError("A course's slug cannot change.")
    draft = _draft_for_edit(actor, course, spec)
    _denormalise(draft, spec)
    db.session.flush()
    return draft


def _starter_module(slug: str, title: str) -> dict:
    return {
        "slug": slug,
        "title": title,
        "items": [
            {
                "kind": "lesson",
                "slug": f"{slug}-lesson",
                "title": "First lesson",
                "body": "Write the lesson here.",
            }
        ],
    }


def create_course(actor: User, *, slug: str, title: str) -> Course:
    """A new draft course of the actor's agency (admins: the platform library)."""
    slug = (slug or "").strip()
    title = (title or "").strip()
    if not _SLUG.match(slug) or len(slug) > 80:
        raise AuthoringError("The slug must be lowercase letters and digits joined by single hyphens.")
    if not title:
        raise AuthoringError("Give the course a title.")
    owner = _owner(actor)
    _check_free(owner, slug)
    data = {
        "ripple_course": 1,
        "slug": slug,
        "title": title[:200],
        "summary": "What officers will learn in this course.",
        "category": "Community policing",
        "credit_hours": 0,  # the author declares hours once there is content to support them
        "certificate_valid_months": None,
        "attempt_policy": {"max_attempts": 3, "counts": "best"},
        "modules": [_starter_module("module-1", "Module 1")],
    }
    spec = _validate(actor, data, agency_id=owner)
    course = Course(agency_id=owner, slug=slug, title=spec.title)
    db.session.add(course)
    db.session.flush()
    version = CourseVersion(
        course_id=course.id, number=1, status="draft", content={}, title=spec.title, created_by_id=actor.id
    )
    _denormalise(version, spec)
    db.session.add(version)
    db.session.flush()
    return course


def _check_free(owner: int | None, slug: str) -> None:
    clause = Course.agency_id.is_(None) if owner is None else Course.agency_id == owner
    if db.session.scalar(select(Course.id).where(clause, Course.slug == slug)):
        raise AuthoringError(f'There is already a course "{slug}" here: open it, or choose another slug.')


def adapt(actor: User, course: Course) -> Course:
    """Copy a library course into the actor's agency as a draft to adapt."""
    if actor.agency_id is None:
        raise AuthoringError("Platform admins edit library courses directly.")
    version = latest_version(course)
    if version is None:
        raise NotFound(f"Course {course.id}")
    _check_free(actor.agency_id, course.slug)
    spec = _validate(actor, copy.deepcopy(version.content), agency_id=actor.agency_id)
    copy_ = Course(agency_id=actor.agency_id, slug=course.slug, title=spec.title)
    db.session.add(copy_)
    db.session.flush()
    draft = CourseVersion(
        course_id=copy_.id, number=1, status="draft", content={}, title=spec.title, created_by_id=actor.id
    )
    _denormalise(draft, spec)
    db.session.add(draft)
    db.session.flush()
    return copy_


def publish(actor: User, course: Course) -> CourseVersion:
    """Publish the draft; assignments made before keep the version they were given."""
    if not can_edit(actor, course):
        raise NotFound(f"Course {course.id}")
    draft = draft_of(course)
    if draft is None:
        raise AuthoringError("There is no draft to publish: edit the course first.")
    spec = _validate(actor, copy.deepcopy(draft.content), agency_id=course.agency_id)
    _denormalise(draft, spec)
    draft.status = "published"
    draft.published_at = utcnow()
    course.title = spec.title
    db.session.flush()
    audit.record(
        actor,
        "course.published",
        course,
        summary=f"{course.slug} version {draft.number}",
        after={"version": draft.number, "version_id": draft.id},
    )
    return draft


# --- export and import ----------------------------------------------------------------


def export_text(version: CourseVersion) -> str:
    """The version as a course file (YAML)."""
    return cf.dump_course(cf.course_from_data(version.content))


MAX_IMPORT_BYTES = 2_000_000


def check_import(actor: User, raw: bytes | str) -> tuple[cf.CourseSpec | None, list[Issue]]:
    """Validate a course file for import: (spec, []) or (None, every problem with its line)."""
    if isinstance(raw, bytes) and len(raw) > MAX_IMPORT_BYTES:
        return None, [Issue("(document)", f"larger than {MAX_IMPORT_BYTES // 1_000_000} MB", None)]
    try:
        spec = cf.load_course(
            raw, known_scenarios=known_scenarios(actor), scenario_times=_scenario_times(_owner(actor))
        )
    except cf.CourseFormatError as error:
        return None, error.issues or [Issue("(document)", "invalid course file", None)]
    except Exception as error:  # the format promises CourseFormatError only; never 500 anyway
        return None, [Issue("(document)", f"could not be read: {type(error).__name__}", None)]
    return spec, []


def import_text(actor: User, raw: bytes | str) -> tuple[Course, CourseVersion]:
    """Import a course file as a draft: a new course, or a new draft of the agency's course
    with the same slug. Raises AuthoringError with every problem (nothing written)."""
    spec, issues = check_import(actor, raw)
    if spec is None:
        raise AuthoringError(
            f"The file has {quantity(len(issues), 'problem')}; nothing was imported.", issues
        )
    owner = _owner(actor)
    clause = Course.agency_id.is_(None) if owner is None else Course.agency_id == owner
    course = db.session.scalar(select(Course).where(clause, Course.slug == spec.slug))
    if course is None:
        course = Course(agency_id=owner, slug=spec.slug, title=spec.title)
        db.session.add(course)
        db.session.flush()
    draft = _draft_for_edit(actor, course, spec)
    _denormalise(draft, spec)
    db.session.flush()
    audit.record(actor, "course.imported", course, summary=f"{spec.slug} as draft version {draft.number}")
    return course, draft


# --- edits (each a change to the content dict) --------------------------------------------


def _module(data: dict, slug: str) -> dict:
    for module in data["modules"]:
        if module["slug"] == slug:
            return module
    raise AuthoringError(f'There is no module "{slug}".')


def _item(data: dict, slug: str) -> tuple[dict, dict]:
    for module in data["modules"]:
        for item in module["items"]:
            if item["slug"] == slug:
                return module, item
    raise AuthoringError(f'There is no item "{slug}".')


def _free_slug(data: dict, base: str) -> str:
    used = {m["slug"] for m in data["modules"]} | {i["slug"] for m in data["modules"] for i in m["items"]}
    n = 1
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _move(sequence: list, index: int, direction: str) -> None:
    if direction not in ("up", "down"):
        raise AuthoringError(f'"{direction[:40]}" is not a direction; use up or down.')
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(sequence):
        raise AuthoringError("It is already at that end.")
    sequence[index], sequence[target] = sequence[target], sequence[index]


def _int_or_none(value: Any, label: str, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise AuthoringError(f"{label} must be a whole number.") from None
    if not low <= number <= high:
        raise AuthoringError(f"{label} must be between {low} and {high}.")
    return number


def settings_change(form: dict) -> Callable[[dict], None]:
    """Course settings from a form: title, summary, category, credit hours, expiry, renewal,
    attempt policy."""

    def change(data: dict) -> None:
        data["title"] = (form.get("title") or "").strip()
        data["summary"] = (form.get("summary") or "").strip()
        data["category"] = (form.get("category") or "").strip()
        try:
            hours = float(form.get("credit_hours") or 0)
        except ValueError:
            raise AuthoringError("Credit hours must be a number.") from None
        data["credit_hours"] = int(hours) if hours.is_integer() else hours
        data["certificate_valid_months"] = _int_or_none(
            form.get("certificate_valid_months"), "Certificate validity", 1, 600
        )
        renewal = (form.get("renewal_course") or "").strip()
        if renewal:
            window = _int_or_none(form.get("renewal_window_days"), "Renewal window", 1, 3650) or 90
            data["renewal"] = {"course": renewal, "window_days": window}
        else:
            data.pop("renewal", None)
        data["attempt_policy"] = {
            "max_attempts": _int_or_none(form.get("max_attempts"), "Attempts allowed", 1, 100),
            "counts": form.get("counts") or "best",
        }

    return change


def structure_change(action: str, form: dict) -> Callable[[dict], None]:
    """The course page's buttons: add/move/delete modules and items, module details."""
    parts = action.split(":")

    def change(data: dict) -> None:
        verb = parts[0]
        modules = data["modules"]
        if verb == "add-module":
            slug = _free_slug(data, "module")
            modules.append(_starter_module(slug, (form.get("module_title") or "").strip() or "New module"))
        elif verb == "module" and len(parts) == 2:  # save a module's title, summary, objectives
            module = _module(data, parts[1])
            module["title"] = (form.get(f"{parts[1]}-title") or "").strip()
            summary = (form.get(f"{parts[1]}-summary") or "").strip()
            if summary:
                module["summary"] = summary
            else:
                module.pop("summary", None)
            objectives = _objective_numbers(
                form.getlist(f"{parts[1]}-objectives") if hasattr(form, "getlist") else []
            )
            if objectives:
                module["objectives"] = sorted(set(objectives))
            else:
                module.pop("objectives", None)
        elif verb == "move-module" and len(parts) == 3:
            _move(modules, modules.index(_module(data, parts[1])), parts[2])
        elif verb == "delete-module" and len(parts) == 2:
            modules.remove(_module(data, parts[1]))
        elif verb == "add-item" and len(parts) == 2:
            module = _module(data, parts[1])
            kind = form.get(f"{parts[1]}-kind") or "lesson"
            module["items"].append(new_item(data, kind))
        elif verb == "move-item" and len(parts) == 3:
            module, item = _item(data, parts[1])
            _move(module["items"], module["items"].index(item), parts[2])
        elif verb == "delete-item" and len(parts) == 2:
            module, item = _item(data, parts[1])
            module["items"].remove(item)
        else:
            raise AuthoringError("Unknown action.")

    return change


def _objective_numbers(values: list[str]) -> list[int]:
    """The teaching objectives ticked for a module: their numbers (1, 2, ...) in the course."""
    numbers = []
    for value in values:
        text = value.strip()
        if not (text.isascii() and text.isdigit() and 0 < int(text[:6]) <= 1000):
            raise AuthoringError(f'"{text[:40]}" is not the number of a teaching objective.')
        numbers.append(int(text))
    return numbers


def new_item(data: dict, kind: str, scenario: str | None = None) -> dict:
    """A valid starter item of `kind`, with a fresh slug."""
    slug = _free_slug(data, kind.replace("_", "-"))
    if kind == "lesson":
        return {"kind": "lesson", "slug": slug, "title": "New lesson", "body": "Write the lesson here."}
    if kind == "knowledge_check":
        return {
            "kind": "knowledge_check",
            "slug": slug,
            "title": "Knowledge check",
            "pass_mark": cf.DEFAULT_PASS_MARK,
            "questions": [new_question([], "true_false")],
        }
    if kind == "scenario":
        return {
            "kind": "scenario",
            "slug": slug,
            "title": "Graded scenario",
            "scenario": scenario or "",
            "intro": "Play the scenario.",
        }
    raise AuthoringError(f'Unknown item kind "{kind}".')


def new_question(questions: list[dict], kind: str) -> dict:
    used = {q.get("id") for q in questions}
    n = 1
    while f"q{n}" in used:
        n += 1
    question: dict[str, Any] = {"kind": kind, "id": f"q{n}", "prompt": "Write the question."}
    if kind in ("single_choice", "multiple_choice"):
        question["choices"] = [
            {"text": "A right answer", "correct": True},
            {"text": "A wrong answer", "correct": False},
        ]
    elif kind == "true_false":
        question["answer"] = True
    elif kind == "ordering":
        question["sequence"] = ["First step", "Second step"]
    else:
        raise AuthoringError(f'Unknown question kind "{kind}".')
    return question


def _text(form, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    return value.replace("\r\n", "\n").strip()


def item_change(slug: str, form, action: str = "save") -> Callable[[dict], None]:
    """An item editor's form (fields of its kind; a knowledge check's questions too)."""

    def change(data: dict) -> None:
        _, item = _item(data, slug)
        item["title"] = _text(form, "title") or ""
        for flag in ("required", "locked_until_previous"):
            item[flag] = form.get(flag) in ("y", "on", "true", "1")
        if item["required"]:
            item.pop("required")
        if not item["locked_until_previous"]:
            item.pop("locked_until_previous")
        minutes = _int_or_none(form.get("minutes"), "Minutes", 1, 1000)
        item.pop("minutes", None)
        if minutes is not None:
            item["minutes"] = minutes
        kind = item["kind"]
        if kind == "lesson":
            item["body"] = _text(form, "body") or ""
        elif kind == "scenario":
            item["scenario"] = _text(form, "scenario") or ""
            item["intro"] = _text(form, "intro") or ""
            _attempts(item, form)
        elif kind == "knowledge_check":
            pass_mark = _int_or_none(form.get("pass_mark"), "Pass mark", 0, 100)
            item["pass_mark"] = cf.DEFAULT_PASS_MARK if pass_mark is None else pass_mark
            _attempts(item, form)
            item["questions"] = _questions(item.get("questions", []), form)
            _question_action(item["questions"], action)

    return change


def typed_item(course: Course, slug: str, form) -> dict | None:
    """The item as the author typed it (not validated), to show again after a refused save."""
    data = copy.deepcopy(working_version(course).content)
    try:
        item = _item(data, slug)[1]
        return {**item, "questions": _questions(item.get("questions", []), form)}
    except (AuthoringError, KeyError, IndexError, TypeError, ValueError):
        return None


def _attempts(item: dict, form) -> None:
    value = _int_or_none(form.get("max_attempts"), "Attempts allowed", 1, 100)
    item.pop("max_attempts", None)
    if value is not None:
        item["max_attempts"] = value


def _questions(existing: list[dict], form) -> list[dict]:
    out = []
    for index, question in enumerate(existing):
        prefix = f"q{index}-"
        if prefix + "prompt" not in form:
            out.append(question)
            continue
        q: dict[str, Any] = {
            "kind": question["kind"],
            "id": question["id"],
            "prompt": _text(form, prefix + "prompt") or "",
        }
        explanation = _text(form, prefix + "explanation")
        if explanation:
            q["explanation"] = explanation
        for key in ("outcome", "case"):  # kept from the file unless the form sets them
            value = _text(form, prefix + key) if prefix + key in form else question.get(key)
            if value:
                q[key] = value
        if q["kind"] in ("single_choice", "multiple_choice"):
            choices = []
            for c in range(30):
                text = _text(form, f"{prefix}c{c}-text")
                if text is None:
                    break
                if not text:
                    continue
                choice: dict[str, Any] = {
                    "text": text,
                    "correct": form.get(f"{prefix}c{c}-correct") in ("y", "on"),
                }
                if q["kind"] == "single_choice" and form.get(prefix + "correct") is not None:
                    choice["correct"] = form.get(prefix + "correct") == str(c)
                feedback = _text(form, f"{prefix}c{c}-feedback")
                if feedback:
                    choice["feedback"] = feedback
                choices.append(choice)
            q["choices"] = choices
        elif q["kind"] == "true_false":
            q["answer"] = form.get(prefix + "answer") != "false"
        elif q["kind"] == "ordering":
            q["sequence"] = [
                line.strip() for line in (_text(form, prefix + "sequence") or "").split("\n") if line.strip()
            ]
        out.append(q)
    return out


def _question_action(questions: list[dict], action: str) -> None:
    verb, _, arg = action.partition(":")
    if verb == "add-question":
        questions.append(new_question(questions, arg))
    elif verb in ("remove-question", "up-question"):
        try:
            index = int(arg)
            questions[index]  # noqa: B018  (IndexError if out of range)
        except (ValueError, IndexError):
            raise AuthoringError("There is no such question.") from None
        if verb == "remove-question":
            questions.pop(index)
        else:
            _move(questions, index, "up")
