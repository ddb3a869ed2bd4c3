"""xAPI statements that identify people correctly, checked at the local LRS: one site address in
a request and outside one (the worker, the grading sweep, CLI commands), an email address only
when the person confirmed it, and statements the LRS refuses as invalid marked failed instead of
retried forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import has_request_context
from sqlalchemy import select

from lms.models import Attempt, Role, XapiStatement
from lms.models.types import utcnow
from tests.lms.integrations.conftest import play_expert_path

SITE = "http://ripple.dev:5000"  # the development server's address, as a browser reached it


def _settings(db, agency, coordinator, lrs, *, include_email=False):
    from lms.services import xapi

    settings = xapi.save_settings(
        coordinator, agency, endpoint=lrs.url, key="k", secret="s", include_email=include_email, active=True
    )
    db.session.commit()
    return settings


def _signed_in_at(client, user, base_url):
    """The test client signed in as `user` for the site at `base_url` (its cookie is that host's)."""
    from lms.extensions import db
    from lms.services import sessions

    record = sessions.start(user, via="password")
    db.session.commit()
    with client.session_transaction(base_url=base_url) as session:
        session["_user_id"] = record.token
        session["_fresh"] = True
    return client


def _statements(db):
    return db.session.scalars(select(XapiStatement).order_by(XapiStatement.id)).all()


# --- one site address, in a request and outside one -----------------------------------------------


def test_an_attempts_statements_name_one_person_registration_and_activity_in_and_out_of_a_request(
    app, db, client, lrs, agency, coordinator, make_user, store_scenario
):
    from lms.services import outcomes

    _settings(db, agency, coordinator, lrs)
    player = make_user(agency, (Role.INSTRUCTOR,), name="Ines Player")
    # The attempt starts in a request to the development server (no PUBLIC_BASE_URL) ...
    started = _signed_in_at(client, player, SITE).post(
        f"/play/scenarios/{store_scenario.id}/start", base_url=SITE
    )
    assert started.status_code == 302
    attempt = db.session.scalar(select(Attempt))
    # ... and is played and graded where the worker works: an app context, no request.
    assert not has_request_context()
    play_expert_path(player, attempt)
    db.session.commit()
    outcomes.deliver_due()
    db.session.commit()

    at_lrs = [lrs.statements[row.statement_id] for row in _statements(db)]
    verbs = [s["verb"]["display"]["en-US"] for s in at_lrs]
    assert verbs[0] == "attempted" and verbs[-2:] == ["completed", "passed"]
    assert {s["actor"]["account"]["homePage"] for s in at_lrs} == {SITE}
    assert {s["actor"]["account"]["name"] for s in at_lrs} == {str(player.id)}
    assert len({s["context"]["registration"] for s in at_lrs}) == 1
    scenario_ids = {s["object"]["id"] for s in at_lrs if s["verb"]["display"]["en-US"] != "answered"}
    assert scenario_ids == {f"{SITE}/xapi/activities/scenarios/store-dispute"}


def test_public_base_url_when_set_wins_over_the_recorded_address(app, db, client, monkeypatch):
    from lms.public_urls import base_url

    client.get("/verify/", base_url=SITE)  # records the development address
    assert base_url() == SITE
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://ripple.example.gov")
    assert base_url() == "https://ripple.example.gov"
    with app.test_request_context("/", base_url="http://elsewhere.example"):
        assert base_url() == "https://ripple.example.gov"


# --- email addresses: only one the person confirmed -------------------------------------------------


@pytest.mark.parametrize(
    ("email", "confirmed", "mbox"),
    [
        ("lti-3-0a1b2c3d4e5f@lti.invalid", None, False),  # a platform user without an address
        ("roster.typed@example.org", None, False),  # a roster import's or the API's claim
        ("old@example.org", "older@example.org", False),  # confirmed, then the roster changed it
        ("confirmed@example.org", "confirmed@example.org", True),  # an emailed link used
    ],
    ids=["placeholder", "not-confirmed", "changed-since", "confirmed"],
)
def test_an_email_is_sent_only_when_the_person_confirmed_it(
    db, lrs, agency, coordinator, make_user, email, confirmed, mbox
):
    from lms.services import outcomes, xapi

    _settings(db, agency, coordinator, lrs, include_email=True)
    person = make_user(agency, email=email, email_confirmed=confirmed)
    row = xapi.queue(person, "launched", xapi.activity("course", "courses/1", "A course"))
    db.session.commit()
    actor = row.statement["actor"]
    if mbox:
        assert actor["mbox"] == f"mailto:{email}" and "account" not in actor
    else:
        assert "mbox" not in actor and actor["account"]["name"] == str(person.id)
    assert xapi.validate_statement(row.statement) == []
    outcomes.deliver_due()
    db.session.commit()
    assert db.session.get(XapiStatement, row.id).status == "delivered"
    assert lrs.statements[row.statement_id]["actor"] == actor


# --- what the LRS refuses as invalid is not sent again ----------------------------------------------


def _placeholder_statement(db, agency, make_user):
    """A statement as earlier versions queued it: the placeholder address as its mbox."""
    from lms.services import xapi

    person = make_user(agency, email="lti-3-0a1b2c3d4e5f@lti.invalid")
    statement = {
        "id": "6f1c2d9e-58a4-4c3e-9a61-0f2b7d3c1e55",
        "actor": {"objectType": "Agent", "name": person.name, "mbox": f"mailto:{person.email}"},
        "verb": {"id": xapi.VERBS["launched"], "display": {"en-US": "launched"}},
        "object": xapi.activity("course", "courses/1", "A course"),
        "timestamp": "2026-12-01T10:00:00Z",
        "context": {"platform": "Ripple", "language": "en-US"},
    }
    row = XapiStatement(
        agency_id=agency.id,
        statement_id=statement["id"],
        user_id=person.id,
        verb="launched",
        statement=statement,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("status", [400, 422])
def test_a_statement_the_lrs_refuses_as_invalid_is_marked_failed_with_the_reason(
    db, lrs, agency, coordinator, make_user, status
):
    from lms.services import outcomes

    _settings(db, agency, coordinator, lrs, include_email=True)
    lrs.invalid_status = status
    row = _placeholder_statement(db, agency, make_user)
    report = outcomes.deliver_due()
    db.session.commit()
    row = db.session.get(XapiStatement, row.id)
    assert report.statements_failed == 1 and row.status == "failed" and row.tries == 1
    assert f"LRS answered {status}" in row.last_error and "not sent again" in row.last_error
    assert "placeholder address" in row.last_error  # Ripple's own check says what is wrong
    tried = len(lrs.requests)
    # Neither the background step, however late, nor "Retry now" sends it again.
    assert outcomes.deliver_due(now=utcnow() + timedelta(days=2)).statements_failed == 0
    assert outcomes.deliver_agency_now(coordinator, agency.id).statements_failed == 0
    assert len(lrs.requests) == tried and lrs.statements == {}


@pytest.mark.parametrize("status", [401, 403, 404, 429, 500, 503])
def test_only_a_refusal_as_invalid_stops_the_retries(db, lrs, agency, coordinator, make_user, status):
    """A wrong key, a wrong endpoint, a rate limit or an outage says nothing about the statement:
    it is retried, and only the LRS's own verdict on it (here 400, once it is reachable) ends that."""
    from lms.services import outcomes

    _settings(db, agency, coordinator, lrs, include_email=True)
    row = _placeholder_statement(db, agency, make_user)
    lrs.status = status
    outcomes.deliver_due()
    db.session.commit()
    row = db.session.get(XapiStatement, row.id)
    assert row.status == "pending" and f"LRS answered {status}" in row.last_error
    lrs.status = None
    outcomes.deliver_due(now=utcnow() + timedelta(hours=1))
    db.session.commit()
    row = db.session.get(XapiStatement, row.id)
    assert row.status == "failed" and row.tries == 2 and "LRS answered 400" in row.last_error


def test_the_coordinator_sees_what_the_lrs_refused_and_why(
    client, sign_in, db, lrs, agency, coordinator, make_user
):
    from lms.services import outcomes

    _settings(db, agency, coordinator, lrs, include_email=True)
    lrs.invalid_status = 422
    _placeholder_statement(db, agency, make_user)
    outcomes.deliver_due()
    db.session.commit()
    page = sign_in(coordinator).get(f"/agencies/{agency.id}/integrations/deliveries").get_data(as_text=True)
    assert "0 waiting" in page and "1 refused by the LRS" in page
    assert "refused, not sent again" in page and "LRS answered 422 Unprocessable Entity" in page
    overview = client.get(f"/agencies/{agency.id}/integrations").get_data(as_text=True)
    assert "1 refused by the LRS as invalid" in overview
