"""Server time per decision click and for grading, per library scenario (issue 4).

Each click is a real POST through the app (form validation, replay of the simulation to the
next decision point, database write, redirect, and the GET that renders the next page),
measured with the test client against an in-memory SQLite database. The baseline is a GET of
/healthz in the same run, so the ratio says how much of a click is the simulation and page.
Grading uses the adaptive rule, as in production; "runs" is what it used for the last attempt. Prints;
asserts nothing.
"""

from __future__ import annotations

import statistics
import time

REPEATS = 5


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    from benchmarks._app import bench_app
    from lms.extensions import db
    from lms.models import Agency, Attempt, Role, RoleGrant, User
    from lms.services.scenario_library import scenario_of, sync_library

    app = bench_app()
    with app.app_context():
        agency = Agency(slug="bench", name="Bench PD")
        db.session.add(agency)
        db.session.flush()
        user = User(
            agency_id=agency.id, email="bench@example.test", name="Bench Instructor", password_hash="x"
        )
        user.role_grants = [RoleGrant(role=Role.INSTRUCTOR.value)]
        db.session.add(user)
        versions = sync_library()
        from lms.services import sessions

        session_id = sessions.start(user).token  # a session record, as signing in makes
        db.session.commit()
        targets = [(v.id, scenario_of(v)) for v in versions]

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
    baseline = statistics.median(_timed(lambda: client.get("/healthz")) for _ in range(50))
    print(f"baseline GET /healthz: median {baseline:.2f} ms")
    print(
        f"{'scenario':<24} {'people':>6} {'click median':>13} {'click p90':>10} {'x baseline':>10} {'grading':>10} {'runs':>5}"
    )
    for version_id, scenario in targets:
        clicks, gradings = [], []
        for _ in range(REPEATS):
            response = client.post(f"/play/scenarios/{version_id}/start")
            attempt_url = response.headers["Location"]
            attempt_id = int(attempt_url.rstrip("/").split("/")[-1])
            last = len(scenario.expert_path) - 1
            for index, choice in enumerate(scenario.expert_path):

                def click(index=index, choice=choice, attempt_id=attempt_id):
                    reply = client.post(
                        f"/play/attempts/{attempt_id}/decisions/{index}", data={"options": choice}
                    )
                    client.get(reply.headers["Location"].split("#")[0])

                (gradings if index == last else clicks).append(_timed(click))
        with app.app_context():  # the runs the adaptive rule used for the last attempt's grade
            runs = db.session.get(Attempt, attempt_id).grade.breakdown["runs"]
        clicks.sort()
        median = statistics.median(clicks)
        p90 = clicks[int(0.9 * (len(clicks) - 1))]
        print(
            f"{scenario.slug:<24} {scenario.population:>6} {median:>10.1f} ms {p90:>7.1f} ms {median / baseline:>9.0f}x "
            f"{statistics.median(gradings) / 1000:>8.2f} s {runs:>5}"
        )
    print("targets: click median under 100 ms (the last click includes grading and the debrief page)")


if __name__ == "__main__":
    main()
