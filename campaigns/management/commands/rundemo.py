import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from campaigns.demo import DEFAULT_PASSWORD
from campaigns.tasks import run_deadline_engine
from dongda.celery import ensure_embedded_broker_folders
from dongda.i18n import compile_catalogues
from units.models import Unit


class Command(BaseCommand):
    help = (
        "Run the whole app on one machine: migrate, load the demo district if the database is "
        "empty, compile messages, start the web server and a Celery worker with beat on the "
        "embedded broker. Ctrl-C stops all of it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port: int, host: str, **options):
        self._ensure_port_free(host, port)
        # Links in e-mails lead to this server, on whatever port it runs (unless SITE_URL says
        # otherwise): for this process and, through the environment, for the worker.
        site_url = os.environ.get("SITE_URL") or self._own_url(host, port)
        os.environ["SITE_URL"] = settings.SITE_URL = site_url
        try:
            self._prepare()
        except KeyboardInterrupt:  # Ctrl-C before anything was started: nothing to stop
            self.stdout.write(" stopped.")
            return

        stop = _StopRequest()
        children: dict[str, subprocess.Popen] = {}
        try:
            children = self._start_children(host, port)
            self._wait_until_up(host, port, children, stop)
            # One engine run right away, so the dashboard's "last checked" is filled from the start.
            run_deadline_engine.delay()
            self._print_banner(host, port)
            self._supervise(children, stop)
        finally:
            # A second Ctrl-C while stopping must not leave the children running.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if children:
                self.stdout.write("Stopping…", ending="")
                self.stdout.flush()
                self._stop(children)
                self.stdout.write(" stopped.")

    def _prepare(self) -> None:
        self.stdout.write("Migrating the database…")
        call_command("migrate", interactive=False, verbosity=0)
        if not Unit.objects.exists():
            self.stdout.write(
                "Loading the Đống Đa demo district and replaying its 2024 flags day by day "
                "(about half a minute, once)…"
            )
            call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        compile_catalogues()
        ensure_embedded_broker_folders()

    @staticmethod
    def _demo_secret_key() -> str:
        """A key made once for this machine's demo and kept in VAR_DIR: sessions survive a
        restart, and no two demos (nor a demo and a published default) share one."""
        path = Path(settings.VAR_DIR) / "demo-secret-key"
        key = path.read_text().strip() if path.exists() else ""
        if len(key) < 50:  # none yet, or a write cut short: a new one, written whole or not at all
            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(50)
            partial = path.with_suffix(".partial")
            partial.touch(mode=0o600)
            partial.write_text(key)
            partial.replace(path)
        return key

    @staticmethod
    def _own_url(host: str, port: int) -> str:
        # A server listening on every address is reached on this machine at 127.0.0.1.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{port}"

    def _ensure_port_free(self, host: str, port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex((host, port)) == 0:
                raise CommandError(
                    f"Port {port} on {host} is already in use; try --port {port + 1}."
                )

    def _start_children(self, host: str, port: int) -> dict[str, subprocess.Popen]:
        env = {
            **os.environ,
            # As production behaves (the app's own error pages), unless DEBUG=1 is asked for.
            "DEBUG": os.environ.get("DEBUG", "0"),
            "DEMO_SERVER": "1",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or self._demo_secret_key(),
            # The demo is plain HTTP on this machine: no redirect to HTTPS, cookies sent over
            # HTTP, no HSTS promise for the address.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
            # runserver's "do not use in production" notice: rundemo is the development server.
            "DJANGO_RUNSERVER_HIDE_WARNING": "true",
            # Celery warns a worker running as root (containers, CI): on one's own machine for a
            # demo there is nothing to act on.
            "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # Each child in its own process group: Ctrl-C reaches rundemo alone, which then stops
        # them in order (they stay in rundemo's session, so nothing outlives it unseen).
        web = subprocess.Popen(
            # --insecure: runserver serves the static files with DEBUG off too (DEMO_SERVER
            # leaves them in the source folders, uncollected).
            [*manage, "runserver", f"{host}:{port}", "--noreload", "--insecure"],
            env=env,
            process_group=0,
        )
        self.worker_log = Path(settings.VAR_DIR) / "worker.log"
        self.worker_log.parent.mkdir(parents=True, exist_ok=True)
        with self.worker_log.open("w") as log:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "dongda",
                    "worker",
                    "--beat",
                    "--pool=solo",
                    "--loglevel=INFO",
                    "--schedule",
                    settings.CELERY_BEAT_SCHEDULE_FILENAME,
                ],
                env=env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        return {"web server": web, "Celery worker and beat": worker}

    def _wait_until_up(
        self, host: str, port: int, children: dict[str, subprocess.Popen], stop: "_StopRequest"
    ) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not stop.requested:
            self._check_alive(children)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                if probe.connect_ex((host, port)) == 0:
                    return
            time.sleep(0.3)
        if not stop.requested:
            raise CommandError("The web server did not start within 60 seconds.")

    def _print_banner(self, host: str, port: int) -> None:
        password = DEFAULT_PASSWORD
        sample = Unit.objects.filter(depth=2).order_by("path").first()
        cell = Unit.objects.filter(depth=3).order_by("path").first()
        lines = [
            "",
            f"  The tracker is running:  http://{host}:{port}/vi/   (English: http://{host}:{port}/en/)",
            "",
            f"  Demo logins (password {password}):",
            "    vanphong             district office staff, the one administrator (/admin/)",
            "    thuongtruc           Standing Committee, read-only",
            "    staff-en             district office staff who reads English (no /admin/)",
        ]
        for unit in (sample, cell):
            if unit is not None:
                lines.append(f"    {'bt-' + unit.code:<20} secretary of {unit.name_vi}")
        lines += [
            "    bt-<unit code> for the secretary of any other unit",
            "",
            f"  The Celery worker and beat write to {self._shown(self.worker_log)}.",
            "  Press Ctrl-C to stop.",
            "",
        ]
        self.stdout.write("\n".join(lines))

    @staticmethod
    def _shown(path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def _check_alive(self, children: dict[str, subprocess.Popen]) -> None:
        for name, process in children.items():
            if process.poll() is not None:
                message = f"The {name} stopped (exit code {process.returncode})."
                if process.args[1:3] == ["-m", "celery"]:
                    tail = self.worker_log.read_text(errors="replace").splitlines()[-15:]
                    message += f" The end of {self._shown(self.worker_log)}:\n" + "\n".join(tail)
                raise CommandError(message)

    def _supervise(self, children: dict[str, subprocess.Popen], stop: "_StopRequest") -> None:
        while not stop.requested:
            self._check_alive(children)
            time.sleep(0.5)

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        for process in children.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in children.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _StopRequest:
    """Ctrl-C (SIGINT) or SIGTERM asks rundemo to stop: a flag the supervising loop reads,
    instead of a KeyboardInterrupt raised wherever the code happens to be."""

    def __init__(self):
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, signum, frame) -> None:
        self.requested = True
