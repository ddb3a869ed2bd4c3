"""Scenarios as the app stores them: the built-in library, versions, and parsing with a cache."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import func, or_, select

import scenarios as engine
from lms.extensions import db
from lms.models import ScenarioRecord, ScenarioVersion, User
from lms.models.types import utcnow


@lru_cache(maxsize=64)
def parse_source(source_text: str) -> engine.Scenario:
    """Parse scenario YAML once per process (Scenario objects are immutable)."""
    return engine.load_scenario(source_text)


def scenario_of(version: ScenarioVersion) -> engine.Scenario:
    """The engine's Scenario for a stored version."""
    return parse_source(version.source_text)


def _latest_published(record: ScenarioRecord, *, by_sync: bool = False) -> ScenarioVersion | None:
    published = [
        v for v in record.versions if v.status == "published" and (not by_sync or v.created_by_id is None)
    ]
    return published[-1] if published else None


def publish_text(actor: User | None, record: ScenarioRecord, source_text: str) -> ScenarioVersion:
    """Add a published version with this YAML unless the latest published version has it.

    Version numbers follow every version of the scenario, drafts included.
    """
    parsed = parse_source(source_text)
    latest = _latest_published(record)
    if latest is not None and latest.fingerprint == parsed.fingerprint:
        return latest
    version = ScenarioVersion(
        scenario=record,
        number=max((v.number for v in record.versions), default=0) + 1,
        status="published",
        source_text=source_text,
        fingerprint=parsed.fingerprint,
        title=parsed.title,
        created_by_id=actor.id if actor else None,
        published_at=utcnow(),
    )
    record.title = parsed.title
    db.session.add(version)
    db.session.flush()
    return version


def sync_library() -> list[ScenarioVersion]:
    """Load the engine's built-in scenarios into the platform library (idempotent).

    A changed file becomes a new published version; attempts keep replaying on the
    version they were played on. A version a platform admin published over the shipped one
    stays in force until the shipped file itself changes.
    """
    versions = []
    for path in engine.list_library():
        text = path.read_text(encoding="utf-8")
        slug = parse_source(text).slug
        record = db.session.scalar(
            select(ScenarioRecord).where(ScenarioRecord.agency_id.is_(None), ScenarioRecord.slug == slug)
        )
        if record is None:
            record = ScenarioRecord(agency_id=None, slug=slug, title=slug)
            db.session.add(record)
            db.session.flush()
        synced = _latest_published(record, by_sync=True)
        if synced is not None and synced.fingerprint == parse_source(text).fingerprint:
            versions.append(_latest_published(record))  # unchanged file: keep what is in force
        else:
            versions.append(publish_text(None, record, text))
    return versions


def visible_records(actor: User):
    """A SELECT of the scenarios the actor's agency may use: its own and the library's."""
    stmt = select(ScenarioRecord)
    if actor.is_platform_admin:
        return stmt
    return stmt.where(or_(ScenarioRecord.agency_id.is_(None), ScenarioRecord.agency_id == actor.agency_id))


def latest_published(agency_id: int | None, slug: str) -> ScenarioVersion | None:
    """The newest published version of `slug` for an agency: its own scenario first, else the library's."""
    for owner in ([agency_id] if agency_id is not None else []) + [None]:
        owner_clause = (
            ScenarioRecord.agency_id.is_(None) if owner is None else ScenarioRecord.agency_id == owner
        )
        version = db.session.scalar(
            select(ScenarioVersion)
            .join(ScenarioRecord)
            .where(owner_clause, ScenarioRecord.slug == slug, ScenarioVersion.status == "published")
            .order_by(ScenarioVersion.number.desc())
            .limit(1)
        )
        if version is not None:
            return version
    return None


def published_catalogue(actor: User) -> list[ScenarioVersion]:
    """The newest published version of every scenario the actor may use."""
    newest = (
        select(ScenarioVersion.scenario_id, func.max(ScenarioVersion.number).label("number"))
        .where(ScenarioVersion.status == "published")
        .group_by(ScenarioVersion.scenario_id)
        .subquery()
    )
    visible = visible_records(actor).subquery()
    return list(
        db.session.scalars(
            select(ScenarioVersion)
            .join(
                newest,
                (ScenarioVersion.scenario_id == newest.c.scenario_id)
                & (ScenarioVersion.number == newest.c.number),
            )
            .join(visible, visible.c.id == ScenarioVersion.scenario_id)
            .order_by(ScenarioVersion.title)
        )
    )
