"""Settings come from the environment and fail loudly; a production setup passes Django's own
deployment checks."""

import secrets
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from dongda.env import env_email
from tests.processes import START_DJANGO


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
        ("TRUSTED_PROXIES", "nginx"),
        ("TRUSTED_PROXIES", "10.0.0.1,10.0.0.300"),
        # A network would trust the clients on it too.
        ("TRUSTED_PROXIES", "10.0.0.0/24"),
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


@pytest.mark.parametrize("proxies", ["127.0.0.1", "10.0.0.5, ::1"])
def test_production_behind_a_named_proxy_passes_the_deployment_checks(run, proxies):
    result = run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **production(TRUSTED_PROXIES=proxies),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


SECURE_WHEN_FORWARDED = (
    START_DJANGO + "; from django.test import RequestFactory; "
    "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
)


@pytest.mark.parametrize(("proxies", "secure"), [(None, "False"), ("127.0.0.1", "True")])
def test_x_forwarded_proto_is_believed_only_with_a_proxy_named(run, proxies, secure):
    """Without TRUSTED_PROXIES nothing is in front, and a client could send the header itself
    to pass a plain-HTTP request off as HTTPS."""
    variables = production(**({"TRUSTED_PROXIES": proxies} if proxies else {}))
    result = run("-c", SECURE_WHEN_FORWARDED, **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == secure


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
