"""xAPI: statements for attempts and completions, valid per the spec's required fields, queued
per agency and delivered to a local LRS with retries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.models import Role, XapiStatement
from lms.models.types import utcnow
from tests.lms.integrations.conftest import play_expert_path


@pytest.fixture
def lrs_settings(db, agency, coordinator, lrs):
    from lms.services import xapi

    settings = xapi.save_settings(
        coordinator, agency, endpoint=lrs.url, key="ripple", secret="s3cret", include_email=False, active=True
    )
    db.session.commit()
    return settings


@pytest.fixture
def played(db, make_user, agency, store_scenario):
    """An instructor's graded attempt at the store-dispute scenario (expert path: passes)."""
    from lms.services import attempts

    player = make_user(agency, (Role.INSTRUCTOR,), name="Ines Player", email="ines@example.test")
    attempt = attempts.start_direct(player, store_scenario)
    play_expert_path(player, attempt)
    db.session.commit()
    return attempt


def _statements(db):
    return db.session.scalars(db.select(XapiStatement).order_by(XapiStatement.id)).all()


def test_nothing_is_queued_without_an_lrs(db, played):
    assert _statements(db) == []


def test_an_attempt_produces_attempted_answered_completed_passed(db, lrs_settings, played):
    from lms.services import xapi

    rows = _statements(db)
    verbs = [row.verb for row in rows]
    decisions = len(played.decisions)
    assert verbs == ["attempted"] + ["answered"] * decisions + ["completed", "passed"]
    for row in rows:
        assert xapi.validate_statement(row.statement) == [], row.verb
        assert row.statement["verb"]["id"] == xapi.VERBS[row.verb]
        assert row.statement["actor"]["account"]["name"] == str(played.user_id)
        assert "mbox" not in row.statement["actor"]
        assert row.statement["context"]["registration"] == xapi.registration_of(played.id)
    passed = rows[-1].statement
    assert passed["result"]["success"] is True
    assert passed["result"]["score"]["raw"] == played.grade.score
    assert passed["result"]["score"]["scaled"] == pytest.approx(played.grade.score / 100, abs=1e-4)
    assert passed["result"]["duration"].startswith("PT")
    answered = rows[1].statement
    assert answered["object"]["definition"]["type"].endswith("cmi.interaction")
    assert answered["context"]["contextActivities"]["parent"][0]["id"].endswith("/scenarios/store-dispute")


def test_email_only_when_the_agency_opts_in(db, agency, coordinator, lrs, make_user):
    from lms.services import xapi

    xapi.save_settings(
        coordinator, agency, endpoint=lrs.url, key="k", secret="s", include_email=True, active=True
    )
    officer = make_user(agency, email="opted@example.test", email_confirmed="opted@example.test")
    row = xapi.queue(officer, "launched", xapi.activity("course", "courses/1", "A course"))
    assert row.statement["actor"]["mbox"] == "mailto:opted@example.test"
    assert "account" not in row.statement["actor"]
    assert xapi.validate_statement(row.statement) == []


def test_course_completion_statement_names_the_course(db, agency, coordinator, lrs, make_user):
    from lms.services import xapi
    from tests.lms.learning_fixtures import learning_objects

    xapi.save_settings(
        coordinator, agency, endpoint=lrs.url, key="k", secret="s", include_email=False, active=True
    )
    db.session.commit()
    officer = make_user(agency)
    objects = learning_objects(officer)
    completed = [r for r in _statements(db) if r.verb == "completed"]
    assert completed
    statement = completed[-1].statement
    assert statement["object"]["id"].endswith(f"/xapi/activities/courses/{objects['course_id']}")
    assert statement["object"]["definition"]["type"] == xapi.ACTIVITY_TYPES["course"]
    assert xapi.validate_statement(statement) == []


def test_statements_reach_the_lrs_end_to_end(db, lrs, lrs_settings, played):
    from lms.services import outcomes

    report = outcomes.deliver_due()
    db.session.commit()
    rows = _statements(db)
    assert report.statements_delivered == len(rows) and report.statements_failed == 0
    assert all(row.status == "delivered" for row in rows)
    assert set(lrs.statements) == {row.statement_id for row in rows}
    assert all(r["version"] == "1.0.3" and r["auth"]["username"] == "ripple" for r in lrs.requests)
    # A second run sends nothing again.
    assert outcomes.deliver_due().statements_delivered == 0


