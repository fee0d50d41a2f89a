import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dongda.settings")

app = Celery("dongda")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="dongda.ping")
def ping() -> str:
    """Answers 'pong': used by /healthz-style checks and the worker test."""
    return "pong"
