"""`make faults` reports what happened: a scenario that could not run is a skip, not a pass."""

from __future__ import annotations

import subprocess

import pytest

from ops import faults


@pytest.mark.parametrize(
    ("returncodes", "line", "status"),
    [
        ([0, 0, 0, faults.SKIPPED], "3 passed, 0 failed, 1 skipped", 0),
        ([0, 0, 0, 0], "4 passed, 0 failed, 0 skipped", 0),
        ([0, 1, 0, faults.SKIPPED], "2 passed, 1 failed, 1 skipped", 1),
        ([-9, 0, 0, 0], "3 passed, 1 failed, 0 skipped", 1),  # a crashed scenario failed
    ],
)
def test_the_closing_count_counts_skips_as_skips(monkeypatch, capsys, returncodes, line, status):
    codes = iter(returncodes)
    monkeypatch.setattr(faults, "_prepare", lambda database_url: None)
    monkeypatch.setattr(
        faults.subprocess, "run", lambda args, **kwargs: subprocess.CompletedProcess(args, next(codes))
    )
    monkeypatch.setattr(faults.sys, "argv", ["ops.faults"])
    assert faults.main() == status
    assert capsys.readouterr().out.splitlines()[-1] == line


def test_a_scenario_that_cannot_run_here_exits_as_skipped(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(faults.SCENARIOS, "needs-postgres", lambda database_url, workdir: None)
    monkeypatch.setattr(
        faults.sys, "argv", ["ops.faults", "--one", "needs-postgres", "sqlite://", str(tmp_path)]
    )
    assert faults.main() == faults.SKIPPED
    assert "result: SKIP" in capsys.readouterr().out
