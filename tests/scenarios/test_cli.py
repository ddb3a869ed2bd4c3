"""python -m scenarios: validate, run, paths; exit codes 0 ok, 1 invalid, 2 usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import list_library
from scenarios.__main__ import main

from .conftest import MINIMAL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL)
    return path


def test_validate_library_ok(capsys):
    assert main(["validate", *map(str, list_library())]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok: ") == len(list_library())


def test_validate_reports_every_problem_with_lines(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINIMAL.replace("partner: pastor}]}", "partner: pastr}]}").replace("size: 100", "size: lots")
    )
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "3 problem(s)" in out
    assert 'unknown partner "pastr"; known: pastor (line' in out
    assert "community.groups[2].size: expected a whole number, got text (line 9)" in out


def test_run_prints_metrics_and_grade(tiny_file, capsys, tmp_path):
    plot = tmp_path / "out.png"
    assert (
        main(
            [
                "run",
                str(tiny_file),
                "--choose",
                "1a,2a+b",
                "--runs",
                "8",
                "--seed",
                "1",
                "--plot",
                str(plot),
                "--feedback",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "retaliations" in out and "95% CI" in out and "pass mark 70" in out
    assert plot.stat().st_size > 1000


def test_run_with_bad_choice_is_invalid(tiny_file, capsys):
    assert main(["run", str(tiny_file), "--choose", "1a,2z", "--runs", "2"]) == 1
    assert 'unknown option "z"' in capsys.readouterr().err


def test_paths_ranks_every_path(tiny_file, capsys):
    assert main(["paths", str(tiny_file), "--runs", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "all 14 paths" in out  # 2 options x 7 non-empty sets of 3
    assert "expert" in out and "baseline" in out


def test_usage_errors_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "scenarios", "run"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "usage" in result.stderr
