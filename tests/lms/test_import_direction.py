"""The arrows between areas run one way: routes -> services -> the tasks registry <- worker.
Services, the registry and the scheduler never import the Celery worker (which imports them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LMS = Path(__file__).resolve().parents[2] / "lms"
NEVER_IMPORT_THE_WORKER = sorted(
    [*LMS.joinpath("services").rglob("*.py"), LMS / "tasks.py", LMS / "schedule.py"]
)


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", NEVER_IMPORT_THE_WORKER, ids=lambda p: str(p.relative_to(LMS)))
def test_services_and_the_task_registry_never_import_the_worker(path):
    assert "lms.worker" not in imported_modules(path)


def test_the_app_registers_every_task_that_services_send(app):
    from lms import tasks

    assert {"grade_attempt", "run_job", "calibrate_part", "deliver_rows"} <= set(tasks.SENDERS)


def test_an_unregistered_task_is_not_sent(app, monkeypatch):
    from lms import tasks

    monkeypatch.setattr(tasks, "SENDERS", {})
    with pytest.raises(tasks.NoWorker, match="grade_attempt"):
        tasks.enqueue("grade_attempt", 1)


def test_a_broker_that_refuses_is_reported_as_no_worker(app, monkeypatch):
    from lms import tasks

    def refuse(*args):
        raise ConnectionError("broker down")

    monkeypatch.setitem(tasks.SENDERS, "grade_attempt", refuse)
    with pytest.raises(tasks.NoWorker, match="broker down"):
        tasks.enqueue("grade_attempt", 1)
