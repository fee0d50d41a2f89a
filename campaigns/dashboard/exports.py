"""The unit table and the review queue as spreadsheets (.xlsx) and CSV, in the page's language.

Headers and labels are translated when the file is built (the request's language is active);
dates are real dates shown dd/mm/yyyy, numbers are numbers, so the district can sort and sum in
Excel. Rows are read with an iterator and written as they come (campaigns.dashboard.xlsx), so a
100,000-unit export holds a chunk of rows at a time, never the whole file's rows. Above
EXPORT_BACKGROUND_ROWS the same functions write the file in a Celery task
(campaigns.dashboard.background_exports).
"""

import csv
import io
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import BinaryIO

from django.db.models import Case, CharField, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from units.models import UnitKind

from ..engine.status import FLAG_COLUMNS
from ..flagtexts import describe_flags
from ..models import Campaign, Flag, ReviewStatus, UnitStatus
from ..periods import short_date
from .xlsx import write_xlsx

CHUNK = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _localized_name(prefix: str):
    """The name in the active language, the Vietnamese where the English one is empty."""
    if translation.get_language() == "en":
        return Coalesce(
            NullIf(f"{prefix}name_en", Value("")), f"{prefix}name_vi", output_field=CharField()
        )
    return Coalesce(f"{prefix}name_vi", Value(""), output_field=CharField())


def _committee_name():
    """The unit's committee (its ancestor under the district) for the units below one: about
    twenty cells are called "Chi bộ Tổ dân phố số 1", and only the ward tells them apart."""
    return Case(
        When(unit__depth__gt=2, then=_localized_name("branch__")),
        default=Value(""),
        output_field=CharField(),
    )


def _flag_texts(campaign: Campaign, unit_ids: list[int]) -> dict[int, list[str]]:
    """The open flags of these units, in the words the unit page and the digests use."""
    flags = Flag.objects.filter(
        campaign=campaign, unit_id__in=unit_ids, closed_at__isnull=True
    ).order_by("opened_on", "kind", "subject")
    texts: dict[int, list[str]] = defaultdict(list)
    sentence = _("%(text)s (since %(date)s; next to act: %(actor)s)")  # translated once
    for text in describe_flags(flags, campaign, every_kind=True):
        texts[text.flag.unit_id].append(
            sentence
            % {
                "text": text.text,
                "date": short_date(text.flag.opened_on),
                "actor": text.actor_label,
            }
        )
    return texts


def unit_table_sheet(
    rows: QuerySet, campaign: Campaign
) -> tuple[list[tuple[str, int]], Iterator[list]]:
    """(header, width) pairs and the rows of the unit table."""
    kinds = dict(UnitKind.choices)
    study = dict(UnitStatus.StudyState.choices)
    plan = dict(ReviewStatus.choices) | {"": _("Not submitted")}
    flags = [(column, str(kind.label)) for kind, column in FLAG_COLUMNS.items()]
    header = [
        (_("Code"), 18),
        (_("Unit"), 42),
        (_("Committee"), 34),
        (_("Kind of unit"), 26),
        (_("Party members"), 12),
        (_("Attendees in accepted sessions"), 14),
        (_("Coverage (%)"), 11),
        (_("Study"), 16),
        (_("Study completed on"), 14),
        (_("Implementation plan"), 16),
        (_("Economy tasks"), 10),
        (_("Culture tasks"), 10),
        (_("Society tasks"), 10),
        (_("Progress reports"), 10),
        (_("Progress reports on time"), 12),
        (_("New models"), 10),
        (_("Open incidents"), 10),
        (_("Propaganda activities"), 12),
        (_("Open flags"), 40),
        (_("Awaiting review"), 10),
        (_("Reviews overdue"), 10),
        (_("What is missing"), 80),
    ]
    fields = [
        "unit_id",
        "unit__code",
        "display_name",
        "committee",
        "unit__kind",
        "members",
        "attended_total",
        "study_state",
        "study_completed_on",
        "plan_status",
        "reporting",
        "tasks_economy",
        "tasks_culture",
        "tasks_society",
        "reports_total",
        "reports_on_time",
        "initiatives",
        "incidents_open",
        "propaganda",
        "awaiting_review",
        "reviews_overdue",
        *[column for column, _label in flags],
    ]
    values = rows.annotate(
        display_name=_localized_name("unit__"), committee=_committee_name()
    ).values(*fields)

    def generate() -> Iterator[list]:
        # A chunk of rows at a time, with their flags' sentences in a few queries per chunk.
        for batch in itertools.batched(values.iterator(chunk_size=CHUNK), CHUNK):
            texts = _flag_texts(campaign, [row["unit_id"] for row in batch])
            yield from (_unit_row(row, texts) for row in batch)

    def _unit_row(row: dict, texts: dict[int, list[str]]) -> list:
        members = row["members"]
        coverage = min(100, round(100 * row["attended_total"] / members)) if members else 0
        reporting = row["reporting"]
        return [
            row["unit__code"],
            row["display_name"],
            row["committee"],
            str(kinds.get(row["unit__kind"], row["unit__kind"])),
            members,
            row["attended_total"] if reporting else None,
            coverage if reporting else None,
            str(study[row["study_state"]]) if reporting else "",
            row["study_completed_on"],
            str(plan.get(row["plan_status"], "")) if reporting else "",
            row["tasks_economy"],
            row["tasks_culture"],
            row["tasks_society"],
            row["reports_total"],
            row["reports_on_time"],
            row["initiatives"],
            row["incidents_open"],
            row["propaganda"],
            "; ".join(label for column, label in flags if row[column]),
            row["awaiting_review"],
            row["reviews_overdue"],
            "\n".join(texts.get(row["unit_id"], ())),
        ]

    return header, generate()


