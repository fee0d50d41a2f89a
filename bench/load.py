"""Load test: secretaries sign in and send study sessions, against gunicorn on PostgreSQL and Redis
(run by hand, not by the test suite).

    uv run python bench/load.py                          # 200 secretaries for 60 s
    uv run python bench/load.py --users 5 --duration 10  # a smoke run, two minutes in all
    uv run python bench/load.py --wait 5                 # a person's pace between clicks (issue 15)

Makes a fresh database (`dongda_load` on the server of BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dongda_bench), migrates it, loads the demo district
(`seed_demo --no-replay`; `--units N` for a bigger tree) and gives each of USERS party cells a
secretary of its own (`load-0001`, … with a known password). It collects the static files into a
temporary VAR_DIR and starts the web app under gunicorn (sync workers, 2 × cores + 1 by default) as
production runs it: DEBUG off, a SECRET_KEY, WhiteNoise, Redis (database 12 by default, emptied
before and after) for the cache and the broker, plain HTTP (SECURE_SSL_REDIRECT and the secure
cookies off).

Then locust (in this process, headless) starts USERS simulated secretaries at --spawn-rate a
second, each with an account of its own. Each signs in once (the sign-in page, the sign-in, the
home page that sends it to its unit), then, again and again: opens its unit's page, the
new-session form, saves a session with a small PDF as its minutes (a unique presenter name tags
it), follows to the session's page, submits it with the version the page shows, and reads the
page again to see it submitted; with a pause of about --wait seconds (0.5 to 1.5 times it) after
each page a person reads. Three phases are timed apart: the sign-in storm, until every user has
signed in (at most --sign-in-timeout s; a sign-in costs the server a PBKDF2 hash); then --duration
seconds with everyone signed in, the measured time; then each user finishes the session it is
sending (up to --stop-timeout s), so the check below meets no half-sent session.

It prints, per phase, requests per second and p50/p95/p99 per step, the errors, gunicorn's workers
and CPU and the machine's load average; then checks the database: every session the client saw
submitted is there exactly once, submitted, with its file, and went to "submitted" once (its
history); a row whose save the client never saw answered is listed apart. The exit status is 1 if
a request failed, a session was lost or doubled, no session got through, or the server logged a
traceback or a worker timeout. The database, the temporary folder and the Redis database are
cleared afterwards unless --keep.
"""

import argparse
import json
import logging
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import gevent
import psutil

# Importing locust patches the standard library for gevent: it must come before requests and
# redis (which import ssl).
from locust import HttpUser, task
from locust.env import Environment
from locust.exception import RescheduleTask
from redis import Redis
from requests import Session as Browser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import psql  # noqa: E402

PASSWORD = "load-bench-2024"  # noqa: S105 (an account of the throw-away database)
USERNAME_PREFIX = "load-"
LANGUAGE = "vi"
#: The steps in the order a secretary takes them, as the tables print them.
STEPS = (
    "sign-in page",
    "sign in",
    "home (to the unit)",
    "unit page",
    "new session form",
    "save session",
    "session page",
    "submit",
    "session page (submitted)",
)

SETUP = r"""
import json, sys, django
django.setup()
from datetime import timedelta
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from campaigns.selectors import campaign_member_count, current_campaign
from units.models import Assignment, Role, Unit, UnitKind, User

wanted, password, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
campaign = current_campaign()
cells = []
# Cells with members on record: the form refuses "members expected" above the unit's count.
for unit in Unit.objects.filter(kind=UnitKind.PARTY_CELL, is_active=True).order_by("path"):
    if len(cells) == wanted:
        break
    if campaign_member_count(campaign=campaign, unit=unit) >= 1:
        cells.append(unit)
if len(cells) < wanted:
    sys.exit(f"only {len(cells)} party cells with members; ask for more with --units")
hashed = make_password(password)  # once: the same hash serves every account
users = User.objects.bulk_create(
    User(username=f"{prefix}{n:04d}", password=hashed, first_name=f"{n:04d}",
         last_name="Bí thư thử tải", email=f"{prefix}{n:04d}@dongda.example", language="vi")
    for n in range(1, wanted + 1)
)
Assignment.objects.bulk_create(
    Assignment(user=user, unit=unit, role=Role.SECRETARY) for user, unit in zip(users, cells)
)
# Another secretary of the first cell, who only reads pages to warm the workers up.
warm = User.objects.create(username="warm-up", password=hashed, last_name="Bí thư khởi động")
Assignment.objects.create(user=warm, unit=cells[0], role=Role.SECRETARY)
# A day the form takes: in the campaign's year, from its first day, not after today.
held_on = min(campaign.starts_on + timedelta(days=14), timezone.localdate())
print(json.dumps({
    "campaign": str(campaign),
    "held_on": held_on.strftime("%d/%m/%Y"),
    "accounts": [[user.username, unit.code] for user, unit in zip(users, cells)],
    "warm_up": [warm.username, cells[0].code],
}))
"""

