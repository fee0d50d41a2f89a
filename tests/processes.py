"""Running the project in a fresh Python process, as a deployment would start it: the `run`
fixture (tests/conftest.py) starts one with only the settings variables a test gives."""

import os
import subprocess
import sys

from django.conf import settings as django_settings

# Every variable settings.py reads: a subprocess starts from none of them, so that the developer's
# or CI's own environment cannot make a case pass or fail.
SETTINGS_VARIABLES = (
    "AXES_ENABLED",
    "AXES_FAILURE_LIMIT",
    "BACKUP_DIR",
    "CELERY_TASK_ALWAYS_EAGER",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "SITE_URL",
    "CACHE_KEY_PREFIX",
    "DEBUG",
    "DEMO_SERVER",
    "DIGEST_CATCH_UP_HOUR",
    "DEFAULT_FROM_EMAIL",
    "EMAIL_URL",
    "EVIDENCE_MAX_BYTES",
    "EXPORT_BACKGROUND_ROWS",
    "LOG_LEVEL",
    "PRIVATE_MEDIA_ROOT",
    "REQUEST_MAX_BYTES",
    "REDIS_URL",
    "SECRET_KEY",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "STATIC_ROOT",
    "TIME_ZONE",
    "TRUSTED_PROXIES",
    "VAR_DIR",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
)
START_DJANGO = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dongda.settings'); "
    "django.setup()"
)


def runner(tmp_path, *, timeout: int = 120):
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
            timeout=timeout,
        )

    return run
