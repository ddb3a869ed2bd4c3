"""Writing scenarios in the browser: drafts, duplicate-and-adapt, the form editor, publishing.

A scenario's draft is a `ScenarioVersion` with status `draft`: the only version that may
change. Saving checks the whole YAML with the engine first and changes nothing if it has
a problem (every problem is reported with its line), so a draft is always a valid scenario.
Editing a published scenario starts a new draft; publishing the draft makes it an
immutable version (audit-logged), and attempts keep replaying on the version they were
played on.

Instructors write their agency's private scenarios; platform admins write the platform
library (agency NULL), shared with every agency.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import select

import scenarios as engine
from lms.course_format import MAX_BRIEFING_CHARS, MAX_FEEDBACK_CHARS, markdown_length_problem
from lms.extensions import db
from lms.input import text_problem
from lms.models import CalibrationRun, ScenarioRecord, ScenarioVersion, User
from lms.models.types import utcnow
from lms.services import audit
from lms.services.scenario_library import parse_source, visible_records
from lms.services.scoping import NotFound, get_scoped, scoped
from lms.wording import quantity
from scenarios.yamlsource import DocumentError, Issue, format_path, parse_yaml

MAX_SOURCE_BYTES = 200_000  # a library scenario is ~12 kB
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")

BLANK_TEMPLATE = """\
ripple_scenario: 1
slug: {slug}
title: "{title}"
summary: >
  One paragraph for lists: what happened and what the trainee must decide.
briefing: |
  **Saturday, 23:00.** Describe the incident, the place and the people the trainee can call.
objectives: [1, 2]
community:
  groups:
    - {{id: north, name: the North crew, size: 30, role: crew}}
    - {{id: south, name: the South crew, size: 30, role: crew}}
    - {{id: homes, name: families on the block, size: 100, role: family}}
partners:
  - id: pastor
    type: faith_leader
    name: the pastor
    groups:
      homes: {{reach: 0.8, credibility: 0.9}}
      south: {{reach: 0.3, credibility: 0.6}}
incident: {{by: north, against: south, text: A shooting outside the corner store.}}
retaliation: {{groups: [north, south]}}
decisions:
  - at_hours: 1
    prompt: The scene is safe. What do you do now?
    options:
      - label: Call the pastor and share what you know
        points: 10
        objectives: [1, 2]
        feedback: Early contact gives warning and a trusted voice for the families.
        actions: [{{do: contact_partner, partner: pastor, share: facts_and_concerns}}]
      - label: Wait for the investigation
        points: 0
        feedback: The rumor does not wait.
grading:
  pass_mark: 70
expert_path: "1a"
baseline_path: "1b"
"""


class AuthoringError(ValueError):
    """An authoring request that cannot be carried out; ``.issues`` say what and where."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        self.issues = list(issues or [])
        super().__init__(message)


# --- validation -------------------------------------------------------------------


def validate_text(text: Any) -> list[Issue]:
    """Every problem with a scenario's YAML, each with its place and line; [] if valid."""
    if not isinstance(text, str):
        return [Issue("(document)", "expected YAML text", None)]
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        return [Issue("(document)", f"larger than {MAX_SOURCE_BYTES // 1000} kB", None)]
    if "\x00" in text:
        return [Issue("(document)", "contains a NUL character", None)]
    try:
        scenario = engine.load_scenario(text if "\n" in text else text + "\n")
    except engine.ScenarioError as error:
        return error.issues or [Issue("(document)", "invalid scenario", None)]
    return _stored_text_issues(scenario) + _markdown_issues(scenario)


def _stored_text_issues(scenario: engine.Scenario) -> list[Issue]:
    """The title and slug are stored in columns and shown in lists and exports: one line that
    fits the column, without control characters (a YAML escape such as "\\0" makes them)."""
    issues = []
    for name, column in (("slug", ScenarioRecord.slug), ("title", ScenarioRecord.title)):
        problem = text_problem(column, getattr(scenario, name))
        if problem:
            issues.append(Issue(name, problem, None))
    return issues


