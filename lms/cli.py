"""Flask CLI commands (`flask --app wsgi <command>`)."""

from __future__ import annotations

import click
from flask import Flask

from lms.extensions import db


def init_app(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load the demo agencies and people (safe to run again)."""
        from lms.services.demo import DEMO_PASSWORD, seed_demo

        sign_ins = seed_demo()
        db.session.commit()
        click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for sign_in in sign_ins:
            click.echo(f"  {sign_in.role:<15} {sign_in.email:<32} {sign_in.agency}")
