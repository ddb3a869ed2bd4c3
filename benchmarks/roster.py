"""Roster import at 10,000 rows (issue 6): dry run, apply, and re-import of the same file.

Runs on an in-memory SQLite database. The baseline is parsing and validating the CSV alone
(no database), measured in the same run, so the ratios show what the database work costs.
Prints; asserts nothing.
"""

from __future__ import annotations

import statistics
import time

ROWS = 10_000


def make_csv(rows: int, units: list[str]) -> bytes:
    lines = ["badge_number,name,email,rank,unit,supervisor_badge,hire_date,status"]
    for i in range(rows):
        supervisor = "" if i % 10 == 0 else str(100000 + (i // 10) * 10)
        lines.append(
            f"{100000 + i},Officer {i},officer{i}@bench.test,{'Sergeant' if i % 10 == 0 else 'Officer'},"
            f"{units[i % len(units)]},{supervisor},2015-{1 + i % 12:02d}-{1 + i % 28:02d},active"
        )
    return ("\n".join(lines) + "\n").encode()


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    from benchmarks._app import bench_app
    from lms.extensions import db
    from lms.models import Agency, Role, RoleGrant, Unit, User
    from lms.services import roster_import

    app = bench_app()
    with app.app_context():
        agency = Agency(slug="bench", name="Bench PD")
        db.session.add(agency)
        db.session.flush()
        codes = [f"U{i}" for i in range(12)]
        db.session.add_all(Unit(agency_id=agency.id, code=c, name=f"Unit {c}") for c in codes)
        coordinator = User(
            agency_id=agency.id, email="coord@bench.test", name="Coordinator", badge_number="C1"
        )
        coordinator.role_grants = [RoleGrant(role=Role.COORDINATOR.value)]
        db.session.add(coordinator)
        db.session.commit()
        raw = make_csv(ROWS, codes)
        content = raw.decode()
        parse = statistics.median(timed(lambda: roster_import.read_rows(content))[0] for _ in range(3))
        dry, (record, plan) = timed(lambda: roster_import.check(coordinator, agency, "bench.csv", raw))
        assert plan.ok, plan.problems[:3]
        applied, _ = timed(lambda: roster_import.apply(coordinator, record))
        db.session.commit()
        again, (_, replan) = timed(lambda: roster_import.check(coordinator, agency, "bench.csv", raw))
        print(f"rows: {ROWS:,}")
        print(f"baseline: parse + validate the CSV alone        {parse:6.2f} s")
        print(f"dry run (plan against an empty roster)         {dry:6.2f} s  ({dry / parse:4.1f}x baseline)")
        print(
            f"apply (create {len(plan.create):,} people)                {applied:6.2f} s  ({applied / parse:4.1f}x baseline)"
        )
        print(
            f"re-import check of the same file ({replan.changes} changes)  {again:6.2f} s  ({again / parse:4.1f}x baseline)"
        )
        print("target: a 10,000-row import (dry run + apply) in seconds")


if __name__ == "__main__":
    main()
