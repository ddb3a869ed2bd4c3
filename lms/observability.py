"""Request ids, structured logs and Prometheus metrics.

Every request gets an id (the caller's X-Request-ID if it sends a sane one), returned in the
response and attached to every log record with the user and agency, so one request can be
followed through the logs. With LOG_FORMAT=json, logs are JSON lines (python-json-logger).
Metrics use prometheus_client; under gunicorn set PROMETHEUS_MULTIPROC_DIR so all workers
report through one /metrics.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

REQUEST_SECONDS = Histogram(
    "ripple_request_seconds",
    "Time to answer a request",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10),
)
TASK_SECONDS = Histogram(
    "ripple_task_seconds",
    "Time to run a background task",
    ["task", "outcome"],
    buckets=(0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
TASKS = Counter("ripple_tasks_total", "Background tasks run", ["task", "outcome"])
QUEUE_DEPTH = Gauge("ripple_queue_depth", "Work waiting in a queue", ["queue"], multiprocess_mode="max")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class ContextFilter(logging.Filter):
    """Adds request_id, user_id and agency_id to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = record.user_id = record.agency_id = None
        if has_request_context():
            record.request_id = getattr(g, "request_id", None)
            try:
                if current_user and current_user.is_authenticated:
                    record.user_id, record.agency_id = current_user.id, current_user.agency_id
            except Exception:  # the user loader itself may be what failed
                pass
        return True


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if app.config.get("LOG_FORMAT") == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(agency_id)s",
            rename_fields={"asctime": "time", "levelname": "level"},
        ))  # fmt: skip
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    level = app.config.get("LOG_LEVEL", "INFO")
    for name in ("lms", "ripple"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    app.logger.handlers = [handler]
    app.logger.setLevel(level)


def metrics_refusal(authorization: str | None) -> str | None:
    """Why a request for /metrics is refused (None: allowed). Metrics name every endpoint and
    queue, so they are private: with METRICS_TOKEN set, the caller sends
    `Authorization: Bearer <token>`; without one, they are refused unless METRICS_PUBLIC says
    they may be public (a scraper on a private network)."""
    from flask import current_app

    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = authorization or ""
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return None
        return "Send the metrics token as `Authorization: Bearer <METRICS_TOKEN>`."
    if current_app.config.get("METRICS_PUBLIC"):
        return None
    return "Metrics are private: set METRICS_TOKEN (and scrape with it) or METRICS_PUBLIC=true."


def metrics_text() -> bytes:
    """The Prometheus exposition text, across gunicorn workers when multiprocess mode is on."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def init_app(app: Flask) -> None:
    configure_logging(app)
    access = logging.getLogger("ripple.access")

    @app.before_request
    def start_request():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def finish_request(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        started = getattr(g, "request_started", None)
        if started is not None and request.endpoint != "static":
            elapsed = time.perf_counter() - started
            REQUEST_SECONDS.labels(
                request.method, request.endpoint or "unknown", str(response.status_code)
            ).observe(elapsed)
            access.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed * 1000)
        return response


# Queues whose depth is worth watching: table -> (status column, waiting values).
QUEUE_TABLES = {
    "background_jobs": ("status", ("queued", "running")),
    "grade_deliveries": ("status", ("pending",)),
    "xapi_statements": ("status", ("pending",)),
}


def refresh_queue_depths() -> dict[str, int]:
    """Count waiting work in the database outboxes (and the Celery broker when there is one)."""
    from sqlalchemy import func, select

    from lms.extensions import db

    depths: dict[str, int] = {}
    for name, (column, waiting) in QUEUE_TABLES.items():
        table = db.metadata.tables.get(name)
        if table is None:
            continue
        depths[name] = (
            db.session.scalar(select(func.count()).select_from(table).where(table.c[column].in_(waiting)))
            or 0
        )
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis://"):
        try:
            import redis

            depths["celery"] = redis.Redis.from_url(broker, socket_timeout=1).llen("celery")
        except Exception:  # the broker being down is reported by /readyz, not here
            pass
    for name, depth in depths.items():
        QUEUE_DEPTH.labels(name).set(depth)
    return depths


def readiness() -> tuple[bool, dict[str, str]]:
    """Whether this instance can serve: database reachable and migrated, broker reachable."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app
    from sqlalchemy import text

    from lms.extensions import db

    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        config = current_app.extensions["migrate"].migrate.get_config()
        heads = set(ScriptDirectory.from_config(config).get_heads())
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current == heads else f"at {sorted(current)}, expected {sorted(heads)}"
    except Exception as error:  # any driver error: not ready
        db.session.rollback()
        checks["database"] = f"unreachable ({type(error).__name__})"
    broker = os.environ.get("CELERY_BROKER_URL")
    if broker:
        try:
            import redis

            redis.Redis.from_url(broker, socket_timeout=1).ping()
            checks["broker"] = "ok"
        except Exception as error:
            checks["broker"] = f"unreachable ({type(error).__name__})"
    return all(v == "ok" for v in checks.values()), checks
