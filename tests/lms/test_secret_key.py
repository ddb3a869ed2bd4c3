"""The app never signs cookies with a public key: outside tests it needs a real SECRET_KEY,
except that the `flask` command (and so `make run`) makes its own once, in instance/."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lms.config import SecretKeyError

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 32


@pytest.fixture
def production(monkeypatch, tmp_path):
    """create_app as gunicorn or a worker runs it: no TESTING, not under the `flask` command."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("RIPPLE_ENV", raising=False)
    key_file = tmp_path / "instance" / "secret_key"

    def start(secret_key, **config):
        from lms import create_app
        from lms.config import Config

        settings = {
            "TESTING": False,
            "SECRET_KEY": secret_key,
            "SECRET_KEY_FILE": key_file,
            "SCHEDULE_IN_PROCESS": False,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PUBLIC_BASE_URL": "https://ripple.example.test",
            **config,
        }
        return create_app(type("Production", (Config,), settings))

    start.key_file = key_file
    return start


@pytest.mark.parametrize(
    "key,complaint",
    [
        (None, "SECRET_KEY is not set"),
        ("", "SECRET_KEY is not set"),
        ("dev-only-not-secret-change-me", "SECRET_KEY is the public development value"),
        ("k" * 31, "SECRET_KEY is too short"),
    ],
    ids=["missing", "empty", "old-default", "short"],
)
def test_production_refuses_to_start_without_a_real_secret_key(production, key, complaint):
    with pytest.raises(SecretKeyError, match=complaint):
        production(key)
    assert not production.key_file.exists()  # nothing falls back to a file of its own


def test_production_starts_with_a_real_secret_key(production):
    assert production(GOOD_KEY).secret_key == GOOD_KEY


def test_the_flask_command_makes_an_instance_key_once_and_reuses_it(production, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # what every `flask` command sets
    first = production(None).secret_key
    assert len(first) >= 64
    assert stat.S_IMODE(production.key_file.stat().st_mode) == 0o600
    assert production(None).secret_key == first
    assert production.key_file.read_text().strip() == first


def test_the_flask_command_still_refuses_a_public_key(production, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    with pytest.raises(SecretKeyError, match="public development value"):
        production("dev-only-not-secret-change-me")


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", "import wsgi"],
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "wsgi:app"],
    ],
    ids=["wsgi-import", "gunicorn"],
)
def test_serving_refuses_to_start_without_secret_key(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_RUN_FROM_CLI", "RIPPLE_ENV")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", BIND="127.0.0.1:0", WEB_CONCURRENCY="1")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
