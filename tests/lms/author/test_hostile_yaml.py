"""Hostile YAML and numbers through the author's pages: a clear issue, never a crash.

30,000 "[" used to kill the worker (libyaml's composer recursing in C) from the scenario
editor's live check, its save and the course import. Infinite or huge numbers validated
and then hung the simulation. Each now answers with the problem and its line, and
changes nothing; a draft whose runs explode stops at the event budget with a message.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from sqlalchemy import func, select

import scenarios as engine
from lms import course_format as cf
from lms.models import Attempt, AttemptDecision, Course, ScenarioVersion
from lms.services import attempts, authoring, calibration, scenario_authoring
from lms.services.scenario_authoring import AuthoringError
from lms.services.scenario_library import scenario_of
from scenarios.yamlsource import MAX_DEPTH
from tests.lms.learning_fixtures import course_data

DEEP = "[" * 30_000 + "]" * 30_000
BOM_DEEP = "\ufeff" + "[" * 30_000  # libyaml skips the byte-order mark; a pre-scan must too
DEEP_TEXTS = {"document": DEEP, "title": "title: " + DEEP, "after a byte-order mark": BOM_DEEP}
NESTING = f"nesting deeper than {MAX_DEPTH} levels"
COURSE_TEXT = cf.dump_course(cf.course_from_data(course_data(slug="hostile")))


@pytest.fixture(scope="module", autouse=True)
def _parser_survives_deep_nesting():
    """Without the pre-scan these inputs kill the process: fail here instead of crashing pytest."""
    for name, text in DEEP_TEXTS.items():
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\nfrom scenarios.yamlsource import parse_yaml\n"
                "try: parse_yaml(sys.stdin.read())\nexcept ValueError: pass",
            ],
            input=text.encode(),
            capture_output=True,
            timeout=120,
        )
        if done.returncode != 0:
            pytest.fail(
                f"parsing 30,000 nested '[' ({name}) exits with {done.returncode}: not sending it to the app"
            )


def _draft_text(record) -> str:
    return scenario_authoring.draft_of(record).source_text


def _stored_texts(db, record) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ScenarioVersion.source_text).where(ScenarioVersion.scenario_id == record.id)
        )
    )


# --- the scenario editor ---------------------------------------------------------------


@pytest.mark.parametrize("source", list(DEEP_TEXTS.values()), ids=list(DEEP_TEXTS))
def test_live_validation_answers_deep_nesting_with_an_issue(client, sign_in, adapted, instructor, source):
    sign_in(instructor)
    response = client.post(f"/author/scenarios/{adapted.id}/validate", data={"source": source})
    assert response.status_code == 200
    assert response.get_json() == {
        "valid": False,
        "issues": [{"path": "(document)", "message": NESTING, "line": 1}],
    }


@pytest.mark.parametrize("source", [DEEP, BOM_DEEP], ids=["document", "after a byte-order mark"])
def test_saving_deep_nesting_shows_the_issue_and_changes_nothing(
    db, client, sign_in, adapted, instructor, source
):
    sign_in(instructor)
    before = _stored_texts(db, adapted)
    response = client.post(f"/author/scenarios/{adapted.id}", data={"source": source})
    assert response.status_code == 400
    assert NESTING in response.get_data(as_text=True)
    assert _stored_texts(db, adapted) == before


def test_the_service_reports_it_too():
    assert [str(i) for i in scenario_authoring.validate_text(DEEP)] == [f"(document): {NESTING} (line 1)"]


HOSTILE_NUMBERS = [
    ("  baseline_per_day: 0.02\n", "  baseline_per_day: .inf\n", "retaliation.baseline_per_day", "at most 10, got inf"),
    ("  baseline_per_day: 0.02\n", "  baseline_per_day: 1.0e+9\n", "retaliation.baseline_per_day",
     "at most 10, got 1000000000"),
    ("  baseline_per_day: 0.02\n", "  baseline_per_day: 1e9\n", "retaliation.baseline_per_day",
     "at most 10, got 1000000000"),
    # An outcome of its own, so the case does not depend on which outcomes the library grades.
    ("  outcomes:\n", "  outcomes:\n    peak_severity: {weight: .inf}\n",
     "grading.outcomes.peak_severity.weight", "at most 100, got inf"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "path", "message"), HOSTILE_NUMBERS, ids=[h[1].strip() for h in HOSTILE_NUMBERS]
)
def test_live_validation_names_the_field_and_line_of_a_hostile_number(
    client, sign_in, adapted, instructor, old, new, path, message
):
    sign_in(instructor)
    text = _draft_text(adapted)
    line = text[: text.index(old)].count("\n") + 1 + new.rstrip("\n").count("\n")  # the hostile line
    response = client.post(
        f"/author/scenarios/{adapted.id}/validate", data={"source": text.replace(old, new)}
    )
    (issue,) = response.get_json()["issues"]
    assert issue == {"path": path, "message": f"must be {message}", "line": line}


# --- the course import -------------------------------------------------------------------


def _import(client, text: str):
    return client.post(
        "/author/courses/import",
        data={"course_file": (io.BytesIO(text.encode()), "course.yaml")},
        content_type="multipart/form-data",
    )


def _courses(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Course))


@pytest.mark.parametrize(
    "text", ["ripple_course: 1\ntitle: " + DEEP + "\n", BOM_DEEP], ids=["title", "after a byte-order mark"]
)
def test_importing_deep_nesting_shows_the_issue_and_writes_nothing(db, client, sign_in, instructor, text):
    sign_in(instructor)
    before = _courses(db)
    response = _import(client, text)
    assert response.status_code == 400
    assert NESTING in response.get_data(as_text=True)
    assert _courses(db) == before


@pytest.mark.parametrize(
    ("value", "shown"), [(".inf", "inf"), ("1e9", "1000000000"), ("1.0e+9", "1000000000"), ("-.inf", "-inf")]
)
def test_a_hostile_course_number_is_an_issue_with_its_line(db, instructor, value, shown):
    old = "credit_hours: 4\n"
    assert old in COURSE_TEXT
    line = COURSE_TEXT[: COURSE_TEXT.index(old)].count("\n") + 1
    with pytest.raises(AuthoringError) as raised:
        authoring.import_text(instructor, COURSE_TEXT.replace(old, f"credit_hours: {value}\n").encode())
    bound = "at least 0" if value.startswith("-") else "at most 1000"
    assert f"credit_hours: must be {bound}, got {shown} (line {line})" in [
        str(i) for i in raised.value.issues
    ]


# --- the event budget ----------------------------------------------------------------------

CALM = "  branching: 0.4\n  decay_hours: 30\n"
EXPLOSIVE = "  branching: 0.99\n  decay_hours: 0.5\n"


@pytest.fixture
def exploding(db, adapted, instructor):
    """The draft saved with retaliation that valid numbers make explode."""
    text = (
        _draft_text(adapted)
        .replace(CALM, EXPLOSIVE)
        .replace("  anger_reference: 0.4\n", "  anger_reference: 0.05\n")
    )
    scenario_authoring.save_text(instructor, adapted, text)
    db.session.commit()
    return adapted


def test_a_calibration_of_an_exploding_draft_fails_with_the_budget_message(db, exploding, instructor):
    run = calibration.start(instructor, scenario_authoring.draft_of(exploding))
    db.session.commit()
    db.session.refresh(run)
    assert run.job.status == "failed"
    assert run.job.error.startswith("EventBudgetExceeded: the simulation was stopped at hour")


def test_previewing_an_exploding_draft_shows_the_budget_message(client, sign_in, exploding, instructor):
    sign_in(instructor)
    response = client.get(f"/author/scenarios/{exploding.id}/preview?seed=5", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the simulation was stopped at hour" in page
    assert engine.load_scenario(_draft_text(exploding)).slug == "store-dispute"


def test_the_grade_sweep_grades_the_rest_when_one_scenario_explodes(db, exploding, instructor, store_dispute):
    """An exploding scenario published before publishing checked its runs fails its own grading only."""
    version = scenario_authoring.draft_of(exploding)
    version.status = "published"  # as an older version could be; publish() now refuses it
    db.session.commit()
    stuck = attempts.start_direct(instructor, version)
    fine = attempts.start_direct(instructor, store_dispute)
    for attempt in (stuck, fine):  # finished, as if the last decision's task was lost
        for index, choice in enumerate(scenario_of(attempt.scenario_version).expert_path):
            db.session.add(AttemptDecision(attempt=attempt, index=index, option_ids=list(choice)))
        attempt.status = "grading"
    db.session.commit()
    attempts.grade_all_pending()
    db.session.expire_all()
    assert db.session.get(Attempt, fine.id).status == "completed"
    assert db.session.get(Attempt, stuck.id).status == "grading"


def test_publishing_without_a_calibration_still_refuses_a_draft_whose_runs_explode(db, exploding, instructor):
    with pytest.raises(AuthoringError, match="stopped by the event budget"):
        scenario_authoring.publish(instructor, exploding, without_calibration=True)
    assert scenario_authoring.draft_of(exploding).status == "draft"


def test_the_publish_page_names_the_event_budget(client, sign_in, exploding, instructor):
    sign_in(instructor)
    response = client.post(
        f"/author/scenarios/{exploding.id}/publish", data={"without_calibration": "y"}, follow_redirects=True
    )
    assert response.status_code in (200, 400)
    assert "stopped by the event budget" in response.get_data(as_text=True)
    assert scenario_authoring.latest_published_of(exploding) is None


def test_the_grading_task_does_not_retry_an_attempt_whose_runs_explode(
    app, db, exploding, instructor, monkeypatch
):
    import lms.worker

    version = scenario_authoring.draft_of(exploding)
    version.status = "published"  # as an older version could be
    attempt = attempts.start_direct(instructor, version)
    for index, choice in enumerate(scenario_of(version).expert_path):
        db.session.add(AttemptDecision(attempt=attempt, index=index, option_ids=list(choice)))
    attempt.status = "grading"
    db.session.commit()
    monkeypatch.setattr(lms.worker.AppTask, "_flask_app", app)
    result = lms.worker.grade_attempt.apply(args=(attempt.id,))
    assert result.successful()  # finished: a deterministic failure is not retried five times
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status == "grading"


def test_playing_an_exploding_published_version_shows_a_page_not_a_500(
    client, sign_in, db, exploding, instructor
):
    version = scenario_authoring.draft_of(exploding)
    version.status = "published"  # as an older version could be
    attempt = attempts.start_direct(instructor, version)
    # A fixed seed: with a random one, about 2% of runs reach the first decision before the
    # retaliation cascade starts, and the page (rightly) shows the decision.
    attempt.seed = 1
    db.session.commit()
    sign_in(instructor)
    response = client.get(f"/play/attempts/{attempt.id}")
    assert response.status_code == 422
    assert "This scenario can&#39;t be simulated" in response.get_data(as_text=True)
