"""Import benchmark: a deals CSV of a million rows through `quota import`, timed, with the importer's memory.

    python -m quota.bench import --sizes large        (make bench runs it with the others)
    python -m quota.bench import --sizes demo         a quicker run
    python -m quota.bench import --sizes 20000        any number of rows

Sizes are rows of the deals file: `demo` = 100,000, `large` = 1,000,000, or a number. Every size is
also compared with a run of a tenth of its rows, so `rss_growth_mb` shows whether the importer's
memory grows with the file (it should not: rows are streamed in batches).

Per run, against the PostgreSQL database `quota_bench_import` (dropped and created again, then
migrated: the default pipeline "Sales", its stages, loss reasons and lead sources come with the
migrations), on the server DATABASE_URL (or BENCH_DATABASE_URL) points at:

1. `prepare` (a child process): 200 owners, 4,000 companies already in the CRM and a USD exchange rate;
2. `quota import organizations.csv --into companies`: 6,000 companies, 4,000 of them duplicates
   (skipped) and 2,000 new, as a CRM export's organisations file would be imported first;
3. `quota import deals.csv --into deals` (the figure): owners by e-mail, companies and stages by
   name, won/lost/open with their dates, amounts in EUR and USD, loss reasons and sources, some
   rows repeated (duplicates skipped), a few blanks the report warns about;
4. the same deals command again on the smaller run: it must create nothing.

Each command is the real `quota` command in a child process (the same code path a user runs);
its wall time includes starting Django, and its peak RSS is read from the kernel for that one
child (os.wait4). The files are written into var/bench/ by streaming, deterministically for a
seed, and kept for the next run.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import environ
from django.db import connections

SIZES = {"demo": 100_000, "large": 1_000_000}
DATABASE = "quota_bench_import"
SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SEED = 1
GENERATOR_VERSION = 1  # bump when the generated files change, so cached files are written again
BENCH_DIR = Path(__file__).resolve().parent.parent.parent / "var" / "bench"
QUOTA = Path(sys.executable).with_name("quota")

OWNERS = 200
COMPANIES = 6_000
EXISTING_COMPANIES = 4_000
REPEATED_ROW_EVERY = 997  # a row now and then repeats an earlier deal (exports merged from two sources)
FIRST_DAY = dt.date(2019, 1, 1)
DAYS = 6 * 365

DEAL_HEADER = [
    "Deal ID",
    "Deal",
    "Organization",
    "Owner",
    "Stage",
    "Status",
    "Value",
    "Currency",
    "Created",
    "Closed",
    "Lost reason",
    "Source",
    "Expected close",
]
DEAL_MAPPING = (
    "Deal ID=external_id,Deal=title,Organization=company,Owner=owner,Stage=stage,Status=status,Value=amount,"
    "Currency=currency,Created=created_at,Closed=closed_at,Lost reason=loss_reason,Source=source,"
    "Expected close=expected_close_date"
)
COMPANY_HEADER = ["Name", "Website", "Industry", "Country", "Employees"]
COMPANY_MAPPING = "Name=name,Website=domain,Industry=industry,Country=country,Employees=employees"

# What the migrations create (crm 0003): the default pipeline's stages, loss reasons and lead sources.
STAGES = ["Qualification", "Needs analysis", "Proposal", "Negotiation"]
LOSS_REASONS = ["Price too high", "No budget", "Competitor chosen", "No decision", "Timing", "Product fit"]
SOURCES = ["Website", "Social media", "Own prospecting", "Referral", "Other"]
PRODUCTS = ["Platform licence", "Support plan", "Onboarding", "Integration", "Training", "Hardware bundle", "Renewal"]
FIRST_NAMES = ["Anna", "Piotr", "Olga", "Jonas", "Maria", "Leila", "Tomas", "Ines", "Karl", "Sara", "Dmitri", "Nora"]
LAST_NAMES = ["Nowak", "Kowalski", "Ivanova", "Berg", "Rossi", "Ahmadi", "Novak", "Silva", "Weber", "Lind", "Petrov", "Moreau"]
NAME_PARTS = (
    [
        "North",
        "Blue",
        "Green",
        "Iron",
        "Silver",
        "Bright",
        "Swift",
        "Stone",
        "Lake",
        "Sun",
        "Oak",
        "Red",
        "High",
        "Star",
        "Cedar",
        "Delta",
        "Prime",
        "Nova",
        "Alpine",
        "Harbor",
    ],
    [
        "field",
        "wave",
        "works",
        "point",
        "line",
        "gate",
        "bridge",
        "forge",
        "path",
        "mark",
        "stream",
        "light",
        "ridge",
        "port",
        "vale",
        "crest",
        "dale",
        "wood",
        "stone",
        "field Labs",
    ],
    [
        "Ltd",
        "GmbH",
        "S.A.",
        "Sp. z o.o.",
        "Inc.",
        "AB",
        "Oy",
        "BV",
        "SRL",
        "LLC",
        "Group",
        "Systems",
        "Partners",
        "Trading",
        "AG",
    ],
)
INDUSTRIES = ["software", "retail", "manufacturing", "finance", "logistics", "health", "energy", "education"]
COUNTRIES = ["Poland", "Germany", "France", "Sweden", "Italy", "Spain", "United Kingdom", "Netherlands", "Finland"]


def rows_for(size: str) -> int:
    """`demo`, `large` or a number of rows."""
    if size in SIZES:
        return SIZES[size]
    try:
        rows = int(size.replace("_", ""))
    except ValueError:
        raise SystemExit(f"unknown import size {size!r}: use {', '.join(SIZES)} or a number of rows") from None
    if rows < 10:
        raise SystemExit("an import benchmark needs at least 10 rows")
    return rows


# -- the files ------------------------------------------------------------------------------------------------


def company_names() -> list[str]:
    """COMPANIES distinct names, the same for every run."""
    first, middle, last = NAME_PARTS
    names = [f"{a}{b} {c}" for a in first for b in middle for c in last]
    random.Random(SEED).shuffle(names)
    return names[:COMPANIES]


def owner(number: int) -> dict[str, str]:
    return {
        "username": f"rep{number:03d}",
        "email": f"rep{number:03d}@bench.example",
        "first_name": FIRST_NAMES[number % len(FIRST_NAMES)],
        "last_name": f"{LAST_NAMES[number % len(LAST_NAMES)]}-{number:03d}",
    }


def deal_rows(rows: int, seed: int = SEED) -> Iterator[list[str]]:
    """The deals file's rows, one at a time; `rows` includes the repeated ones."""
    companies, emails = company_names(), [owner(n)["email"] for n in range(OWNERS)]
    picks = random.Random(seed)
    for number in range(rows):
        if number and number % REPEATED_ROW_EVERY == 0:
            # An earlier deal again, word for word, often from an earlier batch of the importer.
            earlier = picks.randrange(max(0, number - 2_000), number)
            while earlier and earlier % REPEATED_ROW_EVERY == 0:
                earlier -= 1
            yield deal_row(earlier, seed, companies, emails)
        else:
            yield deal_row(number, seed, companies, emails)


