"""The campaign app's data, one module per subject; everything is importable from here."""

from .calendar import DayOff
from .campaign import Campaign
from .exports import ExportJob
from .flags import (
    FLAG_ACTOR,
    UNIT_FLAG_KINDS,
    Actor,
    DeadlineEngineRun,
    EngineCheckpoint,
    Flag,
    FlagKind,
)
from .mail import OutgoingMail
from .members import CampaignMembers
from .official import OfficialReport
from .reports import (
    COMMITTEE_DEPTH,
    ImplementationPlan,
    Incident,
    PropagandaActivity,
    Reviewable,
    ReviewStatus,
    StudySession,
    awaiting_committee_q,
    awaits_committee,
    committee_path,
    evidence_path,
    queue_index,
    queue_order,
    search_title_of,
)
from .status import CompletionRollup, StatusRollup, UnitStatus

__all__ = [
    "COMMITTEE_DEPTH",
    "FLAG_ACTOR",
    "UNIT_FLAG_KINDS",
    "Actor",
    "Campaign",
    "CampaignMembers",
    "CompletionRollup",
    "DayOff",
    "DeadlineEngineRun",
    "EngineCheckpoint",
    "ExportJob",
    "Flag",
    "FlagKind",
    "ImplementationPlan",
    "Incident",
    "OfficialReport",
    "OutgoingMail",
    "PropagandaActivity",
    "ReviewStatus",
    "Reviewable",
    "StatusRollup",
    "StudySession",
    "UnitStatus",
    "awaiting_committee_q",
    "awaits_committee",
    "committee_path",
    "evidence_path",
    "queue_index",
    "queue_order",
    "search_title_of",
]
