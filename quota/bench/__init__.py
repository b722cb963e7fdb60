"""Benchmarks: `python -m quota.bench [seed|kpi|pages|import|all]` (see __main__).

Each benchmark is a module with `run(*, sizes) -> dict` returning named sections of figures;
the runner merges them into var/bench/latest.json.
"""
