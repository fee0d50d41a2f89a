"""Benchmark of the dashboard pages on PostgreSQL (run by hand, not by the test suite).

    uv run python bench/dashboard.py                        # 1,000, 10,000 and 100,000 units
    uv run python bench/dashboard.py --sizes 1000,10000     # a quicker look
    uv run python bench/dashboard.py --requests 50          # more samples per page
    uv run python bench/dashboard.py --keep; … --reuse      # keep the databases, measure again

For each size it makes a fresh database (`<base name>_<size>` on the server of BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/dongda_bench), migrates it, runs `seed_demo --units N`
and the deadline engine (so flags and status rows exist), then requests each page as the district
office staff through Django's test client (the whole request: middleware, session, scope,
queries, template) and prints the median and 95th percentile over --requests requests, with the
number of SQL statements of one request, beside the floor: the time of the bare SQL any
implementation of the page must run (FLOORS), and the ratio. The first request of each page is a
warm-up and is not counted. Targets (issue 4): overview p95 <= 300 ms at 100,000 units, and its
median at 100,000 no more than 3x its median at 1,000.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import database_url_for, psql  # noqa: E402

PAGES = {
    "overview": "/vi/dashboard/",
    "unit table": "/vi/dashboard/units/",
    "unit table, filtered": "/vi/dashboard/units/?kind=party_cell&study=not_started&sort=-flags",
    "search": "/vi/dashboard/units/?q=to+dan+pho+so+1",
    "unit page, district": "/vi/units/dongda/",
    "review queue": "/vi/dashboard/review/",
    "export .xlsx, filtered": "/vi/dashboard/export.xlsx?kind=party_cell&study=not_started",
    "export .xlsx, everything": "/vi/dashboard/export.xlsx",
}
# Beside each page, the bare SQL any implementation of it must run (the floor): the figures are
# at least one aggregate over the status rows; a page of a table at least its 25 rows in order;
# an export at least every row it writes.
FLOORS = {
    "overview": "SELECT COUNT(*), SUM(members), SUM(attended_total) FROM campaigns_unitstatus",
    "unit table": "SELECT s.* FROM campaigns_unitstatus s JOIN units_unit u ON u.id = s.unit_id "
    "ORDER BY u.path LIMIT 25",
    "unit table, filtered": "SELECT * FROM campaigns_unitstatus WHERE kind = 'party_cell' "
    "AND study_state = 'not_started' ORDER BY flags_open DESC LIMIT 25",
    "search": "SELECT id FROM units_unit WHERE search_name LIKE '%to dan pho so 1%' LIMIT 25",
    "unit page, district": "SELECT * FROM units_unit WHERE depth = 2 ORDER BY path LIMIT 50",
    "review queue": "SELECT id FROM campaigns_studysession WHERE status = 'submitted' "
    "ORDER BY submitted_at LIMIT 50",
    "export .xlsx, filtered": "SELECT s.*, u.name_vi FROM campaigns_unitstatus s JOIN units_unit u "
    "ON u.id = s.unit_id WHERE s.kind = 'party_cell' AND s.study_state = 'not_started'",
    "export .xlsx, everything": "SELECT s.*, u.name_vi FROM campaigns_unitstatus s "
    "JOIN units_unit u ON u.id = s.unit_id",
}


def prepare(base_url: str, size: int, *, reuse: bool = False) -> str:
    url = database_url_for(base_url, size)
    name = urlsplit(url).path.lstrip("/")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    if not reuse:
        psql(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        psql(base_url, f'CREATE DATABASE "{name}"')
    subprocess.run([*manage, "migrate", "-v0"], check=True, env=env)
    started = time.perf_counter()
    if not reuse:
        subprocess.run(
            [*manage, "seed_demo", "--units", str(size), "--no-replay"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([*manage, "flag_overdue"], check=True, env=env, stdout=subprocess.DEVNULL)
    engine = time.perf_counter() - started
    print(
        f"  seeded {size:,} units in {seeded:.1f} s; deadline engine with the status rows "
        f"{engine:.1f} s",
        flush=True,
    )
    return url


MEASURE = """
import json, sys, time, django
django.setup()
from django.db import connection
from django.test import Client
from units.models import User

pages, requests, floors = json.loads(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
client = Client()
client.force_login(User.objects.get(username="vanphong"))
result = {}
for name, url in pages.items():
    def fetch():
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
        body = (b"".join(response.streaming_content) if response.streaming
                else response.content)
        return len(body)
    statements = []
    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)
    with connection.execute_wrapper(count):
        size = fetch()  # warm-up, and the statement count
    count = 3 if "everything" in name else requests
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        fetch()
        timings.append((time.perf_counter() - started) * 1000)
    floor = []
    with connection.cursor() as cursor:
        for _ in range(5):
            started = time.perf_counter()
            cursor.execute(floors[name])
            cursor.fetchall()
            floor.append((time.perf_counter() - started) * 1000)
    result[name] = {"ms": timings, "statements": len(statements), "bytes": size,
                    "floor_ms": sorted(floor)[2]}
print(json.dumps(result))
"""


def measure(url: str, requests: int, var_dir: str) -> dict:
    # As in production: DEBUG off (no query log kept), static files collected with their hashes.
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-not-secret",
        "ALLOWED_HOSTS": "testserver",
        "VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "dongda.settings",
        # The direct export, measured as a request; the background one is bench/export.py's.
        "EXPORT_BACKGROUND_ROWS": str(10**9),
    }
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
        env=env,
        check=True,
    )
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(PAGES), str(requests), json.dumps(FLOORS)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"measuring failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the databases a --keep run left (migrate and rerun the engine, no new seed); "
        "they are kept",
    )
    args = parser.parse_args()
    base_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dongda_bench"
    )
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"dashboard on PostgreSQL, {args.requests} requests per page after a warm-up")
    medians: dict[int, float] = {}
    for size in sizes:
        print(f"{size:,} units", flush=True)
        url = prepare(base_url, size, reuse=args.reuse)
        try:
            with tempfile.TemporaryDirectory() as var_dir:
                figures = measure(url, args.requests, var_dir)
        finally:
            # A reused database took the better part of an hour to seed: it stays.
            if not (args.keep or args.reuse):
                name = urlsplit(url).path.lstrip("/")
                psql(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for name, page in figures.items():
            ms = page["ms"]
            median, floor = statistics.median(ms), page["floor_ms"]
            print(
                f"  {name:<26} median {median:8.1f} ms   p95 {p95(ms):8.1f} ms   "
                f"floor {floor:7.1f} ms ({median / max(floor, 0.01):6.1f}x)   "
                f"{page['statements']:>2} SQL statements   {page['bytes'] / 1024:8.0f} KiB"
                f"   ({len(ms)} requests)"
            )
        medians[size] = statistics.median(figures["overview"]["ms"])
        overview_p95 = p95(figures["overview"]["ms"])
        if size >= 100_000:
            verdict = "met" if overview_p95 <= 300 else "NOT met"
            print(f"  target overview p95 <= 300 ms: {verdict} ({overview_p95:.1f} ms)")
    if len(medians) > 1:
        small, large = min(medians), max(medians)
        ratio = medians[large] / medians[small]
        verdict = "met" if ratio <= 3 or large < 100_000 else "NOT met"
        print(
            f"overview median, {large:,} vs {small:,} units: {ratio:.2f}x "
            f"({medians[large]:.1f} ms vs {medians[small]:.1f} ms); target <= 3x: {verdict}"
        )


if __name__ == "__main__":
    main()
