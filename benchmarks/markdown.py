"""Markdown rendering (issue 13): hostile inputs at two sizes, and a real library lesson.

Python-Markdown took 17 s on 2,000 backticks and 42 s on 20,000 `[`. Each hostile input below
is rendered (markdown-it-py + nh3, as a lesson is) at SMALL and at LARGE = 10 x SMALL
characters; a linear renderer takes about 10 times as long on the larger one, a quadratic one
about 100 times. Prints medians; asserts nothing. The tests (tests/lms/test_rendering.py)
render the same inputs and check a deterministic work measure instead of time.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

SMALL, LARGE = 10_000, 100_000


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _lines(line: Callable[[int], str]) -> Callable[[int], str]:
    def build(n: int) -> str:
        out, size, i = [], 0, 0
        while size < n:
            out.append(line(i))
            size += len(out[-1])
            i += 1
        return "".join(out)[:n]

    return build


def _unmatched_backtick_runs(n: int) -> str:
    # runs of 1, 2, 3 ... backticks: no run closes another, the classic quadratic case
    out, size, k = [], 0, 1
    while size < n:
        out.append("`" * (k % 64 + 1) + " ")
        size += len(out[-1])
        k += 1
    return "".join(out)[:n]


# name -> a Markdown text of about n characters that is costly for a naive parser
HOSTILE: dict[str, Callable[[int], str]] = {
    "backticks": _repeat("`"),
    "backtick runs": _unmatched_backtick_runs,
    "[ (link openers)": _repeat("["),
    "[a]( (unclosed links)": _repeat("[a]("),
    "![ (image openers)": _repeat("!["),
    "*a (emphasis openers)": _repeat("*a"),
    "_a (emphasis openers)": _repeat("_a"),
    "**a *b ***c (emphasis runs)": _repeat("**a *b ***c _d __e "),
    "< (tag openers)": _repeat("<"),
    "<a (unclosed tags)": _repeat("<a "),
    "> (nested quote, one line)": _repeat("> "),
    "> nested quotes, line by line": _lines(lambda i: ">" * (i % 40 + 1) + " quote\n"),
    "- (nested list, one line)": _repeat("- "),
    "- nested lists, line by line": _lines(lambda i: "  " * (i % 40) + "- item\n"),
    "| long table": lambda n: ("| a | b | c |\n|---|:-:|--:|\n" + "| x | *y* | `z` |\n" * (n // 18 + 1))[:n],
}


def hostile(name: str, n: int) -> str:
    """The hostile input `name` at about `n` characters."""
    return HOSTILE[name](n)


def _median_seconds(render: Callable[[str], object], text: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()  # start each run from the same heap: a collection mid-run is most of the noise
        started = time.perf_counter()
        render(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    from benchmarks._app import bench_app
    from lms.course_format import load_builtin_courses
    from lms.rendering import render_markdown

    app = bench_app()
    with app.test_request_context():
        print(f"median render time (markdown-it-py + nh3) at {SMALL:,} and {LARGE:,} characters")
        print(f"{'input':32s} {'small':>9s} {'large':>9s} {'ratio':>6s}  (linear: ~10)")
        worst = 0.0
        for name in HOSTILE:
            small = _median_seconds(render_markdown, hostile(name, SMALL), 3)
            large = _median_seconds(render_markdown, hostile(name, LARGE), 3)
            worst = max(worst, large / max(small, 1e-9))
            print(f"{name:32s} {small * 1000:7.1f}ms {large * 1000:7.1f}ms {large / max(small, 1e-9):6.1f}")
        print(f"largest ratio: {worst:.1f} (a quadratic parser would show ~100)")
        lessons = [
            item.body for spec in load_builtin_courses().values() for _, item in spec.items() if item.body
        ]
        longest = max(lessons, key=len)
        one = _median_seconds(render_markdown, longest, 21)
        print(f"longest library lesson ({len(longest):,} characters): {one * 1000:.2f} ms per render")
        print("a published lesson is rendered once per process; later views reuse the HTML")


if __name__ == "__main__":
    main()