def review_queue_sheet(entries) -> tuple[list[tuple[str, int]], Iterator[list]]:
    header = [
        (_("Submitted"), 18),
        (_("Unit code"), 18),
        (_("Unit"), 42),
        (_("Committee"), 34),
        (_("Rule"), 8),
        (_("Report"), 24),
        (_("Review overdue from"), 16),
        (_("Times returned"), 10),
        (_("Passed to the district at"), 18),
        (_("Title"), 60),
    ]

    def moment(value):
        return timezone.localtime(value).replace(tzinfo=None) if value else None

    def generate() -> Iterator[list]:
        for entry in entries:
            item = entry.item
            yield [
                moment(entry.submitted_at),
                item.unit.code,
                item.unit.name,
                getattr(item.unit, "committee_name", ""),
                entry.kind.rule,
                str(entry.kind.label),
                item.review_overdue_from,
                item.return_count,
                moment(item.passed_at),
                str(item),
            ]

    return header, generate()


def write_rows(
    target: BinaryIO,
    *,
    extension: str,
    title: str,
    header: list[tuple[str, int]],
    rows: Iterable[list],
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """The file itself, written to `target` (binary) row by row: what a background export
    stores. `on_rows(n)` hears how many rows are written, a chunk at a time. Returns the number
    of rows."""
    if extension == "csv":
        text = io.TextIOWrapper(target, encoding="utf-8", newline="")
        writer = csv.writer(text)
        text.write("\ufeff")
        writer.writerow([label for label, _width in header])
        written = 0
        for row in rows:
            writer.writerow([_csv_cell(value) for value in row])
            written += 1
            if on_rows is not None and written % CHUNK == 0:
                on_rows(written)
        text.flush()
        text.detach()
        if on_rows is not None:
            on_rows(written)
        return written
    return write_xlsx(target, title=title, header=header, rows=rows, on_rows=on_rows, every=CHUNK)


def xlsx_response(
    *, filename: str, title: str, header: list[tuple[str, int]], rows: Iterable[list]
) -> HttpResponse:
    """The workbook, written row by row into memory (a direct export is below
    EXPORT_BACKGROUND_ROWS: a few hundred kilobytes) and sent whole."""
    buffer = io.BytesIO()
    write_xlsx(buffer, title=title, header=header, rows=rows)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_cell(value):
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value  # the usual guard against formulas in a CSV opened by Excel
    return "" if value is None else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(*, filename: str, header: list[tuple[str, int]], rows: Iterable[list]):
    """UTF-8 with a byte-order mark, so Excel opens the Vietnamese correctly; streamed.

    The first row is read before the response is made: that runs the queries behind `rows`
    (lazy querysets and generators), so a filter the database refuses is an error answered as
    such, not a 200 whose download breaks off after the header. The later chunks run the same
    statements with other bounds."""
    rows = iter(rows)
    first = next(rows, None)
    writer = csv.writer(_Echo())
    cell = _csv_cell

    def generate():
        yield "\ufeff" + writer.writerow([label for label, _width in header])
        if first is None:
            return
        yield writer.writerow([cell(value) for value in first])
        for row in rows:
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
