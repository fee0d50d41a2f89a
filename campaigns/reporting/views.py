"""Pages where a unit records its reports and the district reviews them.

Every view starts from the unit in the URL, fetched through the person's scope (404 outside it),
and every item is fetched inside that unit: another unit's id gives 404 whatever the URL says.
Writing is for the unit's own secretary or clerk (403 for others in scope), reviewing for the
district office staff and, with two-level review, first for the secretary or clerk of the
committee above the unit. The unit and campaign of a new item come from the URL, never the form.
"""

import copy
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from units.models import REPORTING_KINDS
from units.selectors import attach_committee_names, get_visible_unit, user_scope

from ..models import Campaign, ReviewStatus, awaits_committee
from ..registry import ReportKind, child_kinds, report_kind
from ..selectors import current_campaign
from . import queue
from .evidence import download_name, sniff
from .forms import ReviewForm, VersionForm
from .selectors import (
    RETURN_STEPS,
    child_items,
    get_unit_parent,
    get_unit_report,
    report_history,
)
from .services import (
    DuplicateReport,
    EditConflict,
    ReportStateError,
    report_committee_review,
    report_create,
    report_review,
    report_submit,
    report_update,
)


def item_url(kind: ReportKind, unit, item) -> str:
    return reverse("reports:detail", kwargs={"code": unit.code, "kind": kind.slug, "pk": item.pk})


def _writer_unit(request, code: str):
    unit = get_visible_unit(request.user, code)
    if not user_scope(request.user).can_report_for(unit):
        raise PermissionDenied
    return unit


def _form_kwargs(kind: ReportKind, unit, campaign, parent=None) -> dict:
    kwargs = {"campaign": campaign, "unit": unit}
    if kind.parent:
        kwargs[kind.parent_field] = parent
    return kwargs


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_new(request, code: str, kind: ReportKind):
    unit = _writer_unit(request, code)
    if kind.parent or (kind.reporting_units_only and unit.kind not in REPORTING_KINDS):
        raise Http404
    campaign = current_campaign()
    if campaign is None:
        raise Http404
    if kind.one_per_unit:
        existing = kind.model.objects.filter(campaign=campaign, unit=unit).first()
        if existing is not None:
            messages.info(request, _("Your unit's plan is already recorded; change it here."))
            return redirect(item_url(kind, unit, existing))
    return _create(request, kind, unit, campaign)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_new_child(request, code: str, parent_kind: ReportKind, parent_pk: int, kind: ReportKind):
    """A new item filed under another: /units/<code>/tasks/<id>/reports/new/."""
    unit = _writer_unit(request, code)
    if kind.parent != parent_kind.slug:
        raise Http404
    parent = get_unit_parent(parent_kind, unit, parent_pk)
    return _create(request, kind, unit, parent.campaign, parent=parent)


def _create(request, kind: ReportKind, unit, campaign, parent=None):
    kwargs = _form_kwargs(kind, unit, campaign, parent)
    if request.method == "POST":
        form = kind.form_class(request.POST, request.FILES, **kwargs)
        if form.is_valid():
            try:
                item, created = report_create(
                    form=form,
                    unit=unit,
                    campaign=campaign,
                    user=request.user,
                    parent=parent,
                )
            except DuplicateReport as duplicate:
                messages.info(request, _("Your unit's plan is already recorded; change it here."))
                return redirect(item_url(kind, unit, duplicate.existing))
            if created:
                messages.success(
                    request,
                    _("Saved as a draft. Submit it when it is ready for the district to review."),
                )
            else:
                messages.info(
                    request,
                    _(
                        "This form had already been saved; here is what was saved. Use Edit to "
                        "change it."
                    ),
                )
            return redirect(item_url(kind, unit, item))
    else:
        form = kind.form_class(initial={"submission_key": uuid.uuid4()}, **kwargs)
    return _render_form(request, kind, unit, form, parent=parent)


def _parent_of(kind: ReportKind, item):
    return getattr(item, kind.parent_field) if kind.parent and item is not None else None


