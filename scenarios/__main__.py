"""Command line: ``python -m scenarios validate|run|paths|catalogue``.

Exit codes: 0 ok, 1 invalid scenario or decisions (or runs past the event budget), 2 usage.
With ``run --json`` and ``catalogue --json``, stdout holds one JSON object and nothing else
(progress and errors go to stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from . import adaptive
from .catalogue import CAPABILITIES, OBJECTIVES, PARTNER_TYPES, PartnerType
from .decisions import DecisionError, format_choose, parse_choose
from .engine import EventBudgetExceeded, monte_carlo, run_seeds
from .grading import Grade, References, grade, grade_each_run, references
from .model.actions import ACTIONS, ActionType
from .paths import all_paths, enumerate_paths, named_paths  # noqa: F401  (all_paths: kept importable here)
from .schema import Scenario, ScenarioError, load_scenario


class _Progress:
    """Progress on stderr for long runs (only when there is something to wait for)."""

    def __init__(self, label: str, enabled: bool):
        self.label = label
        self.enabled = enabled
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        end = "\n" if done == total else ""
        print(f"\r{self.label}: {done}/{total} runs, {elapsed:.1f}s", end=end, file=sys.stderr, flush=True)


def _load(path: str) -> Scenario:
    return load_scenario(Path(path))


def cmd_validate(args) -> int:
    status = 0
    for name in args.files:
        try:
            s = _load(name)
        except ScenarioError as exc:
            status = 1
            print(f"{name}: invalid, {len(exc.issues)} problem(s)")
            for issue in exc.issues:
                print(f"  {issue}")
            continue
        print(
            f"{name}: ok: {s.slug} v{s.version}, {s.population} people, {len(s.decisions)} decision points, "
            f"fingerprint {s.fingerprint[:12]}"
        )
    return status


def _decisions(s: Scenario, choose: str | None) -> list[list[str]]:
    """``choose``: expert (the default), baseline, a late or contrast path's name (or its label,
    e.g. "late: <name>" or "oversharing: <name>"), or decisions like "1a,2b+c"."""
    if choose is None or choose == "expert":
        return s.expert_path
    if choose == "baseline":
        return s.baseline_path
    if choose in s.late_paths:
        return s.late_paths[choose]
    if choose in s.contrast_paths:
        return s.contrast_paths[choose][1]
    named = named_paths(s)
    if choose in named:
        return named[choose]
    return parse_choose(s, choose)


def _path_name(s: Scenario, decisions: list[list[str]]) -> str | None:
    key = format_choose(s, decisions)
    for label, path in named_paths(s).items():
        if format_choose(s, path) == key:
            return label
    return None


def _metric_table(dist) -> list[str]:
    lines = [f"{'metric':28s} {'mean':>9s} {'95% CI':>21s} {'p10':>9s} {'p50':>9s} {'p90':>9s}"]
    for name, m in dist.metrics.items():
        ci = f"[{m.ci95[0]:.3f}, {m.ci95[1]:.3f}]"
        lines.append(f"{name:28s} {m.mean:9.3f} {ci:>21s} {m.p10:9.3f} {m.p50:9.3f} {m.p90:9.3f}")
    return lines


def _graded(s: Scenario, g: Grade) -> list[str]:
    """The graded metrics: the scenario's outcomes, in its order."""
    return [m.metric for m in g.metrics]


def _critical(g: Grade) -> list[dict[str, Any]]:
    return [
        {"decision": e.decision + 1, "option": e.option, "label": e.label, "reason": e.reason}
        for e in g.critical_errors
    ]


def _finite(x: float) -> float | None:
    return x if x == x and abs(x) != float("inf") else None


def _stopped_words(g: Grade) -> str:
    if g.stopped == "settled":
        return " (adaptive: stopped once the score and the verdict were settled)"
    if g.stopped == "cap":
        return " (adaptive: the most runs allowed, the score being close to the pass mark)"
    return ""


