"""Writes on the reports units submit: create, edit, submit, review.

Two rules hold for every one of them:
- Nothing is overwritten silently. Each write first moves the row's `version` on with a
  conditional UPDATE (... WHERE version = the version the person's page showed); if someone else
  saved in between, no row matches and the write is refused with the other version to look at.
  The UPDATE takes the row lock on PostgreSQL and the write lock on SQLite, so two saves cannot
  both pass the check.
- Every change is a `save()` (not a bare UPDATE), so django-simple-history records who did what;
  `_change_reason` names the step for the item's history.
"""

from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import F, FileField, Model
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from units.models import Unit, User

from ..engine.flags import flags_sync
from ..engine.status import lock_rollups_shared, refresh_unit_status
from ..mail.outbox import returned_notice_queue
from ..models import Campaign, ReviewStatus, awaits_committee
from ..periods import review_overdue_from
from ..registry import flag_kinds_reading, kind_of
from .evidence import discard_on_commit

EDITABLE = (ReviewStatus.DRAFT, ReviewStatus.RETURNED)


class EditConflict(Exception):
    """Someone else changed the item since the person opened it; `current` is their version."""

    def __init__(self, current: Model):
        super().__init__("edit conflict")
        self.current = current


class ReportStateError(Exception):
    """The step does not apply to the item in its present state (e.g. editing an accepted
    report, or submitting twice); `current` is the item as it now stands."""

    def __init__(self, current: Model):
        super().__init__("wrong state")
        self.current = current


class DuplicateReport(Exception):
    """The unit already has the one item of this kind it may have (its implementation plan)."""

    def __init__(self, existing: Model):
        super().__init__("duplicate")
        self.existing = existing


def _claim(item: Model, *, expected_version: int, allowed: tuple[str, ...]) -> Model:
    """Moves the version on if it is still `expected_version` and the state allows the step;
    returns the fresh row, or raises EditConflict / ReportStateError."""
    model = type(item)
    won = model.objects.filter(pk=item.pk, version=expected_version, status__in=allowed).update(
        version=F("version") + 1
    )
    current = model.objects.get(pk=item.pk)
    if not won:
        if current.version != expected_version:
            raise EditConflict(current)
        raise ReportStateError(current)
    return current


def _files_of(item: Model) -> list[FieldFile]:
    return [getattr(item, f.name) for f in item._meta.concrete_fields if isinstance(f, FileField)]


@contextmanager
def _new_files_removed_on_failure(item: Model, *, previous: Model | None = None):
    """Saving a row stores its new files at once, before the transaction commits: if the write
    fails after that, no row will ever point to them, so they go (the files `previous` had stay)."""
    try:
        yield
    except BaseException:
        kept = {f.name for f in _files_of(previous)} if previous is not None else set()
        for stored in _files_of(item):
            if stored.name and stored._committed and stored.name not in kept:
                stored.storage.delete(stored.name)
        raise


def _refresh_status_of(item: Model) -> None:
    """The unit's flags and its dashboard row follow its reports at once, within the same
    transaction: accepting a unit's task closes its "no breakthrough task" flag now, not at the
    next daily run (which stays the catch-all)."""
    kind = kind_of(item)
    campaign = Campaign.objects.get(pk=kind.campaign_id_of(item))
    today = timezone.localdate()
    lock_rollups_shared(campaign)  # before the unit's flags: see engine.status.lock_rollups
    if campaign.is_active and campaign.starts_on <= today:
        # Only the flags this kind of item can change (a session cannot close "no breakthrough
        # task"): the others of the unit stay as the daily run left them, and it re-judges the
        # unit anyway (the item's history row is new). Building every rule's query for every
        # save was most of the save's time.
        flags_sync(
            campaign=campaign,
            today=today,
            unit_ids=[item.unit_id],
            kinds=flag_kinds_reading({kind.slug}),
        )
    refresh_unit_status(campaign, unit_ids=[item.unit_id], today=today)


@transaction.atomic
def report_create(
    *,
    form,
    unit: Unit,
    campaign: Campaign,
    user: User,
    parent: Model | None = None,
) -> tuple[Model, bool]:
    """Saves a new draft from a valid form. Returns (item, created); a form sent twice (its
    one-time key already used by this unit) returns the first item and creates nothing. An item
    filed under another (a progress report under its task) is given its `parent`, and reaches
    its campaign through it."""
    model = form._meta.model
    kind = kind_of(form.instance)
    key = form.cleaned_data.get("submission_key")
    if key:
        earlier = model.objects.filter(submission_key=key).first()
        if earlier is not None:
            if earlier.unit_id == unit.pk:
                return earlier, False
            key = None  # another unit's key: not ours to reuse, and nothing to tell about it
    item = form.save(commit=False)
    item.unit = unit
    if kind.parent:
        setattr(item, kind.parent_field, parent)
    else:
        item.campaign = campaign
    item.created_by = user
    item.submission_key = key
    item.status = ReviewStatus.DRAFT
    item.version = 1
    item._change_reason = "created"
    try:
        with _new_files_removed_on_failure(item), transaction.atomic():
            item.save()
    except IntegrityError:
        if key and (earlier := model.objects.filter(submission_key=key, unit=unit).first()):
            return earlier, False  # the other click of a double-click won the race
        if kind.one_per_unit:
            existing = model.objects.filter(campaign=campaign, unit=unit).first()
            if existing is not None:
                raise DuplicateReport(existing) from None
        raise
    with _new_files_removed_on_failure(item):
        _refresh_status_of(item)
    return item, True


