"""/healthz: for a load balancer, a monitor or a person."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from dongda.celery import app, ensure_embedded_broker_folders

from .run import last_engine_failure, last_engine_run


@never_cache
@require_safe
def healthz(request):
    """For a load balancer or a person: is the database up, is the broker up, and how long ago did
    the deadline engine last finish. 200 when the database and broker answer, 503 otherwise."""
    checks: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure is reported, not raised
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["broker"] = _broker_status()
    run = None
    if checks["database"] == "ok":
        try:
            run = last_engine_run()
        except DatabaseError as exc:  # answers, but not migrated: say so instead of a 500
            checks["database"] = f"error: {exc.__class__.__name__} (not migrated?)"
    checks["deadline_engine"] = {
        "last_finished_at": run.finished_at.isoformat() if run else None,
        "age_seconds": int((timezone.now() - run.finished_at).total_seconds()) if run else None,
        "opened": run.opened if run else None,
        "closed": run.closed if run else None,
    }
    if checks["database"] == "ok":
        failure = last_engine_failure()
        # The kind of error only: this endpoint is public, the message may hold data.
        checks["deadline_engine"]["last_error"] = (
            failure.error.split("(", 1)[0] if failure else None
        )
    healthy = checks["database"] == "ok" and checks["broker"] == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def _broker_status() -> str:
    try:
        ensure_embedded_broker_folders()
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # reported in the JSON body
        return f"error: {exc.__class__.__name__}"