def _run_report(s: Scenario, decisions, args, dist, g: Grade, refs: References, each: list[Grade]) -> dict:
    graded = _graded(s, g)
    seeds = run_seeds(args.seed, dist.runs)
    per_run = []
    for i, one in enumerate(each):
        per_run.append(
            {
                "seed": seeds[i],
                "score": one.score,
                "outcome_score": one.outcome_score,
                "passed": one.passed,
                "passed_on_outcome": one.outcome_passed,
                "critical_errors": len(one.critical_errors),
                "metrics": {m: dist.per_run[m][i] for m in graded},
            }
        )
    runs = max(1, len(each))
    return {
        "scenario": {"slug": s.slug, "version": s.version, "fingerprint": s.fingerprint, "title": s.title},
        "path": format_choose(s, decisions),
        "path_name": _path_name(s, decisions),
        "runs": dist.runs,
        "seed": args.seed,
        "pass_mark": g.pass_mark,
        # "settled" or "cap" when the adaptive rule chose the runs (no --runs), else "fixed"
        "stopped": g.stopped or "fixed",
        "grade": {
            "score": g.score,
            "interval": list(g.interval) if g.interval else None,
            "outcome_score": g.outcome_score,
            "rubric_score": g.rubric_score,
            "passed": g.passed,
            "outcome_passed": g.outcome_passed,
            "rubric_points": g.rubric_points,
            "rubric_max": g.rubric_max,
            "rubric_weight": g.rubric_weight,
            "outcome_weight": g.outcome_weight,
            "metrics": [
                {
                    "metric": m.metric,
                    "value": m.value,
                    "baseline": m.baseline,
                    "expert": m.expert,
                    "position": m.position,
                    "weight": m.weight,
                    "score": m.score,
                    "scored": m.scored,
                    "separated": m.separated,
                }
                for m in g.metrics
            ],  # fmt: skip
        },
        "critical_errors": _critical(g),
        "references": {
            "runs": refs.runs,
            "seed": refs.seed,
            "expert": {m: refs.expert[m] for m in graded},
            "baseline": {m: refs.baseline[m] for m in graded},
        },
        "metrics": {
            name: {
                "mean": m.mean,
                "ci95": [_finite(m.ci95[0]), _finite(m.ci95[1])],
                "p10": m.p10,
                "p50": m.p50,
                "p90": m.p90,
            }
            for name, m in dist.metrics.items()
        },  # fmt: skip
        "pass_rate": sum(x.passed for x in each) / runs,
        "outcome_pass_rate": sum(x.outcome_passed for x in each) / runs,
        "per_run": per_run,
    }


def cmd_run(args) -> int:
    s = _load(args.file)
    decisions = _decisions(s, args.choose)
    progress = _Progress(s.slug, (args.runs or s.grading.adaptive.cap) >= 50 and not args.quiet)
    refs = references(s)
    if args.runs is None:  # as Ripple grades: the adaptive rule decides how many runs
        g, dist = adaptive.grade(s, decisions, args.seed, refs, workers=args.workers, progress=progress)
    else:
        dist = monte_carlo(s, decisions, args.runs, args.seed, workers=args.workers, progress=progress)
        g = grade(s, decisions, dist, refs)
    each = grade_each_run(s, decisions, dist, refs)
    rate = sum(x.passed for x in each) / dist.runs
    outcome_rate = sum(x.outcome_passed for x in each) / dist.runs
    if args.json:
        if args.plot:
            _plot(s, dist, args.plot)
        print(json.dumps(_run_report(s, decisions, args, dist, g, refs, each), allow_nan=False))
        return 0
    name = _path_name(s, decisions)
    print(f"{s.title} ({s.slug} v{s.version})")
    print(
        f"path {format_choose(s, decisions)}{f' ({name})' if name else ''}, {dist.runs} runs"
        f"{_stopped_words(g)}, seed {args.seed}"
    )
    print()
    print("\n".join(_metric_table(dist)))
    print()
    print(f"rubric  {g.rubric_score:6.1f}  ({g.rubric_points:g} of {g.rubric_max:g} points)")
    print(f"outcome against the references ({refs.runs} runs each of the expert and baseline paths):")
    for m in g.metrics:
        where = f"position {m.position:5.2f}"
        if not m.separated:
            where += ", references closer than its scale: gap widened"
        print(
            f"outcome {m.score:6.1f}  {m.metric} mean {m.value:.3f} "
            f"(baseline {m.baseline:.3f}, expert {m.expert:.3f}, {where}, weight {m.weight:g})"
        )
    print(f"outcome {g.outcome_score:6.1f}  weighted")
    verdict = "PASS" if g.passed else "FAIL"
    outcome_verdict = "PASS" if g.outcome_passed else "FAIL"
    interval = f" (95% interval {g.interval[0]:.1f}-{g.interval[1]:.1f})" if g.interval else ""
    print(
        f"score   {g.score:6.1f}{interval}  pass mark {g.pass_mark:g}: {verdict}, "
        f"on the outcome alone: {outcome_verdict}"
    )
    print(f"runs passing one by one: {rate:.0%}; on the outcome alone: {outcome_rate:.0%}")
    if g.critical_errors:
        print(f"critical errors ({len(g.critical_errors)}): the attempt fails whatever its score")
        for e in g.critical_errors:
            print(f"  {e.decision + 1}{e.option} {e.label}: {e.reason}")
    else:
        print("critical errors: none")
    if args.feedback:
        print()
        for c in g.choices:
            print(f"{c.decision + 1}{c.option} ({c.points:g} pts): {c.label}")
            print("   " + c.feedback.strip().replace("\n", "\n   "))
    if args.plot:
        _plot(s, dist, args.plot)
        print(f"\nplot written to {args.plot}")
    return 0


