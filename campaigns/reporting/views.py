"""Pages where a unit records its reports and the district reviews them.

Every view starts from the unit in the URL, fetched through the person's scope (404 outside it),
and every item is fetched inside that unit: another unit's id gives 404 whatever the URL says.
Writing is for the unit's own secretary or clerk (403 for others in scope), reviewing for the
district office staff. The unit and campaign of a new item come from the URL, never the form.
"""

import copy
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from units.models import REPORTING_KINDS
from units.selectors import get_visible_unit, user_scope

from ..models import ReviewStatus
from ..registry import ReportKind, child_kinds, report_kind
from ..selectors import current_campaign
from .evidence import content_type_of
from .forms import ReviewForm, VersionForm
from .selectors import (
    child_items,
    get_unit_parent,
    get_unit_report,
    report_history,
)
from .services import (
    DuplicateReport,
    EditConflict,
    ReportStateError,
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
@require_http_methods(["GET", "POST"])
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
@require_http_methods(["GET", "POST"])
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
@require_http_methods(["GET", "POST"])
def report_edit(request, code: str, kind: ReportKind, pk: int):
    unit = _writer_unit(request, code)
    item = get_unit_report(kind, unit, pk)
    if not item.is_editable_by_unit:
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
@require_http_methods(["GET"])
def report_detail(request, code: str, kind: ReportKind, pk: int):
    unit = get_visible_unit(request.user, code)
    item = get_unit_report(kind, unit, pk)
    return _render_detail(request, kind, unit, item)


def _render_detail(request, kind, unit, item, *, review_form=None, status=200):
    scope = user_scope(request.user)
    can_write = scope.can_report_for(unit)
    can_review = scope.is_staff_reviewer and item.status in (
        ReviewStatus.SUBMITTED,
        ReviewStatus.ACCEPTED,
    )
    if can_review and review_form is None:
        review_form = ReviewForm(initial={"version": item.version})
    context = {
        "kind": kind,
        "unit": unit,
        "item": item,
        "details": _details(kind, item),
        "history": report_history(item),
        "can_edit": can_write and item.is_editable_by_unit,
        "can_submit": can_write and item.is_editable_by_unit,
        "can_review": can_review,
        "review_form": review_form if can_review else None,
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
    unit = get_visible_unit(request.user, code)
    if not user_scope(request.user).is_staff_reviewer:
        raise PermissionDenied
    item = get_unit_report(kind, unit, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, kind, unit, item, review_form=form, status=400)
    accept = form.cleaned_data["decision"] == ReviewForm.ACCEPT
    try:
        report_review(
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
    except ReportStateError:
        messages.error(request, _("This report is not waiting for review any more."))
    else:
        if accept:
            messages.success(request, _("Accepted."))
        else:
            messages.success(request, _("Returned to the unit with your comment."))
    return redirect(item_url(kind, unit, item))


@login_required
@require_http_methods(["GET"])
def report_file(request, code: str, kind: ReportKind, pk: int):
    """The evidence file, only through the unit's scope, under the name the person gave it."""
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
    name = getattr(item, kind.file_name_field) or stored.name.rsplit("/", 1)[-1]
    response = FileResponse(
        handle, as_attachment=True, filename=name, content_type=content_type_of(stored.name)
    )
    response["Cache-Control"] = "private, no-store"
    return response
