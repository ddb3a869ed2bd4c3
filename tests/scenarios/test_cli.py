"""python -m scenarios: validate, run, paths, catalogue; exit codes 0 ok, 1 invalid, 2 usage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import ACTIONS, PARTNER_TYPES, list_library, load_scenario, run_seeds
from scenarios.__main__ import main

from .conftest import MINIMAL, scenario_text

ROOT = Path(__file__).resolve().parents[2]

# The tiny scenario with a critical option (a claim to the press), a contrast path that takes
# it, and few reference runs so the tests stay quick.
CRITICAL = scenario_text(
    **{
        "      - {label: Nothing}\n": (
            "      - {label: Nothing}\n"
            "      - {label: Tell the press it was a robbery, points: 2,"
            " critical: It states as fact what nobody knows yet.,"
            " actions: [{do: police_statement, content: claim}]}\n"
        ),
        'baseline_path: "1b,2c"': (
            'baseline_path: "1b,2c"\n'
            "contrast_paths:\n"
            '  a claim to the press: {kind: false_statement, path: "1a,2d"}\n'
            "grading: {reference_runs: 20}"
        ),
    }
)


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL)
    return path


@pytest.fixture
def critical_file(tmp_path):
    path = tmp_path / "critical.yaml"
    path.write_text(CRITICAL)
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
    assert "baseline" in out and "expert" in out and "position" in out
    assert plot.stat().st_size > 1000


def test_run_text_gives_the_outcome_pass_rate_and_the_critical_errors(critical_file, capsys):
    assert (
        main(["run", str(critical_file), "--choose", "a claim to the press", "--runs", "6", "--quiet"]) == 0
    )
    out = capsys.readouterr().out
    assert "path 1a,2d (false_statement: a claim to the press)" in out
    assert "runs passing one by one: 0%; on the outcome alone: 0%" in out  # the critical error fails both
    assert "critical errors (1): the attempt fails whatever its score" in out
    assert "  2d Tell the press it was a robbery: It states as fact what nobody knows yet." in out
    assert ": FAIL, on the outcome alone: FAIL" in out
    assert main(["run", str(critical_file), "--runs", "6", "--quiet"]) == 0
    assert "critical errors: none" in capsys.readouterr().out


def _run_json(capsys, *argv) -> dict:
    assert main(["run", *argv, "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out)  # the whole of stdout is one object


@pytest.mark.parametrize("choose", ["1a,2d", "expert"])
def test_run_json_is_one_object_with_the_grade_references_and_each_run(critical_file, capsys, choose):
    report = _run_json(capsys, str(critical_file), "--choose", choose, "--runs", "7", "--seed", "4")
    s = load_scenario(CRITICAL)
    assert report["scenario"] == {
        "slug": "tiny",
        "version": 1,
        "fingerprint": s.fingerprint,
        "title": s.title,
    }
    assert (report["runs"], report["seed"], report["pass_mark"]) == (7, 4, 70)
    grade = report["grade"]
    assert {"score", "outcome_score", "rubric_score", "passed", "outcome_passed"} <= set(grade)
    graded = ["retaliation_risk", "peak_reach", "police_trust_end"]  # the default outcomes
    assert [m["metric"] for m in grade["metrics"]] == graded
    refs = report["references"]
    assert refs["runs"] == 20 and set(refs["expert"]) == set(refs["baseline"]) == set(graded)
    for m in grade["metrics"]:
        assert (m["baseline"], m["expert"]) == (refs["baseline"][m["metric"]], refs["expert"][m["metric"]])
        assert {"position", "score", "weight", "separated"} <= set(m)
    for name in ("retaliations", "peak_reach", "retaliation_risk", "leaks"):
        m = report["metrics"][name]
        assert set(m) == {"mean", "ci95", "p10", "p50", "p90"} and m["p10"] <= m["p50"] <= m["p90"]
    runs = report["per_run"]
    assert [r["seed"] for r in runs] == run_seeds(4, 7)
    assert all(set(r["metrics"]) == set(graded) for r in runs)
    assert report["pass_rate"] == sum(r["passed"] for r in runs) / 7
    assert report["outcome_pass_rate"] == sum(r["passed_on_outcome"] for r in runs) / 7
    if choose == "expert":
        assert report["path"] == "1a,2a+b" and report["path_name"] == "expert"
        assert report["critical_errors"] == [] and all(r["critical_errors"] == 0 for r in runs)
    else:
        assert report["path_name"] == "false_statement: a claim to the press"
        assert report["critical_errors"] == [
            {
                "decision": 2,
                "option": "d",
                "label": "Tell the press it was a robbery",
                "reason": "It states as fact what nobody knows yet.",
            }
        ]
        assert not grade["passed"] and not grade["outcome_passed"] and report["pass_rate"] == 0
        assert all(r["critical_errors"] == 1 and not r["passed_on_outcome"] for r in runs)


def test_run_text_rates_match_the_json_when_the_outcome_alone_would_pass(critical_file, capsys):
    # no call, then a correction: few rubric points, a fair outcome
    args = [str(critical_file), "--choose", "1b,2a", "--runs", "6", "--quiet"]
    report = _run_json(capsys, *args)
    rate, outcome_rate = report["pass_rate"], report["outcome_pass_rate"]
    assert rate < outcome_rate  # what this test is about
    assert main(["run", *args]) == 0
    out = capsys.readouterr().out
    assert f"runs passing one by one: {rate:.0%}; on the outcome alone: {outcome_rate:.0%}" in out


def test_run_json_with_bad_decisions_prints_nothing_on_stdout_and_exits_1(critical_file, capsys):
    assert main(["run", str(critical_file), "--choose", "1a,2z", "--runs", "2", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and 'unknown option "z"' in captured.err


def test_run_with_bad_choice_is_invalid(tiny_file, capsys):
    assert main(["run", str(tiny_file), "--choose", "1a,2z", "--runs", "2"]) == 1
    assert 'unknown option "z"' in capsys.readouterr().err


def test_paths_ranks_every_path(tiny_file, capsys):
    assert main(["paths", str(tiny_file), "--runs", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "all 14 paths" in out  # 2 options x 7 non-empty sets of 3
    assert "expert" in out and "baseline" in out


def test_paths_show_the_outcome_pass_rate_and_mark_critical_errors(critical_file, capsys):
    assert main(["paths", str(critical_file), "--runs", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("rank"))
    assert "outc. ok" in header and "crit." in header
    rows = [line.split() for line in out.splitlines() if line[:4].strip().isdigit()]
    assert len(rows) == 2 * 15  # 2 options, then 15 non-empty sets of 4
    marked = {row[1] for row in rows if "!1" in row}
    # every path taking option 2d, the claim: any set with d at point 2
    sets = ("d", "a+d", "b+d", "c+d", "a+b+d", "a+c+d", "b+c+d", "a+b+c+d")
    assert marked == {f"1{a},2{b}" for a in "ab" for b in sets}
    # the two rates are two columns: some path's outcome alone passes in more runs than its score
    assert any(int(row[6].rstrip("%")) < int(row[7].rstrip("%")) for row in rows)
    claim = next(row for row in rows if row[1] == "1a,2d")
    assert claim[5] == "no" and claim[7] == "0%"  # pass, then the outcome-only rate
    assert "false_statement: a claim to the press" in out


def test_catalogue_json_is_built_from_the_registries(capsys):
    assert main(["catalogue", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    types = {t["name"]: t for t in data["partner_types"]}
    assert list(types) == list(PARTNER_TYPES)
    assert [a["name"] for a in data["actions"]] == list(ACTIONS)
    pastor, manager = types["faith_leader"], types["place_manager"]
    assert (pastor["delay_hours"], pastor["discretion"]) == (2.0, PARTNER_TYPES["faith_leader"].discretion)
    assert pastor["capabilities"] == ["can_mediate"] and pastor["role"] and pastor["label"] == "Faith leader"
    assert "mediation" in pastor["actions"] and "guardianship" not in pastor["actions"]
    assert "guardianship" in manager["actions"] and "mediation" not in manager["actions"]
    assert "focused_deterrence" in types["prosecutor"]["actions"]
    assert "request_analysis" in types["crime_analyst"]["actions"]
    for t in types.values():  # any partner can be called, followed up and asked to correct
        assert {"contact_partner", "follow_up", "ask_correction", "joint_message"} <= set(t["actions"])
        assert "enforcement" not in t["actions"] and "police_statement" not in t["actions"]
    assert {"enforcement", "police_statement", "guardianship"} <= set(data["police_actions"])
    assert "mediation" not in data["police_actions"]
    actions = {a["name"]: a for a in data["actions"]}
    share = next(p for p in actions["contact_partner"]["params"] if p["name"] == "share")
    assert share["kind"] == "kinds" and not share["required"] and share["default"] == ["facts", "concerns"]
    assert "operational" in share["choices"]
    strength = next(p for p in actions["mediation"]["params"] if p["name"] == "strength")
    assert strength["range"] == [0, 1] and strength["default"] == 0.7
    partner = next(p for p in actions["mediation"]["params"] if p["name"] == "partner")
    assert partner["needs"] == "can_mediate" and partner["required"]
    assert actions["mediation"]["delay"] and actions["mediation"]["objectives"] == [2]


def test_catalogue_text_lists_every_type_and_action(capsys):
    assert main(["catalogue"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PARTNER_TYPES)
    lines = out.splitlines()
    assert all(any(line.startswith(f"{name}  (acts ") for line in lines) for name in ACTIONS)
    assert "police actions: " in out


def test_usage_errors_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "scenarios", "run"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "usage" in result.stderr
