"""Benchmark of the deadline engine and the weekly digests on PostgreSQL (run by hand).

    uv run python bench/engine.py                       # 1,000, 10,000 and 100,000 units
    uv run python bench/engine.py --sizes 1000,10000    # a quicker look

For each size it makes a fresh database (`<base name>_<size>` on the server of BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/dongda_bench), migrates it, runs `seed_demo --units N`,
and prints: the engine's wall time and SQL statement count on a first run (every flag opens) and
a second, no-change run, as of 31/12/2024 when every deadline has passed; and the time to queue
the week's digests and render them, per recipient (rendering is timed on up to 1,000 of them).
The databases are dropped afterwards unless --keep.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date
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


def prepare(base_url: str, size: int) -> str:
    url = database_url_for(base_url, size)
    name = urlsplit(url).path.lstrip("/")
    psql(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(base_url, f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    manage = [sys.executable, str(ROOT / "manage.py")]
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


def measure(url: str, size: int) -> dict:
    # A fresh interpreter per size: Django reads DATABASE_URL once, at start-up.
    code = """
import json, time, django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from datetime import date
from campaigns.engine.run import deadline_engine_run
from campaigns.mail.digests import IsoWeek, digests_queue_week
from campaigns.mail.messages import build_message
from campaigns.models import OutgoingMail
from units.models import User

result = {}
for label in ("first", "second"):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = deadline_engine_run(today=date(2024, 12, 31))
        result[label] = {"seconds": time.perf_counter() - started, "statements": len(queries),
                          "opened": run.opened, "closed": run.closed}
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
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()
    base_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dongda_bench"
    )
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"deadline engine and digests on PostgreSQL, as of {date(2024, 12, 31):%d/%m/%Y}")
    rows = []
    for size in sizes:
        print(f"{size:,} units", flush=True)
        url = prepare(base_url, size)
        try:
            figures = measure(url, size)
        finally:
            if not args.keep:
                psql(
                    base_url,
                    f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)',
                )
        rows.append((size, figures))
        first, second, digests = figures["first"], figures["second"], figures["digests"]
        render = digests["render_ms"]
        per_recipient_queue = 1000 * digests["queue_seconds"] / max(digests["recipients"], 1)
        print(
            f"  engine, first run:  {first['seconds']:.2f} s, {first['statements']} statements, "
            f"{first['opened']:,} flags opened"
        )
        print(
            f"  engine, second run: {second['seconds']:.2f} s, {second['statements']} statements, "
            f"{second['opened']} opened, {second['closed']} closed"
        )
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
