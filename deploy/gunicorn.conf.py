"""gunicorn for Quota behind nginx (deploy/nginx-quota.conf.template): `gunicorn -c deploy/gunicorn.conf.py`.

nginx reads every request body and buffers every response before a worker sees them, so plain sync
workers never wait on a slow client; they only wait on Quota itself, bounded by `timeout`. Each value
can be changed by its environment variable.
"""

import gc
import multiprocessing
import os

wsgi_app = "quota.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A request still running after this many seconds is killed and its worker replaced (reports and
# imports run in Celery, so pages answer well within it).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM or SIGHUP (reload), workers finish the requests they are serving for up to this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Keep-alive with nginx's upstream connection pool (nginx closes idle ones before this).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# Recycle workers now and then, so a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Request line and headers: the same bounds nginx applies in front.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 16384
# Only nginx on this machine may tell gunicorn the original scheme (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 24+ opens a control socket at one fixed path per user; two instances would share it. Off.
control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_worker_init(worker):
    """Keep the garbage collector off what a worker loaded to serve (Django, the apps, their modules).

    Those objects live as long as the worker, yet every full collection walked them all again: ~5 ms of
    CPU per request of the load benchmark's mix (make bench-load). Frozen, they are never scanned; the
    higher first threshold makes collections rarer, on a young generation that a request mostly frees.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
