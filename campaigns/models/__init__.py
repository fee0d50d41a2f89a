"""The campaign app's data, one module per subject; everything is importable from here."""

from .campaign import Campaign
from .flags import DeadlineEngineRun, Flag, FlagKind
from .mail import OutgoingMail
from .reports import (
    ImplementationPlan,
    Incident,
    Reviewable,
    ReviewStatus,
    StudySession,
    evidence_path,
)
from .status import CompletionRollup, StatusRollup, UnitStatus

__all__ = [
    "Campaign",
    "CompletionRollup",
    "DeadlineEngineRun",
    "Flag",
    "FlagKind",
    "ImplementationPlan",
    "Incident",
    "OutgoingMail",
    "ReviewStatus",
    "Reviewable",
    "StatusRollup",
    "StudySession",
    "UnitStatus",
    "evidence_path",
]
