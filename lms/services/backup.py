"""Backup and restore of the whole database.

SQLite: SQLite's online backup API (a consistent copy while the app runs).
PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean` (the PostgreSQL client tools
must be installed, of the server's major version or newer).
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create(database_url: str, target: Path) -> Path:
    """Write a backup of the database at `database_url` to `target`."""
    url = make_url(database_url)
    target = Path(target)
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise BackupError("an in-memory SQLite database cannot be backed up")
        with sqlite3.connect(url.database) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return target
    if url.get_backend_name() == "postgresql":
        done = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(database_url)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return target
    raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")


def restore(database_url: str, source: Path) -> None:
    """Replace the database at `database_url` with the backup in `source`."""
    url = make_url(database_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if url.get_backend_name() == "sqlite":
        try:
            with sqlite3.connect(source) as backup, sqlite3.connect(url.database) as live:
                backup.execute("PRAGMA schema_version")  # fails early on a file that is not SQLite
                backup.backup(live)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is not a SQLite backup: {error}") from error
        return
    if url.get_backend_name() == "postgresql":
        done = subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(database_url)}",
                str(source),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
        return
    raise BackupError(f"restores of {url.get_backend_name()} databases are not supported")
