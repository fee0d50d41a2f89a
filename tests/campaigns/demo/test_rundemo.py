"""`rundemo` is the newcomer's first command: it must bring the whole app up on embedded defaults
(SQLite, the filesystem broker, no Redis) and take every process down again on Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_in_session(session_id: int) -> list[str]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, pgrp, session, …; zombies are already gone.
        if int(fields[3]) == session_id and fields[0] != "Z":
            found.append(stat.parent.name)
    return found


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_rundemo_serves_the_demo_district_runs_a_worker_and_stops_cleanly(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc to find leftover processes")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
    )
    log = (tmp_path / "rundemo.log").open("w+")
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the test can press "Ctrl-C" on it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        health = None
        while time.monotonic() < deadline:
            assert demo.poll() is None, (tmp_path / "rundemo.log").read_text()[-3000:]
            try:
                status, body = get(f"{base}/healthz")
            except OSError:
                time.sleep(1)
                continue
            health = json.loads(body)
            # The engine run that rundemo enqueues at start proves the worker consumes the broker.
            if status == 200 and health["deadline_engine"]["last_finished_at"]:
                break
            time.sleep(1)
        else:
            tail = (tmp_path / "rundemo.log").read_text()[-3000:]
            pytest.fail(f"rundemo never became healthy: {health}\n{tail}")
        assert health["database"] == "ok" and health["broker"] == "ok"
        # The demo's flags were built by replaying 2024 day by day, up to today: the first live
        # engine run finds them as the rules say, and changes nothing.
        assert (health["deadline_engine"]["opened"], health["deadline_engine"]["closed"]) == (0, 0)

        status, body = get(f"{base}/vi/accounts/login/")
        assert status == 200
        assert "Đăng nhập" in body.decode()
        # The demo behaves as production does: the app's own error pages in the URL's
        # language, never Django's technical ones; static files still served.
        status, body = get(f"{base}/vi/khong-co-trang-nay/")
        assert status == 404 and "Không tìm thấy trang" in body.decode()
        status, body = get(f"{base}/en/no-such-page/")
        assert status == 404 and "Page not found" in body.decode()
        assert "URLconf" not in body.decode() and "DEBUG" not in body.decode()
        status, body = get(f"{base}/static/css/app.css")
        assert status == 200 and b".error-page" in body
        output = (tmp_path / "rundemo.log").read_text()
        assert f"http://127.0.0.1:{port}/vi/" in output
        assert "vanphong" in output and "dongda2024" in output
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            pytest.fail("rundemo did not stop within 60 s of Ctrl-C")
    time.sleep(1)
    assert processes_in_session(demo.pid) == [], "rundemo left processes behind"
    # A quiet first hour: Ctrl-C is one line, and nothing warns about what a newcomer cannot
    # change (running as root, the embedded broker's host, runserver being for development).
    output = (tmp_path / "rundemo.log").read_text()
    assert output.rstrip().endswith("Stopping… stopped."), output[-2000:]
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output[-3000:]
    assert "WARNING: This is a development server" not in output
    worker_log = (tmp_path / "var" / "worker.log").read_text()
    assert "celery@" in worker_log and "ready." in worker_log
    for noise in ("SecurityWarning", "No hostname was supplied", "Traceback"):
        assert noise not in worker_log, worker_log[-3000:]