def deal_row(number: int, seed: int, companies: Sequence[str], emails: Sequence[str]) -> list[str]:
    """Deal `number`, the same whenever it is asked for (its own random stream)."""
    rng = random.Random(seed * 10_000_019 + number)
    # Some accounts have many deals, most a few; a few deals have no company (a warning).
    spread = rng.random()
    if spread < 0.03:
        company = ""
    elif spread < 0.6:
        company = companies[rng.randrange(COMPANIES)]
    else:
        company = companies[int(rng.paretovariate(1.2) * 7) % COMPANIES]
    product = rng.choice(PRODUCTS)
    created = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    roll = rng.random()
    status = "Won" if roll < 0.3 else ("Lost" if roll < 0.7 else "Open")
    amount = round(rng.lognormvariate(8.5, 1.1), 2)
    value = f"{amount:,.2f}" if rng.random() < 0.2 else f"{amount:.2f}"
    if status == "Open" and rng.random() < 0.1:
        value = ""  # not priced yet (a notice)
    closed = expected = ""
    if status == "Open":
        expected = (created + dt.timedelta(days=rng.randrange(14, 120))).isoformat()
    else:
        closed = (created + dt.timedelta(days=rng.randrange(0, 180))).isoformat()
    reason = rng.choice(LOSS_REASONS) if status == "Lost" and rng.random() < 0.9 else ""  # else the default (a warning)
    return [
        f"PD-{number:07d}",
        f"{product} for {company}" if company else product,
        company,
        rng.choice(emails),
        rng.choice(STAGES),
        status,
        value,
        "USD" if rng.random() < 0.15 else "EUR",
        created.isoformat(),
        closed,
        reason,
        rng.choice(SOURCES) if rng.random() < 0.8 else "",
        expected,
    ]