def _plot(s: Scenario, dist, out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    for ax, (name, title) in zip(
        axes,
        [
            ("reach", "share believing the rumour"),
            ("incidents", "incidents (cumulative)"),
            ("police_trust", "trust in police"),
        ],
        strict=True,
    ):
        band = dist.bands[name]
        ax.fill_between(dist.times, band["p10"], band["p90"], alpha=0.25, label="p10-p90")
        ax.plot(dist.times, band["p50"], label="median")
        ax.plot(dist.times, band["mean"], linestyle="--", label="mean")
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)
    for d in s.decisions:
        for ax in axes:
            ax.axvline(d.at_hours, color="grey", linewidth=0.8, linestyle=":")
    axes[0].legend(loc="upper right")
    axes[-1].set_xlabel(f"hours after {s.start_clock.event}")
    fig.suptitle(f"{s.title}\npath {format_choose(s, dist.decisions)}, {dist.runs} runs")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def cmd_paths(args) -> int:
    s = _load(args.file)
    found = enumerate_paths(s, args.sample, args.seed)
    chosen, labels, note = found.paths, found.labels, found.note
    print(f"{s.title} ({s.slug} v{s.version}): {note}, {args.runs} runs each, seed {args.seed}", flush=True)
    refs = references(s)
    rows = []
    start = time.perf_counter()
    for i, path in enumerate(chosen, 1):
        dist = monte_carlo(s, path, args.runs, args.seed, workers=args.workers)
        g = grade(s, path, dist, refs)
        each = grade_each_run(s, path, dist, refs)
        rate = sum(x.passed for x in each) / dist.runs
        outcome_rate = sum(x.outcome_passed for x in each) / dist.runs
        rows.append((g.score, path, g, rate, outcome_rate, dist))
        if not args.quiet:
            print(
                f"\rpaths: {i}/{len(chosen)}, {time.perf_counter() - start:.1f}s",
                end="\n" if i == len(chosen) else "",
                file=sys.stderr,
                flush=True,
            )
    rows.sort(key=lambda r: (-r[0], format_choose(s, r[1])))
    print(
        f"{'rank':>4s}  {'path':22s} {'score':>6s} {'rubric':>6s} {'outcome':>7s} {'pass':>4s} "
        f"{'runs ok':>7s} {'outc. ok':>8s} {'crit.':>5s} {'retal.':>6s} {'reach':>6s}  name"
    )
    for rank, (score, path, g, rate, outcome_rate, dist) in enumerate(rows, 1):
        key = format_choose(s, path)
        critical = f"!{len(g.critical_errors)}" if g.critical_errors else ""
        print(
            f"{rank:4d}  {key:22s} {score:6.1f} {g.rubric_score:6.1f} {g.outcome_score:7.1f} "
            f"{'yes' if g.passed else 'no':>4s} {rate:7.0%} {outcome_rate:8.0%} {critical:>5s} "
            f"{dist.metrics['retaliations'].mean:6.2f} {dist.metrics['peak_reach'].mean:6.2f}  {labels.get(key, '')}"
        )
    print(
        "runs ok: share of runs passing one by one; outc. ok: on the outcome alone; "
        "crit.: !n = n critical errors, the path fails whatever its score"
    )
    return 0


# --- the catalogue: partner types and actions, built from the registries ------------------


def _partner_params(a: ActionType) -> list:
    return [p for p in a.params.values() if p.kind in ("partner", "partners")]


def actions_for(t: PartnerType) -> list[str]:
    """Actions a partner of type ``t`` can be named in: those with a partner parameter none of
    whose partner parameters needs a capability the type lacks."""
    return [
        a.name
        for a in ACTIONS.values()
        if _partner_params(a) and all(p.needs is None or getattr(t, p.needs) for p in _partner_params(a))
    ]


def police_actions() -> list[str]:
    """Actions police take alone: no partner parameter, or only an optional one (guardianship)."""
    return [a.name for a in ACTIONS.values() if not any(p.required for p in _partner_params(a))]


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def catalogue() -> dict[str, Any]:
    """Every partner type and every action, as one JSON-friendly object."""
    return {
        "partner_types": [
            {
                "name": t.name,
                "label": t.label,
                "delay_hours": t.delay_hours,
                "discretion": t.discretion,
                "role": t.role,
                "capabilities": list(t.capabilities),
                "actions": actions_for(t),
            }
            for t in PARTNER_TYPES.values()
        ],  # fmt: skip
        "police_actions": police_actions(),
        "capabilities": list(CAPABILITIES),
        "actions": [
            {
                "name": a.name,
                "summary": a.summary,
                "delay": a.delay,
                "objectives": list(a.objectives),
                "params": [
                    {
                        "name": name,
                        "kind": p.kind,
                        "required": p.required,
                        "default": _jsonable(p.default),
                        "range": None if p.lo is None and p.hi is None else [p.lo, p.hi],
                        "choices": list(p.choices),
                        "needs": p.needs,
                        "doc": p.doc,
                    }
                    for name, p in a.params.items()
                ],
            }
            for a in ACTIONS.values()
        ],  # fmt: skip
        "objectives": {str(k): v for k, v in OBJECTIVES.items()},
    }


