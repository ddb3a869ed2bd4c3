#!/usr/bin/env bash
# `make load`: gunicorn + PostgreSQL + 2 Celery workers on 127.0.0.1, driven by locust with
# LOAD_USERS simulated officers for LOAD_SECONDS. Prints locust's table: throughput, median
# and p95 per endpoint, errors. Everything it starts, it stops; the scratch database is dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${LOAD_USERS:-200}
SECONDS_TO_RUN=${LOAD_SECONDS:-150}
PORT=${LOAD_PORT:-8765}
DB="ripple_load_$$"
export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/${DB}"
export CELERY_BROKER_URL="redis://127.0.0.1:6379/8"
export FLASK_APP=wsgi PYTHONPATH="$PWD" LOG_LEVEL=WARNING
export SECRET_KEY="${SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:${PORT}}"  # required outside development
export METRICS_TOKEN="load-metrics-$$"  # /metrics is private; the scrape at the end sends it
WORK=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  psql "postgresql://postgres@127.0.0.1:5432/postgres" -qc "DROP DATABASE IF EXISTS ${DB} WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -n 8 flushdb >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql "postgresql://postgres@127.0.0.1:5432/postgres" -qc "CREATE DATABASE ${DB}"
redis-cli -n 8 flushdb >/dev/null
.venv/bin/flask db upgrade >/dev/null 2>&1
.venv/bin/flask seed-demo >/dev/null
.venv/bin/python - "$USERS" <<'PY'
import sys
from sqlalchemy import select
from lms import create_app
from lms.extensions import db
from lms.models import Agency, Role, RoleGrant, User
from lms.services.accounts import hash_password
app = create_app()
with app.app_context():
    agency = db.session.scalar(select(Agency).where(Agency.slug == "riverside"))
    password = hash_password("load-test-password")
    for n in range(1, int(sys.argv[1]) + 1):
        user = User(agency_id=agency.id, email=f"load-{n:03d}@load.test", name=f"Load Officer {n}",
                    badge_number=f"L{n:04d}", password_hash=password)
        user.role_grants = [RoleGrant(role=Role.OFFICER.value), RoleGrant(role=Role.INSTRUCTOR.value)]
        db.session.add(user)
    db.session.commit()
PY
BIND="127.0.0.1:${PORT}" .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app \
  --access-logfile /dev/null >"$WORK/gunicorn.log" 2>&1 &
pids+=($!)
for n in $(seq 1 ${LOAD_WORKERS:-2}); do
  # Simulation workers run at idle CPU priority: on a shared machine, clicks come before grading.
  chrt --idle 0 .venv/bin/celery -A lms.worker worker --loglevel WARNING --concurrency 1 --queues ripple -n "load$n@%h" \
    --without-mingle --without-gossip >"$WORK/worker$n.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:${PORT}/readyz" >/dev/null && break; sleep 1; done
.venv/bin/python -m ops.cpu >"$WORK/cpu.before"
echo "(statistics are reset once all users have signed in: the figures are the steady state)"
echo "load: ${USERS} officers for ${SECONDS_TO_RUN}s against gunicorn (${WEB_CONCURRENCY:-cores+1} ${WEB_WORKER_CLASS:-gthread} workers) + PostgreSQL + ${LOAD_WORKERS:-2} Celery workers at idle CPU priority"
# Read the CPU figures just before locust stops (its own process is gone afterwards).
(sleep $((SECONDS_TO_RUN - 1)); .venv/bin/python -m ops.cpu "$WORK/cpu.before" "$SECONDS_TO_RUN" >"$WORK/cpu.txt") &
pids+=($!)
.venv/bin/locust -f ops/locustfile.py --headless -u "$USERS" -r "${LOAD_SPAWN_RATE:-5}" -t "${SECONDS_TO_RUN}s" \
  --host "http://127.0.0.1:${PORT}" --only-summary --reset-stats --csv "$WORK/load" 2>&1 | tee "$WORK/locust.log" | grep -vE "^\[|gevent|greenlet" || true
cat "$WORK/cpu.txt"
curl -sf -H "Authorization: Bearer ${METRICS_TOKEN}" "http://127.0.0.1:${PORT}/metrics" >"$WORK/metrics.txt" || true
echo "full results: $WORK/load_stats.csv"
