"""The load benchmark's users (locust): people reading dashboards, lists, deals, the board and a KPI page, and
an integration writing through the API with its token. Run by quota.bench.load, which passes who signs in
and what to ask for in QUOTA_BENCH_* variables (sessions and a token made beforehand: logins are not measured).

Busy users: no think time, so the figures are what the server sustains, not what the users ask for.
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, constant, task

SESSIONS = json.loads(os.environ.get("QUOTA_BENCH_SESSIONS", "{}"))  # username -> session cookie
TOKEN = os.environ.get("QUOTA_BENCH_TOKEN", "")
DEAL_IDS = [int(pk) for pk in os.environ.get("QUOTA_BENCH_DEALS", "").split(",") if pk]
SESSION_COOKIE = os.environ.get("QUOTA_BENCH_SESSION_COOKIE", "sessionid")
# Home dashboards by role, as people land on them.
DASHBOARDS = [
    ("director", "/"),
    ("rep", "/dashboards/my/"),
    ("marketing", "/dashboards/marketing/"),
    ("service", "/dashboards/service/"),
]
_rotation = itertools.count()


class Person(FastHttpUser):
    """Someone using the pages, signed in as one of the demo logins (in turn, so every role is in the mix)."""

    weight = 9
    wait_time = constant(0)

    def on_start(self) -> None:
        self.username, self.home = DASHBOARDS[next(_rotation) % len(DASHBOARDS)]
        self.cookie = {"Cookie": f"{SESSION_COOKIE}={SESSIONS[self.username]}"}
        self.director = {"Cookie": f"{SESSION_COOKIE}={SESSIONS['director']}"}

    @task(3)
    def dashboard(self) -> None:
        self.client.get(self.home, headers=self.cookie, name="dashboard")

    @task(2)
    def deal_list(self) -> None:
        self.client.get("/crm/deals/", headers=self.director, name="deal list")

    @task(2)
    def deal_detail(self) -> None:
        self.client.get(f"/crm/deals/{random.choice(DEAL_IDS)}/", headers=self.director, name="deal detail")

    @task(1)
    def board(self) -> None:
        self.client.get("/crm/board/", headers=self.director, name="board")

    @task(1)
    def kpi_page(self) -> None:
        self.client.get("/dashboards/kpi/won_revenue/?period=this_quarter", headers=self.director, name="kpi page")


class Integration(FastHttpUser):
    """A telephony integration logging calls on deals through the API, with its token."""

    weight = 1
    wait_time = constant(0)

    @task
    def log_call(self) -> None:
        deal = random.choice(DEAL_IDS)
        body = {"kind": "call", "subject": "Bench call", "deal": deal, "direction": "out", "answered": True}
        headers = {"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"}
        self.client.post("/api/activities/", data=json.dumps(body), headers=headers, name="api write")