def _param_line(name: str, p) -> str:
    bits = [p.kind, "required" if p.required else "optional"]
    if not p.required and p.default is not None:
        d = p.default
        bits.append(
            "default "
            + (", ".join(d) if isinstance(d, tuple) else f"{d:g}" if isinstance(d, float) else str(d))
        )
    if p.lo is not None or p.hi is not None:
        bits.append(f"{p.lo:g}..{p.hi:g}")
    if p.choices:
        bits.append(("any of " if p.kind == "kinds" else "one of ") + ", ".join(p.choices))
    if p.needs:
        bits.append(f"needs {p.needs}")
    line = f"    {name}: {'; '.join(bits)}"
    return line + (f". {p.doc}" if p.doc else "")


def cmd_catalogue(args) -> int:
    data = catalogue()
    if args.json:
        print(json.dumps(data))
        return 0
    print("Partner types")
    print(f"{'type':22s} {'delay h':>7s} {'discr.':>6s}  {'capabilities':24s} actions")
    for t in data["partner_types"]:
        caps = ", ".join(c.removeprefix("can_") for c in t["capabilities"]) or "-"
        print(
            f"{t['name']:22s} {t['delay_hours']:7g} {t['discretion']:6.2f}  {caps:24s} {', '.join(t['actions'])}"
        )
        print(f"{'':22s} {t['label']}: {t['role']}")
    print()
    print("police actions: " + ", ".join(data["police_actions"]))
    print()
    print("Actions")
    for a in ACTIONS.values():
        objectives = ", ".join(str(o) for o in a.objectives) or "-"
        print(f"{a.name}  (acts {a.delay or 'at once'}; objectives {objectives})")
        for line in textwrap.wrap(a.summary, 92):
            print(f"    {line}")
        for name, p in a.params.items():
            print(_param_line(name, p))
        print()
    print("Objectives: " + "; ".join(f"{k} {v}" for k, v in OBJECTIVES.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scenarios", description="Validate, run and calibrate Ripple scenarios."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check scenario files; lists every problem with its line")
    v.add_argument("files", nargs="+", metavar="FILE")
    r = sub.add_parser("run", help="Monte Carlo one decision path: metrics with intervals, and the grade")
    r.add_argument("file", metavar="FILE")
    r.add_argument(
        "--choose",
        help='decisions like "1a,2c,3b+d", or expert / baseline / a late or contrast path name (default: expert)',
    )
    r.add_argument(
        "--runs",
        type=int,
        default=None,
        help="exactly N runs (default: as Ripple grades, the adaptive rule of the scenario's grading.adaptive)",
    )
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--workers", type=int, default=None)
    r.add_argument("--plot", metavar="OUT.png")
    r.add_argument("--feedback", action="store_true", help="print the feedback for each choice")
    r.add_argument("--quiet", action="store_true", help="no progress on stderr")
    r.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: the grade, metrics, references and each run",
    )
    p = sub.add_parser("paths", help="every decision path (or a sample), ranked by expected score")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--sample",
        type=int,
        default=60,
        metavar="K",
        help="when there are more than K paths, draw K at random and add the named paths not drawn (default 60)",
    )
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--quiet", action="store_true")
    c = sub.add_parser("catalogue", help="every partner type and action, with what each can do")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (
        (getattr(args, "runs", None) or 1) < 1
        or getattr(args, "runs", None) == 0
        or (getattr(args, "workers", None) or 1) < 1
        or getattr(args, "sample", 1) < 1
    ):
        parser.error("--runs, --workers and --sample must be at least 1")
    try:
        commands = {"validate": cmd_validate, "run": cmd_run, "paths": cmd_paths, "catalogue": cmd_catalogue}
        return commands[args.command](args)
    except ScenarioError as exc:
        print(f"{getattr(args, 'file', '')}: invalid, {len(exc.issues)} problem(s)", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    except DecisionError as exc:
        print(f"invalid decisions: {exc}", file=sys.stderr)
        return 1
    except EventBudgetExceeded as exc:  # valid numbers whose runs explode
        print(f"{getattr(args, 'file', '')}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head or similar
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
