"""The load benchmark's figures, read from locust's stats CSV into the shape `latest.json` keeps (no server is run)."""

from __future__ import annotations

from quota.bench import load
from quota.bench.__main__ import REGISTRY, main

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,dashboard,300,0,80,90,20,400,50000,10.0,0.0,80,90,100,110,150,200,250,300,390,400,400
POST,api write,100,2,30,35,10,90,500,3.3,0.07,30,33,36,40,50,60,70,80,90,90,90
,Aggregated,400,2,60,76,10,400,37000,13.3,0.07,60,70,90,100,130,180,240,290,390,400,400
"""


def test_figures_are_the_aggregated_row_and_each_request_type():
    figures = load._figures(STATS, elapsed=61.2)

    assert {"requests_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "users", "duration_s"} <= figures.keys()
    assert (figures["requests_per_s"], figures["p50_ms"], figures["p95_ms"], figures["p99_ms"]) == (13.3, 60.0, 180.0, 290.0)
    assert figures["errors"] == 2 and figures["requests"] == 400
    assert figures["users"] == load.USERS and figures["duration_s"] == load.DURATION_S
    assert figures["per_request"]["api write"] == {"requests": 100, "errors": 2, "p50_ms": 30.0, "p95_ms": 60.0}
    assert load._goal_check(figures) == {"goal": load.GOAL, "within_goal": False}
    assert load._goal_check({"requests_per_s": 61, "p95_ms": 299})["within_goal"]


def test_the_load_benchmark_is_run_apart_from_all(monkeypatch):
    ran = []
    monkeypatch.setattr("quota.bench.__main__.setup_django", lambda: None)
    monkeypatch.setattr("quota.bench.__main__.merge_results", lambda section: section)

    class Benchmark:
        def __init__(self, name: str) -> None:
            self.name = name

        def run(self, sizes: tuple[str, ...]) -> dict:
            ran.append(self.name)
            return {}

    monkeypatch.setattr("importlib.import_module", Benchmark)

    assert main(["all"]) == 0
    assert "quota.bench.load" not in ran and len(ran) == len(REGISTRY) - 1
