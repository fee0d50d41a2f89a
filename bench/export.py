"""Benchmark of the unit table's export at scale (run by hand, not by the test suite).

    uv run python bench/export.py                                  # .xlsx and .csv, median of 3
    uv run python bench/export.py --database-url postgres://…/other --runs 5
    uv run python bench/export.py --writer openpyxl                # the old writer, for comparison
    uv run --with xlsxwriter python bench/export.py --writer xlsxwriter

It reads an existing PostgreSQL database (default postgres://postgres@127.0.0.1:5432/dongda_big,
seeded with `seed_demo --units 100000 --no-replay` and an engine run), READ ONLY: the session is
set to read-only transactions, so nothing can be written. Each run is a fresh Python process that
exports every unit in the district office's scope (vanphong's, as the page would: the same
selectors, the same row generator, the same writer as the background task) to a temporary file
and reports its seconds (reading and writing, not Django's start) and its peak resident memory
(resource.getrusage, the whole process). Printed: the median of the runs for each format.

Goal (issue 15, item 5): 100,000 rows in at most 10 s and 200 MB in the worker.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dongda_big"


def child(extension: str, writer: str, username: str) -> None:
    import resource
    import tempfile
    import time

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dongda.settings")
    import django

    django.setup()
    from django.db import connection
    from django.http import QueryDict
    from django.utils import translation

    from campaigns.dashboard import exports
    from campaigns.dashboard.selectors import TableFilters, statuses_in_scope, unit_table
    from campaigns.selectors import current_campaign
    from units.models import User

    with connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    translation.activate("vi")
    user = User.objects.get(username=username)
    campaign = current_campaign()
    started = time.perf_counter()
    rows = unit_table(
        statuses_in_scope(user=user, campaign=campaign).select_related("branch"),
        TableFilters.from_query(QueryDict("")),
    )
    header, data = exports.unit_table_sheet(rows, campaign)
    with tempfile.TemporaryFile() as target:
        if writer == "stream" or extension == "csv":
            count = exports.write_rows(
                target, extension=extension, title="Đơn vị", header=header, rows=data
            )
        else:
            count = WRITERS[writer](target, header, data)
        size = target.tell()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": count, "seconds": seconds, "peak_mb": peak_mb, "bytes": size}))


def _openpyxl(target, header, rows) -> int:
    """The export's writer before this benchmark: openpyxl's write-only mode (with lxml)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Đơn vị")
    sheet.freeze_panes = "A2"
    sheet.append([label for label, _width in header])
    count = 0
    for row in rows:
        cells = []
        for value in row:
            if hasattr(value, "toordinal"):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "dd/mm/yyyy"
                value = cell
            cells.append(value)
        sheet.append(cells)
        count += 1
    workbook.save(target)
    return count


def _xlsxwriter(target, header, rows) -> int:
    """xlsxwriter's constant_memory mode (`uv run --with xlsxwriter …`)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet("Đơn vị")
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.freeze_panes(1, 0)
    for column, (label, width) in enumerate(header):
        sheet.set_column(column, column, width)
        sheet.write_string(0, column, label)
    count = 0
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                sheet.write_string(number, column, value)
            elif hasattr(value, "toordinal"):
                sheet.write_datetime(number, column, value, day)
            else:
                sheet.write_number(number, column, value)
        count += 1
    sheet.autofilter(0, 0, count, len(header) - 1)
    workbook.close()
    return count


WRITERS = {"openpyxl": _openpyxl, "xlsxwriter": _xlsxwriter}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--writer", choices=["stream", *WRITERS], default="stream")
    parser.add_argument("--user", default="vanphong", help="whose scope is exported")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.writer, args.user)
        return
    env = {**os.environ, "DATABASE_URL": args.database_url, "DEBUG": "1"}
    for extension in args.formats.split(","):
        results = []
        command = [sys.executable, __file__, "--child", extension, "--writer", args.writer]
        for _run in range(args.runs):
            done = subprocess.run(
                [*command, "--user", args.user],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        seconds = statistics.median(r["seconds"] for r in results)
        peak = statistics.median(r["peak_mb"] for r in results)
        writer = args.writer if extension == "xlsx" else "csv"
        print(
            f"{extension} ({writer}): {results[0]['rows']:,} rows, "
            f"{results[0]['bytes'] / 1e6:.1f} MB file, median {seconds:.1f} s "
            f"(runs: {', '.join(f'{r["seconds"]:.1f}' for r in results)}), "
            f"peak RSS {peak:.0f} MB"
        )


if __name__ == "__main__":
    main()
