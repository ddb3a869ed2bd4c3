"""`flask integrations ...`: the background step for grade and xAPI deliveries, and key rotation."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.extensions import db

integrations_cli = AppGroup("integrations", help="LTI grade passback, xAPI delivery, LTI keys.")


@integrations_cli.command("deliver")
def deliver_command() -> None:
    """Send queued LTI scores and xAPI statements whose retry time has come (run every minute)."""
    from lms.services.outcomes import deliver_due

    report = deliver_due()
    db.session.commit()
    click.echo(
        f"scores: {report.grades_delivered} delivered, {report.grades_failed} failed; "
        f"statements: {report.statements_delivered} delivered, {report.statements_failed} failed"
    )


@integrations_cli.command("rotate-key")
def rotate_key_command() -> None:
    """Start signing with a new LTI key (the old one stays published for LTI_KEY_GRACE_DAYS)."""
    from lms.services.lti import rotate_keys

    key = rotate_keys(None)
    db.session.commit()
    click.echo(f"signing with new key {key.kid}")
