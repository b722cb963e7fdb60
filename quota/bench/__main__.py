"""`python -m quota.bench [seed|kpi|pages|import|load|forecast|all] [--sizes large,...]`.

Sets up Django (quota.settings.base), creates the PostgreSQL database DATABASE_URL names if it
does not exist and migrates it, runs the benchmarks asked for (`all`: every one written so far
but the load benchmark, which `make bench-load` runs apart), merges their sections into
var/bench/latest.json, keeping sections other runs wrote, and prints what this run measured.
A benchmark that fails is reported and the others still run (the exit status is then 1).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

# Benchmark name -> module with `run(*, sizes) -> dict`; modules not written yet are skipped.
REGISTRY = {
    "seed": "quota.bench.seed",
    "kpi": "quota.bench.kpi",
    "pages": "quota.bench.pages",
    "import": "quota.bench.imports",
    "load": "quota.bench.load",
    "history": "quota.bench.history",
    "forecast": "quota.bench.forecast",
}
# Not in `all`: it serves the large company with gunicorn for a minute, on its own (`make bench-load`).
APART = {"load"}
RESULTS = Path(__file__).resolve().parent.parent.parent / "var" / "bench" / "latest.json"


def create_database_if_missing(url: str) -> None:
    """CREATE DATABASE for a PostgreSQL DATABASE_URL whose database does not exist yet."""
    import environ

    from quota.bench.databases import create_if_missing

    create_if_missing(environ.Env.db_url_config(url))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quota.settings.base")
    # Production's settings are what is measured: the .env that `make demo` writes turns DEBUG on (every query
    # logged, templates in debug mode), which made the pages here up to twice as slow.
    os.environ["DEBUG"] = "false"
    if os.environ.get("DATABASE_URL"):
        create_database_if_missing(os.environ["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def available(names: list[str]) -> list[str]:
    present = [name for name in names if importlib.util.find_spec(REGISTRY[name]) is not None]
    for name in sorted(set(names) - set(present)):
        print(f"skipping {name}: {REGISTRY[name]} does not exist yet", file=sys.stderr)
    return present


def merge_results(new: dict[str, Any], path: Path = RESULTS) -> dict[str, Any]:
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(new)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quota.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "benchmarks",
        nargs="*",
        choices=[*REGISTRY, "all"],
        default=["all"],
        metavar="{" + ",".join([*REGISTRY, "all"]) + "}",
    )
    parser.add_argument(
        "--sizes", default="large", help="comma-separated sizes for the benchmarks that take them (default large)"
    )
    args = parser.parse_args(argv)
    names = [name for name in REGISTRY if name not in APART] if "all" in args.benchmarks else list(dict.fromkeys(args.benchmarks))
    names = available(names)
    if not names:
        print("nothing to run", file=sys.stderr)
        return 1
    setup_django()
    sizes = tuple(size.strip() for size in args.sizes.split(",") if size.strip())
    results: dict[str, Any] = {}
    failed = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr)
        try:
            section = importlib.import_module(REGISTRY[name]).run(sizes=sizes)
        except Exception as error:  # one broken benchmark should not cost the others' figures
            print(f"{name} failed: {type(error).__name__}: {error}", file=sys.stderr)
            failed.append(name)
            continue
        results.update(section)
        merge_results(section)  # saved at once: a later benchmark may run for a long time
    print(json.dumps(results, indent=2, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
