"""The pages that show where units stand: the home page, the campaign overview, the unit table,
the review queue and their exports, and each unit's page.

Everything is read from the status rows of the units in the person's scope: the whole district
for district roles, a secretary's own subtree for a secretary. `?unit=<code>` narrows any of
these pages to a committee's subtree (a drill-down), through the same scope.
"""

import itertools
from datetime import date, datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from django.views.decorators.http import require_safe

from units.models import REPORTING_KINDS
from units.selectors import ancestors_for_breadcrumb, get_visible_unit, user_scope

from ..engine.run import figures_as_of, last_engine_failure, last_engine_run
from ..engine.status import FLAG_COLUMNS
from ..models import ExportJob
from ..periods import deadline, short_date
from ..registry import report_kinds
from ..reporting import queue
from ..selectors import current_campaign
from . import background_exports, exports
from .export_views import export_in_background
from .selectors import (
    TableFilters,
    completion_curve,
    flag_labels,
    overview,
    percent,
    statuses_in_scope,
    table_choices,
    unit_table,
    unit_table_page,
)
from .unit_page import children_page_query, unit_page

PAGE_SIZE = 50


@require_safe
@login_required
def home(request):
    """District roles land on the overview, a secretary on their unit's page."""
    scope = user_scope(request.user)
    if scope.is_district:
        return redirect("campaigns:dashboard")
    if scope.home_unit is not None:
        return redirect("units:detail", code=scope.home_unit.code)
    return render(request, "campaigns/no_role.html", status=403)


@require_safe
@login_required
def unit_detail(request, code: str):
    unit = get_visible_unit(request.user, code)
    campaign = current_campaign()
    scope = user_scope(request.user)
    context = {
        "unit": unit,
        "campaign": campaign,
        "ancestors": ancestors_for_breadcrumb(request.user, unit),
        "can_write": scope.can_report_for(unit),
        "reporting": unit.kind in REPORTING_KINDS,
    }
    if campaign is not None:
        page = unit_page(
            unit=unit,
            campaign=campaign,
            today=timezone.localdate(),
            children_page=request.GET.get("children"),
        )
        # The pager of the units below keeps the rest of the page's query.
        context |= {
            "page": page,
            "children_previous": children_page_query(request.GET, page.children.number - 1),
            "children_next": children_page_query(request.GET, page.children.number + 1),
        }
    return render(request, "campaigns/unit_detail.html", context)


def _as_of(request, campaign) -> tuple[date, str]:
    """The day the figures are for: `?as_of=dd/mm/yyyy`, today by default. A day that cannot
    be read, is still to come or comes before the campaign began is refused with a message (in
    the page's language) and today is shown instead."""
    today = timezone.localdate()
    text = request.GET.get("as_of", "").strip()
    if not text:
        return today, ""
    try:
        day = datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        # Echo a short piece only: the message is shown on the page.
        shown = text if len(text) <= 20 else f"{text[:20]}…"
        return today, _("“%(text)s” is not a date as dd/mm/yyyy; showing today.") % {"text": shown}
    if day > today:
        return today, _("Figures cannot be shown for a day still to come; showing today.")
    if day < campaign.starts_on:
        return today, _(
            "The campaign began on %(start)s; there are no figures before it. Showing today."
        ) % {"start": short_date(campaign.starts_on)}
    return day, ""


def _scope_and_root(request):
    scope = user_scope(request.user)
    if not scope.assignments:
        raise PermissionDenied
    code = request.GET.get("unit", "").strip()
    root = get_visible_unit(request.user, code) if code else None
    return scope, root


@require_safe
@login_required
def dashboard(request):
    """The campaign overview of everything in the person's scope, or of one committee's
    subtree with its figures rolled up."""
    scope, root = _scope_and_root(request)
    campaign = current_campaign()
    context = {
        "campaign": campaign,
        "root": root,
        "breadcrumb": ancestors_for_breadcrumb(request.user, root) if root else [],
        "last_run": last_engine_run(),
        "engine_failure": last_engine_failure() if scope.is_district else None,
    }
    if campaign is None:
        return render(request, "campaigns/dashboard.html", context)
    as_of, as_of_error = _as_of(request, campaign)
    live = as_of == timezone.localdate()
    # The links to the unit table and its export keep the committee and the day shown.
    query = QueryDict(mutable=True)
    if root is not None:
        query["unit"] = root.code
    if not live:
        query["as_of"] = as_of.strftime("%d/%m/%Y")
    context.update(as_of=as_of, as_of_error=as_of_error, live=live, table_query=query.urlencode())
    with figures_as_of(campaign, as_of):
        return _dashboard_page(request, context, campaign=campaign, root=root, as_of=as_of)


