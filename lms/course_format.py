"""The course file format: parse, validate, dump and score, as pure Python.

A course file (YAML, ``ripple_course: 1``) is both how the built-in courses are
written and how a course is exported from one agency or instance and imported
into another. ``load_course`` checks everything in one pass and raises
``CourseFormatError`` (and nothing else) listing every problem with its path in
the document and its line, e.g.::

    modules[2].items[1].questions[0].choices: a single_choice question needs
    exactly one correct choice, has 2 (line 212)

``dump_course`` writes a ``CourseSpec`` back to YAML such that
``load_course(dump_course(spec)) == spec``.

Limits. Before the YAML is parsed, ``scenarios.yamlsource.check_limits`` refuses a
text of more than 2,000,000 bytes, nesting deeper than 50 levels or with more than 100
aliases (``*name``), with the line where the limit is passed. Every number has a
finite range (``.inf`` and ``.nan`` are refused; ``1e3`` is a number): ``credit_hours``
0-1000, ``certificate_valid_months`` 1-600, ``renewal.window_days`` 1-3650,
``max_attempts`` (the course's ``attempt_policy`` and an item's) 1-100, a knowledge
check's ``pass_mark`` 0-100, an item's ``minutes`` 1-1000. A course's ``sources`` (its
"Sources and further reading") hold at most 200 entries, each a ``cite`` of 1-400
characters, an optional ``note`` of at most 400 and an optional http(s) ``url``; its
``credits`` are Markdown of at most 4,000 characters.

Item kinds and question kinds are registries (``ITEM_KINDS``,
``QUESTION_KINDS``): adding a kind means adding one entry there, with its parser
and the keys it owns. Scoring of knowledge checks lives here too, as pure
functions, so the web app, the grader and the tests share one definition.

Nothing here imports Flask or the database.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

import lms.seat_time as st
from scenarios.catalogue import OBJECTIVES
from scenarios.yamlsource import (
    MISSING,
    Document,
    DocumentError,
    Issue,
    IssueCollector,
    format_path,
    parse_yaml,
)

__all__ = [
    "BUILTIN_COURSES_DIR",
    "COUNTS",
    "DEFAULT_ATTEMPT_POLICY",
    "DEFAULT_PASS_MARK",
    "FORMAT_VERSION",
    "ITEM_KINDS",
    "MAX_BRIEFING_CHARS",
    "MAX_FEEDBACK_CHARS",
    "MAX_INLINE_CHARS",
    "MAX_LESSON_CHARS",
    "MIN_QUESTIONS_PER_OUTCOME",
    "OBJECTIVES",
    "QUESTION_KINDS",
    "AttemptPolicy",
    "ChoiceSpec",
    "CourseFormatError",
    "CourseSpec",
    "ItemKind",
    "ItemSpec",
    "ModuleSpec",
    "OutcomeSpec",
    "QuestionKind",
    "QuestionSpec",
    "RenewalSpec",
    "SourceSpec",
    "builtin_course_paths",
    "course_warnings",
    "course_from_data",
    "course_to_data",
    "dump_course",
    "load_builtin_courses",
    "load_course",
    "markdown_length_problem",
    "score_check",
    "score_question",
]

FORMAT_VERSION = 1
DEFAULT_PASS_MARK = 80
COUNTS = ("best", "latest")  # which attempt counts towards completion
MAX_TEXT_BYTES = 2_000_000  # an exported course is far smaller; refuse anything huge
# The longest Markdown each kind of field may hold. Rendering is linear in the text, so these
# bound what a page or a preview costs; the longest built-in lesson is under 4,000 characters.
# Scenario authoring applies the briefing and feedback limits to scenarios.
MAX_LESSON_CHARS = 20_000  # a lesson's body, a scenario item's intro, one preview request
MAX_BRIEFING_CHARS = 10_000  # a scenario's briefing
MAX_FEEDBACK_CHARS = 4_000  # feedback on an option or a choice, a question's explanation
MAX_INLINE_CHARS = 1_000  # a question's prompt, a choice's text, an item of an ordering question
MAX_SOURCES = 200  # entries in a course's "Sources and further reading"
MAX_CITE_CHARS = 400  # a source's citation
MAX_SOURCE_NOTE_CHARS = 400  # a source's note
MAX_URL_CHARS = 2_000  # a source's link
MAX_CREDITS_CHARS = 4_000  # the course's credits (Markdown)
BUILTIN_COURSES_DIR = Path(__file__).resolve().parent / "content" / "courses"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_QUESTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SLUG_MAX = 80


class CourseFormatError(DocumentError):
    """A course document is invalid; ``.issues`` lists every problem found."""


# --- the dataclasses ------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceSpec:
    """One choice of a single- or multiple-choice question."""

    text: str
    correct: bool = False
    feedback: str | None = None  # shown when this choice was picked


@dataclass(frozen=True)
class QuestionSpec:
    """One question of a knowledge check; only the fields of its kind are set."""

    kind: str  # a key of QUESTION_KINDS
    id: str  # unique within its knowledge check; responses are keyed by it
    prompt: str
    explanation: str | None = None  # shown after answering, right or wrong
    choices: tuple[ChoiceSpec, ...] = ()  # single_choice, multiple_choice
    answer: bool | None = None  # true_false
    sequence: tuple[str, ...] = ()  # ordering: the items in the correct order
    outcome: str | None = None  # the id of the module outcome it assesses
    case: str | None = None  # Markdown: a short scenario vignette shown above the prompt

    @property
    def correct_choices(self) -> frozenset[int]:
        """Indexes of the correct choices."""
        return frozenset(i for i, choice in enumerate(self.choices) if choice.correct)


@dataclass(frozen=True)
class ItemSpec:
    """One item of a module; the kind decides which of the optional fields apply."""

    kind: str  # a key of ITEM_KINDS
    slug: str  # unique within the course
    title: str
    required: bool = True
    locked_until_previous: bool = False
    minutes: int | None = None  # estimated time, shown to the officer
    body: str | None = None  # lesson: Markdown
    intro: str | None = None  # scenario: Markdown shown before starting
    scenario: str | None = None  # scenario: slug in the engine's library
    pass_mark: int | None = None  # knowledge_check: percent needed to pass
    max_attempts: int | None = None  # knowledge_check, scenario: None = the course's policy
    questions: tuple[QuestionSpec, ...] = ()  # knowledge_check: the pool
    draw: int | None = None  # knowledge_check: questions drawn per attempt (None = all)
    summative: bool = False  # knowledge_check: the course's final check

    @property
    def questions_per_attempt(self) -> int:
        """How many questions one attempt presents: the draw, else the whole pool."""
        return self.draw if self.draw is not None else len(self.questions)

    @property
    def graded(self) -> bool:
        """True for items that are passed or failed (rather than just completed)."""
        return ITEM_KINDS[self.kind].graded if self.kind in ITEM_KINDS else False

    def question(self, question_id: str) -> QuestionSpec | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class OutcomeSpec:
    """A measurable objective of a module: "Given ..., the officer will ..."."""

    id: str  # unique in the course
    text: str
    teaching: tuple[int, ...] = ()  # the module's teaching objectives it serves


@dataclass(frozen=True)
class ModuleSpec:
    slug: str
    title: str
    summary: str | None = None
    objectives: tuple[int, ...] = ()  # teaching objectives (1-8) this module serves
    items: tuple[ItemSpec, ...] = ()
    outcomes: tuple[OutcomeSpec, ...] = ()

    def outcome(self, outcome_id: str) -> OutcomeSpec | None:
        return next((o for o in self.outcomes if o.id == outcome_id), None)


@dataclass(frozen=True)
class RenewalSpec:
    """Which course renews the certificate, and how long before expiry it opens."""

    course: str
    window_days: int


@dataclass(frozen=True)
class AttemptPolicy:
    max_attempts: int | None = 3  # None = unlimited
    counts: str = "best"  # one of COUNTS


DEFAULT_ATTEMPT_POLICY = AttemptPolicy()


@dataclass(frozen=True)
class SourceSpec:
    """One entry of a course's "Sources and further reading"."""

    cite: str  # the reference, as it would be cited
    note: str | None = None  # what it is used for in the course
    url: str | None = None  # http(s) only


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title: str
    summary: str
    category: str
    credit_hours: float
    certificate_valid_months: int | None  # None = the certificate never expires
    modules: tuple[ModuleSpec, ...]
    renewal: RenewalSpec | None = None
    attempt_policy: AttemptPolicy = DEFAULT_ATTEMPT_POLICY
    format_version: int = FORMAT_VERSION
    sources: tuple[SourceSpec, ...] = ()  # "Sources and further reading", in file order
    credits: str | None = None  # Markdown: where the course's framework came from
    # Course-file warnings (see ``course_warnings``): shown to authors, never blocking, and
    # not part of the course's value (a spec equals its round trip whatever the lines).
    warnings: tuple[Issue, ...] = field(default=(), compare=False, repr=False)
    seat_time: st.SeatTimePolicy = st.DEFAULT_SEAT_TIME  # how its hours are estimated (lms.seat_time)

    def items(self) -> Iterator[tuple[ModuleSpec, ItemSpec]]:
        """Every item in course order, with its module."""
        for module in self.modules:
            for item in module.items:
                yield module, item

    def item(self, slug: str) -> ItemSpec | None:
        return next((item for _, item in self.items() if item.slug == slug), None)

    def module(self, slug: str) -> ModuleSpec | None:
        return next((module for module in self.modules if module.slug == slug), None)

    @property
    def objectives(self) -> frozenset[int]:
        """The teaching objectives the course's modules serve, together."""
        return frozenset(o for module in self.modules for o in module.objectives)

    @property
    def scenario_slugs(self) -> tuple[str, ...]:
        """Scenario slugs referenced by the course, in course order, without repeats."""
        seen: dict[str, None] = {}
        for _, item in self.items():
            if item.scenario is not None:
                seen.setdefault(item.scenario, None)
        return tuple(seen)

    @property
    def summative_check(self) -> ItemSpec | None:
        """The course's final check (``summative: true``), if it has one."""
        return next((item for _, item in self.items() if item.summative), None)

    def max_attempts_for(self, item: ItemSpec) -> int | None:
        """The attempt limit for an item: its own, else the course's (None = unlimited)."""
        return item.max_attempts if item.max_attempts is not None else self.attempt_policy.max_attempts


