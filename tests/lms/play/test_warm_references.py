"""A starting Celery worker works out the references of every published version that lacks
them (lms.services.debrief.warm_references), so the first grade of a version after a deploy or a
publish does not wait behind them; the grade then uses exactly the references kept."""

from __future__ import annotations

from sqlalchemy import select

import lms.worker
from lms.extensions import db as database
from lms.models import ScenarioVersion
from lms.services import debrief


def published():
    return database.session.scalars(
        select(ScenarioVersion).where(ScenarioVersion.status == "published")
    ).all()


def test_the_warm_up_keeps_each_published_versions_references_once(db, library):
    versions = published()
    assert versions and all(not v.reference_summaries for v in versions)
    assert debrief.warm_references() == len(versions)
    database.session.expire_all()
    for version in published():
        scenario = debrief.scenario_of(version)
        kept = dict(version.reference_summaries)
        assert debrief.store_references(version, scenario) is not None
        assert version.reference_summaries == kept  # a grade finds them there and changes nothing
    assert debrief.warm_references() == 0


def test_a_starting_worker_queues_the_warm_up(monkeypatch):
    sent = []
    monkeypatch.setattr(lms.worker.warm_references, "apply_async", lambda **kw: sent.append(kw))
    lms.worker.warm_up()
    assert sent == [{"retry": False}]


def test_a_worker_starts_even_when_the_warm_up_cannot_be_queued(monkeypatch):
    def refuse(**kw):
        raise ConnectionError("broker down")

    monkeypatch.setattr(lms.worker.warm_references, "apply_async", refuse)
    lms.worker.warm_up()  # logs and goes on