def repeated_rows(rows: int) -> int:
    return (rows - 1) // REPEATED_ROW_EVERY


def company_rows() -> Iterator[list[str]]:
    rng = random.Random(SEED + 1)
    for name in company_names():
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:40]
        yield [name, f"https://www.{slug}.example", rng.choice(INDUSTRIES), rng.choice(COUNTRIES), str(rng.randrange(5, 5000))]


def write_csv(path: Path, header: list[str], rows: Iterator[list[str]]) -> Path:
    """Written to a temporary name first, so an interrupted run never leaves a truncated file behind."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    partial.replace(path)
    return path


def deals_file(rows: int) -> Path:
    return write_csv(BENCH_DIR / f"import-deals-{rows}-s{SEED}-v{GENERATOR_VERSION}.csv", DEAL_HEADER, deal_rows(rows))


def companies_file() -> Path:
    return write_csv(BENCH_DIR / f"import-organizations-s{SEED}-v{GENERATOR_VERSION}.csv", COMPANY_HEADER, company_rows())


# -- the database ---------------------------------------------------------------------------------------------


def database_url() -> str:
    """DATABASE_URL (or BENCH_DATABASE_URL) with the database name replaced by DATABASE."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or SERVER_URL
    if not url.startswith(("postgres://", "postgresql://")):
        url = SERVER_URL
    base, _, _ = url.rpartition("/")
    return f"{base}/{DATABASE}"


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    config = environ.Env.db_url_config(url)
    given = {key.lower(): config.get(key) for key in ("HOST", "PORT", "USER", "PASSWORD")}
    conninfo = make_conninfo(dbname="postgres", **{key: str(value) for key, value in given.items() if value})
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def prepare() -> None:
    """The CRM the files are imported into (run in the child process, on its DATABASE_URL)."""
    from decimal import Decimal

    from quota.accounts.models import Role, User
    from quota.core.models import ExchangeRate
    from quota.crm.models import Company
    from quota.kpi import rollups

    users = []
    for number in range(OWNERS):
        user = User(**owner(number), role=Role.REP)
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users)
    rows = company_rows()
    Company.objects.bulk_create(
        Company(name=name, domain=website.removeprefix("https://www."), industry=industry, country=country)
        for name, website, industry, country, _ in (next(rows) for _ in range(EXISTING_COMPANIES))
    )
    ExchangeRate.objects.create(currency="USD", valid_from=FIRST_DAY - dt.timedelta(days=365), rate=Decimal("0.92"))
    rollups.rebuild()  # as `quota kpi rollup` leaves an install: the import keeps them fresh (and is timed doing it)


# -- measuring ------------------------------------------------------------------------------------------------


