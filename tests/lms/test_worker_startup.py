"""A Celery worker refuses to start without the settings the app needs, in one clear line,
instead of starting and then failing every task when it builds the app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


@pytest.mark.parametrize(
    "settings,complaint",
    [
        ({"PUBLIC_BASE_URL": "https://ripple.example.test"}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "k" * 32}, "PUBLIC_BASE_URL is not set"),
    ],
    ids=["no-secret-key", "no-public-base-url"],
)
def test_a_worker_without_its_settings_stops_at_start_saying_what_is_missing(tmp_path, settings, complaint):
    drop = ("SECRET_KEY", "PUBLIC_BASE_URL", "FLASK_RUN_FROM_CLI", "RIPPLE_ENV", "CELERY_BROKER_URL")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(settings, PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    command = [CELERY, "-A", "lms.worker", "worker", "--concurrency", "1", "--queues", "ripple"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    said = [line for line in result.stderr.splitlines() if line.startswith("Ripple worker not started")]
    assert len(said) == 1 and complaint in said[0]
    assert "Traceback" not in result.stderr


def test_importing_the_worker_module_checks_nothing(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    import lms.worker

    assert lms.worker.celery.main == "ripple"
