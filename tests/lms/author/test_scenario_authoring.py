"""Scenario drafts: duplicate and adapt, YAML saves that never half-save, the form round trip,
calibration as a background job, preview without attempts, and publishing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import scenarios as engine
from lms.models import Attempt, AuditEvent, ScenarioVersion
from lms.services import calibration, scenario_authoring
from lms.services.scenario_authoring import AuthoringError


def _draft(record):
    return scenario_authoring.draft_of(record)


def test_duplicate_makes_an_agency_private_draft(adapted, instructor, store_dispute):
    assert adapted.agency_id == instructor.agency_id
    draft = _draft(adapted)
    assert draft.status == "draft" and draft.number == 1
    assert draft.fingerprint == store_dispute.fingerprint


def test_duplicate_twice_with_the_same_slug_is_refused(db, adapted, instructor, store_dispute):
    with pytest.raises(AuthoringError, match="already has"):
        scenario_authoring.duplicate(instructor, store_dispute.id, slug="store-dispute")


def test_blank_template_is_a_valid_scenario(db, instructor):
    record = scenario_authoring.create_blank(instructor, slug="my-first", title='A "quoted" title')
    scenario = scenario_authoring.parse_source(_draft(record).source_text)
    assert scenario.slug == "my-first"
    assert len(scenario.decisions) == 1


def test_admin_writes_the_platform_library(db, admin):
    record = scenario_authoring.create_blank(admin, slug="shared-one", title="Shared")
    assert record.agency_id is None


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda t: t.replace("pass_mark: 65", "pass_mark: 170"), "grading.pass_mark"),
        (lambda t: t.replace("partner: store_owner", "partner: store_ownr", 1), "unknown partner"),
        (lambda t: t + "\n  bad: [", "YAML syntax"),
        (lambda t: "", "empty"),
    ],
)
def test_invalid_yaml_changes_nothing_and_reports_lines(db, adapted, instructor, mutate, expected):
    draft = _draft(adapted)
    before = draft.source_text
    with pytest.raises(AuthoringError) as raised:
        scenario_authoring.save_text(instructor, adapted, mutate(before))
    assert any(expected in f"{issue.path}: {issue.message}" for issue in raised.value.issues)
    db.session.rollback()
    assert _draft(adapted).source_text == before


def test_the_slug_cannot_change_in_a_save(db, adapted, instructor):
    text = _draft(adapted).source_text.replace("slug: store-dispute", "slug: other-slug")
    with pytest.raises(AuthoringError) as raised:
        scenario_authoring.save_text(instructor, adapted, text)
    assert raised.value.issues[0].line == 2


def test_form_round_trips_to_the_same_yaml(adapted):
    text = _draft(adapted).source_text
    assert scenario_authoring.apply_form(text, scenario_authoring.form_values(text)) == text


def test_form_changes_rubric_and_pass_mark_and_keeps_the_rest(adapted):
    text = _draft(adapted).source_text
    values = scenario_authoring.form_values(text)
    values["pass_mark"] = 67
    values["decisions"][0]["options"][1]["points"] = 4
    values["decisions"][0]["options"][0]["feedback"] = "New feedback."
    new = scenario_authoring.apply_form(text, values)
    before, after = engine.load_scenario(text), engine.load_scenario(new)
    assert after.grading.pass_mark == 67
    assert after.decisions[0].options[1].points == 4
    assert after.decisions[0].options[0].feedback == "New feedback."
    assert after.groups == before.groups and after.partners == before.partners
    assert scenario_authoring.form_values(new) == {**values, "pass_mark": 67.0}


@pytest.mark.parametrize("pass_mark", ["abc", "101", "-1"])
def test_form_rejects_bad_numbers(adapted, pass_mark):
    text = _draft(adapted).source_text
    with pytest.raises(AuthoringError) as raised:
        scenario_authoring.apply_form(text, {**scenario_authoring.form_values(text), "pass_mark": pass_mark})
    assert raised.value.issues[0].path == "grading.pass_mark"


def test_calibration_job_finishes_with_results_and_flags(db, adapted, instructor):
    run = calibration.start(instructor, _draft(adapted))
    db.session.commit()
    db.session.refresh(run)
    assert run.status == "done"
    assert run.job.percent == 100
    names = {row["name"] for row in run.results["paths"]}
    assert {"expert", "baseline"} <= names
    assert all(0 <= row["pass_probability"] <= 1 for row in run.results["paths"])
    assert scenario_authoring.current_calibration(_draft(adapted)) == run


def test_flags_name_the_three_problems():
    rows = [
        {"path": "1a,2a", "decisions": [["a"], ["a"]], "name": "expert", "score": 72.0, "rubric": 100,
         "passes": True, "pass_probability": 0.5, "partnership": True},
        {"path": "1b,2b", "decisions": [["b"], ["b"]], "name": "baseline", "score": 71.0, "rubric": 10,
         "passes": True, "pass_probability": 0.6, "partnership": False},
    ]  # fmt: skip
    kinds = {flag["kind"] for flag in calibration.flags(rows, 70)}
    assert kinds == {"expert_unreliable", "no_partnership_passes", "different_paths_same_score"}


def test_publishing_needs_a_calibration_of_the_current_draft(db, adapted, instructor):
    with pytest.raises(AuthoringError, match="Calibrate"):
        scenario_authoring.publish(instructor, adapted)
    calibration.start(instructor, _draft(adapted))
    db.session.commit()
    text = _draft(adapted).source_text.replace("pass_mark: 65", "pass_mark: 71")
    scenario_authoring.save_text(instructor, adapted, text)  # the calibration is now stale
    with pytest.raises(AuthoringError, match="Calibrate"):
        scenario_authoring.publish(instructor, adapted)


def test_publishing_makes_an_immutable_version_and_is_audited(db, adapted, instructor):
    calibration.start(instructor, _draft(adapted))
    version = scenario_authoring.publish(instructor, adapted)
    db.session.commit()
    assert version.status == "published" and version.published_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scenario.published"))
    assert event.after["version_id"] == version.id
    # The next edit is a new draft; the published text stays as it was.
    text = version.source_text.replace("pass_mark: 65", "pass_mark: 60")
    draft = scenario_authoring.save_text(instructor, adapted, text)
    assert draft.id != version.id and draft.number == 2
    db.session.refresh(version)
    assert "pass_mark: 65" in version.source_text


def test_published_adaptation_replaces_the_library_scenario_for_the_agency(
    db, adapted, instructor, store_dispute
):
    from lms.services.scenario_library import latest_published

    scenario_authoring.publish(instructor, adapted, without_calibration=True)
    db.session.commit()
    assert latest_published(instructor.agency_id, "store-dispute").scenario_id == adapted.id
    assert latest_published(None, "store-dispute").id == store_dispute.id


def test_publish_without_calibration_is_recorded(db, adapted, instructor):
    scenario_authoring.publish(instructor, adapted, without_calibration=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scenario.published"))
    assert "without a calibration" in event.summary


def test_drafts_are_not_offered_to_players(db, adapted, instructor):
    from lms.services.scenario_library import published_catalogue

    assert all(v.status == "published" for v in published_catalogue(instructor))
    assert adapted.id not in {v.scenario_id for v in published_catalogue(instructor)}


def test_stale_running_job_is_marked_failed(db, app):
    from datetime import timedelta

    from lms import tasks
    from lms.models import BackgroundJob
    from lms.models.types import utcnow

    job = BackgroundJob(
        name="calibrate", args=[1], status="running", heartbeat_at=utcnow() - timedelta(hours=1)
    )
    db.session.add(job)
    db.session.commit()
    assert tasks.mark_stale_jobs() == 1
    db.session.commit()
    db.session.refresh(job)
    assert job.status == "failed" and "restarted" in job.error


def test_with_a_broker_a_quiet_job_is_not_lost_until_tasks_are_redelivered(db, app, monkeypatch):
    """Celery brings a lost task back after the visibility timeout, and a calibration's parts
    may wait behind a class's gradings: ten quiet minutes do not make such a job lost."""
    from datetime import timedelta

    from lms import tasks
    from lms.models import BackgroundJob
    from lms.models.types import utcnow

    db.session.add(
        BackgroundJob(
            name="calibrate", args=[1], status="running", heartbeat_at=utcnow() - timedelta(minutes=10)
        )
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setitem(app.config, "TASKS_EAGER", False)
    assert tasks.mark_stale_jobs() == 0
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", None)  # in-process: the thread is gone
    assert tasks.mark_stale_jobs() == 1


def test_threaded_job_starts_after_commit_in_its_own_app_context(db, app, monkeypatch):
    import threading

    from lms import tasks
    from lms.models import BackgroundJob

    seen, queued = [], []

    class Deferred:  # holds the submission so the test starts the thread itself, after commit
        def submit(self, fn, *args):
            queued.append((fn, args))

    @tasks.task("test-echo")
    def echo(job, value):
        tasks.report(job, 1, 2)
        seen.append((value, threading.current_thread().name))

    monkeypatch.setattr(tasks, "_pool", lambda app: Deferred())
    app.config["TASKS_EAGER"] = False
    try:
        job = tasks.submit("test-echo", "hello")
        assert queued == []  # nothing starts before the request commits
        db.session.commit()
        assert len(queued) == 1
        fn, args = queued[0]
        worker = threading.Thread(target=fn, args=args, name="ripple-task-test")
        worker.start()
        worker.join(30)
    finally:
        app.config.pop("TASKS_EAGER")
        tasks.TASKS.pop("test-echo")
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job.id)
    assert seen == [("hello", "ripple-task-test")] and job.status == "done" and job.percent == 100