def test_an_lrs_outage_loses_nothing(db, lrs, lrs_settings, played):
    from lms.services import outcomes

    lrs.down = True
    report = outcomes.deliver_due()
    db.session.commit()
    rows = _statements(db)
    assert report.statements_failed == len(rows)
    assert all(row.status == "pending" and row.tries == 1 and "503" in row.last_error for row in rows)
    # Not retried before the backoff has passed ...
    assert outcomes.deliver_due().statements_failed == 0
    lrs.down = False
    # ... and delivered once it has.
    report = outcomes.deliver_due(now=utcnow() + timedelta(minutes=5))
    db.session.commit()
    assert report.statements_delivered == len(rows)
    assert len(lrs.statements) == len(rows)


def test_a_statement_delivered_twice_is_not_duplicated(db, lrs, lrs_settings, played):
    from lms.services import xapi

    rows = _statements(db)
    xapi.deliver(rows)
    for row in rows:
        row.status = "pending"  # as if the first answer was lost
    xapi.deliver(rows)
    assert all(row.status == "delivered" for row in rows)
    assert len(lrs.statements) == len(rows)


def test_inline_delivery_after_a_request_commits(
    app, client, sign_in, db, lrs, lrs_settings, make_user, agency, store_scenario
):
    app.config["INTEGRATIONS_DELIVER_INLINE"] = True
    player = make_user(agency, (Role.INSTRUCTOR,))
    sign_in(player)
    response = client.post(f"/play/scenarios/{store_scenario.id}/start")
    assert response.status_code == 302
    assert [s["verb"]["display"]["en-US"] for s in lrs.statements.values()] == ["attempted"]


def test_with_a_broker_a_worker_delivers_instead_of_the_request(
    app, client, sign_in, db, lrs, lrs_settings, make_user, agency, store_scenario, monkeypatch
):
    from lms import worker

    sent = []
    monkeypatch.setattr(worker.deliver_rows, "apply_async", lambda args, **kw: sent.append(args))
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    player = make_user(agency, (Role.INSTRUCTOR,))
    sign_in(player)
    assert client.post(f"/play/scenarios/{store_scenario.id}/start").status_code == 302
    (row,) = _statements(db)
    assert lrs.statements == {} and row.status == "pending"  # the page did not wait for the LRS
    assert sent == [([], [row.id])]
    # The worker's task sends it, and a re-delivered task sends nothing twice.
    worker.deliver_rows.run(*sent[0])
    worker.deliver_rows.run(*sent[0])
    assert len(lrs.statements) == 1
    assert db.session.get(type(row), row.id).status == "delivered"


def test_inline_delivery_failure_never_breaks_the_request(
    app, client, sign_in, db, lrs, lrs_settings, make_user, agency, store_scenario
):
    lrs.down = True
    player = make_user(agency, (Role.INSTRUCTOR,))
    sign_in(player)
    assert client.post(f"/play/scenarios/{store_scenario.id}/start").status_code == 302
    (row,) = _statements(db)
    assert row.status == "pending" and row.tries == 1


def test_cli_deliver_runs_the_background_step(app, db, lrs, lrs_settings, played):
    result = app.test_cli_runner().invoke(args=["integrations", "deliver"])
    assert result.exit_code == 0, result.output
    assert "statements:" in result.output and "delivered" in result.output
    assert lrs.statements


@pytest.mark.parametrize("endpoint", ["ftp://lrs", "not a url", ""])
def test_bad_lrs_settings_are_refused(client, sign_in, coordinator, agency, db, endpoint):
    from lms.models import LrsSettings

    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/integrations/lrs",
        data={"endpoint": endpoint, "key": "k", "secret": "s", "active": "y"},
    )
    assert response.status_code == 400
    assert db.session.scalar(db.select(LrsSettings)) is None


def test_coordinator_sees_the_queue(client, sign_in, coordinator, agency, db, lrs, lrs_settings, played):
    lrs.down = True
    sign_in(coordinator)
    client.post(f"/agencies/{agency.id}/integrations/deliveries/retry")
    page = client.get(f"/agencies/{agency.id}/integrations/deliveries").get_data(as_text=True)
    assert "LRS answered 503" in page
