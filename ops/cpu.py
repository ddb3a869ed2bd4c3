"""CPU seconds used so far by each part of the load test's system, read from /proc.

`python -m ops.cpu > before.json` ... `python -m ops.cpu before.json` prints what each part
used in between (processes that ended in between are not counted).
"""

from __future__ import annotations

import json
import os
import sys

PARTS = (
    ("gunicorn", "web (gunicorn)"),
    ("celery", "simulation workers (celery)"),
    ("postgres", "postgresql"),
    ("locust", "load generator (locust)"),
    ("redis-server", "redis"),
)


def snapshot() -> dict[str, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        for needle, part in PARTS:
            if needle in command:
                used[part] = used.get(part, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
                break
    return used


def main() -> None:
    now = snapshot()
    if len(sys.argv) < 2:
        json.dump(now, sys.stdout)
        return
    with open(sys.argv[1]) as f:
        before = json.load(f)
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0
    cores = os.cpu_count() or 1
    print(
        f"CPU seconds used during the run ({cores} cores x {seconds:.0f} s = {cores * seconds:.0f} available):"
    )
    for part, total in sorted(now.items(), key=lambda kv: -(kv[1] - before.get(kv[0], 0))):
        print(f"  {part:<30} {total - before.get(part, 0):7.1f} s")


if __name__ == "__main__":
    main()
