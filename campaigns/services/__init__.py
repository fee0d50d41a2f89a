"""Writes with rules for campaigns: the deadline engine, reminders and digests."""

from .engine import deadline_engine_run

__all__ = ["deadline_engine_run"]
