"""Agency scoping: the one place that decides which agency rows a user may see.

Every query for agency-owned data goes through `scoped()` or `get_scoped()`, so isolation
between agencies is a property of the code rather than of each route's care.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, false, select

from lms.extensions import db
from lms.models import User

M = TypeVar("M")


class NotFound(LookupError):
    """The record does not exist, or exists in an agency the user cannot see."""


def scoped(model: type[M], actor: User, *, agency_column=None) -> Select[tuple[M]]:
    """A SELECT of `model` limited to rows the actor's agency owns (all rows for admins)."""
    column = agency_column if agency_column is not None else model.agency_id
    stmt = select(model)
    if actor.is_platform_admin:
        return stmt
    if actor.agency_id is None:
        return stmt.where(false())
    return stmt.where(column == actor.agency_id)


def get_scoped(model: type[M], ident: int, actor: User) -> M:
    """The row with primary key `ident` if the actor may see it, else NotFound.

    Rows of other agencies raise the same NotFound as missing rows, so ids of other
    agencies' records cannot be probed.
    """
    row = db.session.scalar(scoped(model, actor).where(model.id == ident))
    if row is None:
        raise NotFound(f"{model.__name__} {ident}")
    return row
