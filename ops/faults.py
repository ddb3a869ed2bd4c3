"""Fault tests (issue 9), each printing its result: `make faults` or `python -m ops.faults NAME`.

They run real parts on 127.0.0.1: a Celery worker on the local Redis (database 9, flushed
first) and the app's database (a scratch SQLite file, or DATABASE_URL). Each scenario
starts what it needs and stops it again.

- worker-killed: the worker grading an attempt is killed with SIGKILL; another worker picks
  the task up (late acknowledgement) and the attempt ends with exactly one grade.
- double-submit: the final decision is posted twice at the same moment; one is recorded,
  the attempt is graded once.
- broker-down: with Redis unreachable, the final decision still gets its grade (in-process),
  and /readyz tells the operator the broker is down.
- postgres-restart: (only with DATABASE_URL=postgresql://... and permission to restart the
  local server) requests during the restart get a clear 503, then the app recovers by itself.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/9"


_SECRET_KEY = secrets.token_hex(32)  # for every process this run starts


def _env(database_url: str, broker: str | None = BROKER) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi", "PYTHONPATH": str(ROOT)}
    env.setdefault("SECRET_KEY", _SECRET_KEY)  # the app refuses to start without a real one
    env.setdefault("PUBLIC_BASE_URL", "http://127.0.0.1")  # ... and without its public address
    if broker:
        env["CELERY_BROKER_URL"] = broker
    else:
        env.pop("CELERY_BROKER_URL", None)
    return env


def _prepare(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        env=_env(database_url),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "flask", "seed-demo"],
        env=_env(database_url),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    subprocess.run(["redis-cli", "-n", "9", "flushdb"], check=False, capture_output=True)


def _worker(database_url: str, log: Path, *, beat: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "lms.worker",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "1",
            "--queues",
            "ripple",
            "--without-mingle",
            "--without-gossip",
            *(["-B", "-s", str(log) + ".beat"] if beat else []),
        ],
        env=_env(database_url),
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _app(database_url: str, broker: str | None = BROKER):
    os.environ.update(_env(database_url, broker))
    if not broker:
        os.environ.pop("CELERY_BROKER_URL", None)
    from lms import create_app

    return create_app()


def _final_decision(app, slug: str = "crew-shooting-rumour") -> int:
    """Start an attempt and make every decision; returns the attempt id (now "grading")."""
    from lms.extensions import db
    from lms.models import User
    from lms.services import attempts
    from lms.services.scenario_library import latest_published, scenario_of

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "instructor@riverside.test"))
        version = latest_published(user.agency_id, slug)
        attempt = attempts.start_direct(user, version)
        db.session.commit()
        for index, choice in enumerate(scenario_of(version).expert_path):
            attempts.decide(user, attempt, index, choice)
            db.session.commit()
        return attempt.id


def _grades(app, attempt_id: int) -> tuple[str, int]:
    from lms.extensions import db
    from lms.models import Attempt

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        return attempt.status, len([g for g in attempt.grades if g.kind == "auto"])


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def worker_killed(database_url: str, workdir: Path) -> bool:
    os.environ["SCENARIO_GRADING_RUNS"] = "1500"  # a long grading, so the kill lands inside it
    app = _app(database_url)
    first = _worker(database_url, workdir / "worker-1.log")
    try:
        time.sleep(4)
        attempt_id = _final_decision(app)
        received = _wait_for(lambda: "received" in (workdir / "worker-1.log").read_text(), 20)
        time.sleep(2)  # well inside the Monte Carlo
        victims = [first.pid, *_children(first.pid)]
        for pid in victims:
            os.kill(pid, signal.SIGKILL)  # the whole worker, as a machine failure would
        first.wait()
    finally:
        _stop(first)
    status, grades = _grades(app, attempt_id)
    print(
        f"  task received: {received}; killed worker processes {victims} mid-grading: status {status}, grades {grades}"
    )
    started = time.time()
    second = _worker(database_url, workdir / "worker-2.log", beat=True)
    try:
        done = _wait_for(lambda: _grades(app, attempt_id)[0] == "completed", 150)
    finally:
        _stop(second)
    status, grades = _grades(app, attempt_id)
    print(
        f"  another worker (with the periodic grade sweep) finished it after {time.time() - started:.0f} s: "
        f"status {status}, automatic grades {grades}"
    )
    return done and grades == 1


def double_submit(database_url: str, workdir: Path) -> bool:
    app = _app(database_url, broker=None)
    from lms.extensions import db
    from lms.models import Attempt, User
    from lms.services import attempts
    from lms.services.scenario_library import latest_published, scenario_of

    app.config["GRADE_IN_BACKGROUND"] = False
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "instructor@riverside.test"))
        version = latest_published(user.agency_id, "store-dispute")
        attempt = attempts.start_direct(user, version)
        db.session.commit()
        path = scenario_of(version).expert_path
        for index, choice in enumerate(path[:-1]):
            attempts.decide(user, attempt, index, choice)
            db.session.commit()
        attempt_id, user_id, last = attempt.id, user.id, len(path) - 1
    results = []

    def submit():
        with app.app_context():
            try:
                attempts.decide(
                    db.session.get(User, user_id), db.session.get(Attempt, attempt_id), last, path[last]
                )
                db.session.commit()
                results.append("recorded")
            except attempts.StaleDecision:
                db.session.rollback()
                results.append("stale")
            except Exception as error:  # a database lock error is a refusal too: nothing written
                db.session.rollback()
                results.append(type(error).__name__)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    status, grades = _grades(app, attempt_id)
    print(f"  two simultaneous final submits: {sorted(results)}; status {status}, automatic grades {grades}")
    return results.count("recorded") == 1 and grades == 1


def broker_down(database_url: str, workdir: Path) -> bool:
    dead = "redis://127.0.0.1:6390/0"  # nothing listens there
    app = _app(database_url, broker=dead)
    app.config["GRADE_IN_BACKGROUND"] = True
    attempt_id = _final_decision(app, "store-dispute")
    done = _wait_for(lambda: _grades(app, attempt_id)[0] == "completed", 60)
    status, grades = _grades(app, attempt_id)
    ready = app.test_client().get("/readyz")
    print(
        f"  broker unreachable: graded in-process -> status {status}, grades {grades}; "
        f"/readyz {ready.status_code} broker={ready.json.get('broker')}"
    )
    return done and grades == 1 and ready.status_code == 503


class _Player:
    """An instructor making decisions through the test client, starting a new attempt when one
    is one decision from its end (so nothing is graded); remembers what the server acknowledged."""

    def __init__(self, app, version_id: int, path: list, user_id: str):
        self.client, self.version_id, self.path = app.test_client(), version_id, path
        with self.client.session_transaction() as session:
            session["_user_id"] = user_id
        self.attempt_id: int | None = None
        self.index = 0
        self.acknowledged: dict[int, int] = {}  # attempt id -> decisions the server accepted

    def step(self) -> int:
        if self.attempt_id is None or self.index >= len(self.path) - 1:
            response = self.client.post(f"/play/scenarios/{self.version_id}/start")
            if response.status_code == 302:
                self.attempt_id, self.index = int(response.headers["Location"].rstrip("/").split("/")[-1]), 0
                self.acknowledged[self.attempt_id] = 0
            return response.status_code
        response = self.client.post(
            f"/play/attempts/{self.attempt_id}/decisions/{self.index}",
            data={"options": self.path[self.index]},
        )
        if response.status_code == 302:  # recorded (or, on a retry, recorded by the try that got a 503)
            self.index += 1
            self.acknowledged[self.attempt_id] = self.index
        return response.status_code


def postgres_restart(database_url: str, workdir: Path) -> bool | None:
    if not database_url.startswith("postgres"):
        print("  skipped: needs DATABASE_URL=postgresql://... of a local server this user may restart")
        return None
    app = _app(database_url, broker=None)
    app.config["WTF_CSRF_ENABLED"] = False  # the test client posts forms without a page
    from sqlalchemy import func

    from lms.extensions import db
    from lms.models import AttemptDecision, User
    from lms.services.scenario_library import latest_published, scenario_of

    with app.app_context():
        coordinator = db.session.scalar(db.select(User).where(User.email == "coordinator@riverside.test"))
        instructor = db.session.scalar(db.select(User).where(User.email == "instructor@riverside.test"))
        version = latest_published(instructor.agency_id, "store-dispute")
        from lms.services import sessions

        # Session records, as signing in makes (the cookie holds the record's token).
        instructor_token, session_id = sessions.start(instructor).token, sessions.start(coordinator).token
        db.session.commit()
        player = _Player(app, version.id, scenario_of(version).expert_path, instructor_token)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
    version = subprocess.run(
        ["bash", "-c", "ls /etc/postgresql | head -n1"], capture_output=True, text=True
    ).stdout.strip()
    statuses: list[int] = []
    stop = threading.Event()

    def answer(path: str, request) -> int:
        try:
            return request()
        except Exception as error:  # what a real server would answer with a bare 500
            print(f"  {path} raised {type(error).__name__}: {str(error).splitlines()[0]}")
            traceback.print_exc()
            return 500

    def poll():
        while not stop.is_set():
            statuses.append(answer("/healthz", lambda: client.get("/healthz").status_code))
            # A signed-in page (the user is loaded from the database), and a decision.
            statuses.append(answer("/", lambda: client.get("/").status_code))
            statuses.append(answer("a decision", player.step))
            time.sleep(0.1)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(1)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    time.sleep(3)
    stop.set()
    poller.join()
    recovered = client.get("/healthz").status_code == 200 and client.get("/").status_code == 200
    with app.app_context():
        stored = dict(
            db.session.execute(
                db.select(AttemptDecision.attempt_id, func.count())
                .where(AttemptDecision.attempt_id.in_(list(player.acknowledged)))
                .group_by(AttemptDecision.attempt_id)
            ).all()
        )
    kept = all(stored.get(attempt, 0) == count for attempt, count in player.acknowledged.items())
    print(
        f"  during the restart: {statuses.count(503)} answers 503, {statuses.count(200) + statuses.count(302)} "
        f"answers 200/302, {len([s for s in statuses if s not in (200, 302, 503)])} others; recovered "
        f"without a restart of Ripple: {recovered}"
    )
    print(
        f"  decisions: {sum(player.acknowledged.values())} acknowledged in {len(player.acknowledged)} attempts, "
        f"{sum(stored.values())} stored; every acknowledged decision kept, none extra: {kept}"
    )
    return recovered and kept and all(s in (200, 302, 503) for s in statuses)


SCENARIOS = {
    "worker-killed": worker_killed,
    "double-submit": double_submit,
    "broker-down": broker_down,
    "postgres-restart": postgres_restart,
}


# A scenario's process exits 0 when it passed, SKIPPED when it could not run here (the automake
# convention), anything else when it failed.
SKIPPED = 77


def outcome_of(returncode: int) -> str:
    """What a scenario's exit status says: passed, skipped or failed."""
    return {0: "passed", SKIPPED: "skipped"}.get(returncode, "failed")


def closing_count(outcomes: list[str]) -> str:
    """The closing line: a skipped scenario is counted as skipped, never as passed."""
    return ", ".join(f"{outcomes.count(kind)} {kind}" for kind in ("passed", "failed", "skipped"))


def main() -> int:
    if sys.argv[1:2] == ["--one"]:  # one scenario in a fresh process: its own config and broker
        name, database_url, workdir = sys.argv[2], sys.argv[3], Path(sys.argv[4])
        outcome = SCENARIOS[name](database_url, workdir)
        print(f"   result: {'PASS' if outcome else 'SKIP' if outcome is None else 'FAIL'}", flush=True)
        return {True: 0, None: SKIPPED}.get(outcome, 1)
    names = sys.argv[1:] or list(SCENARIOS)
    workdir = Path(tempfile.mkdtemp(prefix="ripple-faults-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'faults.sqlite3'}"
    _prepare(database_url)
    outcomes = []
    for name in names:
        print(f"== {name}", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", "ops.faults", "--one", name, database_url, str(workdir)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"},
        )
        outcomes.append(outcome_of(result.returncode))
    print(closing_count(outcomes))
    return 1 if "failed" in outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
