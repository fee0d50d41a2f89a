"""What the logs say about a request that failed: one line for a client's 4xx, the whole
traceback for a server error. The records go through the handlers settings.LOGGING configured,
each pointed for the test at a buffer."""

import io
import logging
from contextlib import contextmanager

import pytest
from django.core.exceptions import PermissionDenied


@contextmanager
def logged_text():
    """Everything the configured handlers would print for django.request, as one string."""
    handlers, logger = [], logging.getLogger("django.request")
    while logger is not None:
        # The handlers settings.LOGGING made (pytest adds its own capturing ones beside them).
        handlers += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        logger = logger.parent if logger.propagate else None
    assert handlers, "django.request reaches no handler"
    buffer = io.StringIO()
    streams = [handler.setStream(buffer) for handler in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)


def _raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:
        return caught


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "Forbidden (Permission denied): %s"), (404, "Not Found: %s")],
)
def test_a_client_error_is_logged_in_one_line(status, message):
    with logged_text() as text:
        logging.getLogger("django.request").warning(
            message,
            "/vi/units/p-van-mieu/",
            exc_info=_raised(PermissionDenied()),
            extra={"status_code": status},
        )
    lines = text.getvalue().strip().splitlines()
    assert len(lines) == 1, lines
    assert "/vi/units/p-van-mieu/" in lines[0]


def test_a_server_error_keeps_its_traceback():
    with logged_text() as text:
        logging.getLogger("django.request").error(
            "Internal Server Error: %s",
            "/vi/dashboard/",
            exc_info=_raised(ValueError("boom")),
            extra={"status_code": 500},
        )
    logged = text.getvalue()
    assert logged.count("Internal Server Error: /vi/dashboard/") == 1, logged
    assert "Traceback" in logged and "ValueError: boom" in logged


def test_a_forbidden_page_logs_one_line(client, staff, district, campaign):
    """End to end: district staff opening a unit's "new report" form (only the unit's own
    secretary writes) get a 403, and the log gets one line, without the PermissionDenied's
    traceback."""
    client.force_login(staff)
    with logged_text() as text:
        response = client.get(f"/vi/units/{district.cell.code}/sessions/new/")
    assert response.status_code == 403
    lines = text.getvalue().strip().splitlines()
    assert lines == [f"Forbidden (Permission denied): /vi/units/{district.cell.code}/sessions/new/"]
