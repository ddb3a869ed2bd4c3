"""Command line: ``python -m scenarios validate|run|paths``.

Exit codes: 0 ok, 1 invalid scenario or decisions (or runs past the event budget), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .decisions import DecisionError, format_choose, parse_choose
from .engine import EventBudgetExceeded, monte_carlo
from .grading import grade, grade_each_run
from .paths import all_paths, enumerate_paths  # noqa: F401  (all_paths: kept importable here)
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
    if choose is None or choose == "expert":
        return s.expert_path
    if choose == "baseline":
        return s.baseline_path
    if choose in s.late_paths:
        return s.late_paths[choose]
    return parse_choose(s, choose)


def _metric_table(dist) -> list[str]:
    lines = [f"{'metric':28s} {'mean':>9s} {'95% CI':>21s} {'p10':>9s} {'p50':>9s} {'p90':>9s}"]
    for name, m in dist.metrics.items():
        ci = f"[{m.ci95[0]:.3f}, {m.ci95[1]:.3f}]"
        lines.append(f"{name:28s} {m.mean:9.3f} {ci:>21s} {m.p10:9.3f} {m.p50:9.3f} {m.p90:9.3f}")
    return lines


def cmd_run(args) -> int:
    s = _load(args.file)
    decisions = _decisions(s, args.choose)
    progress = _Progress(s.slug, args.runs >= 50 and not args.quiet)
    dist = monte_carlo(s, decisions, args.runs, args.seed, workers=args.workers, progress=progress)
    g = grade(s, decisions, dist)
    print(f"{s.title} ({s.slug} v{s.version})")
    print(f"path {format_choose(s, decisions)}, {args.runs} runs, seed {args.seed}")
    print()
    print("\n".join(_metric_table(dist)))
    print()
    print(f"rubric  {g.rubric_score:6.1f}  ({g.rubric_points:g} of {g.rubric_max:g} points)")
    for m in g.metrics:
        print(
            f"outcome {m.score:6.1f}  {m.metric} mean {m.value:.3f} (good {m.good:g}, bad {m.bad:g}, weight {m.weight:g})"
        )
    print(f"outcome {g.outcome_score:6.1f}  weighted")
    rate = sum(x.passed for x in grade_each_run(s, decisions, dist)) / dist.runs
    verdict = "PASS" if g.passed else "FAIL"
    print(
        f"score   {g.score:6.1f}  pass mark {g.pass_mark:g}: {verdict}  (runs passing one by one: {rate:.0%})"
    )
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
    rows = []
    start = time.perf_counter()
    for i, path in enumerate(chosen, 1):
        dist = monte_carlo(s, path, args.runs, args.seed, workers=args.workers)
        g = grade(s, path, dist)
        rate = sum(x.passed for x in grade_each_run(s, path, dist)) / dist.runs
        rows.append((g.score, path, g, rate, dist))
        if not args.quiet:
            print(
                f"\rpaths: {i}/{len(chosen)}, {time.perf_counter() - start:.1f}s",
                end="\n" if i == len(chosen) else "",
                file=sys.stderr,
                flush=True,
            )
    rows.sort(key=lambda r: (-r[0], format_choose(s, r[1])))
    print(
        f"{'rank':>4s}  {'path':22s} {'score':>6s} {'rubric':>6s} {'outcome':>7s} {'pass':>4s} {'runs ok':>7s} {'retal.':>6s} {'reach':>6s}  name"
    )
    for rank, (score, path, g, rate, dist) in enumerate(rows, 1):
        key = format_choose(s, path)
        print(
            f"{rank:4d}  {key:22s} {score:6.1f} {g.rubric_score:6.1f} {g.outcome_score:7.1f} {'yes' if g.passed else 'no':>4s} "
            f"{rate:7.0%} {dist.metrics['retaliations'].mean:6.2f} {dist.metrics['peak_reach'].mean:6.2f}  {labels.get(key, '')}"
        )
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
        help='decisions like "1a,2c,3b+d", or expert / baseline / a late path name (default: expert)',
    )
    r.add_argument("--runs", type=int, default=200)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--workers", type=int, default=None)
    r.add_argument("--plot", metavar="OUT.png")
    r.add_argument("--feedback", action="store_true", help="print the feedback for each choice")
    r.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p = sub.add_parser("paths", help="every decision path (or a sample), ranked by expected score")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--sample", type=int, default=60, metavar="K", help="sample K paths when there are more (default 60)"
    )
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--quiet", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (
        getattr(args, "runs", 1) < 1
        or (getattr(args, "workers", None) or 1) < 1
        or getattr(args, "sample", 1) < 1
    ):
        parser.error("--runs, --workers and --sample must be at least 1")
    try:
        return {"validate": cmd_validate, "run": cmd_run, "paths": cmd_paths}[args.command](args)
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
