import os
from pathlib import Path

from celery import Celery
from celery.signals import import_modules

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dongda.settings")

app = Celery("dongda")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_embedded_broker_folders() -> None:
    """kombu's filesystem transport expects its folders to exist; on one machine without Redis
    every process that sends or receives a task makes sure they do."""
    options = app.conf.broker_transport_options or {}
    if not str(app.conf.broker_url).startswith("filesystem"):
        return
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    backend = str(app.conf.result_backend or "")
    if backend.startswith("file://"):
        Path(backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _prepare_embedded_broker(sender, **kwargs) -> None:
    ensure_embedded_broker_folders()


@import_modules.connect
def _prepare_worker_folders(*args, **kwargs) -> None:
    ensure_embedded_broker_folders()


@app.task(name="dongda.ping")
def ping() -> str:
    """Answers 'pong': used by the worker test and for checking a deployment by hand."""
    return "pong"
