"""Benchmark of the deadline engine and the weekly digests on PostgreSQL (run by hand).

    uv run python bench/engine.py                       # 1,000, 10,000 and 100,000 units
    uv run python bench/engine.py --sizes 1000,10000    # a quicker look
    uv run python bench/engine.py --sizes 100000 --keep # keep the seeded database …
    uv run python bench/engine.py --sizes 100000 --reuse  # … and measure it again later
    uv run python bench/engine.py --skip-digests          # the engine only

For each size it makes a fresh database (`<base name>_<size>` on the server of BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/dongda_bench), migrates it, runs `seed_demo --units N`,
and prints, as of today (when every deadline of the 2024 campaign has passed), for the engine's
first run (every unit, every flag opens), a second run with nothing changed, a run after 100
reports were written and the weekly full run: the wall time beside the floor (the bare SQL any
implementation must run: each report table grouped by unit and one aggregate over the status
rows for a full run, one index read for a run with nothing to do, the 100 units' report rows
after 100 reports) and their ratio, the SQL statements, the units judged and the rows written
to the flags, status rows and rollups (from pg_stat_user_tables); then the time to queue the
week's digests and render them, per recipient (rendering is timed on up to 1,000 of them).
The databases are dropped afterwards unless --keep.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def database_url_for(base_url: str, size: int) -> str:
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"{parts.path}_{size}"))


def psql(base_url: str, sql: str) -> None:
    parts = urlsplit(base_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    subprocess.run(["psql", admin, "-q", "-c", sql], check=True)


def seeded(url: str) -> bool:
    """Whether the database exists and holds a seeded district (for --reuse)."""
    done = subprocess.run(
        ["psql", url, "-tAc", "SELECT COUNT(*) FROM units_unit"], capture_output=True, text=True
    )
    return done.returncode == 0 and int(done.stdout.strip() or 0) > 0


def prepare(base_url: str, size: int, *, reuse: bool = False) -> str:
    url = database_url_for(base_url, size)
    name = urlsplit(url).path.lstrip("/")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    if reuse and seeded(url):
        # Seeding 100,000 units takes the better part of an hour: a kept database is migrated
        # and measured again (the engine's tables are emptied first, as a first run finds them).
        subprocess.run([*manage, "migrate", "-v0"], check=True, env=env)
        print(f"  reusing {name}", flush=True)
        return url
    psql(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(base_url, f'CREATE DATABASE "{name}"')
    subprocess.run([*manage, "migrate", "-v0"], check=True, env=env)
    started = time.perf_counter()
    subprocess.run(
        [*manage, "seed_demo", "--units", str(size), "--no-replay"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    print(f"  seeded {size:,} units in {time.perf_counter() - started:.1f} s", flush=True)
    return url


def measure(url: str, size: int, *, skip_digests: bool = False) -> dict:
    # A fresh interpreter per size: Django reads DATABASE_URL once, at start-up.
    code = """
import json, random, time, django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from datetime import date
from campaigns.engine.run import deadline_engine_run
from campaigns.mail.digests import IsoWeek, digests_queue_week
from campaigns.mail.messages import build_message
from campaigns.models import OutgoingMail, StudySession, ReviewStatus
from units.models import User

TABLES = ("campaigns_unitstatus", "campaigns_statusrollup", "campaigns_completionrollup",
          "campaigns_flag")
# Today, as the daily run judges (the 2024 campaign's deadlines have all passed): the reports the
# bench writes below are then read live, as a run after a morning's reports would read them.
DAY = None
SKIP_DIGESTS = %(skip_digests)s

def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []

def rows_written():
    # Committed inserts, updates and deletes of the engine's tables (statistics flushed first).
    sql("SELECT pg_stat_force_next_flush()")
    time.sleep(1.1)  # other backends flush at most once a second
    found = sql("SELECT SUM(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables "
                "WHERE relname IN %s", [TABLES])
    return int(found[0][0] or 0)

def floor(statements):
    # The bare SQL any implementation must run: the median of three.
    times = []
    for _ in range(3):
        started = time.perf_counter()
        for statement in statements:
            sql(statement)
        times.append(time.perf_counter() - started)
    return sorted(times)[1]

def engine(label, **kwargs):
    before = rows_written()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = deadline_engine_run(today=DAY, **kwargs)
        seconds = time.perf_counter() - started
    result[label] = {"seconds": seconds, "statements": len(queries), "opened": run.opened,
                     "closed": run.closed, "full": run.full, "units": run.units_judged,
                     "rows": rows_written() - before}

result = {}
# From nothing, as a first run finds it (a kept database is measured the same way).
sql("TRUNCATE campaigns_flag, campaigns_unitstatus, campaigns_statusrollup, "
    "campaigns_completionrollup, campaigns_enginecheckpoint")
