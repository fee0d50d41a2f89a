"""Logging helpers: settings.LOGGING puts these on the console handler."""

import logging


class ClientErrorsInOneLine(logging.Filter):
    """A 403 or 404 is the visitor's doing (a link outside their scope, a mistyped address), not
    a fault of the app: Django logs it with the exception attached, which prints a traceback for
    every one. Kept to its one line ("Forbidden (Permission denied): /vi/units/…"); a 5xx keeps
    its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
