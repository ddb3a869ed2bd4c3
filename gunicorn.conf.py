"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Everything can be set from the environment; the defaults suit one small machine.
"""

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Requests are CPU-bound (each click replays the simulation): about one process per core,
# two threads each so one waiting on the database does not idle its process. Threaded workers
# keep connections alive and cope with slow clients; `WEB_WORKER_CLASS=sync` (2 x cores + 1
# processes) measured the same under `make load`, but wants a buffering proxy in front.
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
_sync = worker_class == "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * (2 if _sync else 1) + 1))
threads = int(os.environ.get("WEB_THREADS", "1" if _sync else "2"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))  # grading inline (no broker) can take seconds
graceful_timeout = 30
# Longer than a person's pause between clicks, so a reused connection is never closed under them.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "20"))
# Recycling workers after N requests bounds memory but resets keep-alive connections; off by default.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "0"))
max_requests_jitter = 200
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = "-"
# Workers share request metrics through files here (prometheus_client multiprocess mode).
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ripple-metrics-")


def on_starting(server):
    # Refuse before any worker starts: one clear line rather than every worker failing to boot.
    from lms.config import (
        Config,
        PublicBaseUrlError,
        SecretKeyError,
        settle_public_base_url,
        settle_secret_key,
    )

    try:
        settle_secret_key({"SECRET_KEY": Config.SECRET_KEY, "SECRET_KEY_FILE": Config.SECRET_KEY_FILE})
        settle_public_base_url({"PUBLIC_BASE_URL": Config.PUBLIC_BASE_URL})
    except (SecretKeyError, PublicBaseUrlError) as error:
        server.log.error("%s", error)
        raise SystemExit(2) from None
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
