"""A real Celery worker process on Redis picks up tasks sent from Django."""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

from campaigns.models import DeadlineEngineRun
from campaigns.tasks import run_deadline_engine
from dongda.celery import ping
from tests.conftest import redis_answers, require

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue():
    """Starts `celery worker` on its own queue, pointed at this test's PostgreSQL database."""
    require(redis_answers(settings.REDIS_URL), "Redis (REDIS_URL)")
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}:{port}/{db['NAME']}"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1", "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dongda",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-n",
            f"{queue}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        print(output[-4000:])


def test_worker_answers_a_ping_over_redis(worker_queue):
    assert ping.apply_async(queue=worker_queue).get(timeout=60) == "pong"


def test_worker_runs_the_deadline_engine_against_the_database(worker_queue, district, campaign):
    assert not DeadlineEngineRun.objects.exists()
    result = run_deadline_engine.apply_async(queue=worker_queue).get(timeout=90)
    run = DeadlineEngineRun.objects.get()
    assert result["run"] == run.pk
    assert run.finished_at is not None
