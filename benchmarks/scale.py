"""Calibration sweep throughput with 1 and 2 Celery workers (issue 9; target >= 1.7x on 2 cores).

The real thing: a scratch PostgreSQL database (`ripple_scale_<pid>`, migrated with `flask db
upgrade`, dropped at the end), Redis db 9 as the broker (flushed before and after), and real
`celery -A lms.worker worker --concurrency 1` processes: one, then two (two separate worker
processes with their own -n names, one pool process each). For each of two library scenarios
an instructor's draft is calibrated through the service (`calibration.start`, as the authoring
page does): the `calibrate` job splits the sweep into parts and sends one `ripple.calibrate_part`
task per part. Timed from submit until the results are stored; the workers are started, pinged
and warmed up (each has loaded the app and run a part) before the clock starts. The 1-worker
sweep, measured in the same run, is the baseline; each figure is the best of REPEATS sweeps.
Then, on the same workers, a class of CLASS_SIZE officers makes its last decision in the same
moment: the time until every attempt is graded (the adaptive rule, as in production).

Without PostgreSQL or Redis on 127.0.0.1 it says so and falls back to the old measurement (the
same paths split across a process pool, no Celery, no database), labelled as such.
Prints; asserts nothing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

RUNS = 40
SAMPLE = 60
REPEATS = 2
ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
BROKER = "redis://127.0.0.1:6379/9"
TARGET = "target: speed-up >= 1.7x on 2 cores"
CLASS_SIZE = 32


def main() -> None:
    problem = _unreachable()
    if problem:
        print(f"{problem}: measuring the process-pool fallback instead (NOT Celery workers)")
        _process_pool_main()
        return
    database = f"ripple_scale_{os.getpid()}"
    # A child process, so that lms.config and lms.worker read the database and broker from the
    # environment when they are imported (other benchmarks may have imported them already).
    try:
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", "--celery", database], cwd=ROOT, env=_env(database)
        )
        if child.returncode:
            print(f"the Celery measurement failed (exit {child.returncode}; see above)")
    finally:  # the child drops it; this is in case the child could not
        with contextlib.suppress(Exception):
            _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            _flush_broker()


# --- the Celery measurement (run in the child) -------------------------------------------


_SECRET_KEY = secrets.token_hex(32)  # the web-less app and its Celery workers refuse a short one


def _env(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FLASK_APP": "wsgi",
        "DATABASE_URL": f"{PG_SERVER}/{database}",
        "CELERY_BROKER_URL": BROKER,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _SECRET_KEY,
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1",
        "CALIBRATION_RUNS": str(RUNS),
        "CALIBRATION_SAMPLE": str(SAMPLE),
        "LOG_LEVEL": "WARNING",
    }


def _celery_main(database: str) -> None:
    _admin(f'CREATE DATABASE "{database}"')
    try:
        _flush_broker()
        subprocess.run(
            [str(_bin("flask")), "db", "upgrade"], cwd=ROOT, env=os.environ, check=True, capture_output=True
        )
        _measure()
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _flush_broker()


def _measure() -> None:
    from lms import create_app
    from lms.extensions import db
    from lms.services import calibration

    app = create_app(
        {
            "TASKS_EAGER": False,
            "CELERY_BROKER_URL": BROKER,
            "CALIBRATION_RUNS": RUNS,
            "CALIBRATION_SAMPLE": SAMPLE,
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
            "GRADE_IN_BACKGROUND": True,
        }
    )
    with app.app_context():
        try:
            instructor, drafts, published = _fixtures()
            parts = {slug: None for slug in drafts}
            best: dict[tuple[str, int], float] = {}
            paths: dict[str, int] = {}
            burst: dict[int, float] = {}
            for workers in (1, 2):
                with _workers(workers):
                    _warm_up(app, instructor, drafts)
                    for _ in range(REPEATS):
                        for slug, draft in drafts.items():
                            seconds, run = _sweep(instructor, draft)
                            best[slug, workers] = min(seconds, best.get((slug, workers), seconds))
                            paths[slug] = len(run.results["paths"])
                            parts[slug] = len(run.parts)
                    _class_finishes(instructor, published, CLASS_SIZE // 4)  # warm: reference bands
                    burst[workers] = _class_finishes(instructor, published, CLASS_SIZE)
            scenario_slug, grading_runs = published.scenario.slug, _runs_used(published)
        finally:
            db.session.remove()
            db.engine.dispose()
    print(
        f"cores: {os.cpu_count()}; {RUNS} runs per path, {calibration.PART_PATHS} paths per part; "
        "real Celery workers (separate `celery worker --concurrency 1` processes), PostgreSQL, "
        f"Redis broker; submit to stored results, best of {REPEATS}"
    )
    for slug in drafts:
        runs = paths[slug] * RUNS
        one, two = best[slug, 1], best[slug, 2]
        print(
            f"{slug:<24} {paths[slug]:>3} paths x {RUNS} runs ({parts[slug]} parts): "
            f"1 worker {runs / one:7.0f} runs/s, 2 workers {runs / two:7.0f} runs/s, "
            f"speed-up {one / two:4.2f}x"
        )
    print(TARGET)
    print(
        f"grading a class of {CLASS_SIZE} who finish {scenario_slug} in the same moment "
        f"(the adaptive rule: {grading_runs} runs each, median): all graded after {burst[1]:.1f} s with 1 "
        f"worker ({CLASS_SIZE / burst[1]:.2f} attempts/s), {burst[2]:.1f} s with 2 "
        f"({CLASS_SIZE / burst[2]:.2f} attempts/s), speed-up {burst[1] / burst[2]:4.2f}x"
    )


def _runs_used(version) -> int:
    """The median number of runs the adaptive rule used for the version's graded attempts."""
    import statistics

    from sqlalchemy import select

    from lms.extensions import db
    from lms.models import Attempt, AttemptGrade

    grades = db.session.scalars(
        select(AttemptGrade).join(Attempt).where(Attempt.scenario_version_id == version.id)
    ).all()
    return int(statistics.median(g.breakdown["runs"] for g in grades)) if grades else 0


