"""The coordinator's dashboard and Today board at 10,000 officers and 200,000 assignment records.

Builds the agency with bulk inserts in an in-memory SQLite database (or the database named by
BENCH_DATABASE_URL, which must be an empty scratch database), then times the overview page,
a unit drill-down, the overdue list and the Today board with two of its lists through the app.
The baseline is a bare `SELECT count(*)` over the assignments in the same run. Prints; asserts nothing.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

OFFICERS = 10_000
ASSIGNMENTS = 200_000
REPEATS = 7


def _median_ms(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def build(db, today: date):
    from sqlalchemy import insert

    from lms.models import (
        Agency,
        Assignment,
        Certificate,
        Completion,
        Course,
        CourseVersion,
        RoleGrant,
        Unit,
        User,
    )

    rng = random.Random(7)
    agency = Agency(slug="big", name="Big City PD")
    db.session.add(agency)
    db.session.flush()
    units = []
    for d in range(4):
        division = Unit(agency_id=agency.id, code=f"D{d}", name=f"Division {d}")
        db.session.add(division)
        db.session.flush()
        for p in range(5):
            precinct = Unit(
                agency_id=agency.id, code=f"D{d}P{p}", name=f"Precinct {d}.{p}", parent_id=division.id
            )
            db.session.add(precinct)
            db.session.flush()
            units.append(precinct)
    courses = []
    for c in range(20):
        course = Course(agency_id=None, slug=f"course-{c}", title=f"Course {c}")
        db.session.add(course)
        db.session.flush()
        version = CourseVersion(
            course_id=course.id,
            number=1,
            status="published",
            content={},
            title=course.title,
            category="Community policing",
            credit_hours=2.0,
        )
        db.session.add(version)
        db.session.flush()
        courses.append((course.id, version.id))
    db.session.commit()
    ranks = ["Officer"] * 6 + ["Corporal", "Sergeant"]
    db.session.execute(insert(User), [
        {"agency_id": agency.id, "email": f"o{i}@big.test", "name": f"Officer {i}", "badge_number": str(i),
         "rank": rng.choice(ranks), "unit_id": units[i % len(units)].id, "active": True,
         "created_at": datetime.now(UTC)} for i in range(OFFICERS)
    ])  # fmt: skip
    user_ids = [row[0] for row in db.session.execute(db.select(User.id).where(User.agency_id == agency.id))]
    db.session.execute(
        insert(RoleGrant),
        [{"user_id": u, "role": "officer", "granted_at": datetime.now(UTC)} for u in user_ids],
    )
    rows = []
    for k in range(ASSIGNMENTS):
        course_id, version_id = courses[k % len(courses)]
        done = rng.random() < 0.6
        rows.append(
            {
                "agency_id": agency.id,
                "user_id": user_ids[k % len(user_ids)],
                "course_id": course_id,
                "course_version_id": version_id,
                "due_on": today + timedelta(days=rng.randint(-90, 180)),
                "source": "rule",
                "status": "completed" if done else "assigned",
                "assigned_at": datetime.now(UTC),
                "completed_at": datetime.now(UTC) if done else None,
            }
        )
    for start in range(0, len(rows), 20_000):
        db.session.execute(insert(Assignment), rows[start : start + 20_000])
    done_rows = db.session.execute(
        db.select(
            Assignment.id, Assignment.user_id, Assignment.course_id, Assignment.course_version_id
        ).where(Assignment.agency_id == agency.id, Assignment.status == "completed")
    ).all()
    completions = [
        {
            "agency_id": agency.id,
            "user_id": u,
            "course_id": c,
            "course_version_id": v,
            "assignment_id": a,
            "credit_hours": 2.0,
            "category": "Community policing",
            "evidence": {},
            "completed_at": datetime.now(UTC) - timedelta(days=rng.randint(0, 300)),
        }
        for a, u, c, v in done_rows
    ]
    for start in range(0, len(completions), 20_000):
        db.session.execute(insert(Completion), completions[start : start + 20_000])
    completion_ids = db.session.execute(
        db.select(Completion.id, Completion.user_id, Completion.course_id)
    ).all()
    certs = [
        {
            "agency_id": agency.id,
            "user_id": u,
            "course_id": c,
            "completion_id": cid,
            "code": f"code-{cid}",
            "recipient_name": "x",
            "course_title": "x",
            "credit_hours": 2.0,
            "issued_on": today - timedelta(days=300),
            "expires_on": today + timedelta(days=rng.randint(-30, 400)),
            "created_at": datetime.now(UTC),
        }
        for cid, u, c in completion_ids[: ASSIGNMENTS // 4]
    ]
    for start in range(0, len(certs), 20_000):
        db.session.execute(insert(Certificate), certs[start : start + 20_000])
    db.session.commit()
    return agency, units


def main() -> None:
    from sqlalchemy import func, select

    from benchmarks._app import bench_app
    from lms.extensions import db
    from lms.models import Assignment, Role, RoleGrant, User
    from lms.services import compliance, trends

    url = os.environ.get("BENCH_DATABASE_URL")
    app = bench_app(url)
    today = date.today()
    with app.app_context():
        started = time.perf_counter()
        agency, units = build(db, today)
        print(
            f"database: {'SQLite in memory' if not url else url.split('@')[-1]}; built {OFFICERS:,} officers, "
            f"{ASSIGNMENTS:,} assignments in {time.perf_counter() - started:.1f} s"
        )
        coordinator = User(agency_id=agency.id, email="coord@big.test", name="Coordinator", password_hash="x")
        coordinator.role_grants = [RoleGrant(role=Role.COORDINATOR.value)]
        db.session.add(coordinator)
        db.session.flush()
        from lms.services import sessions

        token = sessions.start(coordinator).token  # a session record, as signing in makes
        db.session.commit()
        session_id, agency_id, unit_id, division_id = (
            token,
            agency.id,
            units[0].id,
            units[0].parent_id,
        )
        baseline = _median_ms(lambda: db.session.scalar(select(func.count()).select_from(Assignment)))
        service = _median_ms(lambda: compliance.overview(agency, compliance.Filters(), today=today))
        trend_service = _median_ms(lambda: trends.trends(agency, compliance.Filters(), today=today))
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
    pages = {
        "overview page": f"/agencies/{agency_id}/compliance",
        "division drill-down": f"/agencies/{agency_id}/compliance?unit={division_id}",
        "precinct with officers": f"/agencies/{agency_id}/compliance?unit={unit_id}",
        "overdue officers list": f"/agencies/{agency_id}/compliance/officers?status=overdue",
        "today board": f"/agencies/{agency_id}/today",
        "today board, overdue list": f"/agencies/{agency_id}/today?list=overdue",
        "today board, expiring 90": f"/agencies/{agency_id}/today?list=expiring_90",
        "trends page (12 months)": f"/agencies/{agency_id}/compliance/trends",
    }
    print(f"baseline SELECT count(*) over assignments: median {baseline:.1f} ms")
    print(
        f"{'overview service (no HTTP)':<28} median {service:7.1f} ms  ({service / baseline:5.1f}x baseline)"
    )
    print(
        f"{'trends service (no HTTP)':<28} median {trend_service:7.1f} ms  "
        f"({trend_service / baseline:5.1f}x baseline)"
    )
    for name, path in pages.items():
        status = client.get(path).status_code
        ms = _median_ms(lambda path=path: client.get(path))
        print(f"{name:<28} median {ms:7.1f} ms  ({ms / baseline:5.1f}x baseline)  [{status}]")
    print("target: overview median under 300 ms")
    with app.app_context():
        if url:
            db.drop_all()


if __name__ == "__main__":
    main()
