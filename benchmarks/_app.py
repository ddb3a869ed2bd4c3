"""The app the benchmarks run: an in-memory SQLite database unless a URL is given, full-size
Monte Carlo (each scenario's calibrated `grading.runs`), fast password hashing."""

from __future__ import annotations


def bench_app(database_url: str | None = None):
    from sqlalchemy.pool import StaticPool

    from lms import create_app
    from lms.config import Config
    from lms.extensions import db

    class Bench(Config):
        TESTING = True
        SECRET_KEY = "bench"
        WTF_CSRF_ENABLED = False
        PASSWORD_HASH_PROFILE = "CHEAPEST"
        LOG_LEVEL = "WARNING"  # no access log line per request in the figures
        SCENARIO_GRADING_RUNS = None
        GRADE_IN_BACKGROUND = False
        SQLALCHEMY_DATABASE_URI = database_url or "sqlite://"
        SQLALCHEMY_ENGINE_OPTIONS = (
            {} if database_url else {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        )

    app = create_app(Bench)
    with app.app_context():
        db.create_all()
    return app