def _class_finishes(instructor, version, size: int, timeout: float = 900) -> float:
    """`size` attempts at `version` make their last decision in one commit (a class finishing
    together): seconds from that commit until the workers have graded them all."""
    from sqlalchemy import func, select

    from lms.extensions import db
    from lms.models import Attempt
    from lms.services import attempts
    from lms.services.scenario_library import scenario_of

    path = scenario_of(version).expert_path
    started = []
    for _ in range(size):
        attempt = attempts.start_direct(instructor, version)
        for index, choice in enumerate(path[:-1]):
            attempts.decide(instructor, attempt, index, choice)
        started.append(attempt)
    db.session.commit()
    ids = [attempt.id for attempt in started]
    for attempt in started:
        attempts.decide(instructor, attempt, len(path) - 1, path[-1])
    clock = time.perf_counter()
    db.session.commit()  # each grading task is sent to the workers on this commit
    while True:
        graded = db.session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.id.in_(ids), Attempt.status == "completed")
        )
        db.session.rollback()
        if graded == size:
            return time.perf_counter() - clock
        if time.perf_counter() - clock > timeout:
            raise TimeoutError(f"{size - graded} of {size} attempts not graded after {timeout} s")
        time.sleep(0.05)


def _fixtures():
    """An agency, an instructor, their drafts of the first two library scenarios, and the
    first library scenario as published (for the class's gradings)."""
    import scenarios
    from lms.extensions import db
    from lms.models import Agency, Role, RoleGrant, Unit, User
    from lms.services import scenario_authoring
    from lms.services.scenario_library import sync_library

    agency = Agency(slug="scale-bench", name="Scale Bench PD")
    db.session.add(agency)
    db.session.flush()
    unit = Unit(agency_id=agency.id, code="HQ", name="Scale Bench HQ", kind="division")
    db.session.add(unit)
    db.session.flush()
    instructor = User(
        agency_id=agency.id, email="instructor@scale.test", name="Ian Instructor", unit_id=unit.id
    )
    instructor.role_grants = [RoleGrant(role=str(Role.INSTRUCTOR)), RoleGrant(role=str(Role.OFFICER))]
    db.session.add(instructor)
    library = {version.scenario.slug: version for version in sync_library()}
    db.session.commit()
    drafts = {}
    for path in scenarios.list_library()[:2]:
        slug = scenarios.load_scenario(path.read_text()).slug
        record = scenario_authoring.duplicate(instructor, library[slug].id, slug=slug)
        drafts[slug] = scenario_authoring.draft_of(record)
    db.session.commit()
    first = scenarios.load_scenario(scenarios.list_library()[0].read_text()).slug
    return instructor, drafts, library[first]


def _sweep(instructor, draft, timeout: float = 600):
    """Calibrate `draft` on the workers: (seconds from submit to stored results, the calibration)."""
    from sqlalchemy import select

    from lms.extensions import db
    from lms.models import BackgroundJob, CalibrationRun
    from lms.services import calibration

    started = time.perf_counter()
    run = calibration.start(instructor, draft)
    db.session.commit()  # the job is sent to the workers after this commit
    run_id, job_id = run.id, run.job_id
    while True:
        stored, status, error = db.session.execute(
            select(CalibrationRun.results.is_not(None), BackgroundJob.status, BackgroundJob.error)
            .join(BackgroundJob, BackgroundJob.id == CalibrationRun.job_id)
            .where(CalibrationRun.id == run_id)
        ).one()
        db.session.rollback()
        if stored:
            seconds = time.perf_counter() - started
            break
        if status == "failed":
            raise RuntimeError(f"the calibration of {draft.scenario.slug} failed: {error}")
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"no results for the calibration of {draft.scenario.slug} after {timeout} s")
        time.sleep(0.02)
    run = db.session.get(CalibrationRun, run_id)
    if db.session.get(BackgroundJob, job_id).status != "done":
        raise RuntimeError(f"the calibration of {draft.scenario.slug} has results but its job is not done")
    return seconds, run