# --- scoring --------------------------------------------------------------------
#
# Responses, per question kind:
#   single_choice    the index of the chosen choice (int)
#   multiple_choice  the indexes of the chosen choices (any iterable of ints)
#   true_false       a bool
#   ordering         the items in the order the officer put them (list of str)
# Anything malformed scores as wrong rather than raising: it comes from a browser.


def _score_single(question: QuestionSpec, response: Any) -> bool:
    if isinstance(response, bool) or not isinstance(response, int):
        return False
    return 0 <= response < len(question.choices) and question.choices[response].correct


def _score_multiple(question: QuestionSpec, response: Any) -> bool:
    if isinstance(response, (str, bytes, Mapping)) or not isinstance(response, Iterable):
        return False
    chosen = list(response)
    if any(isinstance(i, bool) or not isinstance(i, int) for i in chosen):
        return False
    return set(chosen) == question.correct_choices


def _score_true_false(question: QuestionSpec, response: Any) -> bool:
    return isinstance(response, bool) and response == question.answer


def _score_ordering(question: QuestionSpec, response: Any) -> bool:
    if isinstance(response, (str, bytes, Mapping)) or not isinstance(response, Iterable):
        return False
    return tuple(response) == question.sequence


def score_question(question: QuestionSpec, response: Any) -> bool:
    """True if ``response`` answers ``question`` correctly (see the response shapes above).

    Multiple choice needs exactly the set of correct choices; ordering needs the
    whole sequence in order. A malformed response is simply wrong.
    """
    kind = QUESTION_KINDS.get(question.kind)
    return bool(kind and kind.score(question, response))


def score_check(
    item: ItemSpec, responses: Mapping[str, Any], question_ids: Iterable[str] | None = None
) -> tuple[float, dict[str, bool]]:
    """Score a knowledge check: ``(percent correct, {question id: correct})``.

    ``question_ids`` are the questions the attempt presented (its draw); None = the whole
    pool. Unanswered questions count as wrong. Compare the percent with
    ``item.pass_mark`` to decide whether the attempt passed.
    """
    if not isinstance(responses, Mapping):
        responses = {}
    presented = item.questions
    if question_ids is not None:
        wanted = set(question_ids)
        presented = tuple(q for q in item.questions if q.id in wanted)
    results = {q.id: q.id in responses and score_question(q, responses[q.id]) for q in presented}
    if not results:
        return 0.0, results
    return 100.0 * sum(results.values()) / len(results), results


# --- the registries ---------------------------------------------------------------

Path_ = tuple  # a path inside the document: str keys and int indexes


@dataclass(frozen=True)
class QuestionKind:
    """A question kind: the keys it owns, how to validate them, how to score."""

    name: str
    label: str
    keys: tuple[str, ...]  # keys beyond the common ones (kind, id, prompt, explanation)
    parse: Callable[[IssueCollector, dict, Path_], dict[str, Any]]  # -> QuestionSpec fields
    score: Callable[[QuestionSpec, Any], bool]


@dataclass(frozen=True)
class ItemKind:
    """An item kind: the keys it owns, how to validate them, whether it is graded."""

    name: str
    label: str
    keys: tuple[str, ...]  # keys beyond the common ones (kind, slug, title, required, ...)
    parse: Callable[[IssueCollector, dict, Path_, _Context], dict[str, Any]]  # -> ItemSpec fields
    graded: bool