def test_unknown_task_is_refused(app):
    from lms import tasks

    with pytest.raises(tasks.UnknownTask):
        tasks.submit("no-such-task")


def test_preview_records_no_attempt(db, client, sign_in, adapted, instructor):
    sign_in(instructor)
    scenario = engine.load_scenario(_draft(adapted).source_text)
    url = f"/author/scenarios/{adapted.id}/preview"
    first = client.get(url)
    assert first.status_code == 302 and "seed=" in first.location
    seed_url = first.location
    path = []
    for index, choice in enumerate(scenario.expert_path):
        page = client.get(seed_url + "&path=" + engine.format_choose(scenario, path) if path else seed_url)
        assert page.status_code == 200
        assert f"Decision {index + 1} of" in page.get_data(as_text=True)
        path.append(choice)
    done = client.get(seed_url + "&path=" + engine.format_choose(scenario, path))
    assert "Would pass" in done.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0


def test_preview_decision_step_via_form(db, client, sign_in, adapted, instructor):
    sign_in(instructor)
    response = client.get(f"/author/scenarios/{adapted.id}/preview?seed=5&decide=1&options=a")
    assert response.status_code == 302 and "path=1a" in response.location
    bad = client.get(f"/author/scenarios/{adapted.id}/preview?seed=5&decide=1&options=zz")
    assert bad.status_code == 400