def measured(command: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run a child process; its wall time, exit status and peak RSS (its own, from the kernel)."""
    with log.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux.
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "exit": child.returncode}


def _import(args: list[str], env: dict[str, str], log: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """`quota import ... --format json`: the measurement and the report."""
    result = measured([str(QUOTA), "import", *args, "--format", "json"], env, log)
    text = log.read_text(encoding="utf-8", errors="replace")
    start = text.find("{")
    try:
        report = json.loads(text[start : text.rfind("}") + 1]) if start >= 0 else {}
    except ValueError:
        report = {}
    if result["exit"] != 0 or report.get("status") != "committed":
        raise RuntimeError(f"quota import {args[0]} failed (exit {result['exit']}); see {log}")
    return result, report


def import_run(rows: int, *, reimport: bool = False) -> dict[str, Any]:
    """A fresh database, the organisations file, then the deals file of `rows` rows (timed)."""
    url = database_url()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false", "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench"}
    deals, organizations = deals_file(rows), companies_file()
    connections.close_all()  # this process may be connected to it (DATABASE_URL naming it): dropping it would cut that
    recreate_database(url)
    logs = BENCH_DIR / "import-logs"
    logs.mkdir(parents=True, exist_ok=True)
    if measured([str(QUOTA), "migrate", "--no-input", "-v", "0"], env, logs / "migrate.log")["exit"] != 0:
        raise RuntimeError(f"quota migrate failed; see {logs / 'migrate.log'}")
    if measured([sys.executable, "-m", "quota.bench.imports", "prepare"], env, logs / "prepare.log")["exit"] != 0:
        raise RuntimeError(f"preparing {DATABASE} failed; see {logs / 'prepare.log'}")
    _, companies = _import([str(organizations), "--into", "companies", "--map", COMPANY_MAPPING], env, logs / "companies.log")
    deal_args = [str(deals), "--into", "deals", "--map", DEAL_MAPPING, "--default", "loss_reason=Other"]
    load_before = os.getloadavg()[0]
    result, report = _import(deal_args, env, logs / f"deals-{rows}.log")
    step = report["steps"][0]
    figures: dict[str, Any] = {
        "rows": rows,
        "seconds": round(result["seconds"], 1),
        "rows_per_s": round(rows / result["seconds"]),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "engine_seconds": round(report.get("seconds", 0), 1),
        "rollup_rebuild_seconds": round(report.get("rollups", {}).get("seconds", 0), 1),
        "rollups_rebuilt": report.get("rollups", {}).get("rebuilt", []),
        "created": step["created"],
        "skipped": step["skipped"],
        "rejected": step["rejected"],
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before and after: a shared machine
        "companies": {key: companies["steps"][0][key] for key in ("rows", "created", "skipped")},
    }
    if step["created"] != rows - repeated_rows(rows) or step["skipped"] != repeated_rows(rows):
        raise RuntimeError(f"the import of {rows:,} rows created {step['created']:,} deals and skipped {step['skipped']:,}")
    if reimport:
        again, repeat = _import(deal_args, env, logs / f"deals-{rows}-again.log")
        if repeat["steps"][0]["created"]:
            raise RuntimeError(f"importing the same file again created {repeat['steps'][0]['created']:,} deals")
        figures["reimport_seconds"] = round(again["seconds"], 1)
        figures["reimport_peak_rss_mb"] = round(again["peak_rss_mb"], 1)
    return figures


def run(*, sizes: Sequence[str] = ("large",)) -> dict[str, Any]:
    """{"import_deals": {rows, seconds, rows_per_s, peak_rss_mb, rss_growth_mb, ..., "runs": {rows: figures}}}"""
    wanted = sorted({rows_for(size) for size in sizes})
    largest = wanted[-1]
    reference = max(10, largest // 10)
    runs: dict[int, dict[str, Any]] = {}
    for rows in sorted({reference, *wanted}):
        print(f"importing {rows:,} deal rows into {DATABASE} ...", file=sys.stderr)
        runs[rows] = import_run(rows, reimport=rows == reference)
    best = runs[largest]
    return {
        "import_deals": {
            **{key: best[key] for key in ("rows", "seconds", "rows_per_s", "peak_rss_mb")},
            # How much more memory ten times the rows took: near zero when memory does not follow the file.
            "rss_growth_mb": round(best["peak_rss_mb"] - runs[reference]["peak_rss_mb"], 1),
            "compared_with_rows": reference,
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "runs": {str(rows): figures for rows, figures in runs.items()},
        }
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["prepare"]:
        raise SystemExit("usage: python -m quota.bench.imports prepare (run by the import benchmark in its database)")
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quota.settings.base")
    django.setup()
    prepare()