def _render_form(request, kind, unit, form, *, item=None, parent=None, conflict=None):
    # A browser cannot be handed a file back: when the form comes back with errors, the page
    # says which file to pick again instead of silently dropping it.
    files_to_repick = [
        form[name].label for name in request.FILES if name in form.fields and form.is_bound
    ]
    return render(
        request,
        "campaigns/report_form.html",
        {
            "kind": kind,
            "unit": unit,
            "form": form,
            "item": item,
            "parent": parent or _parent_of(kind, item),
            "parent_kind": report_kind(kind.parent) if kind.parent else None,
            "conflict": conflict,
            "files_to_repick": files_to_repick if form.errors or conflict else [],
            "current_file_name": (
                getattr(item, kind.file_name_field, "") if item and kind.file_name_field else ""
            ),
        },
        status=409 if conflict else (400 if form.errors else 200),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_edit(request, code: str, kind: ReportKind, pk: int):
    unit = _writer_unit(request, code)
    item = get_unit_report(kind, unit, pk)
    if not item.is_editable_by_unit:
        if request.method != "HEAD":  # a monitor's HEAD must leave no message for the next page
            messages.error(request, _not_editable_message(item))
        return redirect(item_url(kind, unit, item))
    parent = _parent_of(kind, item)
    campaign = parent.campaign if parent is not None else item.campaign
    kwargs = _form_kwargs(kind, unit, campaign, parent)
    if request.method != "POST":
        form = kind.form_class(instance=item, **kwargs)
        return _render_form(request, kind, unit, form, item=item)
    form = kind.form_class(request.POST, request.FILES, instance=item, **kwargs)
    if not form.is_valid():
        return _render_form(request, kind, unit, form, item=item)
    try:
        report_update(
            form=form,
            item=item,
            user=request.user,
            expected_version=form.cleaned_data.get("version") or 0,
        )
    except EditConflict as conflict:
        return _conflict(request, kind, unit, form, conflict.current)
    except ReportStateError as wrong_state:
        messages.error(request, _not_editable_message(wrong_state.current))
        return redirect(item_url(kind, unit, item))
    messages.success(request, _("Your changes are saved."))
    return redirect(item_url(kind, unit, item))


def _conflict(request, kind, unit, form, current):
    """Keeps what the person typed, shows what the other person saved, and lets them save again
    knowingly (the form now carries the other version's number)."""
    differences = []
    for name, field in form.fields.items():
        if name in ("version", "submission_key") or name == kind.file_field:
            continue
        theirs = getattr(current, name, None)
        mine = form.cleaned_data.get(name)
        if hasattr(theirs, "isoformat") and hasattr(mine, "isoformat"):
            same = theirs == mine
        else:
            same = (theirs or "") == (mine or "")
        if not same:
            shown = theirs
            if hasattr(current, f"get_{name}_display"):
                shown = getattr(current, f"get_{name}_display")()
            differences.append((field.label, shown, form[name].value()))
    data = form.data.copy()
    data["version"] = str(current.version)
    # A copy: validating writes the typed values onto the instance, and the page shows both.
    kwargs = _form_kwargs(kind, unit, form.campaign, _parent_of(kind, current))
    fresh = type(form)(data, instance=copy.copy(current), **kwargs)
    fresh.is_valid()
    return _render_form(
        request,
        kind,
        unit,
        fresh,
        item=current,
        conflict={"current": current, "differences": differences},
    )


def _not_editable_message(item) -> str:
    if item.status == ReviewStatus.ACCEPTED:
        return _(
            "This report has been accepted and can no longer be changed. Ask the district office "
            "to reopen it if something must be corrected."
        )
    return _("This report is waiting for the district's review and cannot be changed now.")


@login_required
@require_safe
def report_detail(request, code: str, kind: ReportKind, pk: int):
    unit = get_visible_unit(request.user, code)
    item = get_unit_report(kind, unit, pk)
    return _render_detail(
        request, kind, unit, item, next_url=_queue_link(request, request.GET.get("next"))
    )


def _campaign_of(kind: ReportKind, item) -> Campaign:
    parent = _parent_of(kind, item)
    return parent.campaign if parent is not None else item.campaign


def _review_level(request, kind: ReportKind, item) -> str | None:
    """Who the person reviews `item` as: the district office (any submitted or accepted item;
    with two-level review it may accept only what its committee passed on, and return
    anything), the item's committee (its secretary or clerk, while the item waits for it), or
    not at all."""
    if user_scope(request.user).is_staff_reviewer:
        if item.status in (ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED):
            return queue.DISTRICT
        return None
    if awaits_committee(item, _campaign_of(kind, item)) and queue.can_committee_review(
        request.user, item
    ):
        return queue.COMMITTEE
    return None


def _committee_name(unit) -> str:
    attach_committee_names([unit])
    return unit.committee_name


def _queue_link(request, value: str | None) -> str:
    """`value` if it is this site's review queue (with its filters), else "": the `next` a
    reviewer carries from the queue to each item and back."""
    if not value or not url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    path, _sep, _query = value.partition("?")
    try:
        match = resolve(path)
    except Resolver404:
        return ""
    return value if match.view_name == "campaigns:review_queue" else ""


def _render_detail(request, kind, unit, item, *, review_form=None, status=200, next_url=""):
    scope = user_scope(request.user)
    can_write = scope.can_report_for(unit)
    review_level = _review_level(request, kind, item)
    can_review = review_level is not None
    at_committee = awaits_committee(item, _campaign_of(kind, item))
    if can_review and review_form is None:
        review_form = ReviewForm(
            initial={"version": item.version}, committee=review_level == queue.COMMITTEE
        )
    history = report_history(item)
    context = {
        "kind": kind,
        "unit": unit,
        "item": item,
        "details": _details(kind, item),
        "history": history,
        "can_edit": can_write and item.is_editable_by_unit,
        "can_submit": can_write and item.is_editable_by_unit,
        "can_review": can_review,
        "review_level": review_level,
        # The district may return an item still with its committee, not accept it.
        "return_only": item.status == ReviewStatus.ACCEPTED
        or (review_level == queue.DISTRICT and at_committee),
        "at_committee": at_committee,
        "committee_name": _committee_name(unit) if at_committee else "",
        # The newest review step decides who returned it (an edit by the unit since is not one).
        "returned_by_committee": item.status == ReviewStatus.RETURNED
        and next((e.reason for e in history if e.reason in RETURN_STEPS), "")
        == "committee_returned",
        "review_form": review_form if can_review else None,
        "next_url": next_url if can_review else "",
        "queue_url": next_url or "",
        "file_name": getattr(item, kind.file_name_field, "") if kind.file_field else "",
        "has_file": bool(kind.file_field and getattr(item, kind.file_field)),
        "parent": _parent_of(kind, item),
        "parent_kind": report_kind(kind.parent) if kind.parent else None,
        # Items filed under this one (a task's progress reports), for its detail_template.
        "children": [(child, child_items(child, item)) for child in child_kinds(kind)],
        "can_add_child": can_write,
    }
    return render(request, "campaigns/report_detail.html", context, status=status)


def _details(kind: ReportKind, item) -> list[tuple[str, object]]:
    """The item's fields as (label, value) in the order of its form, each in the page's language
    (translated text falls back to the Vietnamese where the English is empty)."""
    rows = []
    form_fields = kind.form_class.base_fields
    for name in kind.form_class._meta.fields:
        if name.endswith("_en") or name == kind.file_field:
            continue
        base = name[:-3] if name.endswith("_vi") else name
        label = form_fields[name].label or capfirst(item._meta.get_field(base).verbose_name)
        display = getattr(item, f"get_{base}_display", None)
        value = display() if display else getattr(item, base)
        rows.append((capfirst(label), value))
    return rows


@login_required
@require_POST
def report_submit_view(request, code: str, kind: ReportKind, pk: int):
    unit = _writer_unit(request, code)
    item = get_unit_report(kind, unit, pk)
    form = VersionForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    try:
        report_submit(item=item, user=request.user, expected_version=form.cleaned_data["version"])
    except EditConflict:
        messages.error(
            request,
            _(
                "Someone changed this report after you opened it. Check their version below, then "
                "submit again."
            ),
        )
    except ReportStateError as wrong_state:
        if wrong_state.current.status == ReviewStatus.SUBMITTED:
            messages.info(request, _("This report was already submitted."))
        else:
            messages.error(request, _not_editable_message(wrong_state.current))
    else:
        messages.success(request, _("Submitted. The district office will review it."))
    return redirect(item_url(kind, unit, item))


@login_required
@require_POST
def report_review_view(request, code: str, kind: ReportKind, pk: int):
    """A review decision, by the district office or (two-level review) the item's committee.
    With `next` (the queue and its filters) the next item of the same filter opens."""
    unit = get_visible_unit(request.user, code)
    # The gate comes before the item (403 before 404, whatever the id): the district office
    # reviews everywhere, a committee's secretary or clerk only below their committee, and only
    # with two-level review on.
    staff = user_scope(request.user).is_staff_reviewer
    campaign = current_campaign()
    if not staff and not (
        campaign is not None
        and campaign.two_level_review
        and queue.can_committee_review_unit(request.user, unit)
    ):
        raise PermissionDenied
    item = get_unit_report(kind, unit, pk)
    # A reviewer whose decision comes too late (the item moved on) is told so below.
    level = _review_level(request, kind, item) or (queue.DISTRICT if staff else queue.COMMITTEE)
    if level == queue.COMMITTEE and not _campaign_of(kind, item).two_level_review:
        raise PermissionDenied
    next_url = _queue_link(request, request.POST.get("next"))
    form = ReviewForm(request.POST, committee=level == queue.COMMITTEE)
    if not form.is_valid():
        return _render_detail(
            request, kind, unit, item, review_form=form, status=400, next_url=next_url
        )
    accept = form.cleaned_data["decision"] == ReviewForm.ACCEPT
    decide = report_committee_review if level == queue.COMMITTEE else report_review
    try:
        decide(
            item=item,
            reviewer=request.user,
            accept=accept,
            comment=form.cleaned_data["comment"],
            expected_version=form.cleaned_data["version"],
        )
    except EditConflict:
        messages.error(
            request,
            _(
                "The unit changed this report after you opened it. Check the new version, then "
                "review again."
            ),
        )
        return redirect(_with_next(item_url(kind, unit, item), next_url))
    except ReportStateError as wrong_state:
        if level == queue.DISTRICT and awaits_committee(
            wrong_state.current, _campaign_of(kind, item)
        ):
            messages.error(
                request,
                _(
                    "This report still waits for its committee's review: the district office "
                    "can return it, and accept it once the committee has passed it on."
                ),
            )
        else:
            messages.error(request, _("This report is not waiting for review any more."))
        return redirect(_with_next(item_url(kind, unit, item), next_url))
    if level == queue.COMMITTEE:
        done = _("Passed on to the district office.") if accept else None
    else:
        done = _("Accepted.") if accept else None
    messages.success(request, done or _("Returned to the unit with your comment."))
    if next_url:
        return _next_in_queue(request, level, next_url, item)
    return redirect(item_url(kind, unit, item))


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{QueryDict.fromkeys(['next'], next_url).urlencode()}" if next_url else url


def _next_in_queue(request, level: str, next_url: str, decided):
    """Opens the first item of the queue's filter (carried in `next_url`), or goes back to the
    queue when nothing is left in it."""
    campaign = current_campaign()
    _path, _sep, query = next_url.partition("?")
    filters = queue.parse_filters(QueryDict(query))
    following = (
        queue.review_queue_next(
            user=request.user, campaign=campaign, filters=filters, level=level, after=decided
        )
        if campaign is not None
        else None
    )
    if following is None:
        messages.info(request, _("Nothing else waits for review in this filter."))
        return redirect(next_url)
    return redirect(
        _with_next(item_url(following.kind, following.item.unit, following.item), next_url)
    )


@login_required
@require_safe
def report_file(request, code: str, kind: ReportKind, pk: int):
    """The evidence file, only through the unit's scope, under the name the person gave it with
    the extension of what the file is (the name may say otherwise; the content is read now)."""
    if not kind.file_field:
        raise Http404
    unit = get_visible_unit(request.user, code)
    item = get_unit_report(kind, unit, pk)
    stored = getattr(item, kind.file_field)
    if not stored:
        raise Http404
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    evidence_type = sniff(handle)
    stem = stored.name.rsplit("/", 1)[-1].split(".", 1)[0]
    name = download_name(getattr(item, kind.file_name_field), evidence_type, fallback=stem)
    content_type = evidence_type.content_type if evidence_type else "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response