@dataclass
class _Context:
    """What item validators may need beyond their own mapping."""

    known_scenarios: frozenset[str] | None
    module_outcomes: frozenset[str] = frozenset()  # outcome ids of the module being read
    check_hours: bool = True  # refuse declared minutes and hours above the seat-time estimate
    scenario_times: Mapping[str, st.ScenarioTime] | None = None  # by slug; else the built-in library


def _text(c: IssueCollector, d: dict, key: str, path: Path_, *, required: bool = True) -> Any:
    if required:
        return _markdown(c, c.require(d, key, path, str), path + (key,), MAX_LESSON_CHARS)
    return _markdown(c, c.optional(d, key, path, str), path + (key,), MAX_LESSON_CHARS)


def _markdown(c: IssueCollector, value: Any, path: Path_, limit: int) -> Any:
    """`value` as it is, with an issue if it is Markdown longer than its field allows."""
    problem = markdown_length_problem(value, limit)
    if problem:
        c.add(path, problem)
    return value


def markdown_length_problem(text: Any, limit: int) -> str | None:
    """What is wrong with `text` if it is longer than `limit` characters, else None."""
    if not isinstance(text, str) or len(text) <= limit:
        return None
    return f"is {len(text):,} characters long; at most {limit:,} are allowed"


def _choices(c: IssueCollector, d: dict, path: Path_, *, exactly_one: bool) -> dict[str, Any]:
    kind = "single_choice" if exactly_one else "multiple_choice"
    raw = c.require(d, "choices", path, list)
    if raw is MISSING:
        return {"choices": ()}
    cpath = path + ("choices",)
    choices: list[ChoiceSpec] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(raw):
        epath = cpath + (i,)
        m = c.mapping(entry, epath, allowed=("text", "correct", "feedback"))
        if not isinstance(entry, dict):
            continue
        text = _markdown(c, c.require(m, "text", epath, str), epath + ("text",), MAX_INLINE_CHARS)
        correct = c.optional(m, "correct", epath, bool, False)
        feedback = _markdown(
            c, c.optional(m, "feedback", epath, str), epath + ("feedback",), MAX_FEEDBACK_CHARS
        )
        if text is MISSING:
            continue
        if text in seen:
            c.add(epath + ("text",), f"the same choice text is also used by choice {seen[text]}")
        seen.setdefault(text, i)
        choices.append(ChoiceSpec(text=text, correct=correct, feedback=feedback))
    if len(raw) < 2:
        c.add(cpath, f"a {kind} question needs at least 2 choices, has {len(raw)}")
    elif len(choices) == len(raw):  # count correct ones only when every choice parsed
        n_correct = sum(choice.correct for choice in choices)
        if exactly_one and n_correct != 1:
            c.add(cpath, f"a single_choice question needs exactly one correct choice, has {n_correct}")
        if not exactly_one and n_correct < 1:
            c.add(cpath, "a multiple_choice question needs at least one correct choice, has 0")
    return {"choices": tuple(choices)}


def _parse_single(c: IssueCollector, d: dict, path: Path_) -> dict[str, Any]:
    return _choices(c, d, path, exactly_one=True)


def _parse_multiple(c: IssueCollector, d: dict, path: Path_) -> dict[str, Any]:
    return _choices(c, d, path, exactly_one=False)


def _parse_true_false(c: IssueCollector, d: dict, path: Path_) -> dict[str, Any]:
    answer = c.require(d, "answer", path, bool)
    return {"answer": None if answer is MISSING else answer}


def _parse_ordering(c: IssueCollector, d: dict, path: Path_) -> dict[str, Any]:
    raw = c.require(d, "sequence", path, list)
    if raw is MISSING:
        return {"sequence": ()}
    spath = path + ("sequence",)
    sequence: list[str] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(raw):
        if not c.check_type(value, spath + (i,), str):
            continue
        if not value.strip():
            c.add(spath + (i,), "must not be empty")
            continue
        _markdown(c, value, spath + (i,), MAX_INLINE_CHARS)
        if value in seen:
            c.add(spath + (i,), f"repeats item {seen[value]}; every item of an ordering must be different")
        seen.setdefault(value, i)
        sequence.append(value)
    if len(raw) < 2:
        c.add(spath, f"an ordering question needs at least 2 items, has {len(raw)}")
    return {"sequence": tuple(sequence)}


QUESTION_KINDS: dict[str, QuestionKind] = {
    kind.name: kind
    for kind in (
        QuestionKind("single_choice", "Single choice", ("choices",), _parse_single, _score_single),
        QuestionKind("multiple_choice", "Multiple choice", ("choices",), _parse_multiple, _score_multiple),
        QuestionKind("true_false", "True or false", ("answer",), _parse_true_false, _score_true_false),
        QuestionKind("ordering", "Ordering", ("sequence",), _parse_ordering, _score_ordering),
    )
}
_QUESTION_COMMON = ("kind", "id", "prompt", "explanation", "outcome", "case")


def _parse_lesson(c: IssueCollector, d: dict, path: Path_, ctx: _Context) -> dict[str, Any]:
    return {"body": _text(c, d, "body", path)}


def _max_attempts(c: IssueCollector, d: dict, path: Path_) -> Any:
    return c.optional(d, "max_attempts", path, int, None, min=1, max=100)


def _parse_knowledge_check(c: IssueCollector, d: dict, path: Path_, ctx: _Context) -> dict[str, Any]:
    pass_mark = c.optional(d, "pass_mark", path, int, DEFAULT_PASS_MARK, min=0, max=100)
    raw = c.require(d, "questions", path, list)
    questions: list[QuestionSpec] = []
    if raw is not MISSING:
        qpath = path + ("questions",)
        if not raw:
            c.add(qpath, "a knowledge check needs at least 1 question, has 0")
        seen: dict[str, int] = {}
        for i, entry in enumerate(raw):
            question = _question(c, entry, qpath + (i,))
            if question is None:
                continue
            if question.id in seen:
                c.add(
                    qpath + (i, "id"),
                    f'question id "{question.id}" is also used by questions[{seen[question.id]}]',
                )
            seen.setdefault(question.id, i)
            _question_outcome(c, question, qpath + (i,), ctx)
            questions.append(question)
    summative = c.optional(d, "summative", path, bool, False)
    draw = c.optional(d, "draw", path, int, None, min=1, max=1000)
    if (
        draw not in (None, MISSING)
        and raw is not MISSING
        and len(raw) == len(questions)
        and draw > len(questions)
    ):
        c.add(
            path + ("draw",),
            f"draws {draw} questions per attempt but the pool has only {len(questions)}; "
            f"use 1 to {len(questions)} or leave draw out to present them all",
        )
    return {
        "pass_mark": pass_mark if pass_mark is not MISSING else DEFAULT_PASS_MARK,
        "max_attempts": _max_attempts(c, d, path),
        "questions": tuple(questions),
        "draw": None if draw is MISSING else draw,
        "summative": False if summative is MISSING else summative,
    }


