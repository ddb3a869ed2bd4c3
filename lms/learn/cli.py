"""`flask certificates ...`: certificate jobs to run from cron."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from lms.extensions import db

certificates_cli = AppGroup("certificates", help="Certificate jobs (recertification).")


@certificates_cli.command("renew-due")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Pretend today is this date.")
def renew_due_command(today) -> None:
    """Assign renewal courses to everyone whose certificate's renewal window has opened."""
    from lms.services.certificates import renew_due

    created = renew_due(today.date() if today else date.today())
    db.session.commit()
    for assignment in created:
        click.echo(
            f"  assigned {assignment.course.title} to {assignment.user.email}"
            f" (due {assignment.due_on.isoformat() if assignment.due_on else 'no date'})"
        )
    click.echo(f"{len(created)} renewal assignment(s) created.")
