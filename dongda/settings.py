"""Settings for the Chuyên đề tracker. Every value comes from the environment (see .env.example);
every default runs on one machine with SQLite, the embedded Celery broker and console e-mail."""

import sys
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from dongda.env import (
    env_bool,
    env_database,
    env_email,
    env_int,
    env_list,
    env_redis_url,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

# pytest imports these settings before any conftest can set the environment, so the test run is
# recognised here; it is the only place that relaxes a production rule (the development key).
TESTING = "pytest" in sys.modules or any(
    Path(arg).name.startswith("pytest") for arg in sys.argv[:1]
)

DEBUG = env_bool("DEBUG", False)
# Set by `rundemo` for its own web server and worker: production's behaviour (DEBUG off, so the
# app's own error pages, never Django's technical ones) on plain HTTP, with static files served
# from the source folders instead of a collected, hashed copy.
DEMO_SERVER = env_bool("DEMO_SERVER", False)

DEVELOPMENT_SECRET_KEY = "django-insecure-dongda-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
# Processes that serve people (the web app under gunicorn, runserver, a Celery worker) refuse the
# development key when DEBUG is off. Other management commands (migrate, makemigrations,
# flag_overdue, …) serve no one and may run without it; `check --deploy` still warns about it.
_MANAGEMENT_COMMAND = (
    sys.argv[1] if Path(sys.argv[0]).name == "manage.py" and len(sys.argv) > 1 else ""
)
# rundemo itself serves no one: it hands its web server and worker a key of their own.
_SERVES_PEOPLE = _MANAGEMENT_COMMAND in {"", "runserver"}
if SECRET_KEY == DEVELOPMENT_SECRET_KEY and _SERVES_PEOPLE and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off (the development key is refused)."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # modeltranslation must come before admin so its tabbed admin patches apply.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "simple_history",
    "dongda.apps.AxesConfig",  # django-axes, named in both languages in the admin
    "units",
    "campaigns",
    "breakthroughs",
]

MIDDLEWARE = [
    # Before anything reads them: X-Forwarded-* headers count only from TRUSTED_PROXIES.
    "dongda.proxies.UntrustedForwardingHeadersMiddleware",
    # Next: a body over REQUEST_MAX_BYTES is refused before anything reads it.
    "dongda.request_limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise serves collected static files in production; runserver and the test server
    # serve them from the source folders.
    *([] if DEBUG or TESTING or DEMO_SERVER else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # After CSRF (no body is parsed for a refused request) and the locale (its 400 page is in
    # the URL's language): NUL bytes, undecodable text and unknown charsets are a 400.
    "dongda.middleware_requests.MalformedRequestMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: it needs request.user to know whose page it is.
    "dongda.cache_control.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must be last: it turns a locked-out login into its own response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dongda.urls"
WSGI_APPLICATION = "dongda.wsgi.application"
ASGI_APPLICATION = "dongda.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "units.context_processors.roles",
            ],
        },
    }
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Deployments (one per district) may share a Redis; their keys must not meet.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX") or f"dongda:{DATABASES['default']['NAME']}",
        }
    }
    if TESTING:
        # Parallel test workers have a database each, so a cache each: one worker's day off
        # (whose signal forgets the cached days off) must not cost another's pinned page a query.
        CACHES["default"]["KEY_PREFIX"] += ":" + (env_str("PYTEST_XDIST_WORKER") or "main")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "units.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Invitations to choose a password (and their link) stay valid a week: a cell secretary may read
# the e-mail only at the next meeting.
PASSWORD_RESET_TIMEOUT = 7 * 24 * 3600
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours: a locked-out person may try again after 15 minutes
# Failures lock a sign-in name out from one client address only: the right password from any
# other address still signs in, so no one can lock a person out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The reverse proxies in front of the app (nginx on the same machine: 127.0.0.1), each by its own
# address (a network would trust the clients on it), comma-separated. A request arriving from one
# of them has its client read from X-Forwarded-For and its scheme from X-Forwarded-Proto; from
# anyone else both headers are dropped (dongda.proxies), since a client could send them itself.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
AXES_CLIENT_IP_CALLABLE = "dongda.proxies.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False

# Language: Vietnamese first, English complete. Every page lives under /vi/ or /en/.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Ho_Chi_Minh")
FORMAT_MODULE_PATH = ["dongda.formats"]
LANGUAGE_COOKIE_NAME = "dongda_language"

MODELTRANSLATION_DEFAULT_LANGUAGE = "vi"
MODELTRANSLATION_LANGUAGES = ("vi", "en")
# English falls back to the Vietnamese text a unit typed; Vietnamese never shows English.
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("vi",), "vi": ()}

