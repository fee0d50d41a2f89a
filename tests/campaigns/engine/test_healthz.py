"""/healthz tells a load balancer, a monitor or a person whether the app can work: the database,
the broker, and how long ago the deadline engine last finished."""

import json
from datetime import datetime, timedelta

from django.utils import timezone

from campaigns.engine.run import deadline_engine_run
from tests.processes import START_DJANGO


def test_healthz_reports_database_broker_and_no_engine_run_yet(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["deadline_engine"] == {
        "last_finished_at": None,
        "age_seconds": None,
        "opened": None,
        "closed": None,
        "last_error": None,
    }


def test_healthz_reports_when_the_deadline_engine_last_finished(client, campaign):
    run = deadline_engine_run()
    body = client.get("/healthz").json()
    finished = datetime.fromisoformat(body["deadline_engine"]["last_finished_at"])
    assert finished == run.finished_at
    assert timezone.now() - finished < timedelta(minutes=1)
    assert 0 <= body["deadline_engine"]["age_seconds"] < 60


def test_healthz_is_not_cached(client, db):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_healthz_refuses_post(client, db):
    assert client.post("/healthz").status_code == 405


def healthz_in_a_new_process(run, *, migrated: bool) -> tuple[int, dict | None]:
    """GET /healthz in a fresh process with DEBUG on (on a scratch database and VAR_DIR): the
    status, and the JSON body if the answer is JSON."""
    script = "\n".join(
        [
            START_DJANGO,
            "import json",
            "from django.core.management import call_command",
            "from django.test import Client",
            "call_command('migrate', verbosity=0)" if migrated else "",
            "response = Client(raise_request_exception=False).get('/healthz')",
            "is_json = response['Content-Type'] == 'application/json'",
            "print(json.dumps([response.status_code, response.json() if is_json else None]))",
        ]
    )
    result = run("-c", script, DEBUG="1")
    assert result.returncode == 0, result.stderr[-3000:]
    status, body = json.loads(result.stdout.strip().splitlines()[-1])
    return status, body


def test_healthz_on_a_fresh_checkout_finds_the_embedded_broker(run, tmp_path):
    """No var/ folder yet, no Redis: the embedded broker's folders are made on demand."""
    assert not (tmp_path / "var").exists()
    status, body = healthz_in_a_new_process(run, migrated=True)
    assert (status, body["broker"]) == (200, "ok")
    assert (tmp_path / "var" / "celery" / "queue").is_dir()


def test_healthz_reports_an_unmigrated_database_instead_of_crashing(run):
    """A database that answers but has no tables (migrate not yet run) is an unhealthy app: the
    load balancer and the person reading the JSON should be told so, not get a 500 page."""
    status, body = healthz_in_a_new_process(run, migrated=False)
    assert status == 503
    assert body is not None, "healthz answered with an error page, not JSON"
    assert body["status"] == "error"