def test_another_agency_cannot_open_the_draft(client, sign_in, make_agency, make_user, adapted):
    from lms.models import Role

    other = make_user(make_agency(), (Role.INSTRUCTOR,))
    sign_in(other)
    assert client.get(f"/author/scenarios/{adapted.id}").status_code == 404
    assert client.post(f"/author/scenarios/{adapted.id}", data={"source": "x"}).status_code == 404


def test_editor_save_reports_lines_and_keeps_the_text(db, client, sign_in, adapted, instructor):
    sign_in(instructor)
    text = _draft(adapted).source_text.replace("partner: store_owner", "partner: nobody", 1)
    response = client.post(f"/author/scenarios/{adapted.id}", data={"source": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "unknown partner" in page and "data-line=" in page and "partner: nobody" in page
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(ScenarioVersion.source_text).where(ScenarioVersion.scenario_id == adapted.id)
        )
        != text
    )


def test_live_validation_endpoint_returns_lines(client, sign_in, adapted, instructor):
    sign_in(instructor)
    good = client.post(
        f"/author/scenarios/{adapted.id}/validate", data={"source": _draft(adapted).source_text}
    )
    assert good.json == {"valid": True, "issues": []}
    bad = client.post(
        f"/author/scenarios/{adapted.id}/validate", data={"source": "ripple_scenario: 1\nslug: [\n"}
    )
    assert bad.json["valid"] is False and bad.json["issues"][0]["line"]


def test_form_editor_saves_through_the_browser_form(db, client, sign_in, adapted, instructor):
    sign_in(instructor)
    page = client.get(f"/author/scenarios/{adapted.id}/form").get_data(as_text=True)
    assert 'name="d0-o0-points"' in page
    values = scenario_authoring.form_values(_draft(adapted).source_text)
    data = {
        "title": values["title"],
        "summary": values["summary"],
        "briefing": values["briefing"],
        "pass_mark": "66",
    }
    for d, decision in enumerate(values["decisions"]):
        data[f"d{d}-prompt"] = decision["prompt"]
        for o, option in enumerate(decision["options"]):
            data[f"d{d}-o{o}-label"] = option["label"]
            data[f"d{d}-o{o}-points"] = str(option["points"])
            data[f"d{d}-o{o}-feedback"] = option["feedback"]
    response = client.post(f"/author/scenarios/{adapted.id}/form", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert engine.load_scenario(_draft(adapted).source_text).grading.pass_mark == 66


def test_calibration_page_and_status(db, client, sign_in, adapted, instructor):
    sign_in(instructor)
    response = client.post(f"/author/scenarios/{adapted.id}/calibrate")
    assert response.status_code == 302
    page = client.get(f"/author/scenarios/{adapted.id}/calibration").get_data(as_text=True)
    assert "Expected score and pass probability per path" in page and "expert" in page
    run = db.session.scalar(select(calibration.CalibrationRun))
    assert client.get(f"/author/calibrations/{run.id}/status").json["status"] == "done"


def test_a_platform_admin_shares_an_agency_scenario_with_every_agency(db, adapted, instructor, admin):
    with pytest.raises(AuthoringError, match="Publish"):
        scenario_authoring.share_to_library(admin, adapted)
    scenario_authoring.publish(instructor, adapted, without_calibration=True)
    with pytest.raises(AuthoringError, match="platform admin"):
        scenario_authoring.share_to_library(instructor, adapted)
    with pytest.raises(AuthoringError, match="already has"):  # the library has store-dispute
        scenario_authoring.share_to_library(admin, adapted)


def test_shared_scenario_is_in_the_library(db, instructor, admin, library):
    record = scenario_authoring.create_blank(instructor, slug="riverside-special", title="Riverside special")
    scenario_authoring.publish(instructor, record, without_calibration=True)
    shared = scenario_authoring.share_to_library(admin, record)
    db.session.commit()
    assert shared.agency_id is None and scenario_authoring.latest_published_of(shared) is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scenario.shared"))
    assert event.agency_id == instructor.agency_id