def _dashboard_page(request, context: dict, *, campaign, root, as_of: date):
    summary = overview(user=request.user, campaign=campaign, root=root)
    figures, by_kind, by_branch = summary.figures, summary.by_kind, summary.by_branch
    curve = completion_curve(summary.per_day, campaign=campaign, today=as_of)
    fields = [
        ("economy", _("Economy"), figures["tasks_economy"]),
        ("culture", _("Culture"), figures["tasks_culture"]),
        ("society", _("Society"), figures["tasks_society"]),
    ]
    flag_rows = [(kind.value, kind.label, figures[column]) for kind, column in FLAG_COLUMNS.items()]
    context.update(
        figures=figures,
        by_kind=by_kind,
        by_branch=by_branch,
        fields=fields,
        flag_rows=flag_rows,
        curve=curve,
        curve_rows=list(zip(curve["labels"], curve["values"], strict=True)),
        percents={
            "done": percent(figures["done"], figures["reporting_units"]),
            "covered": percent(figures["members_covered"], figures["members"]),
            "plans": percent(figures["plans_accepted"], figures["reporting_units"]),
            "tasks": percent(figures["units_with_task"], figures["reporting_units"]),
            "reports": percent(figures["reports_on_time"], figures["reports_total"]),
        },
        chart_data={
            "curve": {
                "labels": curve["labels"],
                "values": curve["values"],
                "deadlineIndex": curve["deadline_index"],
                "target": figures["reporting_units"],
                "names": {
                    "done": _("Units study-complete"),
                    "target": _("All reporting units"),
                    "deadline": _("Deadline %(date)s")
                    % {"date": deadline(campaign, campaign.study_deadline)},
                },
            },
            "state": {
                "labels": [
                    _("On time"),
                    _("Late"),
                    _("Awaiting the district"),
                    _("In progress"),
                    _("Not started"),
                ],
                "values": [
                    figures["on_time"],
                    figures["late"],
                    figures["awaiting"],
                    figures["in_progress"],
                    figures["not_started"],
                ],
                "colors": ["#198754", "#fd7e14", "#6f42c1", "#0d6efd", "#dc3545"],
            },
            "fields": {
                "labels": [str(label) for _key, label, _n in fields],
                "values": [n for _key, _label, n in fields],
                "colors": ["#b3121b", "#f6c343", "#0d6efd"],
            },
            "branches": {
                "labels": [row["unit"].name for row in by_branch],
                "done": [row["done_percent"] for row in by_branch],
                "name": _("Study-complete (%)"),
            },
        },
    )
    return render(request, "campaigns/dashboard.html", context)


def _table_rows(request):
    _scope, root = _scope_and_root(request)
    campaign = current_campaign()
    if campaign is None:
        raise Http404
    filters = TableFilters.from_query(request.GET)
    rows = unit_table(
        statuses_in_scope(user=request.user, campaign=campaign, root=root).select_related("branch"),
        filters,
    )
    return root, campaign, filters, rows


@require_safe
@login_required
def units_table(request):
    """Every unit in scope with its state per rule; filters, search and sort live in the URL,
    and so does the day the figures are for (`?as_of=dd/mm/yyyy`)."""
    root, campaign, filters, rows = _table_rows(request)
    as_of, as_of_error = _as_of(request, campaign)
    with figures_as_of(campaign, as_of):
        return _units_table_page(
            request, root, campaign, filters, rows, as_of=as_of, as_of_error=as_of_error
        )


def _units_table_page(request, root, campaign, filters, rows, *, as_of, as_of_error):
    page = unit_table_page(
        rows,
        filters,
        user=request.user,
        campaign=campaign,
        root=root,
        number=request.GET.get("page"),
        per_page=PAGE_SIZE,
    )
    for status in page.object_list:
        status.flag_names = flag_labels(status)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "campaigns/units_table.html",
        {
            "campaign": campaign,
            "root": root,
            "breadcrumb": ancestors_for_breadcrumb(request.user, root) if root else [],
            "filters": filters,
            "choices": table_choices(),
            "page": page,
            "query": query.urlencode(),
            "as_of": as_of,
            "as_of_error": as_of_error,
            "live": as_of == timezone.localdate(),
        },
    )


def _export_name(
    stem_vi: str, stem_en: str, extension: str, root, as_of: date | None = None
) -> str:
    from django.utils.translation import get_language

    stem = stem_vi if get_language() == "vi" else stem_en
    scope_part = f"-{root.code}" if root is not None else ""
    return f"{stem}{scope_part}-{as_of or timezone.localdate():%Y-%m-%d}.{extension}"


@require_safe
@login_required
def export_units(request, extension: str):
    """The unit table, with the page's filters, as .xlsx or .csv in the page's language."""
    root, campaign, _filters, rows = _table_rows(request)
    as_of, as_of_error = _as_of(request, campaign)
    if as_of_error:
        # Not a file for a day nobody asked for: back to the table, which says what was wrong.
        return redirect(f"{reverse('campaigns:units_table')}?{request.GET.urlencode()}")
    filename = _export_name("don-vi", "units", extension, root, as_of)
    with figures_as_of(campaign, as_of):
        # Too many rows to write while the person waits: a Celery task writes them (the job is
        # made below, after a past day's rows are rolled back).
        in_background = background_exports.more_rows_than(rows, background_exports.threshold())
        if not in_background:
            live = as_of == timezone.localdate()
            response = _units_file(rows, campaign, extension, filename, live=live)
    if in_background:
        return export_in_background(
            request,
            kind=ExportJob.Kind.UNITS,
            extension=extension,
            campaign=campaign,
            root=root,
            as_of=as_of,
            filename=filename,
        )
    return response