sql("ANALYZE")
engine("first")
engine("second")
# What any re-judgement of every unit must read: each report table grouped by unit, and one
# aggregate over the status rows.
reports = [t for (t,) in sql("SELECT tablename FROM pg_tables WHERE tablename IN "
                              "('campaigns_studysession', 'campaigns_implementationplan', "
                              "'breakthroughs_breakthroughtask', 'breakthroughs_progressreport', "
                              "'breakthroughs_initiative', 'campaigns_incident', "
                              "'campaigns_propagandaactivity')")]
result["floor_full"] = floor(
    [f"SELECT unit_id, COUNT(*) FROM {t} GROUP BY unit_id" for t in reports]
    + ["SELECT COUNT(*), SUM(members), SUM(attended_total), SUM(flags_open) "
       "FROM campaigns_unitstatus"]
)
result["floor_nothing"] = floor(["SELECT MAX(history_id) FROM campaigns_historicalstudysession"])
# 100 reports written (accepted sessions sent back for review), then a run.
random.seed(100)
accepted = StudySession.objects.filter(status=ReviewStatus.ACCEPTED)
accepted = list(accepted.values_list("pk", flat=True)[:20000])
chosen = random.sample(accepted, min(100, len(accepted)))
for session in StudySession.objects.filter(pk__in=chosen):
    session.status = ReviewStatus.SUBMITTED
    session.save()
engine("after_100")
ids = ", ".join(str(pk) for pk in chosen) or "0"
units = f"(SELECT unit_id FROM campaigns_studysession WHERE id IN ({ids}))"
result["floor_100"] = floor(
    [f"SELECT unit_id, COUNT(*) FROM {t} WHERE unit_id IN {units} GROUP BY unit_id"
     for t in reports]
)
engine("weekly_full", full=True)
if SKIP_DIGESTS:
    print(json.dumps(result))
    raise SystemExit
User.objects.update(email="bench@dongda.example")  # every demo login gets a digest
# The engine runs at 06:00 and the digests at 07:00; by then autovacuum has analysed the new flags.
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
week = IsoWeek.parse("2025-W01")
started = time.perf_counter()
pending = digests_queue_week(week=week, today=date(2024, 12, 31))
queue_seconds = time.perf_counter() - started
sample = OutgoingMail.objects.filter(pk__in=pending[:1000])
sample = list(sample.select_related("recipient", "campaign", "unit"))
timings = []
for mail in sample:
    started = time.perf_counter()
    build_message(mail)
    timings.append(time.perf_counter() - started)
result["digests"] = {"recipients": len(pending), "queue_seconds": queue_seconds,
                      "render_ms": [t * 1000 for t in timings]}
print(json.dumps(result))
"""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "dongda.settings",
    }
    code = code.replace("%(skip_digests)s", str(skip_digests))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"the measurement failed:\n{done.stderr[-3000:]}")
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure an existing seeded database of that size again (implies --keep)",
    )
    parser.add_argument(
        "--skip-digests", action="store_true", help="the engine only, not the weekly digests"
    )
    args = parser.parse_args()
    base_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dongda_bench"
    )
    sizes = [int(s) for s in args.sizes.split(",")]
    print("deadline engine (as of today) and digests (week 2025-W01) on PostgreSQL")
    rows = []
    for size in sizes:
        print(f"{size:,} units", flush=True)
        url = prepare(base_url, size, reuse=args.reuse)
        try:
            figures = measure(url, size, skip_digests=args.skip_digests)
        finally:
            if not (args.keep or args.reuse):
                psql(
                    base_url,
                    f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)',
                )
        rows.append((size, figures))
        digests = figures.get("digests")
        floors = {
            "first": figures["floor_full"],
            "second": figures["floor_nothing"],
            "after_100": figures["floor_100"],
            "weekly_full": figures["floor_full"],
        }
        labels = {
            "first": "first run (every unit)",
            "second": "nothing changed",
            "after_100": "after 100 reports",
            "weekly_full": "weekly full run",
        }
        for key, label in labels.items():
            run = figures[key]
            print(
                f"  engine, {label:<22} {run['seconds']:7.2f} s "
                f"(floor {floors[key]:.3f} s, {run['seconds'] / max(floors[key], 1e-6):5.1f}x), "
                f"{run['statements']} statements, {run['units']:,} units judged, "
                f"{run['rows']:,} rows written, +{run['opened']:,}/-{run['closed']:,} flags"
            )
        if digests is None:
            continue
        render = digests["render_ms"]
        per_recipient_queue = 1000 * digests["queue_seconds"] / max(digests["recipients"], 1)
        print(
            f"  digests: {digests['recipients']:,} recipients queued in "
            f"{digests['queue_seconds']:.2f} s ({per_recipient_queue:.2f} ms each); render median "
            f"{statistics.median(render):.2f} ms, "
            f"p95 {sorted(render)[int(0.95 * (len(render) - 1))]:.2f} ms over {len(render)}"
        )
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        ratio = large[1]["first"]["seconds"] / max(small[1]["first"]["seconds"], 1e-9)
        print(
            f"engine first run, {large[0]:,} vs {small[0]:,} units: {ratio:.1f}x the time for "
            f"{large[0] / small[0]:.0f}x the units"
        )


if __name__ == "__main__":
    main()