CHECK = r"""
import json, sys, django
django.setup()
from collections import Counter
from django.core.files.storage import default_storage
from campaigns.models import StudySession

prefix = sys.argv[1]
rows = list(
    StudySession.objects.filter(created_by__username__startswith=prefix)
    .values_list("pk", "presenter", "status", "minutes")
)
# How many times each row went to "submitted" (django-simple-history keeps one row per change).
submits = Counter(
    StudySession.history.filter(id__in=[row[0] for row in rows], history_change_reason="submitted")
    .values_list("id", flat=True)
)
print(json.dumps([
    {"pk": pk, "presenter": presenter, "status": status, "submits": submits[pk],
     "file": bool(minutes) and default_storage.exists(minutes)}
    for pk, presenter, status, minutes in rows
]))
"""


def tiny_pdf() -> bytes:
    """A one-page PDF of about 600 bytes, with a correct cross-reference table."""
    text = b"BT /F1 14 Tf 72 770 Td (Bien ban hoi nghi hoc tap chuyen de 2024) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PDF = tiny_pdf()
PDF_NAME = "Biên bản hội nghị học tập.pdf"


def field_value(html: str, name: str) -> str | None:
    """The value of the <input> named `name` in `html` (the first one), as the page has it."""
    tag = re.search(rf'<input[^>]*\sname="{re.escape(name)}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(r'\svalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


@dataclass
class Session:
    """What one user saw of one study session it sent."""

    username: str
    unit: str
    presenter: str
    pk: int | None = None
    created: bool = False  # the save answered with the new session's page
    submitted: bool = False  # the page showed it submitted after the submit
    at: float = 0.0  # when it did (time.monotonic())


class Secretary(HttpUser):
    """One unit's secretary: signs in once, then sends study sessions until the time is up."""

    accounts: list[tuple[str, str]] = []  # (username, unit code), one taken by each user
    sessions: list[Session] = []
    signed_in_count = 0  # users signed in so far; the measured time starts when all are
    think: float = 1.0
    held_on: str = ""

    def on_start(self) -> None:
        self.username, self.code = self.accounts.pop()
        self.signed_in = False
        self.count = 0

    def wait_time(self) -> float:
        """A person's pause after reading a page: inside a session, and (as locust's wait, which
        the end of the run interrupts) after the last page of one."""
        return random.uniform(0.5, 1.5) * self.think  # noqa: S311 (not a secret)

    def pause(self) -> None:
        if self.think > 0:
            gevent.sleep(self.wait_time())

    def step(
        self,
        name: str,
        method: str,
        url: str,
        expect: int,
        *,
        location: str = "",
        check=None,
        **kwargs,
    ):
        """One request, named for its step, redirects not followed (each page is its own step).
        It fails, and ends the user's current session, if the status is not `expect`, if a
        redirect does not go to a path matching `location` (the match is kept on the response),
        or if `check(response)` names a problem."""
        with self.client.request(
            method,
            url,
            name=name,
            allow_redirects=False,
            catch_response=True,
            timeout=120,
            **kwargs,
        ) as response:
            problem = None
            if response.status_code != expect:
                problem = f"HTTP {response.status_code}, expected {expect}"
            elif location:
                target = response.headers.get("Location", "")
                response.match = re.fullmatch(location, urlsplit(target).path)
                if response.match is None:
                    problem = f"redirected to {target!r}"
            if problem is None and check is not None:
                problem = check(response)
            if problem:
                response.failure(problem)
                raise RescheduleTask
            return response

    def sign_in(self) -> None:
        url = f"/{LANGUAGE}/accounts/login/"
        page = self.step("sign-in page", "GET", url, 200)
        self.pause()
        data = {
            "csrfmiddlewaretoken": field_value(page.text, "csrfmiddlewaretoken"),
            "username": self.username,
            "password": PASSWORD,
            "next": "",
        }
        self.step("sign in", "POST", url, 302, data=data, location=f"/{LANGUAGE}/")
        unit = f"/{LANGUAGE}/units/{self.code}/"
        self.step("home (to the unit)", "GET", f"/{LANGUAGE}/", 302, location=unit)
        self.signed_in = True
        Secretary.signed_in_count += 1

    @task
    def send_a_session(self) -> None:
        if not self.signed_in:
            self.sign_in()
        unit = f"/{LANGUAGE}/units/{self.code}"
        self.step("unit page", "GET", f"{unit}/", 200)
        self.pause()
        form = self.step(
            "new session form",
            "GET",
            f"{unit}/sessions/new/",
            200,
            check=lambda r: (
                None if field_value(r.text, "members_expected") else "no member count offered"
            ),
        )
        expected = field_value(form.text, "members_expected")
        members = int(re.sub(r"\D", "", expected) or 1)
        self.count += 1
        session = Session(self.username, self.code, f"Thử tải {self.username} #{self.count}")
        self.sessions.append(session)
        self.pause()  # filling the form in
        data = {
            "csrfmiddlewaretoken": field_value(form.text, "csrfmiddlewaretoken"),
            "version": field_value(form.text, "version") or "",
            "submission_key": field_value(form.text, "submission_key"),
            "held_on": self.held_on,
            "kind": "regular",
            "format": "in_person",
            "presenter": session.presenter,
            "members_expected": expected,
            "attendees": str(max(1, members - 1)),
            "notes_vi": "Phiên thử tải: học tập chuyên đề năm 2024.",
            "notes_en": "",
        }
        files = {"minutes": (PDF_NAME, PDF, "application/pdf")}
        saved = self.step(
            "save session",
            "POST",
            f"{unit}/sessions/new/",
            302,
            data=data,
            files=files,
            location=rf"{unit}/sessions/(\d+)/",
        )
        session.pk, session.created = int(saved.match.group(1)), True
        item = f"{unit}/sessions/{session.pk}/"
        page = self.step(
            "session page",
            "GET",
            item,
            200,
            check=lambda r: None if field_value(r.text, "version") else "no submit button",
        )
        self.pause()
        data = {
            "csrfmiddlewaretoken": field_value(page.text, "csrfmiddlewaretoken"),
            "version": field_value(page.text, "version"),
        }
        self.step("submit", "POST", f"{item}submit/", 302, data=data, location=item)
        self.step(
            "session page (submitted)",
            "GET",
            item,
            200,
            check=lambda r: (
                None
                if 'data-status="submitted"' in r.text
                else "not shown as submitted after the submit"
            ),
        )
        session.submitted, session.at = True, time.monotonic()


def url_named(base_url: str, name: str) -> str:
    return urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(args, url: str, env: dict) -> dict:
    """The database, the district, the secretaries' accounts and the static files."""
    name = urlsplit(url).path.lstrip("/")
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dongda_bench")
    psql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(base, f'CREATE DATABASE "{name}"')
    manage = [sys.executable, str(ROOT / "manage.py")]
    started = time.perf_counter()
    subprocess.run([*manage, "migrate", "-v0"], check=True, env=env, cwd=ROOT)
    seed = [*manage, "seed_demo", "--no-replay"]
    if args.units:
        seed += ["--units", str(args.units)]
    subprocess.run(seed, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(args.users), PASSWORD, USERNAME_PREFIX],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"setting up the accounts failed:\n{done.stderr[-3000:]}")
    setup = json.loads(done.stdout.strip().splitlines()[-1])
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], check=True, env=env, cwd=ROOT)
    print(
        f"  set up in {time.perf_counter() - started:.0f} s: the demo district, "
        f"{len(setup['accounts'])} secretaries of their own cells, static files collected"
    )
    return setup