def _markdown_issues(scenario: engine.Scenario) -> list[Issue]:
    """The briefing and option feedback (Markdown shown to trainees) that are too long."""
    fields: list[tuple[tuple, str, int]] = [(("briefing",), scenario.briefing, MAX_BRIEFING_CHARS)]
    for point in scenario.decisions:
        for j, option in enumerate(point.options):
            fields.append(
                (("decisions", point.index, "options", j, "feedback"), option.feedback, MAX_FEEDBACK_CHARS)
            )
    issues = []
    for path, text, limit in fields:
        problem = markdown_length_problem(text, limit)
        if problem:
            line = parse_yaml(scenario.source_text).line_of(path) if scenario.source_text else None
            issues.append(Issue(format_path(path), problem, line))
    return issues


def _parse(text: str) -> engine.Scenario:
    issues = validate_text(text)
    if issues:
        raise AuthoringError(
            f"The scenario has {quantity(len(issues), 'problem')}; nothing was saved.", issues
        )
    return parse_source(text if "\n" in text else text + "\n")


def issues_data(issues: list[Issue]) -> list[dict]:
    """Issues as JSON for the editor: path, message, line."""
    return [{"path": i.path, "message": i.message, "line": i.line} for i in issues]


# --- finding scenarios -----------------------------------------------------------------


def authorable(actor: User):
    """A SELECT of the scenarios the actor may edit: their agency's, or (admins) all."""
    if actor.is_platform_admin:
        return select(ScenarioRecord)
    return scoped(ScenarioRecord, actor)


def get_record(actor: User, scenario_id: int) -> ScenarioRecord:
    """A scenario the actor may edit, else NotFound (other agencies' look missing)."""
    if actor.is_platform_admin:
        record = db.session.get(ScenarioRecord, scenario_id)
        if record is None:
            raise NotFound(f"ScenarioRecord {scenario_id}")
        return record
    return get_scoped(ScenarioRecord, scenario_id, actor)


def draft_of(record: ScenarioRecord) -> ScenarioVersion | None:
    return next((v for v in reversed(record.versions) if v.status == "draft"), None)


def latest_published_of(record: ScenarioRecord) -> ScenarioVersion | None:
    return next((v for v in reversed(record.versions) if v.status == "published"), None)


def current_version(record: ScenarioRecord) -> ScenarioVersion:
    """The draft if there is one, else the newest published version."""
    version = draft_of(record) or latest_published_of(record)
    if version is None:  # a record always has a version; guard anyway
        raise NotFound(f"ScenarioRecord {record.id} has no version")
    return version


@dataclass
class Listing:
    record: ScenarioRecord
    draft: ScenarioVersion | None
    published: ScenarioVersion | None


def my_scenarios(actor: User) -> list[Listing]:
    """The scenarios the actor may edit, by title."""
    records = db.session.scalars(authorable(actor).order_by(ScenarioRecord.title, ScenarioRecord.id))
    return [Listing(r, draft_of(r), latest_published_of(r)) for r in records]


def duplicable(actor: User) -> list[ScenarioVersion]:
    """Published scenarios the actor may start from: the library's and their agency's."""
    from lms.services.scenario_library import published_catalogue

    return published_catalogue(actor)


# --- creating and saving ------------------------------------------------------------


def _owner(actor: User) -> int | None:
    # Platform admins write the platform library; everyone else their agency's scenarios.
    return None if actor.is_platform_admin else actor.agency_id


def _check_slug(actor: User, slug: str) -> None:
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise AuthoringError(
            "The slug must be 1-80 lowercase letters, digits, - or _, starting with a letter or digit.",
            [Issue("slug", "lowercase letters, digits, - and _ only", None)],
        )
    owner = _owner(actor)
    clause = ScenarioRecord.agency_id.is_(None) if owner is None else ScenarioRecord.agency_id == owner
    if db.session.scalar(select(ScenarioRecord.id).where(clause, ScenarioRecord.slug == slug)):
        where = "The platform library" if owner is None else "Your agency"
        raise AuthoringError(f'{where} already has a scenario "{slug}": open it, or choose another slug.')


def _new_record(actor: User, parsed: engine.Scenario, text: str) -> ScenarioRecord:
    record = ScenarioRecord(agency_id=_owner(actor), slug=parsed.slug, title=parsed.title)
    db.session.add(record)
    db.session.flush()
    _new_draft(actor, record, parsed, text, number=1)
    return record