def _question_outcome(c: IssueCollector, question: QuestionSpec, path: Path_, ctx: _Context) -> None:
    """A question names an outcome of its module, and must when the module has outcomes."""
    if question.outcome is None:
        if ctx.module_outcomes:
            c.add(
                path,
                'missing required key "outcome": this module has outcomes, so each question names '
                f"the one it assesses ({', '.join(sorted(ctx.module_outcomes))})",
            )
    elif question.outcome not in ctx.module_outcomes:
        if ctx.module_outcomes:
            c.choice(
                question.outcome,
                path + ("outcome",),
                sorted(ctx.module_outcomes),
                what="outcome of this module",
            )
        else:
            c.add(
                path + ("outcome",),
                f'names outcome "{question.outcome}" but this module has no outcomes; '
                "add it under the module's outcomes",
            )


def _parse_scenario(c: IssueCollector, d: dict, path: Path_, ctx: _Context) -> dict[str, Any]:
    slug = c.require(d, "scenario", path, str)
    if slug is not MISSING:
        if not _SLUG.match(slug):
            c.add(path + ("scenario",), f'"{slug}" is not a valid scenario slug')
        elif ctx.known_scenarios is not None and slug not in ctx.known_scenarios:
            c.choice(slug, path + ("scenario",), sorted(ctx.known_scenarios), what="scenario")
    return {
        "scenario": slug if slug is not MISSING else None,
        "intro": _text(c, d, "intro", path, required=False),
        "max_attempts": _max_attempts(c, d, path),
    }


ITEM_KINDS: dict[str, ItemKind] = {
    kind.name: kind
    for kind in (
        ItemKind("lesson", "Lesson", ("body",), _parse_lesson, graded=False),
        ItemKind(
            "knowledge_check",
            "Knowledge check",
            ("pass_mark", "max_attempts", "questions", "draw", "summative"),
            _parse_knowledge_check,
            graded=True,
        ),
        ItemKind(
            "scenario", "Graded scenario", ("scenario", "intro", "max_attempts"), _parse_scenario, graded=True
        ),
    )
}
_ITEM_COMMON = ("kind", "slug", "title", "required", "locked_until_previous", "minutes")

_TOP_KEYS = (
    "ripple_course",
    "slug",
    "title",
    "summary",
    "category",
    "credit_hours",
    "certificate_valid_months",
    "renewal",
    "attempt_policy",
    "seat_time",
    "modules",
    "sources",
    "credits",
)
_MODULE_KEYS = ("slug", "title", "summary", "objectives", "outcomes", "items")


# --- loading ----------------------------------------------------------------------


def load_course(
    path_or_text: str | bytes | PathLike[str],
    *,
    known_scenarios: Iterable[str] | None = None,
    scenario_times: Mapping[str, st.ScenarioTime] | None = None,
) -> CourseSpec:
    """Load and validate a course from a file path (``Path``, or a ``str`` ending in
    ``.yaml``/``.yml`` with no newline) or from YAML text or bytes.

    With ``known_scenarios``, scenario items must name one of those slugs. Declared lesson
    minutes and credit hours are checked against the seat-time estimate (``lms.seat_time``),
    scenarios timed by ``scenario_times`` or else from the built-in library.
    Raises ``CourseFormatError``, and nothing else, listing every problem with its
    path in the document and its line.
    """
    try:
        text = _read(path_or_text)
        if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
            raise CourseFormatError([Issue("(document)", f"larger than {MAX_TEXT_BYTES} bytes", None)])
        try:
            document = parse_yaml(text)
        except DocumentError as exc:
            raise CourseFormatError(exc.issues) from None
        return _build(document, known_scenarios, check_hours=True, scenario_times=scenario_times)
    except CourseFormatError:
        raise
    except Exception as exc:  # a validator bug must still reach the author as a clear error
        raise CourseFormatError(
            [Issue("(document)", f"could not be read: {type(exc).__name__}: {exc}", None)]
        ) from exc


def course_from_data(
    data: Any,
    *,
    known_scenarios: Iterable[str] | None = None,
    scenario_times: Mapping[str, st.ScenarioTime] | None = None,
) -> CourseSpec:
    """Validate already-parsed data (e.g. from ``course_to_data`` stored as JSON).

    Declared hours are checked as by ``load_course`` when the data is being authored (with
    ``known_scenarios`` or ``scenario_times``); stored versions read back are not re-checked,
    so a scenario's measured time changing later never makes a published course unreadable.
    Issues carry paths but no lines. Raises ``CourseFormatError`` only.
    """
    check = known_scenarios is not None or scenario_times is not None
    try:
        return _build(Document(data=data), known_scenarios, check_hours=check, scenario_times=scenario_times)
    except CourseFormatError:
        raise
    except Exception as exc:
        raise CourseFormatError(
            [Issue("(document)", f"invalid course data: {type(exc).__name__}: {exc}", None)]
        ) from exc


def _read(path_or_text: str | bytes | PathLike[str]) -> str:
    if isinstance(path_or_text, PathLike):
        path = Path(path_or_text)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CourseFormatError([Issue(str(path), f"cannot read file: {exc}", None)]) from None
    if isinstance(path_or_text, bytes):
        try:
            return path_or_text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CourseFormatError([Issue("(document)", f"not UTF-8 text: {exc}", None)]) from None
    if not isinstance(path_or_text, str):
        raise CourseFormatError([Issue("(document)", "expected a path or YAML text", None)])
    if "\n" not in path_or_text and path_or_text.endswith((".yaml", ".yml")):
        return _read(Path(path_or_text))
    return path_or_text


# Keys whose values are one line: a YAML escape ("\n", "\0") must not put a line break or a
# control character into a title or slug (NUL cannot be stored in PostgreSQL; C0 characters
# break XLSX exports). Multi-line text (bodies, summaries, feedback) may hold tabs and breaks.
_ONE_LINE_KEYS = frozenset(
    {"slug", "title", "category", "kind", "scenario", "course", "counts", "id", "outcome"}
)
# The characters lms.input refuses in every request (this module imports nothing of lms).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_BREAK = re.compile("[\r\n\x85\u2028\u2029]")


