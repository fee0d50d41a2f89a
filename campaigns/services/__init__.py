"""Writes with rules for campaigns: the deadline engine, reminders and digests."""

from .engine import deadline_engine_run
from .mail import (
    TemporaryMailError,
    digests_queue_week,
    outgoing_mail_claim,
    outgoing_mail_send,
    outgoing_mail_sweep,
    reminders_queue,
)

__all__ = [
    "TemporaryMailError",
    "deadline_engine_run",
    "digests_queue_week",
    "outgoing_mail_claim",
    "outgoing_mail_send",
    "outgoing_mail_sweep",
    "reminders_queue",
]