def _new_draft(actor, record, parsed, text, *, number) -> ScenarioVersion:
    version = ScenarioVersion(
        scenario=record,
        number=number,
        status="draft",
        source_text=text,
        fingerprint=parsed.fingerprint,
        title=parsed.title,
        created_by_id=actor.id,
    )
    db.session.add(version)
    db.session.flush()
    return version


def replace_slug(text: str, slug: str) -> str:
    """The YAML with its top-level ``slug:`` line set to ``slug`` (formatting kept)."""
    new, count = re.subn(r"(?m)^slug:[^\n]*$", f"slug: {slug}", text, count=1)
    return new if count else f"slug: {slug}\n{text}"


def create_blank(actor: User, *, slug: str, title: str) -> ScenarioRecord:
    """A new scenario from the blank template, as a draft."""
    _check_slug(actor, slug)
    title = (title or "").strip() or slug
    text = BLANK_TEMPLATE.format(slug=slug, title=title.replace("\\", "").replace('"', "'")[:200])
    parsed = _parse(text)
    return _new_record(actor, parsed, text)


def duplicate(actor: User, version_id: int, *, slug: str) -> ScenarioRecord:
    """Duplicate a published scenario the actor can see into a new draft of their own.

    Keeping the library scenario's slug adapts it for the agency: its courses then use
    the agency's version once published (the agency's own scenario wins over the library's).
    """
    visible = visible_records(actor).subquery()
    source = db.session.scalar(
        select(ScenarioVersion)
        .join(visible, visible.c.id == ScenarioVersion.scenario_id)
        .where(ScenarioVersion.id == version_id, ScenarioVersion.status == "published")
    )
    if source is None:
        raise NotFound(f"ScenarioVersion {version_id}")
    _check_slug(actor, slug)
    text = replace_slug(source.source_text, slug)
    parsed = _parse(text)
    return _new_record(actor, parsed, text)


def save_text(actor: User, record: ScenarioRecord, text: str) -> ScenarioVersion:
    """Save YAML to the scenario's draft (starting a new draft after a published version).

    Raises AuthoringError with every problem, changing nothing, if the YAML is invalid or
    renames the scenario.
    """
    text = (text or "").replace("\r\n", "\n")
    if not text.endswith("\n"):
        text += "\n"  # stored text always has a newline: load_scenario never takes it for a path
    parsed = _parse(text)
    if parsed.slug != record.slug:
        line = parse_yaml(text).line_of(("slug",))
        raise AuthoringError(
            "The slug identifies the scenario and cannot change; duplicate it to make a new one.",
            [Issue("slug", f'must stay "{record.slug}"; duplicate the scenario to use another slug', line)],
        )
    draft = draft_of(record)
    if draft is None:
        number = 1 + max((v.number for v in record.versions), default=0)
        draft = _new_draft(actor, record, parsed, text, number=number)
    else:
        draft.source_text = text
        draft.fingerprint = parsed.fingerprint
        draft.title = parsed.title
    record.title = parsed.title if latest_published_of(record) is None else record.title
    db.session.flush()
    return draft


def publish(actor: User, record: ScenarioRecord, *, without_calibration: bool = False) -> ScenarioVersion:
    """Publish the draft as an immutable version (audit-logged).

    The current draft needs a finished calibration first, unless the author says to
    publish without one (recorded in the audit log).
    """
    draft = draft_of(record)
    if draft is None:
        raise AuthoringError("There is no draft to publish: edit the scenario first.")
    parsed = _parse(draft.source_text)
    calibration = current_calibration(draft)
    if calibration is None and not without_calibration:
        raise AuthoringError(
            "Calibrate this draft before publishing, so you know how its paths score "
            "(or confirm that you want to publish without a calibration)."
        )
    _check_runs_finish(parsed)
    draft.status = "published"
    draft.published_at = utcnow()
    draft.title = parsed.title
    record.title = parsed.title
    db.session.flush()
    audit.record(
        actor,
        "scenario.published",
        record,
        summary=f"{record.slug} version {draft.number}" + ("" if calibration else " (without a calibration)"),
        after={
            "version": draft.number,
            "version_id": draft.id,
            "fingerprint": draft.fingerprint,
            "calibration": calibration.id if calibration else None,
        },
    )
    return draft


# Seeds of the publish-time check: a handful, so a draft published without a calibration is
# still run on its expert and no-partnership paths before officers can play it.
PUBLISH_CHECK_SEEDS = (1, 2, 3)


