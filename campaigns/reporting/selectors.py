"""Reads for the report pages: one item (always inside a unit the person may see), its history,
and the review queue (`campaigns.reporting.queue`, importable from here). Each read is a fixed
number of queries, however many reports exist."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import models
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import formats
from django.utils.translation import gettext as _

from units.models import Unit, User

from ..registry import ReportKind
from .queue import (
    QueueEntry,
    QueueFilters,
    QueuePage,
    committee_review_backlog,
    review_queue,
    review_queue_next,
    review_queue_rows,
)

# Bookkeeping columns a person does not need to see in "what changed". Links (unit, campaign,
# a parent item, people) and files are left out too: files show under their own names.
HIDDEN_IN_HISTORY = {
    "id",
    "version",
    "submission_key",
    "created_at",
    "updated_at",
    "submitted_at",
    "reviewed_at",
    "review_comment",
    "passed_at",
    "return_count",
    "search_title",  # shown once, as the review step's comment
}


def _shown_in_history(field: models.Field | None) -> bool:
    return not (
        field is None
        or field.name in HIDDEN_IN_HISTORY
        or field.is_relation
        or isinstance(field, models.FileField)
    )


def report_queryset(kind: ReportKind, unit: Unit) -> QuerySet:
    queryset = kind.model.objects.filter(unit=unit)
    if kind.parent:
        return queryset.select_related(kind.parent_field, "reviewed_by")
    return queryset.select_related("campaign", "reviewed_by")


def get_unit_report(kind: ReportKind, unit: Unit, pk: int) -> Model:
    """The item if it belongs to `unit` (which the caller got from the person's scope); 404
    otherwise, the same answer whether the id exists elsewhere or not at all."""
    item = report_queryset(kind, unit).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def get_unit_parent(kind: ReportKind, unit: Unit, pk: int) -> Model:
    """The item of `kind` that a new child is filed under (a task, for a progress report), inside
    `unit`; 404 otherwise."""
    item = kind.model.objects.filter(unit=unit, pk=pk).select_related("campaign").first()
    if item is None:
        raise Http404
    return item


def child_items(kind: ReportKind, item: Model) -> list[Model]:
    """The items filed under `item` (a task's progress reports), in the child model's order,
    each given `item` as its parent (so that naming its period reads no more rows)."""
    children = list(
        kind.model.objects.filter(**{kind.parent_field: item}).order_by(
            *(kind.model._meta.ordering or ["-pk"])
        )
    )
    for child in children:
        setattr(child, kind.parent_field, item)
    return children


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: User | None
    action: str
    changes: list[Change]
    comment: str
    reason: str = ""


#: The history's review steps, each shown with the reviewer's comment.
REVIEW_STEPS = ("returned", "reopened", "accepted", "passed", "committee_returned")
# The steps that send an item back to its unit, by the district or by its committee.
RETURN_STEPS = ("returned", "reopened", "committee_returned")


def _action_label(reason: str | None) -> str:
    return {
        "created": _("Created"),
        "edited": _("Edited"),
        "submitted": _("Submitted for review"),
        "accepted": _("Accepted"),
        "returned": _("Returned for correction"),
        "reopened": _("Reopened by the district"),
        "passed": _("Passed to the district by the committee"),
        "committee_returned": _("Returned by the committee for correction"),
    }.get(reason or "", _("Changed"))


def _shown(field: models.Field, value) -> str:
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, int):
        return formats.number_format(value, force_grouping=True)
    return str(value)


def report_history(item: Model, *, limit: int = 30) -> list[HistoryEntry]:
    """Newest first: who did what and which fields changed, from django-simple-history's rows
    (one query; the diffs are worked out in memory)."""
    records = list(
        item.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    model_fields = {f.name: f for f in item._meta.concrete_fields}
    translated = {name[:-3] for name in model_fields if name.endswith("_vi")}
    entries = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes: list[Change] = []
        if previous is not None and record.history_change_reason not in ("created",):
            delta = record.diff_against(previous)
            for change in delta.changes:
                name = change.field
                if name in translated or name == "status":
                    continue
                field = model_fields.get(name)
                if not _shown_in_history(field):
                    continue
                changes.append(
                    Change(
                        str(field.verbose_name),
                        _shown(field, change.old),
                        _shown(field, change.new),
                    )
                )
        reason = record.history_change_reason
        comment = record.review_comment if reason in REVIEW_STEPS else ""
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=record.history_user,
                action=_action_label(reason),
                changes=changes,
                comment=comment,
                reason=reason or "",
            )
        )
    return entries


__all__ = [
    "QueueEntry",
    "QueueFilters",
    "QueuePage",
    "committee_review_backlog",
    "review_queue",
    "review_queue_next",
    "review_queue_rows",
]