def _units_file(rows, campaign, extension: str, filename: str, *, live: bool):
    header, data = exports.unit_table_sheet(rows, campaign)
    if not live:
        # The past day's rows exist only inside figures_as_of: read them before it ends.
        data = list(data)
    if extension == "csv":
        return exports.csv_response(filename=filename, header=header, rows=data)
    return exports.xlsx_response(
        filename=filename, title=pgettext("sheet name", "Units"), header=header, rows=data
    )


def _queue_request(request):
    """The campaign, the reviewer's level (the district office's queue, or a committee's with
    two-level review) and the filters from the query string; 403 for anyone who reviews nothing.
    `?unit=<code>` (the older drill-down link) reads as the committee filter."""
    campaign = current_campaign()
    scope = user_scope(request.user)
    if campaign is None:
        if not scope.is_staff_reviewer:
            raise PermissionDenied
        return None, queue.DISTRICT, queue.parse_filters(request.GET)
    level = queue.queue_level(request.user, campaign)
    if level is None:
        raise PermissionDenied
    filters = queue.parse_filters(request.GET)
    if not filters.committee and request.GET.get("unit"):
        data = request.GET.copy()
        data["committee"] = request.GET["unit"]
        filters = queue.parse_filters(data)
    return campaign, level, filters


@require_safe
@login_required
def review_queue(request):
    """What waits for the person's review, most overdue first, a page at a time: filters by
    committee, kind, state, age and a search that ignores diacritics; each row links to the item
    with the filter in `?next=`, so that a decision opens the next item of the same filter."""
    campaign, level, filters = _queue_request(request)
    context = {"campaign": campaign, "level": level}
    if campaign is not None:
        page = queue.review_queue(
            user=request.user, campaign=campaign, filters=filters, level=level
        )
        here = reverse("campaigns:review_queue")
        query = queue.filters_query(page.filters)
        context |= {
            "queue": page,
            "kinds": report_kinds(),
            "state_labels": queue_state_labels(level),
            "age_labels": QUEUE_AGE_LABELS,
            "back": f"{here}?{query}" if query else here,
            "export_query": queue.filters_query(page.filters, page=1),
            "kind_chips": [
                (
                    kind,
                    page.kind_counts.get(slug, 0),
                    queue.filters_query(page.filters, kind=slug, page=1),
                )
                for slug, kind in report_kinds().items()
            ],
            "all_kinds_query": queue.filters_query(page.filters, kind="", page=1),
            "state_chips": [
                (
                    state,
                    queue_state_labels(level)[state],
                    page.state_counts.get(state, 0),
                    queue.filters_query(page.filters, state=state, page=1),
                )
                for state in page.state_counts
            ],
            "previous_query": queue.filters_query(page.filters, page=page.page - 1),
            "next_query": queue.filters_query(page.filters, page=page.page + 1),
            "today": timezone.localdate(),
        }
    return render(request, "campaigns/review_queue.html", context)


def queue_state_labels(level: str) -> dict[str, str]:
    return {
        "": _("Waiting for the district office")
        if level == queue.DISTRICT
        else _("Waiting for your committee"),
        queue.NEW: _("Sent for the first time"),
        queue.RESUBMITTED: _("Corrected and resubmitted"),
        queue.OVERDUE: _("Overdue for review"),
        queue.AT_COMMITTEE: _("Still with the committees"),
    }


QUEUE_AGE_LABELS = {
    "": pgettext_lazy("queue age", "Any age"),
    "3": pgettext_lazy("queue age", "Waiting over 3 days"),
    "7": pgettext_lazy("queue age", "Waiting over 7 days"),
    "30": pgettext_lazy("queue age", "Waiting over 30 days"),
}


@require_safe
@login_required
def export_review_queue(request, extension: str):
    """The queue's whole filter (every page) as a spreadsheet or CSV, streamed."""
    campaign, level, filters = _queue_request(request)
    rows = (
        queue.review_queue_rows(user=request.user, campaign=campaign, filters=filters, level=level)
        if campaign is not None
        else iter(())
    )
    filename = _export_name("cho-duyet", "review-queue", extension, None)
    # The queue is one query per kind merged in order, so it is counted by reading it: the first
    # rows read are the file's rows when there are few enough, and no more are read otherwise.
    limit = background_exports.threshold()
    first = list(itertools.islice(rows, limit + 1))
    if len(first) > limit:
        return export_in_background(
            request,
            kind=ExportJob.Kind.REVIEW_QUEUE,
            extension=extension,
            campaign=campaign,
            root=None,
            as_of=None,
            filename=filename,
        )
    header, data = exports.review_queue_sheet(first)
    if extension == "csv":
        return exports.csv_response(filename=filename, header=header, rows=data)
    return exports.xlsx_response(
        filename=filename, title=_("Review queue"), header=header, rows=data
    )