# The admin shows a record's history but cannot revert to an old version: a revert would bypass
# the services (states, versions, flags) and could bring back an evidence file already removed.
SIMPLE_HISTORY_REVERT_DISABLED = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "staticfiles")
# `manage.py backup` writes its archives here (dongda.backup).
BACKUP_DIR = Path(env_str("BACKUP_DIR") or VAR_DIR / "backups")
# Evidence files (minutes, plans, reports) are kept outside anything a web server serves; they
# are read back only through views that check the reader's scope.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT") or VAR_DIR / "evidence")
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
# The most a whole request body may carry (one evidence file, the form's fields and the multipart
# framing): a larger declared Content-Length is refused with 413 before any of it is read
# (dongda.request_limits). Below EVIDENCE_MAX_BYTES it would refuse files the form accepts.
REQUEST_MAX_BYTES = env_int(
    "REQUEST_MAX_BYTES", EVIDENCE_MAX_BYTES + 1024 * 1024, minimum=EVIDENCE_MAX_BYTES
)
FILE_UPLOAD_HANDLERS = [
    "dongda.uploads.UploadLimitHandler",
    "dongda.uploads.MemoryUploadHandler",
    "dongda.uploads.TemporaryUploadHandler",
]
# The file fields each page reads, by URL name. A file part for any other field, or sent to any
# other page (the sign-in page above all), is skipped unread by dongda.uploads. The report pages
# read their kind's file field (campaigns.registry: ReportKind.file_field).
_REPORT_FILE_FIELDS = ("minutes", "document", "evidence")
UPLOAD_FILE_FIELDS = {
    "reports:new": _REPORT_FILE_FIELDS,
    "reports:new_child": _REPORT_FILE_FIELDS,
    "reports:edit": _REPORT_FILE_FIELDS,
    "unit_import:preview": ("file",),
}
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": "/evidence-not-served/"},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING or DEMO_SERVER
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail
MAILERS = {"default": env_email("EMAIL_URL")}
# Links in e-mails point here (no request tells a Celery task the site's address).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Quận ủy Đống Đa <no-reply@dongda.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport, so that one machine
# runs a real worker and beat with nothing else installed.
CELERY_BROKER_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # The filesystem transport ignores the host; naming one keeps kombu from warning about it.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        # kombu's default is "control" in the working directory: keep it under VAR_DIR too.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_BROKER_DIR / 'results'}"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The schedule is fixed in code (django-celery-beat does not support Django 6.1); the deadlines it
# checks are campaign data. Times are CELERY_TIMEZONE, i.e. Hanoi.
# The hour (Hanoi, on Monday) from which the sweeper queues last week's digests itself if the
# Monday 07:00 job has not (`campaigns.mail.digests.digests_catch_up`).
DIGEST_CATCH_UP_HOUR = env_int("DIGEST_CATCH_UP_HOUR", 9, minimum=0)
if DIGEST_CATCH_UP_HOUR > 23:
    raise ImproperlyConfigured(f"DIGEST_CATCH_UP_HOUR must be 0 to 23, got {DIGEST_CATCH_UP_HOUR}")
# An export of more rows than this (the unit table, the review queue) is written by a Celery task
# and downloaded from its own page (campaigns.dashboard.background_exports); fewer, at once.
EXPORT_BACKGROUND_ROWS = env_int("EXPORT_BACKGROUND_ROWS", 5000, minimum=1)
CELERY_BEAT_SCHEDULE = {
    # Open and close flags for the day, before anyone opens the dashboard.
    "deadline-engine-daily": {
        "task": "campaigns.tasks.run_deadline_engine",
        "schedule": crontab(hour=6, minute=0),
    },
    # The daily run re-judges only what changed; once a week every unit is re-judged anyway, a
    # safety net for a change no checkpoint saw (it writes only what differs).
    "deadline-engine-weekly-full": {
        "task": "campaigns.tasks.run_deadline_engine",
        "schedule": crontab(hour=5, minute=0, day_of_week="sun"),
        "kwargs": {"full": True},
    },
    # Remind units of deadlines 7 and 1 days ahead (Campaign.reminder_days), after the engine.
    "reminders-daily": {
        "task": "campaigns.tasks.queue_reminders",
        "schedule": crontab(hour=6, minute=30),
    },
    # The weekly digest of the week that ended on Sunday, Monday morning; the outbox makes a
    # second tick harmless.
    "weekly-digests": {
        "task": "campaigns.tasks.queue_weekly_digests",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
    # Hand out again what was queued but never sent (a lost message, a worker killed mid-send),
    # and from Monday DIGEST_CATCH_UP_HOUR on, queue last week's digests if the Monday job was
    # lost.
    "outbox-sweeper": {
        "task": "campaigns.tasks.sweep_outgoing_mail",
        "schedule": crontab(minute="*/10"),
    },
    # Background exports: expired files deleted (kept a day), lost or stalled jobs handed out.
    "export-jobs-sweeper": {
        "task": "campaigns.tasks.sweep_export_jobs",
        "schedule": crontab(minute=5),
    },
}

# Security. Production (DEBUG off) passes `manage.py check --deploy`; the HTTPS settings can be
# relaxed for a plain-HTTP intranet by SECURE_SSL_REDIRECT=false. Behind a proxy that ends TLS,
# TRUSTED_PROXIES must name it: otherwise every request looks like plain HTTP and is redirected
# to HTTPS again and again.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
# A refused form (an expired page, cookies blocked) gets the app's page in the person's language.
CSRF_FAILURE_VIEW = "dongda.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if TRUSTED_PROXIES:
        # Only a proxy in front knows whether the person's connection was HTTPS.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Everything goes to the console (journald or the terminal) through one handler, whose filter
# keeps a 4xx to its one line; Django's own loggers are routed to it too, so that none of
# Django's default handlers prints a second copy with a traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors_in_one_line": {"()": "dongda.log.ClientErrorsInOneLine"}},
    "formatters": {
        # runserver's request lines, as Django formats them by default.
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["client_errors_in_one_line"],
        },
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint narrates each step of drawing a PDF at INFO, fontTools each font subset.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
