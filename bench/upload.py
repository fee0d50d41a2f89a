"""Benchmark of a refused upload against a real server (run by hand).

    uv run python bench/upload.py                  # 300 MB, each way, median of 3 runs
    uv run python bench/upload.py --baseline       # and the same without the request limits
    uv run python bench/upload.py --size-mb 50 --repeat 5

Starts the app under gunicorn (one sync worker, as deployed, on a scratch SQLite database with
collected static files, DEBUG off) and sends the anonymous sign-in page a multipart body with
one file of --size-mb megabytes, twice: with an honest Content-Length, and chunked without one.
The client sends as fast as the loopback takes it and stops when the answer arrives. For each it
prints the answer, the time from the first byte sent to the answer, how much of the body had
been sent by then, the worker's peak resident memory while it handled the request (the kernel's
high-water mark, reset after a warm-up request) above its resting size, and the most the
server's temporary folder held meanwhile (files in it and files the worker holds open there,
unlinked or not). Each run starts a fresh server. --baseline adds the same runs with the request
limit middleware taken out (the upload handlers stay), to show what it saves.
"""

import argparse
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATH = "/en/accounts/login/"
BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"
CHUNK = 64 * 1024
MB = 1024 * 1024

# As before the limits: no request size middleware, and the sign-in page keeping the file part
# (each file still stops being stored past EVIDENCE_MAX_BYTES, as it did).
WITHOUT_LIMITS = """
from dongda.settings import *  # noqa: F403

MIDDLEWARE = [m for m in MIDDLEWARE if "request_limits" not in m]  # noqa: F405
UPLOAD_FILE_FIELDS = {**UPLOAD_FILE_FIELDS, "login": ("evidence",)}  # noqa: F405
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with one sync worker, on its own scratch folders."""

    def __init__(self, work: Path, *, limits: bool):
        self.work = work
        self.tmp = work / "tmp"
        self.tmp.mkdir(exist_ok=True)
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
            "VAR_DIR": str(work / "var"),
            "STATIC_ROOT": str(work / "static"),
            "SECRET_KEY": "bench-upload-not-secret-" + "x" * 40,
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "TMPDIR": str(self.tmp),  # where Django's upload handlers write
            "PYTHONPATH": os.pathsep.join([str(work), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "dongda.settings" if limits else "bench_without_limits",
        }
        (work / "bench_without_limits.py").write_text(WITHOUT_LIMITS)

    def prepare(self) -> None:
        manage = [sys.executable, str(ROOT / "manage.py")]
        quiet = {"check": True, "env": self.env, "cwd": ROOT, "stdout": subprocess.DEVNULL}
        subprocess.run([*manage, "migrate", "-v0"], **quiet)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], **quiet)

    def __enter__(self) -> "Server":
        self.log = (self.work / "server.log").open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "dongda.wsgi", "--workers", "1",
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "120", "--log-level", "warning"],
            env=self.env, cwd=ROOT, stdout=self.log, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        self.worker = self._worker_pid()
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()

    def _worker_pid(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids = children.read_text().split()
            if pids:
                return int(pids[0])
            time.sleep(0.1)
        raise RuntimeError("no gunicorn worker")

    def status(self, field: str) -> int:
        for line in Path(f"/proc/{self.worker}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def reset_peak(self) -> None:
        # "5" resets the peak resident set size (VmHWM) to the current one (Linux 4.0+).
        Path(f"/proc/{self.worker}/clear_refs").write_text("5")

    def temp_bytes(self) -> int:
        """What the temporary folder holds: its files, and files the worker has open in it
        (an unlinked temporary file is no longer listed but still takes disk)."""
        seen, total = set(), 0
        for entry in os.scandir(self.tmp):
            if entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                seen.add(stat.st_ino)
                total += stat.st_blocks * 512
        try:
            descriptors = list(Path(f"/proc/{self.worker}/fd").iterdir())
        except OSError:
            return total
        for descriptor in descriptors:
            try:
                if not os.readlink(descriptor).startswith(str(self.tmp)):
                    continue
                stat = os.stat(descriptor)
            except OSError:
                continue
            if stat.st_ino not in seen:
                seen.add(stat.st_ino)
                total += stat.st_blocks * 512
        return total


def body_parts(token: str) -> tuple[bytes, bytes]:
    """The multipart body around the file's bytes: the CSRF token first, as a browser sends the
    form's hidden field, so that Django goes on to read the rest."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{token}\r\n"
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="username"\r\n\r\nbt-x\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="evidence"; '
        f'filename="bien-ban.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail


def body_chunks(size: int, token: str):
    head, tail = body_parts(token)
    yield head
    block = b"0" * CHUNK
    left = size
    while left > 0:
        yield block[: min(CHUNK, left)]
        left -= CHUNK
    yield tail


def send(port: int, size: int, csrf: tuple[str, str], *, chunked: bool) -> dict:
    """Sends the upload and returns the answer's status, the seconds to it and the bytes of
    body sent by then."""
    cookie, token = csrf
    head, tail = body_parts(token)
    length = len(head) + size + len(tail)
    headers = [
        f"POST {PATH} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Cookie: csrftoken={cookie}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}",
        "Connection: close",
    ]
    connection = socket.create_connection(("127.0.0.1", port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    started = time.perf_counter()
    connection.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
    sent, answer, answered_at = 0, b"", None
    pieces = body_chunks(size, token)
    pending = b""
    try:
        while True:
            readable, writable, _ = select.select([connection], [connection], [], 30)
            if readable:
                answered_at = time.perf_counter()
                break
            if not writable:
                continue
            if not pending:
                piece = next(pieces, None)
                if piece is None:
                    if chunked:
                        connection.sendall(b"0\r\n\r\n")
                    pending = None
                    break
                pending = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
            done = connection.send(pending)
            sent += done
            pending = pending[done:]
        if answered_at is None:
            select.select([connection], [], [], 120)
            answered_at = time.perf_counter()
        connection.settimeout(10)
        while b"\r\n" not in answer:
            data = connection.recv(65536)
            if not data:
                break
            answer += data
    except (ConnectionResetError, BrokenPipeError):
        answered_at = answered_at or time.perf_counter()
    finally:
        connection.close()
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "reset"
    return {"status": status, "seconds": answered_at - started, "sent": sent}


def warm_up(port: int) -> tuple[str, str]:
    """Opens the sign-in page as a browser would before sending it: the first request loads the
    URLconf and the views (not the upload's memory), and gives the CSRF cookie and form token."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        request = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        connection.sendall(request.encode())
        page = b""
        while data := connection.recv(65536):
            page += data
    text = page.decode("utf-8", "replace")
    cookie = re.search(r"Set-Cookie: csrftoken=([^;]+)", text, re.IGNORECASE).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
    return cookie, token


def measure(work: Path, size: int, *, chunked: bool, limits: bool) -> dict:
    with Server(work, limits=limits) as server:
        csrf = warm_up(server.port)
        time.sleep(0.2)
        resting = server.status("VmRSS")
        server.reset_peak()
        peak_disk = [0]
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                peak_disk[0] = max(peak_disk[0], server.temp_bytes())
                time.sleep(0.005)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            result = send(server.port, size, csrf, chunked=chunked)
            # The worker may still be reading after the answer (without the limits it answers
            # only at the end); wait until it is idle again before reading its peak.
            time.sleep(0.5)
        finally:
            stop.set()
            watcher.join()
        result["peak_rss"] = server.status("VmHWM")
        result["resting_rss"] = resting
        result["peak_disk"] = peak_disk[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", action="store_true", help="also run without the limits")
    args = parser.parse_args()
    size = args.size_mb * MB
    cases = [(limits, chunked) for limits in (True, False)[: 2 if args.baseline else 1]
             for chunked in (False, True)]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as folder:
        work = Path(folder)
        Server(work, limits=True).prepare()
        print(
            f"{args.size_mb} MB upload to {PATH} (gunicorn, 1 sync worker), "
            f"median of {args.repeat} runs:"
        )
        print(
            f"  {'':40}{'answer':>7}{'to answer':>11}{'body sent':>12}"
            f"{'worker peak RSS':>22}{'temp disk peak':>16}"
        )
        for limits, chunked in cases:
            runs = [measure(work, size, chunked=chunked, limits=limits) for _ in range(args.repeat)]
            label = ("chunked, no Content-Length" if chunked else "honest Content-Length") + (
                "" if limits else " (no limits)"
            )
            statuses = "/".join(sorted({r["status"] for r in runs}))
            growth = statistics.median(r["peak_rss"] - r["resting_rss"] for r in runs)
            print(
                f"  {label:40}{statuses:>7}{median(runs, 'seconds'):>9.3f} s"
                f"{median(runs, 'sent') / MB:>9.1f} MB"
                f"{median(runs, 'peak_rss') / MB:>9.1f} MB (+{growth / MB:5.1f})"
                f"{median(runs, 'peak_disk') / MB:>13.1f} MB",
                flush=True,
            )


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


if __name__ == "__main__":
    main()