def _control_characters(c: IssueCollector, value: Any, path: tuple = ()) -> None:
    if isinstance(value, str):
        control = _CONTROL.search(value)
        line_break = _LINE_BREAK.search(value) if path and path[-1] in _ONE_LINE_KEYS else None
        if control:
            c.add(
                path,
                f"contains a control character (U+{ord(control.group()):04X}), which is not allowed in text",
            )
        elif line_break:
            c.add(path, f"must be on one line (it contains U+{ord(line_break.group()):04X})")
    elif isinstance(value, dict):
        for key, item in value.items():
            _control_characters(c, item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _control_characters(c, item, (*path, index))


def _build(
    document: Document,
    known_scenarios: Iterable[str] | None,
    *,
    check_hours: bool = True,
    scenario_times: Mapping[str, st.ScenarioTime] | None = None,
) -> CourseSpec:
    c = IssueCollector(document, CourseFormatError)
    data = document.data
    if data is None:
        c.add((), "the document is empty; a course file starts with `ripple_course: 1`")
        c.raise_if_any()
    if not isinstance(data, dict):
        c.add((), f"a course file must be a mapping of keys, got {type(data).__name__}")
        c.raise_if_any()

    version = c.require(data, "ripple_course", (), int)
    if version is not MISSING and version != FORMAT_VERSION:
        c.add(
            ("ripple_course",),
            f"unsupported course format version {version}; this version of Ripple reads {FORMAT_VERSION}",
        )
        c.raise_if_any()  # the rest would be read under the wrong rules
    c.mapping(data, (), allowed=_TOP_KEYS)
    _control_characters(c, data)

    ctx = _Context(
        None if known_scenarios is None else frozenset(known_scenarios),
        check_hours=check_hours,
        scenario_times=scenario_times,
    )
    slug = _slug(c, data, "slug", ())
    title = c.require(data, "title", (), str)
    summary = c.require(data, "summary", (), str)
    category = c.require(data, "category", (), str)
    credit_hours = c.require(data, "credit_hours", (), float, min=0, max=1000)
    valid_months = _valid_months(c, data)
    renewal = _renewal(c, data)
    policy = _attempt_policy(c, data)
    seat_time = _seat_time(c, data)
    modules = _modules(c, data, ctx)
    sources = _sources(c, data)
    credits = _markdown(c, c.optional(data, "credits", (), str), ("credits",), MAX_CREDITS_CHARS)

    if modules and not any(item.required for m in modules for item in m.items):
        c.add(("modules",), "a course needs at least one required item, or it is complete before it starts")
    _one_summative_check(c, modules)

    c.issues.sort(key=lambda issue: issue.line or 0)  # stable: same-line issues keep their order
    c.raise_if_any()
    spec = CourseSpec(
        slug=slug,
        title=title,
        summary=summary,
        category=category,
        credit_hours=credit_hours,
        certificate_valid_months=valid_months,
        renewal=renewal,
        attempt_policy=policy,
        modules=tuple(modules),
        format_version=version,
        sources=sources,
        credits=credits,
        seat_time=seat_time,
    )
    if ctx.check_hours:
        _check_declared_hours(c, spec, ctx)
    return replace(spec, warnings=tuple(course_warnings(spec, document)))


def _one_summative_check(c: IssueCollector, modules: list[ModuleSpec]) -> None:
    first: Path_ | None = None
    for i, module in enumerate(modules):
        for j, item in enumerate(module.items):
            if not item.summative:
                continue
            if not item.required:
                c.add(
                    ("modules", i, "items", j, "required"),
                    "the final check (summative: true) is required for the certificate; "
                    "remove required: false",
                )
            if first is None:
                first = ("modules", i, "items", j)
            else:
                c.add(
                    ("modules", i, "items", j, "summative"),
                    f"a course has at most one final check; {format_path(first)} is already summative",
                )


def _sources(c: IssueCollector, data: dict) -> tuple[SourceSpec, ...]:
    path: Path_ = ("sources",)
    entries = c.sequence(c.optional(data, "sources", (), list, []), path, max_len=MAX_SOURCES)
    out = []
    for i, entry in enumerate(entries[:MAX_SOURCES]):
        epath = path + (i,)
        m = c.mapping(entry, epath, allowed=("cite", "note", "url"))
        if not m:
            continue
        cite = c.require(m, "cite", epath, str)
        if cite is not MISSING and len(cite) > MAX_CITE_CHARS:
            c.add(
                epath + ("cite",), f"is {len(cite):,} characters long; at most {MAX_CITE_CHARS} are allowed"
            )
        note = c.optional(m, "note", epath, str)
        if note is not None and len(note) > MAX_SOURCE_NOTE_CHARS:
            c.add(
                epath + ("note",),
                f"is {len(note):,} characters long; at most {MAX_SOURCE_NOTE_CHARS} are allowed",
            )
        url = c.optional(m, "url", epath, str)
        if url is not None:
            problem = _url_problem(url)
            if problem:
                c.add(epath + ("url",), problem)
        if cite is not MISSING:
            out.append(SourceSpec(cite=cite, note=note, url=url))
    return tuple(out)


def _url_problem(url: str) -> str | None:
    """Why a source's link cannot be shown, or None: http(s) with a host, one line, no spaces."""
    if len(url) > MAX_URL_CHARS:
        return f"is {len(url):,} characters long; at most {MAX_URL_CHARS} are allowed"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f'is not a web address: "{url[:80]}"'
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return f'must be an http:// or https:// address, got "{url[:80]}"'
    if any(ch.isspace() for ch in url):
        return "must not contain spaces or line breaks"
    return None


def _seat_time(c: IssueCollector, data: dict) -> st.SeatTimePolicy:
    raw = data.get("seat_time")
    if raw is None:
        return st.DEFAULT_SEAT_TIME
    path = ("seat_time",)
    m = c.mapping(raw, path, allowed=("reading_wpm", "question_minutes", "margin"))
    if not isinstance(raw, dict):
        return st.DEFAULT_SEAT_TIME
    (wpm_lo, wpm_hi, wpm), (q_lo, q_hi, q), (m_lo, m_hi, margin) = (
        st.READING_WPM,
        st.QUESTION_MINUTES,
        st.MARGIN,
    )
    values = (
        c.optional(m, "reading_wpm", path, int, wpm, min=wpm_lo, max=wpm_hi),
        c.optional(m, "question_minutes", path, float, q, min=q_lo, max=q_hi),
        c.optional(m, "margin", path, float, margin, min=m_lo, max=m_hi),
    )
    if any(v is MISSING for v in values):
        return st.DEFAULT_SEAT_TIME
    return st.SeatTimePolicy(
        reading_wpm=values[0], question_minutes=float(values[1]), margin=float(values[2])
    )


def _check_declared_hours(c: IssueCollector, spec: CourseSpec, ctx: _Context) -> None:
    """Refuse lesson minutes and credit hours above the seat-time estimate (lms.seat_time)."""
    where = {
        item.slug: ("modules", i, "items", j)
        for i, m in enumerate(spec.modules)
        for j, item in enumerate(m.items)
    }
    for claim in st.over_claims(st.estimate(spec, ctx.scenario_times)):
        path = ("credit_hours",) if claim.item is None else (*where[claim.item], "minutes")
        c.add(path, claim.message)
    c.raise_if_any()


def _slug(c: IssueCollector, d: dict, key: str, path: Path_) -> Any:
    value = c.require(d, key, path, str)
    if value is not MISSING and (not _SLUG.match(value) or len(value) > _SLUG_MAX):
        c.add(
            path + (key,),
            f'"{value}" is not a valid slug: use lower-case letters, digits and single hyphens '
            f"(at most {_SLUG_MAX} characters)",
        )
        return MISSING
    return value


def _valid_months(c: IssueCollector, data: dict) -> int | None:
    if "certificate_valid_months" not in data:
        c.add(
            (),
            'missing required key "certificate_valid_months" (use null for a certificate that never expires)',
        )
        return None
    value = data["certificate_valid_months"]
    if value is None:
        return None
    value = c.require(data, "certificate_valid_months", (), int, min=1, max=600)
    return None if value is MISSING else value


def _renewal(c: IssueCollector, data: dict) -> RenewalSpec | None:
    raw = data.get("renewal")
    if raw is None:
        return None
    path = ("renewal",)
    m = c.mapping(raw, path, allowed=("course", "window_days"))
    if not isinstance(raw, dict):
        return None
    course = _slug(c, m, "course", path)
    window = c.require(m, "window_days", path, int, min=1, max=3650)
    if "certificate_valid_months" in data and data["certificate_valid_months"] is None:
        c.add(path, "a renewal needs a certificate that expires; certificate_valid_months is null")
    if course is MISSING or window is MISSING:
        return None
    return RenewalSpec(course=course, window_days=window)


def _attempt_policy(c: IssueCollector, data: dict) -> AttemptPolicy:
    raw = data.get("attempt_policy")
    if raw is None:
        return DEFAULT_ATTEMPT_POLICY
    path = ("attempt_policy",)
    m = c.mapping(raw, path, allowed=("max_attempts", "counts"))
    if not isinstance(raw, dict):
        return DEFAULT_ATTEMPT_POLICY
    if "max_attempts" in m and m["max_attempts"] is None:
        max_attempts = None  # explicitly unlimited
    else:
        max_attempts = c.optional(
            m, "max_attempts", path, int, DEFAULT_ATTEMPT_POLICY.max_attempts, min=1, max=100
        )
    counts = c.optional(m, "counts", path, str, DEFAULT_ATTEMPT_POLICY.counts, choices=COUNTS)
    if max_attempts is MISSING or counts is MISSING:
        return DEFAULT_ATTEMPT_POLICY
    return AttemptPolicy(max_attempts=max_attempts, counts=counts)


def _modules(c: IssueCollector, data: dict, ctx: _Context) -> list[ModuleSpec]:
    raw = c.require(data, "modules", (), list)
    if raw is MISSING:
        return []
    if not raw:
        c.add(("modules",), "a course needs at least 1 module, has 0")
    module_slugs: dict[str, Path_] = {}
    item_slugs: dict[str, Path_] = {}
    outcome_ids: dict[str, Path_] = {}
    modules: list[ModuleSpec] = []
    for i, entry in enumerate(raw):
        path = ("modules", i)
        m = c.mapping(entry, path, allowed=_MODULE_KEYS)
        if not isinstance(entry, dict):
            continue
        slug = _slug(c, m, "slug", path)
        if slug is not MISSING:
            _unique(c, module_slugs, slug, path + ("slug",), "module slug")
        title = c.require(m, "title", path, str)
        summary = c.optional(m, "summary", path, str)
        objectives = _objectives(c, m, path)
        outcomes = _outcomes(c, m, path, objectives, outcome_ids)
        ctx.module_outcomes = frozenset(o.id for o in outcomes)
        items = _items(c, m, path, ctx, item_slugs)
        if slug is not MISSING and title is not MISSING:
            modules.append(
                ModuleSpec(
                    slug=slug,
                    title=title,
                    summary=summary,
                    objectives=objectives,
                    items=items,
                    outcomes=outcomes,
                )
            )
    return modules


_WILL = re.compile(r"\bwill\b")


def _outcomes(
    c: IssueCollector, m: dict, path: Path_, objectives: tuple[int, ...], seen: dict[str, Path_]
) -> tuple[OutcomeSpec, ...]:
    raw = c.optional(m, "outcomes", path, list, [])
    outcomes: list[OutcomeSpec] = []
    for j, entry in enumerate(raw):
        opath = path + ("outcomes", j)
        o = c.mapping(entry, opath, allowed=("id", "text", "teaching"))
        if not isinstance(entry, dict):
            continue
        oid = _slug(c, o, "id", opath)
        if oid is not MISSING:
            _unique(c, seen, oid, opath + ("id",), "outcome id")
        text = _markdown(c, c.require(o, "text", opath, str), opath + ("text",), MAX_INLINE_CHARS)
        if text is not MISSING and not (text.startswith("Given ") and _WILL.search(text)):
            c.add(
                opath + ("text",),
                'an outcome is measurable: start with "Given" (the situation) and say what the officer '
                '"will" do, e.g. "Given a shooting with the scene secured, the officer will name ..."',
            )
            text = MISSING
        teaching = _outcome_teaching(c, o, opath, objectives)
        if oid is not MISSING and text is not MISSING and teaching is not MISSING:
            outcomes.append(OutcomeSpec(id=oid, text=text, teaching=teaching))
    return tuple(outcomes)


def _outcome_teaching(c: IssueCollector, o: dict, path: Path_, objectives: tuple[int, ...]) -> Any:
    raw = c.require(o, "teaching", path, list)
    if raw is MISSING:
        return MISSING
    tpath = path + ("teaching",)
    if not raw:
        c.add(tpath, "an outcome serves at least one of the module's teaching objectives, lists none")
        return MISSING
    out: list[int] = []
    ok = True
    for k, value in enumerate(raw):
        if not c.check_type(value, tpath + (k,), int):
            ok = False
        elif value not in objectives:
            listed = ", ".join(map(str, objectives)) or "none"
            c.add(tpath + (k,), f"objective {value} is not one of this module's objectives ({listed})")
            ok = False
        elif value in out:
            c.add(tpath + (k,), f"objective {value} is listed twice")
            ok = False
        else:
            out.append(value)
    return tuple(out) if ok else MISSING


def _unique(c: IssueCollector, seen: dict[str, Path_], value: str, path: Path_, what: str) -> None:
    if value in seen:
        c.add(
            path,
            f'{what} "{value}" is already used at {format_path(seen[value])}; {what}s must be unique in a course',
        )
    else:
        seen[value] = path


def _objectives(c: IssueCollector, m: dict, path: Path_) -> tuple[int, ...]:
    raw = c.optional(m, "objectives", path, list, [])
    out: list[int] = []
    opath = path + ("objectives",)
    for j, value in enumerate(raw):
        if not c.check_type(value, opath + (j,), int):
            continue
        if value not in OBJECTIVES:
            c.add(
                opath + (j,),
                f"unknown teaching objective {value}; objectives are numbered 1 to {max(OBJECTIVES)}",
            )
        elif value in out:
            c.add(opath + (j,), f"objective {value} is listed twice")
        else:
            out.append(value)
    return tuple(out)


def _items(
    c: IssueCollector, m: dict, path: Path_, ctx: _Context, item_slugs: dict[str, Path_]
) -> tuple[ItemSpec, ...]:
    raw = c.require(m, "items", path, list)
    if raw is MISSING:
        return ()
    if not raw:
        c.add(path + ("items",), "a module needs at least 1 item, has 0")
    items: list[ItemSpec] = []
    for j, entry in enumerate(raw):
        ipath = path + ("items", j)
        slug, item = _item(c, entry, ipath, ctx)
        if slug is not MISSING:
            _unique(c, item_slugs, slug, ipath + ("slug",), "item slug")
        if item is not None:
            items.append(item)
    return tuple(items)


def _item(c: IssueCollector, entry: Any, path: Path_, ctx: _Context) -> tuple[Any, ItemSpec | None]:
    """(the item's slug or MISSING, the item or None if it has problems)."""
    if not isinstance(entry, dict):
        c.mapping(entry, path)
        return MISSING, None
    kind_name = c.require(entry, "kind", path, str)
    kind = None
    if kind_name is not MISSING:
        kind = ITEM_KINDS.get(kind_name)
        if kind is None:
            c.choice(kind_name, path + ("kind",), ITEM_KINDS, what="item kind")
    if kind is not None:
        c.mapping(entry, path, allowed=_ITEM_COMMON + kind.keys)
    slug = _slug(c, entry, "slug", path)
    title = c.require(entry, "title", path, str)
    required = c.optional(entry, "required", path, bool, True)
    locked = c.optional(entry, "locked_until_previous", path, bool, False)
    minutes = c.optional(entry, "minutes", path, int, None, min=1, max=1000)
    fields = kind.parse(c, entry, path, ctx) if kind is not None else {}
    if kind is None or any(v is MISSING for v in (slug, title, *fields.values())):
        return slug, None  # the problems are recorded; the collector will raise
    return slug, ItemSpec(
        kind=kind.name,
        slug=slug,
        title=title,
        required=required,
        locked_until_previous=locked,
        minutes=minutes,
        **fields,
    )


def _question(c: IssueCollector, entry: Any, path: Path_) -> QuestionSpec | None:
    if not isinstance(entry, dict):
        c.mapping(entry, path)
        return None
    kind_name = c.require(entry, "kind", path, str)
    kind = None
    if kind_name is not MISSING:
        kind = QUESTION_KINDS.get(kind_name)
        if kind is None:
            c.choice(kind_name, path + ("kind",), QUESTION_KINDS, what="question kind")
    if kind is not None:
        c.mapping(entry, path, allowed=_QUESTION_COMMON + kind.keys)
    qid = c.require(entry, "id", path, str)
    if qid is not MISSING and not _QUESTION_ID.match(qid):
        c.add(path + ("id",), f'"{qid}" is not a valid question id: use letters, digits, "-" and "_"')
        qid = MISSING
    prompt = _markdown(c, c.require(entry, "prompt", path, str), path + ("prompt",), MAX_INLINE_CHARS)
    explanation = _markdown(
        c, c.optional(entry, "explanation", path, str), path + ("explanation",), MAX_FEEDBACK_CHARS
    )
    outcome = c.optional(entry, "outcome", path, str)
    case = _markdown(c, c.optional(entry, "case", path, str), path + ("case",), MAX_FEEDBACK_CHARS)
    fields = kind.parse(c, entry, path) if kind is not None else {}
    if kind is None or qid is MISSING or prompt is MISSING or outcome is MISSING or case is MISSING:
        return None
    return QuestionSpec(
        kind=kind.name, id=qid, prompt=prompt, explanation=explanation, outcome=outcome, case=case, **fields
    )


# --- warnings -----------------------------------------------------------------------
#
# A course file can be valid and still assess badly: an outcome measured by one or two
# questions, or answer keys an officer can guess from where the right answer sits. These
# are warnings: shown to authors with the errors on import and edit, never blocking.

MIN_QUESTIONS_PER_OUTCOME = 3
PATTERN_MIN_QUESTIONS = 4  # fewer questions of a kind than this show no pattern worth a warning
PATTERN_SHARE = 0.5  # correct choice in one place (or longest, or listed first) in more than this
TRUE_FALSE_SHARE = 0.7  # true/false answers one way in more than this
# Correct choice among the first two (or the last two) of four or more choices: a lean toward one
# end that the one-position check misses when the answer alternates between two neighboring places.
END_MIN_CHOICES = 4  # with three choices, two positions are most of them: no lean to speak of
END_MIN_QUESTIONS = 8
END_SHARE = 0.7


def course_warnings(spec: CourseSpec, document: Document | None = None) -> list[Issue]:
    """What is weak (not wrong) about a valid course's assessment, with paths and lines."""
    c = IssueCollector(document, CourseFormatError)
    _outcome_coverage_warnings(c, spec)
    _answer_pattern_warnings(c, spec)
    return c.issues


def _question_paths(spec: CourseSpec) -> Iterator[tuple[Path_, QuestionSpec]]:
    for i, module in enumerate(spec.modules):
        for j, item in enumerate(module.items):
            for k, question in enumerate(item.questions):
                yield ("modules", i, "items", j, "questions", k), question


def _outcome_coverage_warnings(c: IssueCollector, spec: CourseSpec) -> None:
    tagged = Counter(q.outcome for _, q in _question_paths(spec) if q.outcome is not None)
    for i, module in enumerate(spec.modules):
        for j, outcome in enumerate(module.outcomes):
            n = tagged[outcome.id]
            if n < MIN_QUESTIONS_PER_OUTCOME:
                c.add(
                    ("modules", i, "outcomes", j),
                    f'outcome "{outcome.id}" is assessed by {n} question{"" if n == 1 else "s"}; '
                    f"an outcome needs at least {MIN_QUESTIONS_PER_OUTCOME} to be measured fairly",
                )


def _percent(n: int, total: int) -> str:
    return f"{n} of {total} ({round(100 * n / total)}%)"


def _answer_pattern_warnings(c: IssueCollector, spec: CourseSpec) -> None:
    questions = [q for _, q in _question_paths(spec)]
    single = [q for q in questions if q.kind == "single_choice" and len(q.correct_choices) == 1]
    multiple = [q for q in questions if q.kind == "multiple_choice" and q.correct_choices]
    true_false = [q for q in questions if q.kind == "true_false" and q.answer is not None]
    where = ("modules",)
    if len(single) >= PATTERN_MIN_QUESTIONS:
        positions = Counter(next(iter(q.correct_choices)) for q in single)
        position, n = max(positions.items(), key=lambda pair: (pair[1], -pair[0]))
        if n > PATTERN_SHARE * len(single):
            c.add(
                where,
                f"the correct choice is choice {position + 1} in {_percent(n, len(single))} "
                "single_choice questions; vary where the right answer sits",
            )
        longest = sum(1 for q in single if _correct_is_longest(q))
        if longest > PATTERN_SHARE * len(single):
            c.add(
                where,
                f"the correct choice is the longest in {_percent(longest, len(single))} "
                "single_choice questions; officers learn to pick the longest answer",
            )
    _answer_end_warnings(c, single)
    if len(multiple) >= PATTERN_MIN_QUESTIONS:
        first = sum(1 for q in multiple if q.correct_choices == frozenset(range(len(q.correct_choices))))
        if first > PATTERN_SHARE * len(multiple):
            c.add(
                where,
                f"the correct choices are listed first in {_percent(first, len(multiple))} "
                "multiple_choice questions; mix them among the others",
            )
    if len(true_false) >= PATTERN_MIN_QUESTIONS:
        true = sum(1 for q in true_false if q.answer)
        way, n = ("true", true) if true >= len(true_false) - true else ("false", len(true_false) - true)
        if n > TRUE_FALSE_SHARE * len(true_false):
            c.add(
                where,
                f"{_percent(n, len(true_false))} true_false questions have the answer {way}; "
                "balance them so guessing one way does not pay",
            )


def _answer_end_warnings(c: IssueCollector, single: list[QuestionSpec]) -> None:
    """Warn when the right answer of single_choice questions with four or more choices sits in
    the first two, or the last two, positions in most of them."""
    wide = [q for q in single if len(q.choices) >= END_MIN_CHOICES]
    if len(wide) < END_MIN_QUESTIONS:
        return
    correct = [(next(iter(q.correct_choices)), len(q.choices)) for q in wide]
    for end, n in (
        ("last two", sum(1 for i, size in correct if i >= size - 2)),
        ("first two", sum(1 for i, _ in correct if i < 2)),
    ):
        if n > END_SHARE * len(wide):
            c.add(
                ("modules",),
                f"the correct choice is among the {end} choices in {_percent(n, len(wide))} "
                f"single_choice questions of {END_MIN_CHOICES} or more choices; spread the right "
                "answers across every position",
            )


def _correct_is_longest(question: QuestionSpec) -> bool:
    correct = next(iter(question.correct_choices))
    length = len(question.choices[correct].text)
    return all(len(ch.text) < length for i, ch in enumerate(question.choices) if i != correct)


# --- dumping ----------------------------------------------------------------------


def course_to_data(spec: CourseSpec) -> dict[str, Any]:
    """The course as plain, JSON-friendly data in file order; defaults are left out."""
    data: dict[str, Any] = {
        "ripple_course": spec.format_version,
        "slug": spec.slug,
        "title": spec.title,
        "summary": spec.summary,
        "category": spec.category,
        # 8 rather than 8.0 in the file; both load as the same float
        "credit_hours": int(spec.credit_hours)
        if float(spec.credit_hours).is_integer()
        else spec.credit_hours,
        "certificate_valid_months": spec.certificate_valid_months,
    }
    if spec.renewal is not None:
        data["renewal"] = {"course": spec.renewal.course, "window_days": spec.renewal.window_days}
    data["attempt_policy"] = {
        "max_attempts": spec.attempt_policy.max_attempts,
        "counts": spec.attempt_policy.counts,
    }
    if spec.seat_time != st.DEFAULT_SEAT_TIME:
        data["seat_time"] = {
            "reading_wpm": spec.seat_time.reading_wpm,
            "question_minutes": spec.seat_time.question_minutes,
            "margin": spec.seat_time.margin,
        }
    data["modules"] = [_module_data(module) for module in spec.modules]
    if spec.sources:
        data["sources"] = [_source_data(source) for source in spec.sources]
    if spec.credits is not None:
        data["credits"] = spec.credits
    return data


def _source_data(source: SourceSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"cite": source.cite}
    if source.note is not None:
        out["note"] = source.note
    if source.url is not None:
        out["url"] = source.url
    return out


def _module_data(module: ModuleSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"slug": module.slug, "title": module.title}
    if module.summary is not None:
        out["summary"] = module.summary
    out["objectives"] = list(module.objectives)
    if module.outcomes:
        out["outcomes"] = [
            {"id": o.id, "text": o.text, "teaching": list(o.teaching)} for o in module.outcomes
        ]
    out["items"] = [_item_data(item) for item in module.items]
    return out


def _item_data(item: ItemSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": item.kind, "slug": item.slug, "title": item.title}
    if not item.required:
        out["required"] = False
    if item.locked_until_previous:
        out["locked_until_previous"] = True
    if item.minutes is not None:
        out["minutes"] = item.minutes
    kind = ITEM_KINDS.get(item.kind)
    for key in kind.keys if kind else ():
        value = getattr(item, key)
        if key == "questions":
            out[key] = [_question_data(q) for q in value]
        elif key == "summative":
            if value:
                out[key] = True
        elif value is not None:
            out[key] = value
    return out


def _question_data(question: QuestionSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": question.kind, "id": question.id}
    if question.outcome is not None:
        out["outcome"] = question.outcome
    if question.case is not None:
        out["case"] = question.case
    out["prompt"] = question.prompt
    if question.choices:
        out["choices"] = [_choice_data(choice) for choice in question.choices]
    if question.answer is not None:
        out["answer"] = question.answer
    if question.sequence:
        out["sequence"] = list(question.sequence)
    if question.explanation is not None:
        out["explanation"] = question.explanation
    return out


def _choice_data(choice: ChoiceSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"text": choice.text, "correct": choice.correct}
    if choice.feedback is not None:
        out["feedback"] = choice.feedback
    return out


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line text as literal blocks, lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    # short lists of numbers (objectives) read best inline: [1, 2]
    flow = bool(value) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def dump_course(spec: CourseSpec) -> str:
    """The course as YAML in the file format; ``load_course(dump_course(s)) == s``."""
    return yaml.dump(
        course_to_data(spec),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


# --- the built-in courses -----------------------------------------------------------


def builtin_course_paths() -> list[Path]:
    """The course files shipped with Ripple, sorted by file name."""
    return sorted(BUILTIN_COURSES_DIR.glob("*.yaml"))


def load_builtin_courses(*, known_scenarios: Iterable[str] | None = None) -> dict[str, CourseSpec]:
    """Every built-in course, by slug (raises ``CourseFormatError`` if one is broken)."""
    known = None if known_scenarios is None else frozenset(known_scenarios)
    courses: dict[str, CourseSpec] = {}
    for path in builtin_course_paths():
        spec = load_course(path, known_scenarios=known)
        courses[spec.slug] = spec
    return courses