def _check_runs_finish(parsed: engine.Scenario) -> None:
    """Refuse to publish a scenario whose runs exceed the event budget on its reference paths
    (possible only when publishing without a calibration): officers' attempts would never grade."""
    for label, path in (("expert", parsed.expert_path), ("no-partnership", parsed.baseline_path)):
        for seed in PUBLISH_CHECK_SEEDS:
            try:
                engine.simulate(parsed, path, seed)
            except engine.EventBudgetExceeded as error:
                raise AuthoringError(
                    f"This draft cannot be published: a run of its {label} path was stopped by the "
                    f"event budget ({error}). Lower the retaliation or rumor numbers and calibrate."
                ) from error


def share_to_library(actor: User, record: ScenarioRecord) -> ScenarioRecord:
    """A platform admin shares an agency's published scenario with every agency: its newest
    published version becomes a published scenario of the platform library (audit-logged)."""
    if not actor.is_platform_admin:
        raise AuthoringError("Only a platform admin can share a scenario with every agency.")
    if record.agency_id is None:
        raise AuthoringError("This scenario is already in the platform library.")
    source = latest_published_of(record)
    if source is None:
        raise AuthoringError("Publish the scenario first; only a published version can be shared.")
    _check_slug(actor, record.slug)  # admins own the library: the slug must be free there
    parsed = _parse(source.source_text)
    shared = ScenarioRecord(agency_id=None, slug=record.slug, title=parsed.title)
    db.session.add(shared)
    db.session.flush()
    version = _new_draft(actor, shared, parsed, source.source_text, number=1)
    version.status = "published"
    version.published_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "scenario.shared",
        shared,
        summary=f"{record.slug} version {source.number} of agency {record.agency_id} shared with every agency",
        agency_id=record.agency_id,
        after={"from_version_id": source.id, "library_version_id": version.id},
    )
    return shared


def current_calibration(version: ScenarioVersion) -> CalibrationRun | None:
    """The newest finished calibration of exactly this version's YAML."""
    from lms.models import BackgroundJob

    return db.session.scalar(
        select(CalibrationRun)
        .join(BackgroundJob, BackgroundJob.id == CalibrationRun.job_id)
        .where(
            CalibrationRun.scenario_version_id == version.id,
            CalibrationRun.fingerprint == version.fingerprint,
            BackgroundJob.status == "done",
        )
        .order_by(CalibrationRun.id.desc())
        .limit(1)
    )


# --- the form editor ------------------------------------------------------------------
#
# The form shows the parts instructors change most; applying it edits those values in the
# parsed YAML and writes the document back. Unchanged forms give back the text untouched.


def form_values(text: str) -> dict[str, Any]:
    """The form's fields from a valid scenario's YAML."""
    s = _parse(text)
    return {
        "title": s.title,
        "summary": s.summary,
        "briefing": s.briefing,
        "pass_mark": s.grading.pass_mark,
        "decisions": [
            {
                "prompt": d.prompt,
                "options": [
                    {"id": o.id, "label": o.label, "points": o.points, "feedback": o.feedback}
                    for o in d.options
                ],
            }
            for d in s.decisions
        ],
    }


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def apply_form(text: str, values: dict[str, Any]) -> str:
    """The YAML with the form's values written in (raises AuthoringError on bad values).

    The result loads to exactly the scenario the form describes; fields the form does not
    show keep their values.
    """
    current = form_values(text)
    problems: list[Issue] = []
    merged = _merge_form(current, values, problems)
    if problems:
        raise AuthoringError("Some fields need correcting; nothing was saved.", problems)
    if merged == current:
        return text
    try:
        data = copy.deepcopy(parse_yaml(text).data)
    except DocumentError as error:  # cannot happen for a valid draft
        raise AuthoringError("The YAML could not be read.", error.issues) from None
    for key in ("title", "summary", "briefing"):
        if merged[key] != current[key] or key in data:
            data[key] = merged[key]
    if merged["pass_mark"] != current["pass_mark"]:
        data.setdefault("grading", {})
        if not isinstance(data["grading"], dict):
            data["grading"] = {}
        data["grading"]["pass_mark"] = _num(merged["pass_mark"])
    for d_index, decision in enumerate(merged["decisions"]):
        d_data = data["decisions"][d_index]
        if decision["prompt"] != current["decisions"][d_index]["prompt"]:
            d_data["prompt"] = decision["prompt"]
        for o_index, option in enumerate(decision["options"]):
            old = current["decisions"][d_index]["options"][o_index]
            o_data = d_data["options"][o_index]
            if option["label"] != old["label"]:
                o_data["label"] = option["label"]
            if option["points"] != old["points"]:
                o_data["points"] = _num(option["points"])
            if option["feedback"] != old["feedback"]:
                o_data["feedback"] = option["feedback"]
    new_text = dump_yaml(data)
    issues = validate_text(new_text)
    if issues:
        raise AuthoringError("Those values make the scenario invalid; nothing was saved.", issues)
    return new_text


