"""Backup and restore on the database the suite runs on (SQLite file, or PostgreSQL in CI)."""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import create_engine, text

from lms.services import backup


def scratch_url(tmp_path) -> str:
    """A database of its own: a SQLite file, or a fresh PostgreSQL database when the suite runs on one."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        admin = create_engine(
            url.replace("postgres://", "postgresql+psycopg://").replace(
                "postgresql://", "postgresql+psycopg://"
            ),
            isolation_level="AUTOCOMMIT",
        )
        name = f"ripple_backup_{os.getpid()}"
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return url.rsplit("/", 1)[0] + "/" + name
    return f"sqlite:///{tmp_path / 'live.sqlite3'}"


def engine_for(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def test_backup_then_restore_brings_back_the_data(tmp_path):
    url = scratch_url(tmp_path)
    if url.startswith("postgres") and shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL client tools not installed")
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE officers (id INTEGER PRIMARY KEY, name TEXT)"))
        connection.execute(text("INSERT INTO officers VALUES (1, 'Dana Brooks')"))
    saved = backup.create(url, tmp_path / "ripple.backup")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM officers"))
        connection.execute(text("INSERT INTO officers VALUES (2, 'Changed After Backup')"))
    engine.dispose()
    backup.restore(url, saved)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, name FROM officers")).all() == [(1, "Dana Brooks")]
    engine.dispose()
    drop_scratch(url)


def drop_scratch(url: str) -> None:
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        admin = create_engine(engine_for(url).url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "not-a-backup.sqlite3"
    bogus.write_text("hello")
    with pytest.raises(backup.BackupError):
        backup.restore(f"sqlite:///{tmp_path / 'live.sqlite3'}", bogus)


def test_in_memory_databases_cannot_be_backed_up(tmp_path):
    with pytest.raises(backup.BackupError, match="in-memory"):
        backup.create("sqlite://", tmp_path / "x")


def test_cli_restore_asks_for_confirmation(app, tmp_path):
    path = tmp_path / "b.sqlite3"
    path.write_bytes(b"")
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(path)])
    assert result.exit_code != 0 and "--yes" in result.output
