from flask import Response, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import text

from lms.access import public
from lms.extensions import db
from lms.main import bp
from lms.services import dashboards


@bp.route("/")
def index():
    return render_template("main/home.html", home=dashboards.home_for(current_user))


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means the database is unreachable
        db.session.rollback()
        return {"status": "error", "database": "unreachable", "detail": type(error).__name__}, 503
    return {"status": "ok", "database": "ok"}


@bp.route("/readyz")
@public
def readyz():
    """Ready to serve: database reachable and migrated, and the broker reachable if configured."""
    from lms.observability import readiness

    ready, checks = readiness()
    return {"status": "ok" if ready else "not ready", **checks}, 200 if ready else 503


@bp.route("/metrics")
@public
def metrics():
    """Prometheus metrics: request latency, queue depth, task durations."""
    from lms.errors import render_error
    from lms.observability import metrics_refusal, metrics_text, refresh_queue_depths

    refusal = metrics_refusal(request.headers.get("Authorization"))
    if refusal:
        if current_app.config.get("METRICS_TOKEN"):
            headers = {"WWW-Authenticate": 'Bearer realm="metrics"'}
            return render_error(401, "Metrics need their token", refusal, headers=headers)
        return render_error(403, "Metrics are private", refusal)
    refresh_queue_depths()
    return Response(metrics_text(), mimetype="text/plain; version=0.0.4")
