"""Load benchmark: how many requests a second gunicorn serves on the large company, and how fast, under a mix.

    run(sizes=["large"]) -> {"load": {"requests_per_s": .., "p50_ms": .., "p95_ms": .., "p99_ms": .., "errors": ..,
                                      "users": .., "duration_s": .., ...}}

The size's PostgreSQL database (databases.prepare: created, seeded, rollups fresh, vacuumed) is served by
gunicorn (deploy/gunicorn.conf.py, GUNICORN_WORKERS workers, 4 by default) on a free loopback port, with
production settings (DEBUG off; plain HTTP, since no proxy terminates TLS here; Redis at LOAD_REDIS_URL as
the shared cache). Locust (locustfile.py)
then runs a fixed number of busy users for a fixed time: the dashboards of each role, the deal list, a
deal, the board, a KPI page, and an integration logging calls through the API with its token. Sessions
and the token are made beforehand, so logins are not measured. Everything stays on 127.0.0.1 and stops
by itself: locust after LOAD_DURATION_S, gunicorn when it is done. Goal: 60 requests/s, p95 under 300 ms.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from quota.bench.databases import default_database, prepare, settings_for

ROOT = Path(__file__).resolve().parent.parent.parent
USERS = int(os.environ.get("LOAD_USERS", "8"))
DURATION_S = int(os.environ.get("LOAD_DURATION_S", "60"))
WORKERS = int(os.environ.get("GUNICORN_WORKERS", "4"))
GOAL = {"requests_per_s": 60, "p95_ms": 300}
LOGINS = ("director", "rep", "marketing", "service")
SAMPLE_DEALS = 200
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/11")


def run(*, sizes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    size = "large" if "large" in sizes else sizes[0]
    with default_database(size):
        prepared = prepare(size)
        inputs = _inputs()
    url = _database_url(settings_for(size))
    port = _free_port()
    with _Gunicorn(url, port) as server:
        figures = _locust(server.base, inputs, server)
    return {"load": {**figures, "size": size, "workers": WORKERS, "redis": REDIS_URL, **_goal_check(figures), **prepared}}


def _goal_check(figures: dict[str, Any]) -> dict[str, Any]:
    met = figures.get("requests_per_s", 0) >= GOAL["requests_per_s"] and figures.get("p95_ms", 1e9) < GOAL["p95_ms"]
    return {"goal": GOAL, "within_goal": met}


def _inputs() -> dict[str, str]:
    """Sessions of the demo logins, an API token for the rep, and deals the director may open."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    from quota.accounts.models import User
    from quota.crm.models import Deal

    sessions = {}
    for username in LOGINS:
        user = User.objects.get(username=username)
        store = SessionStore()
        store.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        store.create()
        sessions[username] = store.session_key
    rep = User.objects.get(username="rep")
    token = Token.objects.get_or_create(user=rep)[0].key
    deals = list(Deal.objects.filter(owner=rep).order_by("-pk").values_list("pk", flat=True)[:SAMPLE_DEALS])
    connections[DEFAULT_DB_ALIAS].close()
    return {
        "QUOTA_BENCH_SESSIONS": json.dumps(sessions),
        "QUOTA_BENCH_TOKEN": token,
        "QUOTA_BENCH_DEALS": ",".join(map(str, deals)),
        "QUOTA_BENCH_SESSION_COOKIE": settings.SESSION_COOKIE_NAME,
    }


def _database_url(config: dict[str, Any]) -> str:
    user = config.get("USER") or "postgres"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{config.get('HOST') or '127.0.0.1'}:{config.get('PORT') or 5432}/{config['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Gunicorn:
    """gunicorn serving Quota on 127.0.0.1:port until the block ends (then stopped, and waited for)."""

    def __init__(self, database_url: str, port: int) -> None:
        self.port = port
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "quota.settings.base",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(WORKERS),
            "GUNICORN_ACCESS_LOG": os.devnull,
            "GUNICORN_LOG_LEVEL": "warning",
            "GUNICORN_MAX_REQUESTS": "0",  # no recycling in the middle of a run
            # Production's shared cache (the KPI cache needs one every worker sees) and broker; tasks the writes
            # publish wait for a worker that is not started here.
            "REDIS_URL": REDIS_URL,
        }

    def __enter__(self) -> _Gunicorn:
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env)
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode} before serving")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                    self.base = base
                    return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError("gunicorn did not answer /healthz within 120 s")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the workers and by the PostgreSQL backends serving their connections."""
        import psutil

        workers = psutil.Process(self.process.pid).children()
        ports = {c.laddr.port for worker in workers for c in worker.net_connections("tcp") if c.raddr and c.raddr.port == 5432}
        backends = [
            p
            for p in psutil.process_iter(["name"])
            if p.info["name"] == "postgres" and any(c.raddr and c.raddr.port in ports for c in _connections(p))
        ]
        return sum(sum(p.cpu_times()[:2]) for p in [*workers, *backends])

    def __exit__(self, *exc: Any) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _connections(process: Any) -> list[Any]:
    try:
        return process.net_connections("tcp")
    except Exception:  # a process that ended, or one we may not inspect
        return []


def _locust(base: str, inputs: dict[str, str], server: _Gunicorn) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="quota-load-") as folder:
        prefix = str(Path(folder) / "load")
        command = [
            *(sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py"))),
            *("--headless", "--only-summary", "--host", base, "--csv", prefix),
            *("--users", str(USERS), "--spawn-rate", str(USERS), "--run-time", f"{DURATION_S}s", "--stop-timeout", "10"),
        ]
        started, cpu_before = time.monotonic(), server.cpu_seconds()
        environment = {**os.environ, **inputs}
        locust = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(DURATION_S * 0.9)  # the servers' CPU time while the load lasts (their connections are there then)
        cpu = server.cpu_seconds() - cpu_before
        cpu_window = time.monotonic() - started
        _out, err = locust.communicate(timeout=DURATION_S + 120)
        elapsed = time.monotonic() - started
        stats = Path(f"{prefix}_stats.csv")
        if not stats.exists():
            raise RuntimeError(f"locust wrote no figures (exit {locust.returncode}): {err[-2000:]}")
        figures = _figures(stats.read_text(), elapsed)
    # On a busy machine the figures above follow the other work; the CPU a request costs does not (much).
    served = figures["requests_per_s"] * cpu_window
    cpu_ms = cpu * 1000 / served if served else 0.0
    figures["cpu_ms_per_request"] = round(cpu_ms, 1)
    figures["capacity_rps_estimate"] = round((os.cpu_count() or 1) * 1000 / cpu_ms, 1) if cpu_ms else 0.0
    figures["load_average"] = round(os.getloadavg()[0], 1)
    return figures


def _figures(stats_csv: str, elapsed: float) -> dict[str, Any]:
    """The aggregated row of locust's stats CSV, and each request type's count, median and p95."""
    rows = list(csv.DictReader(stats_csv.splitlines()))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    per_request = {
        row["Name"]: {
            "requests": int(row["Request Count"]),
            "errors": int(row["Failure Count"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
        }
        for row in rows
        if row["Name"] != "Aggregated"
    }
    return {
        "requests_per_s": round(float(total["Requests/s"]), 1),
        "p50_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
        "errors": int(total["Failure Count"]),
        "requests": int(total["Request Count"]),
        "users": USERS,
        "duration_s": DURATION_S,
        "wall_s": round(elapsed, 1),
        "per_request": per_request,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
