"""Benchmark of the official report on PostgreSQL (run by hand, not by the test suite).

    uv run python bench/report.py                        # 1,000 and 10,000 units
    uv run python bench/report.py --sizes 1000,10000,100000 --runs 5
    uv run python bench/report.py --keep; … --reuse      # keep the databases, measure again

For each size it makes a fresh database (`<base name>_<size>` on the server of BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/dongda_bench), migrates it and runs `seed_demo --units N`
(with its replay of the year, so flags exist), then builds the district's report as of 15/04/2024
and today (a past day replays the engine as of that day, as a person asking for it gets it; today
reads the live rows) --runs times and prints the median of each step: the content (figures,
sentences, appendix), the DOCX and the PDF, with the number of SQL statements of one build and
the files' sizes. Target (issue 14): the content and the DOCX of the district's report at 10,000
units under 5 s, with a statement count that does not grow with the number of units.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import database_url_for, psql  # noqa: E402

MEASURE = """
import json, sys, time, django
from datetime import date
django.setup()
from django.db import connection
from campaigns.official.build import build_document
from campaigns.official.docx import render_docx
from campaigns.official.pdf import render_pdf
from campaigns.official.services import new_draft
from campaigns.selectors import current_campaign
from units.models import Unit, User

from django.utils import timezone
runs = int(sys.argv[1])
day = timezone.localdate() if sys.argv[2] == "today" else date.fromisoformat(sys.argv[2])
root = Unit.objects.get(depth=1)
campaign = current_campaign(day)
staff = User.objects.get(username="vanphong")
result = {"content": [], "docx": [], "pdf": []}
for run in range(runs + 1):
    statements = []
    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        draft = new_draft(user=staff, campaign=campaign, committee=root, as_of=day, language="vi")
        document = build_document(draft).document
    built = time.perf_counter()
    docx = render_docx(document)
    drawn = time.perf_counter()
    pdf = render_pdf(document) if run < 2 else None
    finished = time.perf_counter()
    if run == 0:  # warm-up: templates, fonts, the first connection
        result.update(statements=len(statements), rows=len(document.appendix.rows),
                      docx_bytes=len(docx), pdf_bytes=len(pdf))
        continue
    result["content"].append(built - started)
    result["docx"].append(drawn - built)
    if pdf is not None:
        result["pdf"].append(finished - drawn)
print(json.dumps(result))
"""


def prepare(base_url: str, size: int, *, reuse: bool) -> str:
    url = database_url_for(base_url, size)
    name = urlsplit(url).path.lstrip("/")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    if not reuse:
        psql(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        psql(base_url, f'CREATE DATABASE "{name}"')
    subprocess.run([*manage, "migrate", "-v0"], check=True, env=env)
    if not reuse:
        subprocess.run(
            [*manage, "seed_demo", "--units", str(size)],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    return url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--as-of",
        default="2024-04-15,today",
        help="days, comma-separated: a past day replays the engine as of it; today reads the "
        "live rows",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--reuse", action="store_true", help="use the databases --keep left")
    args = parser.parse_args()
    base_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dongda_bench"
    )
    print(f"the district's official report, median of {args.runs} builds")
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"{size:,} units", flush=True)
        url = prepare(base_url, size, reuse=args.reuse)
        # As in production: DEBUG off, so no query log is kept.
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-secret",
            "DJANGO_SETTINGS_MODULE": "dongda.settings",
        }
        try:
            for day in args.as_of.split(","):
                measure(env, args.runs, day, size)
        finally:
            if not args.keep:
                name = urlsplit(url).path.lstrip("/")
                psql(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(env: dict, runs: int, day: str, size: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(runs), day],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"measuring failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    content = statistics.median(figures["content"])
    docx = statistics.median(figures["docx"])
    pdf = statistics.median(figures["pdf"])
    print(
        f"  as of {day}: {figures['rows']:,} appendix rows, {figures['statements']} SQL "
        f"statements\n    content {content:6.2f} s   docx {docx:6.2f} s "
        f"({figures['docx_bytes'] / 1024:,.0f} KiB)   pdf {pdf:6.2f} s "
        f"({figures['pdf_bytes'] / 1024:,.0f} KiB)"
    )
    if size >= 10_000:
        verdict = "met" if content + docx < 5 else "NOT met"
        print(f"    target content + docx < 5 s: {verdict} ({content + docx:.2f} s)")


if __name__ == "__main__":
    main()
