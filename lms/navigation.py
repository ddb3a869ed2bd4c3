"""The main navigation: each area registers its entries with the roles that see them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from lms.models import Role, User


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    roles: frozenset[Role]
    # Builds url_for keyword arguments for this user; None hides the entry.
    url_args: Callable[[User], dict | None] = lambda user: {}
    order: int = 50


ENTRIES: list[NavEntry] = []


def register(label: str, endpoint: str, *roles: Role, url_args=None, order: int = 50) -> None:
    ENTRIES.append(NavEntry(label, endpoint, frozenset(roles), url_args or (lambda user: {}), order))


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


def items_for(user: User) -> list[NavItem]:
    items = []
    for entry in sorted(ENTRIES, key=lambda e: e.order):
        if not (user.has_role(*entry.roles) or user.is_platform_admin):
            continue
        kwargs = entry.url_args(user)
        if kwargs is None:
            continue
        items.append(
            NavItem(entry.label, url_for(entry.endpoint, **kwargs), request.endpoint == entry.endpoint)
        )
    return items


def init_app(app: Flask) -> None:
    @app.context_processor
    def inject_nav():
        if current_user.is_authenticated:
            return {"nav_items": items_for(current_user)}
        return {"nav_items": []}
