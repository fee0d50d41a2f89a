"""Benchmark of the spreadsheet import on PostgreSQL (run by hand).

    uv run python bench/import.py                 # 5,000 rows
    uv run python bench/import.py --rows 20000    # a province's sheet

Makes a fresh database (`dongda_bench_import` on the server of BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dongda_bench), migrates it, loads the demo district
(`seed_demo --no-replay`, 271 units, the 2024 campaign), writes a sheet of ROWS rows (the
district's units with a tenth recounted and renamed, and new cells under the wards up to ROWS,
each with a secretary who gets an account), and prints, with SQL statement counts: reading the
.xlsx, the preview (plan, nothing written), the import (write, status rows and rollups of the
campaign refreshed, invitations queued), and the same file again (nothing to change). Each step
is run --repeat times on a fresh copy where it writes, and the median is printed. The database
is dropped afterwards unless --keep.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def psql(base_url: str, sql: str) -> None:
    parts = urlsplit(base_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    subprocess.run(["psql", admin, "-q", "-c", sql], check=True)


def url_named(base_url: str, name: str) -> str:
    return urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))


MEASURE = r"""
import io, json, sys, time, django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook
from units.importing import import_units
from units.models import Unit
from units.spreadsheet import COLUMNS, read_sheet

rows_wanted = int(sys.argv[1])
units = list(Unit.objects.order_by("path"))
by_path = {u.path: u for u in units}
wards = [u for u in units if u.kind == "ward_committee"]
workbook = Workbook()
sheet = workbook.active
sheet.append([c.key for c in COLUMNS])
blank = [""] * 8  # the two people's four columns each
for number, unit in enumerate(units):
    parent = by_path[unit.path[: -Unit.steplen]].code if unit.depth > 1 else ""
    members = unit.member_count + (1 if number % 10 == 0 else 0)
    name = unit.name_vi + (" (mới)" if number % 10 == 5 else "")
    sheet.append([unit.code, name, unit.name_en, unit.kind, parent, members, unit.sector, *blank])
for number in range(rows_wanted - len(units)):
    ward = wards[number % len(wards)]
    sheet.append([f"{ward.code}-n{number:05d}", f"Chi bộ Tổ dân phố số {number + 100}", "",
                  "party_cell", ward.code, 20 + number % 50, "residential",
                  f"Nguyễn Văn Số{number}", f"bt{number:05d}@example.vn", "0912 000 000",
                  "secretary", "", "", "", ""])
buffer = io.BytesIO()
workbook.save(buffer)
data = buffer.getvalue()

def timed(step):
    connection.queries_log.clear()  # the log keeps 9,000 statements; the import writes more
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        value = step()
        return value, time.perf_counter() - started, len(queries)

result = {"rows": rows_wanted, "bytes": len(data)}
sheet_read, seconds, _ = timed(lambda: read_sheet(data))
result["read"] = seconds
plan, seconds, statements = timed(lambda: import_units(sheet_read, dry_run=True).plan)
assert plan.ok, [str(p) for p in plan.problems[:5]]
result["preview"] = [seconds, statements, len(plan.created), plan.units_changed,
                     len(plan.accounts_created)]
written, seconds, statements = timed(lambda: import_units(sheet_read))
assert written.written
result["import"] = [seconds, statements]
again, seconds, statements = timed(lambda: import_units(sheet_read))
assert not again.written and again.plan.changes == 0
result["again"] = [seconds, statements]
print(json.dumps(result))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dongda_bench")
    manage = [sys.executable, str(ROOT / "manage.py")]
    template, work = "dongda_bench_import_seed", "dongda_bench_import"
    psql(base, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    psql(base, f'CREATE DATABASE "{template}"')
    env = {**os.environ, "DATABASE_URL": url_named(base, template), "DEBUG": "1"}
    subprocess.run([*manage, "migrate", "-v0"], check=True, env=env)
    subprocess.run([*manage, "seed_demo", "--no-replay"], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    import json
    import statistics

    runs = []
    try:
        for _ in range(args.repeat):
            # Each run starts from the same seeded district (a copy of the template database).
            psql(base, f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
            psql(base, f'CREATE DATABASE "{work}" TEMPLATE "{template}"')
            run_env = {**env, "DATABASE_URL": url_named(base, work),
                       "DJANGO_SETTINGS_MODULE": "dongda.settings"}  # fmt: skip
            out = subprocess.run(
                [sys.executable, "-c", MEASURE, str(args.rows)],
                check=True, env=run_env, cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        if not args.keep:
            psql(base, f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
            psql(base, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')

    def median(key: str, index: int | None = None) -> float:
        values = [r[key] if index is None else r[key][index] for r in runs]
        return statistics.median(values)

    first = runs[0]
    print(f"{args.rows:,} rows ({first['bytes'] / 1024:.0f} KB .xlsx), median of {len(runs)} runs:")
    print(f"  read the sheet      {median('read'):6.2f} s")
    created, changed, accounts = first["preview"][2:]
    print(f"  preview (plan)      {median('preview', 0):6.2f} s  {first['preview'][1]:>6} "
          f"statements  ({created:,} units to create, {changed} to change, "
          f"{accounts:,} accounts)")  # fmt: skip
    print(f"  import (write)      {median('import', 0):6.2f} s  {first['import'][1]:>6} statements")
    print(f"  same file again     {median('again', 0):6.2f} s  {first['again'][1]:>6} statements")


if __name__ == "__main__":
    main()