@transaction.atomic
def report_update(*, form, item: Model, user: User, expected_version: int) -> Model:
    """Saves a valid edit form over `item` if nobody changed it since `expected_version`. A file
    the edit replaces leaves the disk once the edit commits, and stays if it rolls back."""
    current = _claim(item, expected_version=expected_version, allowed=EDITABLE)
    edited = form.save(commit=False)
    edited.version = current.version
    edited.status = current.status
    edited._change_reason = "edited"
    with _new_files_removed_on_failure(edited, previous=current):
        edited.save()
        _refresh_status_of(edited)
    kept = {f.name for f in _files_of(edited)}
    discard_on_commit(*(f for f in _files_of(current) if f.name not in kept))
    return edited


@transaction.atomic
def report_submit(*, item: Model, user: User, expected_version: int) -> Model:
    """Sends a draft (or a returned item, corrected) to the district for review."""
    current = _claim(item, expected_version=expected_version, allowed=EDITABLE)
    campaign = Campaign.objects.get(pk=kind_of(current).campaign_id_of(current))
    current.status = ReviewStatus.SUBMITTED
    current.submitted_at = timezone.now()
    # Every submission starts at the first level again: a corrected item is checked anew.
    current.passed_at = None
    current.passed_by = None
    current.review_overdue_from = review_overdue_from(current.submitted_at, campaign.review_days)
    current._change_reason = "submitted"
    current.save()
    _refresh_status_of(current)
    return current


@transaction.atomic
def report_review(
    *, item: Model, reviewer: User, accept: bool, comment: str, expected_version: int
) -> Model:
    """The district office's decision: accepts a submitted item, or returns it with a comment.
    Returning also reopens an accepted item (that is how staff unlock one). With two-level
    review the district accepts only what the unit's committee passed on (or what has no
    committee), but may return anything. The unit's secretaries are told by e-mail, in their
    own language, when something comes back to them."""
    allowed = (
        (ReviewStatus.SUBMITTED,) if accept else (ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED)
    )
    current = _claim(item, expected_version=expected_version, allowed=allowed)
    campaign = Campaign.objects.get(pk=kind_of(current).campaign_id_of(current))
    if accept and awaits_committee(current, campaign):
        raise ReportStateError(current)  # rolls the version back with the transaction
    reopened = current.status == ReviewStatus.ACCEPTED
    reason = "accepted" if accept else ("reopened" if reopened else "returned")
    return _decide(current, reviewer=reviewer, accept=accept, comment=comment, reason=reason)


def _decide(current: Model, *, reviewer: User, accept: bool, comment: str, reason: str) -> Model:
    current.status = ReviewStatus.ACCEPTED if accept else ReviewStatus.RETURNED
    current.review_comment = comment
    current.reviewed_at = timezone.now()
    current.reviewed_by = reviewer
    if not accept:
        current.return_count += 1
    current._change_reason = reason
    current.save()
    _refresh_status_of(current)
    if not accept:
        returned_notice_queue(item=current, campaign_id=kind_of(current).campaign_id_of(current))
    return current


@transaction.atomic
def report_committee_review(
    *, item: Model, reviewer: User, accept: bool, comment: str, expected_version: int
) -> Model:
    """The first level of two-level review (`Campaign.two_level_review`), by the unit's
    committee: "accept" passes the item on to the district office (it stays submitted, and its
    review time starts again for the district's step), "return" sends it back to the unit with
    a comment, as the district's return does. Who may do it (the committee's secretary or
    clerk) is the view's to check; that the item waits for a committee is checked here."""
    current = _claim(item, expected_version=expected_version, allowed=(ReviewStatus.SUBMITTED,))
    campaign = Campaign.objects.get(pk=kind_of(current).campaign_id_of(current))
    if not awaits_committee(current, campaign):
        raise ReportStateError(current)
    if not accept:
        return _decide(
            current, reviewer=reviewer, accept=False, comment=comment, reason="committee_returned"
        )
    current.passed_at = timezone.now()
    current.passed_by = reviewer
    current.review_comment = comment
    current.review_overdue_from = review_overdue_from(current.passed_at, campaign.review_days)
    current._change_reason = "passed"
    current.save()
    _refresh_status_of(current)
    return current