def start_server(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    # As deploy/dongda-web.service runs it, but for the number of workers.
    command = [sys.executable, "-m", "gunicorn", "dongda.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--timeout", "60"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/{LANGUAGE}/accounts/login/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped at start-up:\n{log.read_text()[-3000:]}")
        try:
            Browser().get(url, timeout=10).raise_for_status()
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.terminate()
        sys.exit(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")
    return server


def warm_up(host: str, workers: int, account: tuple[str, str]) -> float:
    """A worker imports much of the app on its first requests (the views; the public holidays on
    the first unit page): seconds each on a busy machine. A secretary who is not one of the
    load's signs in and opens a unit page and the new-session form, in rounds of twice as many
    requests as workers, so every worker has loaded them before the run."""
    started = time.perf_counter()
    person = Browser()
    login = f"{host}/{LANGUAGE}/accounts/login/"
    page = person.get(login, timeout=120)
    token = field_value(page.text, "csrfmiddlewaretoken")
    username, code = account
    data = {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD}
    person.post(login, data=data, timeout=120).raise_for_status()
    cookies = person.cookies.get_dict()
    pages = [f"{host}/{LANGUAGE}/units/{code}/", f"{host}/{LANGUAGE}/units/{code}/sessions/new/"]

    def fetch(url: str) -> None:
        answer = Browser().get(url, cookies=cookies, timeout=120, allow_redirects=False)
        answer.raise_for_status()

    for _round in range(3):
        fetches = [gevent.spawn(fetch, url) for url in pages for _ in range(workers)]
        gevent.joinall(fetches, raise_error=True)
    return time.perf_counter() - started


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time of a process and its children (gunicorn's master and workers)."""
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@dataclass
class Phase:
    """A stretch of the run and the requests that ended in it: (step, milliseconds, failed)."""

    name: str
    started: float
    ended: float = 0.0
    requests: list[tuple[str, float, bool]] = field(default_factory=list)
    server_cpu: float = 0.0  # gunicorn's, in CPU seconds
    database_cpu: float = 0.0  # the PostgreSQL backends', in CPU seconds


def database_cpu(database: str) -> dict[int, float]:
    """CPU time of each PostgreSQL backend serving `database`, by process id (this machine's
    server only; a backend that ended in between is missed, the workers keep theirs open)."""
    found = {}
    for process in psutil.process_iter(["cmdline", "cpu_times"]):
        title, times = " ".join(process.info["cmdline"] or []), process.info["cpu_times"]
        if times and title.startswith("postgres:") and f" {database} " in title:
            found[process.pid] = times.user + times.system
    return found


def run_load(args, host: str, setup: dict, server: subprocess.Popen) -> dict:
    """Signs every user in (their sign-in storm is a phase of its own, up to --sign-in-timeout),
    then measures --duration seconds with everyone signed in, then lets the users finish."""
    Secretary.accounts = [tuple(a) for a in reversed(setup["accounts"])]
    Secretary.sessions = []
    Secretary.signed_in_count = 0
    Secretary.think = args.wait
    Secretary.held_on = setup["held_on"]
    env = Environment(user_classes=[Secretary], host=host, stop_timeout=args.stop_timeout)
    runner = env.create_local_runner()
    gunicorn = psutil.Process(server.pid)
    me = psutil.Process()
    client_cpu = sum(me.cpu_times()[:2])
    figures = {"load_before": os.getloadavg(), "env": env}
    phases: list[Phase] = []
    cpu = {"server": cpu_seconds(gunicorn), "database": database_cpu(args.database)}

    def begin(name: str) -> None:
        """Ends the current phase, with the CPU its server and database used, and starts one."""
        now = time.monotonic()
        server, database = cpu_seconds(gunicorn), database_cpu(args.database)
        if phases:
            phases[-1].ended = now
            phases[-1].server_cpu = server - cpu["server"]
            phases[-1].database_cpu = sum(
                seconds - cpu["database"].get(pid, 0.0) for pid, seconds in database.items()
            )
        cpu.update(server=server, database=database)
        if name:
            phases.append(Phase(name, now))

    begin("sign-in")

    def record(request_type, name, response_time, response_length, exception=None, **kwargs):
        phases[-1].requests.append((name, response_time, exception is not None))

    env.events.request.add_listener(record)
    runner.start(args.users, spawn_rate=args.spawn_rate)

    def progress() -> None:
        while True:
            gevent.sleep(10)
            total = env.stats.total
            print(
                f"  {time.monotonic() - phases[0].started:4.0f} s ({phases[-1].name}): "
                f"{Secretary.signed_in_count} users signed in, {total.num_requests:,} requests, "
                f"{total.current_rps:.1f}/s now, {total.num_failures} failed",
                flush=True,
            )

    reporter = gevent.spawn(progress)
    deadline = phases[0].started + args.sign_in_timeout
    while Secretary.signed_in_count < args.users and time.monotonic() < deadline:
        gevent.sleep(0.2)
    begin("measured")
    gevent.sleep(args.duration)
    figures["load_during"] = os.getloadavg()
    begin("finishing")
    runner.stop()  # each user finishes the session it is sending, up to --stop-timeout
    begin("")
    reporter.kill()
    runner.quit()
    figures.update(
        phases=phases,
        seconds=phases[-1].ended - phases[0].started,
        client_cpu=sum(me.cpu_times()[:2]) - client_cpu,
    )
    return figures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def print_steps(requests: list[tuple[str, float, bool]]) -> None:
    print(
        f"    {'step':<26}{'requests':>9}{'failed':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}"
    )
    by_step: dict[str, list[tuple[float, bool]]] = {}
    for name, ms, failed in requests:
        by_step.setdefault(name, []).append((ms, failed))
    names = [n for n in STEPS if n in by_step] + sorted(set(by_step) - set(STEPS))
    for name, rows in [*((n, by_step[n]) for n in names), ("all", [r[1:] for r in requests])]:
        times = [ms for ms, _failed in rows]
        failed = sum(1 for _ms, f in rows if f)
        p50, p95, p99 = (percentile(times, share) for share in (0.5, 0.95, 0.99))
        print(
            f"    {name:<26}{len(rows):>9,}{failed:>8}{p50:>9,.0f}{p95:>9,.0f}{p99:>9,.0f}"
            f"{max(times):>9,.0f}"
        )


def cpu_line(phase: Phase, sessions: int = 0) -> str:
    seconds = phase.ended - phase.started
    requests = max(len(phase.requests), 1)
    line = (
        f"    CPU: gunicorn {phase.server_cpu:.0f} s ({phase.server_cpu / seconds:.2f} cores, "
        f"{1000 * phase.server_cpu / requests:.0f} ms a request), PostgreSQL "
        f"{phase.database_cpu:.0f} s ({1000 * phase.database_cpu / requests:.0f} ms a request)"
    )
    if sessions:
        both = phase.server_cpu + phase.database_cpu
        line += f"; {1000 * both / sessions:.0f} ms of the two a session sent"
    return line


def report_load(args, figures: dict, workers: int) -> int:
    """Prints the phases, their steps and the errors; returns the number of failed requests."""
    signing, measured, finishing = figures["phases"]
    env = figures["env"]
    signed = Secretary.signed_in_count
    print(
        f"\nsign-in: {signed} of {args.users} secretaries signed in after "
        f"{signing.ended - signing.started:.0f} s ({args.spawn_rate:g} started a second)"
    )
    if signing.requests:
        print_steps(signing.requests)
    print(cpu_line(signing))
    window = measured.ended - measured.started
    failed = sum(1 for r in measured.requests if r[2])
    sent = [
        s for s in Secretary.sessions if s.submitted and measured.started <= s.at < measured.ended
    ]
    print(
        f"then {window:.0f} s with {'everyone' if signed == args.users else 'them'} signed in "
        f"(the measured time): {len(measured.requests):,} requests, "
        f"{len(measured.requests) / window:.1f} requests/s, {failed} failed; {len(sent):,} "
        f"sessions saved and submitted ({60 * len(sent) / window:.0f} a minute)"
    )
    if measured.requests:
        print_steps(measured.requests)
    print(cpu_line(measured, len(sent)))
    # Throughput per core two ways: of the machine's cores (what a deployment of that size
    # serves), and per CPU second the server and the database spent (less sensitive to whatever
    # else runs on the machine).
    busy = measured.server_cpu + measured.database_cpu
    print(
        f"    throughput: {len(measured.requests) / window / (os.cpu_count() or 1):.1f} requests/s "
        f"per core of the machine; {len(measured.requests) / max(busy, 1e-9):.1f} requests per "
        f"CPU second of gunicorn and PostgreSQL"
    )
    failed_after = sum(1 for r in finishing.requests if r[2])
    print(
        f"then {finishing.ended - finishing.started:.0f} s for the users to finish their session: "
        f"{len(finishing.requests):,} requests, {failed_after} failed"
    )
    total = env.stats.total
    print(
        f"in all: {total.num_requests:,} requests in {figures['seconds']:.0f} s, "
        f"{total.num_failures} failed; "
        f"{sum(1 for s in Secretary.sessions if s.submitted):,} sessions submitted"
    )
    for error in sorted(env.stats.errors.values(), key=lambda e: -e.occurrences)[:10]:
        print(f"  error: {error.occurrences} × {error.method} {error.name}: {error.error}")
    print(
        f"  gunicorn: {workers} sync workers; locust itself used {figures['client_cpu']:.0f} CPU s"
    )
    print(
        f"  machine: {os.cpu_count()} cores; load average (1, 5, 15 min) "
        f"{' '.join(f'{x:.2f}' for x in figures['load_before'])} before, "
        f"{' '.join(f'{x:.2f}' for x in figures['load_during'])} at the end of the measured "
        f"time"
    )
    return total.num_failures


def check_database(env: dict, sessions: list[Session]) -> int:
    """Every session the client saw submitted exists once, submitted, with its file, submitted
    once; returns the number of problems."""
    done = subprocess.run(
        [sys.executable, "-c", CHECK, USERNAME_PREFIX],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"checking the database failed:\n{done.stderr[-3000:]}")
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    by_presenter: dict[str, list[dict]] = {}
    for row in rows:
        by_presenter.setdefault(row["presenter"], []).append(row)
    seen = {s.presenter: s for s in sessions}
    submitted = [s for s in sessions if s.submitted]
    lost = [s for s in submitted if not by_presenter.get(s.presenter)]
    lost += [
        s for s in sessions if s.created and not s.submitted and not by_presenter.get(s.presenter)
    ]
    doubled = [p for p, found in by_presenter.items() if len(found) > 1]
    wrong_state = [
        s
        for s in submitted
        if len(by_presenter.get(s.presenter, [])) == 1
        and by_presenter[s.presenter][0]["status"] != "submitted"
    ]
    no_file = [r for r in rows if not r["file"]]
    submits = [r for r in rows if r["submits"] > 1]
    # A save or submit whose answer the client never read (it failed or timed out): the row may
    # exist; it is not lost, only not confirmed.
    unconfirmed = [
        r for r in rows if not (seen.get(r["presenter"]) and seen[r["presenter"]].created)
    ]
    drafts = [s for s in sessions if s.created and not s.submitted]
    once = [
        s
        for s in submitted
        if len(by_presenter.get(s.presenter, [])) == 1
        and by_presenter[s.presenter][0]["status"] == "submitted"
    ]
    print(
        f"\ndatabase: {len(submitted):,} sessions seen submitted, {len(rows):,} rows by the load's "
        f"secretaries"
    )
    for label, count in (
        ("seen submitted, there once and submitted", len(once)),
        ("lost (seen saved or submitted, no row)", len(lost)),
        ("doubled (two rows for one session)", len(doubled)),
        ("seen submitted, in another state", len(wrong_state)),
        ("submitted more than once (history)", len(submits)),
        ("without their evidence file", len(no_file)),
        ("created, the save not seen answered", len(unconfirmed)),
        ("seen saved, not submitted (failed or cut off)", len(drafts)),
    ):
        print(f"  {label:<48}{count:>7,}")
    for label, items in (("lost", lost), ("doubled", doubled), ("not submitted", wrong_state)):
        for item in items[:5]:
            print(f"    {label}: {asdict(item) if isinstance(item, Session) else item}")
    return len(lost) + len(doubled) + len(wrong_state) + len(submits) + len(no_file)


def server_errors(log: Path) -> int:
    """Tracebacks and worker timeouts in gunicorn's log; prints the first traceback."""
    text = log.read_text(errors="replace")
    tracebacks = text.count("Traceback (most recent call last)")
    timeouts = text.count("WORKER TIMEOUT")
    print(f"\ngunicorn's log: {tracebacks} tracebacks, {timeouts} worker timeouts")
    if tracebacks:
        start = text.index("Traceback (most recent call last)")
        print(text[max(0, text.rfind("\n", 0, start - 200)) : start + 4000])
    return tracebacks + timeouts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200, help="secretaries (default 200)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started a second")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured (default 60)")
    parser.add_argument(
        "--wait",
        type=float,
        default=1.0,
        help="seconds a person pauses after reading a page, on average (0.5 to 1.5 times it); "
        "0 clicks on at once (default 1)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn workers (default 2 × cores + 1)",
    )
    parser.add_argument(
        "--sign-in-timeout",
        type=float,
        default=300,
        help="seconds the users get to sign in before the measured time starts anyway",
    )
    parser.add_argument("--units", type=int, help="seed_demo --units N (default the district)")
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=120,
        help="seconds the users get to finish their session at the end",
    )
    parser.add_argument("--database", default="dongda_load")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/12",
        help="a Redis database the tests do not use; emptied before and after",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database, the folder and the Redis keys"
    )
    args = parser.parse_args()
    if not args.database.startswith("dongda_load"):
        parser.error("--database must start with dongda_load")
    logging.basicConfig(level=logging.WARNING, format="  locust: %(message)s")

    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dongda_bench")
    url = url_named(base, args.database)
    folder = Path(tempfile.mkdtemp(prefix="dongda_load_"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dongda.settings",
        "DATABASE_URL": url,
        "REDIS_URL": args.redis_url,
        "VAR_DIR": str(folder),
        "DEBUG": "0",
        "SECRET_KEY": "load-bench-only-not-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "EMAIL_URL": "locmem://",
    }
    cache = Redis.from_url(args.redis_url)
    # The run empties its Redis database before and after: refuse one that already holds keys
    # (a deployment's, another district's) rather than wipe them.
    if cache.dbsize():
        raise SystemExit(
            f"{args.redis_url} holds {cache.dbsize()} keys; give --redis-url an empty database"
        )
    port = free_port()
    log = folder / "gunicorn.log"
    print(
        f"load: {args.users} secretaries, {args.spawn_rate:g} started a second, {args.duration:g} "
        f"s, a pause of {args.wait:g} s on average after each page; gunicorn with "
        f"{args.workers} workers on 127.0.0.1:{port}; database {args.database}, Redis "
        f"{args.redis_url}",
        flush=True,
    )
    server = None
    failed = 1
    try:
        setup = prepare(args, url, env)
        print(f"  campaign {setup['campaign']}; sessions held on {setup['held_on']}", flush=True)
        server = start_server(env, port, args.workers, log)
        seconds = warm_up(f"http://127.0.0.1:{port}", args.workers, setup["warm_up"])
        print(f"  gunicorn started and its workers warmed up in {seconds:.0f} s", flush=True)
        figures = run_load(args, f"http://127.0.0.1:{port}", setup, server)
        failed = report_load(args, figures, args.workers)
        if not any(s.submitted for s in Secretary.sessions):
            print("no session got through: nothing was held")
            failed += 1
        failed += check_database(env, Secretary.sessions)
        failed += server_errors(log)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            psql(base, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            shutil.rmtree(folder, ignore_errors=True)
            cache.flushdb()
        else:
            kept = f"database {args.database}, folder {folder} (gunicorn.log), {args.redis_url}"
            print(f"kept: {kept}")
    print("\nresult: " + ("held" if not failed else "NOT held"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
