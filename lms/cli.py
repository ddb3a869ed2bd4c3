"""Flask CLI commands (`flask --app wsgi <command>`)."""

from __future__ import annotations

import click
from flask import Flask

from lms.extensions import db
from lms.wording import quantity


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

    @app.cli.group("roster")
    def roster_group() -> None:
        """The agency roster."""

    @roster_group.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--agency", "agency_slug", required=True, help="The agency's slug, e.g. riverside.")
    @click.option(
        "--apply", "apply_now", is_flag=True, help="Apply the changes (all or nothing) after the check."
    )
    @click.option(
        "--full-sync",
        is_flag=True,
        help="Deactivate the people missing from the file (by default they are left as they are).",
    )
    @click.option(
        "--confirm",
        "confirmation",
        help="Needed when the import deactivates more than 10% of the active people: "
        "the number of people it deactivates, or the agency's name.",
    )
    def roster_import_command(
        path: str, agency_slug: str, apply_now: bool, full_sync: bool, confirmation: str | None
    ) -> None:
        """Check a roster CSV against an agency (a dry run), and with --apply, import it."""
        from pathlib import Path

        from sqlalchemy import select

        from lms.models import Agency
        from lms.services import roster_import

        agency = db.session.scalar(select(Agency).where(Agency.slug == agency_slug))
        if agency is None:
            raise click.ClickException(f'no agency with slug "{agency_slug}"')
        try:
            record, plan = roster_import.check(
                None,
                agency,
                Path(path).name,
                Path(path).read_bytes(),
                roster_import.FULL_SYNC if full_sync else roster_import.ADD_UPDATE,
            )
        except roster_import.RosterFileError as error:
            raise click.ClickException(str(error)) from error
        summary = plan.summary()
        click.echo(", ".join(f"{key} {value}" for key, value in summary.items()))
        for change in plan.create[:20] + plan.update[:20] + plan.deactivate[:20]:
            click.echo(f"  {change.badge_number:<10} {change.name:<30} {'; '.join(change.words)}")
        for problem in plan.problems:
            click.echo(f"  problem: {problem}", err=True)
        if plan.problems:
            db.session.commit()  # keep the checked upload for the record
            raise click.ClickException(f"{quantity(len(plan.problems), 'problem')}: nothing was imported")
        if apply_now:
            try:
                roster_import.apply(None, record, confirmation)
            except roster_import.ConfirmationNeeded as error:
                db.session.commit()  # keep the checked upload for the record
                raise click.ClickException(f"{error} (use --confirm)") from error
            click.echo("applied")
        else:
            click.echo("dry run: nothing was changed (add --apply to import)")
        db.session.commit()

    @app.cli.group("reminders")
    def reminders_group() -> None:
        """Training reminders and certificate-expiry notices."""

    @reminders_group.command("send")
    @click.option(
        "--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Act as if today were this date."
    )
    def reminders_send_command(on) -> None:
        """Queue (and email, with MAIL_SERVER set) today's reminders; safe to run twice a day."""
        from datetime import date

        from lms.services import reminders

        settings = reminders.MailSettings.from_config(app.config)
        sent = reminders.send_reminders(on.date() if on else date.today(), settings)
        db.session.commit()
        kinds: dict[str, int] = {}
        for message in sent:
            kinds[message.kind] = kinds.get(message.kind, 0) + 1
        click.echo(
            f"{quantity(len(sent), 'message')}: "
            + (", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "nothing due")
        )

    @app.cli.group("assignments")
    def assignments_group() -> None:
        """Assignment rules."""

    @assignments_group.command("sync")
    def assignments_sync_command() -> None:
        """Apply every agency's assignment rules (run daily; safe to run again)."""
        from sqlalchemy import select

        from lms.models import Agency
        from lms.services import rules

        total = 0
        for agency in db.session.scalars(select(Agency)):
            total += len(rules.apply_rules(None, agency))
        db.session.commit()
        click.echo(f"{quantity(total, 'assignment')} created")

    @app.cli.group("attempts")
    def attempts_group() -> None:
        """Scenario attempts."""

    @attempts_group.command("grade-pending")
    def grade_pending_command() -> None:
        """Grade attempts still waiting for their grade (a lost task, a broker outage)."""
        from lms.services import attempts

        click.echo(f"{quantity(attempts.grade_all_pending(), 'attempt')} graded")

    @app.cli.group("backup")
    def backup_group() -> None:
        """Back up and restore the whole database (SQLite or PostgreSQL)."""

    @backup_group.command("create")
    @click.argument("path", type=click.Path(dir_okay=False))
    def backup_create_command(path: str) -> None:
        """Write a consistent backup of the database to PATH."""
        from lms.services import backup

        db.session.remove()
        try:
            backup.create(app.config["SQLALCHEMY_DATABASE_URI"], path)
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"backup written to {path}")

    @backup_group.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--yes", is_flag=True, help="Confirm that the current data will be replaced.")
    def backup_restore_command(path: str, yes: bool) -> None:
        """Replace the database with the backup in PATH (stop the app and workers first)."""
        from lms.services import backup

        if not yes:
            raise click.ClickException("this replaces every record in the database; add --yes to confirm")
        db.session.remove()
        db.engine.dispose()
        try:
            backup.restore(app.config["SQLALCHEMY_DATABASE_URI"], path)
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"database restored from {path}")
