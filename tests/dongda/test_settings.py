"""Settings come from the environment and fail loudly; a production setup passes Django's own
deployment checks; /healthz tells a load balancer whether the app can work."""

import json
import os
import secrets
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from campaigns.engine.run import deadline_engine_run
from dongda.env import env_email

# Every variable settings.py reads: a subprocess starts from none of them, so that the developer's
# or CI's own environment cannot make a case pass or fail.
SETTINGS_VARIABLES = (
    "AXES_ENABLED",
    "AXES_FAILURE_LIMIT",
    "CELERY_TASK_ALWAYS_EAGER",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "SITE_URL",
    "CACHE_KEY_PREFIX",
    "DEBUG",
    "DEFAULT_FROM_EMAIL",
    "EMAIL_URL",
    "EVIDENCE_MAX_BYTES",
    "LOG_LEVEL",
    "PRIVATE_MEDIA_ROOT",
    "REDIS_URL",
    "SECRET_KEY",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "STATIC_ROOT",
    "TIME_ZONE",
    "VAR_DIR",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
)
START_DJANGO = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dongda.settings'); "
    "django.setup()"
)


@pytest.fixture
def run(tmp_path):
    """Runs Python in a fresh process from the project folder, with only the given settings
    variables set (plus a scratch VAR_DIR and database, so nothing in the checkout is written)."""

    def run(*args: str, **variables: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
        env.update(
            VAR_DIR=str(tmp_path / "var"),
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        )
        env.update(variables)
        return subprocess.run(
            [sys.executable, *args],
            cwd=django_settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def start(run, **variables: str) -> subprocess.CompletedProcess:
    return run("-c", START_DJANGO, **variables)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "http://x"),
        ("EMAIL_URL", "gopher://x"),
        ("DEBUG", "maybe"),
        ("AXES_FAILURE_LIMIT", "many"),
        ("AXES_FAILURE_LIMIT", "0"),
    ],
)
def test_start_up_fails_naming_a_badly_set_variable(run, variable, value):
    result = start(run, **{"DEBUG": "1", variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1], result.stderr


def test_start_up_without_debug_refuses_the_development_secret_key(run):
    result = start(run, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.strip().splitlines()[-1], result.stderr


def test_start_up_with_debug_runs_on_defaults(run):
    result = start(run, DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_start_up_without_debug_runs_with_a_secret_key(run):
    result = start(run, DEBUG="0", SECRET_KEY=secrets.token_urlsafe(45))
    assert result.returncode == 0, result.stderr


def production(**variables: str) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(45),  # 60 characters
        "ALLOWED_HOSTS": "example.org",
        "EMAIL_URL": "smtp+tls://mailer:secret@mail.example.org:587",
        **variables,
    }


def test_production_settings_pass_the_deployment_checks(run):
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_deployment_checks_refuse_console_email_in_production(run):
    """EMAIL_URL's default prints mail to the console: right on one machine, a silent loss of
    every digest in production, which Django's deployment check reports."""
    result = run(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING", **production(EMAIL_URL="")
    )
    assert result.returncode != 0
    assert "mail.E001" in result.stdout + result.stderr


def test_models_and_migrations_agree(run):
    result = run("manage.py", "makemigrations", "--check", "--dry-run", DEBUG="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


# ---------------------------------------------------------------------------------------------
# EMAIL_URL
# ---------------------------------------------------------------------------------------------

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("url", "mailer"),
    [
        (
            "smtp://user:p%40ss@mail.local:2525",
            {
                "BACKEND": SMTP,
                "OPTIONS": {
                    "host": "mail.local",
                    "port": 2525,
                    "username": "user",
                    "password": "p@ss",
                    "use_tls": False,
                    "use_ssl": False,
                    "timeout": 20,
                },
            },
        ),
        (
            "smtp+tls://mail.local",
            {
                "BACKEND": SMTP,
                "OPTIONS": {"host": "mail.local", "use_tls": True, "use_ssl": False, "timeout": 20},
            },
        ),
        (
            "smtp+ssl://mail.local:465?timeout=5",
            {
                "BACKEND": SMTP,
                "OPTIONS": {
                    "host": "mail.local",
                    "port": 465,
                    "use_tls": False,
                    "use_ssl": True,
                    "timeout": 5,
                },
            },
        ),
        ("console://", {"BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("", {"BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("locmem://", {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}),
        (
            "file:///tmp/x",
            {
                "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OPTIONS": {"file_path": "/tmp/x"},
            },
        ),
    ],
)
def test_email_url_becomes_a_mailer(monkeypatch, url, mailer):
    monkeypatch.setenv("EMAIL_URL", url)
    assert env_email("EMAIL_URL") == mailer


@pytest.mark.parametrize(
    "url",
    [
        "gopher://x",
        "smtp://",
        "smtp://mail.local:port",
        "smtp://mail.local?timeout=soon",
        "file://",
    ],
)
def test_bad_email_url_is_refused_by_name(monkeypatch, url):
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        env_email("EMAIL_URL")


# ---------------------------------------------------------------------------------------------
# /healthz
# ---------------------------------------------------------------------------------------------


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