def _warm_up(app, instructor, drafts) -> None:
    """A small calibration (1 run a path) until every worker has loaded the app and run a part."""
    from lms.worker import celery

    runs = app.config["CALIBRATION_RUNS"]
    app.config["CALIBRATION_RUNS"] = 1
    try:
        for _ in range(5):
            _sweep(instructor, next(iter(drafts.values())))
            stats = celery.control.inspect(timeout=2).stats() or {}
            if stats and all(s.get("total", {}).get("ripple.calibrate_part") for s in stats.values()):
                return
        raise RuntimeError(f"a worker never took a part while warming up: {stats}")
    finally:
        app.config["CALIBRATION_RUNS"] = runs


@contextlib.contextmanager
def _workers(count: int):
    """`count` Celery worker processes, each `--concurrency 1`, running until the block ends."""
    with tempfile.TemporaryFile("w+", prefix="ripple-scale-worker-") as log:
        procs = []
        try:
            for i in range(1, count + 1):
                command = [
                    str(_bin("celery")), "-A", "lms.worker", "worker", "--concurrency", "1",
                    "--queues", "ripple", "--without-mingle", "--without-gossip",
                    "--loglevel", "WARNING", "-n", f"scale{i}-{os.getpid()}@%h",
                ]  # fmt: skip
                # Each in its own process group, so stopping it stops its pool process too.
                procs.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=os.environ, stdout=log, stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )  # fmt: skip
            _wait_until_ready(procs)
            yield
        except BaseException:
            log.seek(0)
            tail = log.read()[-3000:]
            if tail.strip():
                print(f"worker log (last lines):\n{tail}", file=sys.stderr)
            raise
        finally:
            _stop(procs)


def _wait_until_ready(procs: list[subprocess.Popen], timeout: float = 60) -> None:
    from lms.worker import celery

    deadline = time.monotonic() + timeout
    while len(celery.control.ping(timeout=1) or []) < len(procs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("the Celery workers did not start")


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # a warm shutdown: they are idle by now
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # a pool process its worker left behind, if any


def _bin(name: str) -> Path:
    """A console script of this virtualenv (`.venv/bin/celery`, `.venv/bin/flask`)."""
    return Path(sys.executable).parent / name


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)


def _flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER, socket_timeout=5).flushdb()


def _unreachable() -> str | None:
    """Why the Celery measurement cannot run here, or None."""
    try:
        _admin("SELECT 1")
    except Exception as error:
        return f"PostgreSQL is not reachable at 127.0.0.1:5432 ({type(error).__name__})"
    try:
        import redis

        redis.Redis.from_url(BROKER, socket_timeout=3).ping()
    except Exception as error:
        return f"Redis is not reachable at 127.0.0.1:6379 ({type(error).__name__})"
    return None


# --- the fallback: a process pool, no Celery, no database ---------------------------------


def _sweep_part(args) -> int:
    import scenarios

    text, keys = args
    scenario = scenarios.load_scenario(text)
    for key in keys:
        scenarios.monte_carlo(scenario, scenarios.parse_choose(scenario, key), RUNS, seed=1)
    return len(keys) * RUNS


def sweep(text: str, keys: list[str], workers: int) -> tuple[float, int]:
    chunks = [keys[i::workers] for i in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        runs = sum(pool.map(_sweep_part, [(text, chunk) for chunk in chunks]))
    return time.perf_counter() - started, runs


def _process_pool_main() -> None:
    import scenarios
    from scenarios.paths import enumerate_paths

    print(f"cores: {os.cpu_count()}; {RUNS} runs per path; process-pool fallback (not Celery workers)")
    for path in scenarios.list_library()[:2]:
        text = path.read_text()
        scenario = scenarios.load_scenario(text)
        keys = [scenarios.format_choose(scenario, p) for p in enumerate_paths(scenario, sample=SAMPLE).paths]
        one, runs = sweep(text, keys, 1)
        two, _ = sweep(text, keys, 2)
        print(
            f"{scenario.slug:<24} {len(keys):>3} paths x {RUNS} runs: 1 worker {runs / one:7.0f} runs/s, "
            f"2 workers {runs / two:7.0f} runs/s, speed-up {one / two:4.2f}x"
        )
    print(TARGET)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--celery"]:
        _celery_main(sys.argv[2])
    else:
        main()
