"""Writes with rules for campaigns: the reports units submit and their review, the deadline
engine, reminders and digests."""

from .engine import deadline_engine_run
from .mail import (
    TemporaryMailError,
    digests_queue_week,
    outgoing_mail_claim,
    outgoing_mail_send,
    outgoing_mail_sweep,
    reminders_queue,
)
from .reports import (
    DuplicateReport,
    EditConflict,
    ReportStateError,
    report_create,
    report_review,
    report_submit,
    report_update,
)

__all__ = [
    "DuplicateReport",
    "EditConflict",
    "ReportStateError",
    "TemporaryMailError",
    "deadline_engine_run",
    "digests_queue_week",
    "outgoing_mail_claim",
    "outgoing_mail_send",
    "outgoing_mail_sweep",
    "reminders_queue",
    "report_create",
    "report_review",
    "report_submit",
    "report_update",
]