def _merge_form(current: dict, values: dict, problems: list[Issue]) -> dict:
    merged = copy.deepcopy(current)

    def text(path: str, value: Any, *, required: bool) -> str | None:
        if value is None:
            return None
        value = str(value).replace("\r\n", "\n")
        if required and not value.strip():
            problems.append(Issue(path, "must not be empty", None))
        return value

    def number(path: str, value: Any, low: float, high: float) -> float | None:
        if value is None or value == "":
            return None
        try:
            result = float(value)
        except (TypeError, ValueError):
            problems.append(Issue(path, "must be a number", None))
            return None
        if not (low <= result <= high):
            problems.append(Issue(path, f"must be between {low:g} and {high:g}", None))
            return None
        return result

    for key, required in (("title", True), ("summary", False), ("briefing", False)):
        value = text(key, values.get(key), required=required)
        if value is not None:
            merged[key] = value
    pass_mark = number("grading.pass_mark", values.get("pass_mark"), 0, 100)
    if pass_mark is not None:
        merged["pass_mark"] = pass_mark
    for d_index, decision in enumerate(merged["decisions"]):
        given = values.get("decisions") or []
        d_values = given[d_index] if d_index < len(given) and isinstance(given[d_index], dict) else {}
        prompt = text(f"decisions[{d_index}].prompt", d_values.get("prompt"), required=True)
        if prompt is not None:
            decision["prompt"] = prompt
        options = d_values.get("options") or []
        for o_index, option in enumerate(decision["options"]):
            o_values = (
                options[o_index] if o_index < len(options) and isinstance(options[o_index], dict) else {}
            )
            where = f"decisions[{d_index}].options[{o_index}]"
            label = text(f"{where}.label", o_values.get("label"), required=True)
            if label is not None:
                option["label"] = label
            points = number(f"{where}.points", o_values.get("points"), -100, 100)
            if points is not None:
                option["points"] = points
            feedback = text(f"{where}.feedback", o_values.get("feedback"), required=False)
            if feedback is not None:
                option["feedback"] = feedback
    return merged


def form_from_request(form) -> dict[str, Any]:
    """The form editor's fields from a POSTed form (names like ``d0-o1-points``)."""
    values: dict[str, Any] = {
        "title": form.get("title"),
        "summary": form.get("summary"),
        "briefing": form.get("briefing"),
        "pass_mark": form.get("pass_mark"),
        "decisions": [],
    }
    for d_index in range(50):
        if f"d{d_index}-prompt" not in form:
            break
        options = []
        for o_index in range(26):
            prefix = f"d{d_index}-o{o_index}-"
            if prefix + "label" not in form:
                break
            options.append(
                {
                    "label": form.get(prefix + "label"),
                    "points": form.get(prefix + "points"),
                    "feedback": form.get(prefix + "feedback"),
                }
            )
        values["decisions"].append({"prompt": form.get(f"d{d_index}-prompt"), "options": options})
    return values


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value and all(ch.isprintable() or ch == "\n" for ch in value) and value == value.strip(" "):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _small(value: Any) -> bool:
    return isinstance(value, (int, float, bool, type(None))) or (
        isinstance(value, str) and "\n" not in value and len(value) < 60
    )


def _represent_dict(dumper: yaml.SafeDumper, value: dict) -> yaml.Node:
    # Small mappings of plain values read best inline, as in the library: {id: a, size: 30}
    flow = bool(value) and len(value) <= 6 and all(_small(v) for v in value.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    flow = bool(value) and all(_small(v) for v in value) and len(value) <= 12
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: Any) -> str:
    """Scenario data as YAML in the library's style (block structure, small maps inline)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
