"""Scope, checked by walking every URL the app has (DESIGN.md, "Habits: scope first").

The URL patterns are read from the resolver, not listed by hand: a new pattern either has a row in
ROUTES (what it is and how to fill its parameters) or in PUBLIC (why it needs no scope), or the
first test fails and someone has to decide. Every pattern is then requested as each role, GET
and POST, filled with the code of every unit (in the path, or as the dashboard's ?unit=
drill-down) and the id of a draft, a submitted and an accepted item of each report kind in each
unit. For each request the expected answer comes from POLICY below, written out by hand for the
small district of conftest.py (not computed with the app's own Scope), and three things are
checked:

- the status: 404 outside the person's view scope, 403 where they may see the unit but not do
  this, 405 for a method the page does not take, a redirect to the login page when anonymous;
- no answer (page, CSV, every cell of an .xlsx, the text of a Word file or a PDF, whatever the
  status) shows a unit's name or item text the person may not see;
- the database does not change: every column of every report row and of the dashboard's status
  rows, the counts of the history, mail, flag, unit and role tables, and the files in the
  default storage.

The official reports (namespace `official`) are a committee's, fetched by their own id: those
patterns are filled with the id of a draft and of an issued report of each committee (the
district, the ward and the sibling ward; cells are no committees), and the new-report page with
each unit as the committee posted or asked for and each report as the one replaced. Their answers
come from expected_official(), out of POLICY's `district` and `drafts`: a report outside the
person's scope is 404 whatever the URL, a draft is read only by the district's roles and those who
draft for its committee, and writing is for those who draft for it (403 for the others who see
it).

The background exports (`campaigns:export_job*`: a job's page, its progress as JSON, its file)
are fetched by the job's own id too, and are for the job's owner alone: those patterns are filled
with the id of each job of the world (a finished export of the review queue owned by the district
staff, a finished export of the unit table and a queued one owned by the ward's secretary, each
made and written by the service, with a token in its file name). Their answers come from
expected_export_job(): 404 for anyone but the owner, staff included, whatever they may see; the
file downloaded by its owner is read (every cell) like every other answer, so the ward
secretary's file must not name a unit outside the ward.

The writes a person IS allowed (the unit's secretary recording, editing, submitting; the district
staff reviewing; drafting, issuing, replacing, discarding an official report) are left out of the
walk and made in the positive controls, with the same URLs and the same form data, so the walk
cannot pass because its requests were malformed. Then come URLs that mix one unit's code with
another unit's ids, and the links on the pages a person may open.
"""

import html
import io
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import product
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import LocalePrefixPattern
from django.utils import timezone, translation
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from breakthroughs.models import BreakthroughTask, Initiative, ProgressReport
from campaigns.dashboard.background_exports import ExportRequest, export_job_run, export_job_start
from campaigns.dashboard.exports import XLSX_TYPE
from campaigns.engine.status import refresh_unit_status
from campaigns.models import (
    Campaign,
    ExportJob,
    ImplementationPlan,
    Incident,
    OfficialReport,
    OutgoingMail,
    PropagandaActivity,
    ReviewStatus,
    StudySession,
)
from campaigns.official import services as official_services
from campaigns.registry import report_kinds
from campaigns.reporting.urls import ReportKindConverter
from dongda.text import fold
from units.models import Unit, UnitKind, User

from .factories import CampaignFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LANGUAGES = ("vi", "en")

# ---------------------------------------------------------------------------------------------
# What the walker knows about the URL patterns
# ---------------------------------------------------------------------------------------------

#: Patterns that are not about any unit, each with the reason it needs no scope. They are still
#: requested by every role (see test_public_pages_show_nothing_of_any_unit), only without ids.
PUBLIC = {
    "healthz": "load-balancer probe; JSON about the database, broker and engine, no unit data",
    "login": "the sign-in page: for anonymous visitors by definition",
    "logout": "ends the caller's own session; takes no ids",
    "switch_language": "sets the caller's own language cookie/preference; takes no ids",
    "unsubscribe": "authorised by the signed token in the URL (RFC 8058), not by a session",
    "password_set": "an invitation's one-time link: authorised by the token in the URL",
}

#: Namespaces and views the walker does not enter (Django's admin has its own permission
#: system and its own tests; static files are not served by the app under test).
SKIPPED_NAMESPACES = ("admin",)
SKIPPED_VIEW_MODULES = ("django.views.static", "django.contrib.staticfiles.views")

# Kinds of page, by what decides who may use them.
SELF_HOME = "self:home"  # redirects a person to their own place
SELF_PROFILE = "self:profile"  # the person's own settings
SCOPED_PAGE = "scoped page"  # any role; content filtered by scope (the dashboard)
STAFF_PAGE = "staff page"  # district office staff only
UNIT_READ = "unit read"  # /units/<code>/...: see the unit
ITEM_READ = "item read"  # /units/<code>/<kind>/<pk>/...: see one item of the unit
UNIT_WRITE = "unit write"  # record a new item for the unit
CHILD_WRITE = "child write"  # record an item under another of the unit's (a task's progress)
ITEM_WRITE = "item write"  # change one of the unit's items
ITEM_REVIEW = "item review"  # the district's decision on one item
# The official reports, fetched by their own id (not a unit item's): see official_calls.
OFFICIAL_LIST = "official list"  # the reports in the person's scope
OFFICIAL_NEW = "official new"  # start a draft: for a committee, or replacing an issued report
OFFICIAL_READ = "official read"  # one report's document (preview, files)
OFFICIAL_FORM = "official form"  # one report's page: GET reads it, POST saves the draft
OFFICIAL_WRITE = "official write"  # change one report (every method, the confirmation's GET too)
OFFICIAL_CATEGORIES = (OFFICIAL_LIST, OFFICIAL_NEW, OFFICIAL_READ, OFFICIAL_FORM, OFFICIAL_WRITE)
# A background export, fetched by its own id (not a unit's): its owner's only. See
# export_job_calls.
EXPORT_JOB = "export job"


@dataclass(frozen=True)
class Route:
    category: str
    methods: tuple[str, ...]  # the methods the page takes; any other must be 405
    #: For ITEM_* routes: which of the unit's items the URL is filled with. A draft is what an
    #: edit or submit would change; a submitted or accepted item is what a review would change.
    #: For OFFICIAL_FORM/WRITE routes (filled with every report): the state the write acts on;
    #: a writer's request on a report in another state is refused with a redirect (302).
    item_states: tuple[str, ...] = ("draft",)
    query: dict = field(default_factory=dict)
    #: The page takes a unit as ?unit=<code>: walked without it, then with every unit's code.
    unit_in_query: bool = False
    #: What the page answers someone allowed who calls it as the walker does (no file, no
    #: token): a form posted empty is a 400, a confirmation without its preview a redirect.
    answers: tuple[int, ...] | dict[str, tuple[int, ...]] = (200,)
    #: Values of the parameters that are not ids, where they are not PARAM_VALUES'.
    values: dict = field(default_factory=dict)
    #: Converters of the parameters, where they are not KNOWN_PARAMS' (a re_path's groups).
    converters: dict = field(default_factory=dict)


QUEUE_FILTERS = {"kind": "sessions", "state": "overdue", "age": "7", "q": "chi bo", "page": "2"}

ROUTES: dict[str, Route] = {
    "home": Route(SELF_HOME, ("GET",)),
    "profile": Route(SELF_PROFILE, ("GET", "POST")),
    # The dashboard pages take an optional drill-down ?unit=<code>: walked without it and with
    # every unit's code.
    "campaigns:dashboard": Route(SCOPED_PAGE, ("GET",), unit_in_query=True),
    "campaigns:units_table": Route(SCOPED_PAGE, ("GET",), unit_in_query=True),
    "campaigns:export_units": Route(SCOPED_PAGE, ("GET",), unit_in_query=True),
    # The queue's filters narrow a scoped read; ?unit=<code> reads as the committee filter (a
    # code that is no committee in scope filters nothing). Committees' own queues (two-level
    # review, off here) are walked in tests/campaigns/reporting/test_two_level_review.py.
    "campaigns:review_queue": Route(STAFF_PAGE, ("GET",), query=QUEUE_FILTERS, unit_in_query=True),
    "campaigns:export_review_queue": Route(
        STAFF_PAGE, ("GET",), query=QUEUE_FILTERS, unit_in_query=True
    ),
    "campaigns:digest_preview": Route(
        STAFF_PAGE, ("GET",), query={"week": "2024-W21"}, unit_in_query=True
    ),
    "campaigns:digest_preview_html": Route(
        STAFF_PAGE, ("GET",), query={"week": "2024-W21"}, unit_in_query=True
    ),
    "unit_import:page": Route(STAFF_PAGE, ("GET",)),
    "unit_import:template": Route(STAFF_PAGE, ("GET",)),
    # A GET (after switching language) goes back to the upload form.
    "unit_import:preview": Route(
        STAFF_PAGE, ("GET", "POST"), answers={"GET": (302,), "POST": (400,)}
    ),
    "unit_import:confirm": Route(STAFF_PAGE, ("GET", "POST"), answers=(302,)),
    "units:detail": Route(UNIT_READ, ("GET",)),
    "reports:new": Route(UNIT_WRITE, ("GET", "POST")),
    "reports:new_child": Route(CHILD_WRITE, ("GET", "POST")),
    "reports:detail": Route(ITEM_READ, ("GET",)),
    "reports:file": Route(ITEM_READ, ("GET",)),
    "reports:edit": Route(ITEM_WRITE, ("GET", "POST")),
    "reports:submit": Route(ITEM_WRITE, ("POST",)),
    # A review decides on a submitted item, or reopens ("return") an accepted one.
    "reports:review": Route(ITEM_REVIEW, ("POST",), item_states=("submitted", "accepted")),
    # Official reports: `pk` is an OfficialReport's id, filled with each committee's draft and
    # issued report (official_calls).
    "official:list": Route(OFFICIAL_LIST, ("GET",)),
    "official:new": Route(OFFICIAL_NEW, ("GET", "POST")),
    "official:detail": Route(OFFICIAL_FORM, ("GET", "POST")),
    "official:preview": Route(OFFICIAL_READ, ("GET",)),
    "official:file": Route(
        OFFICIAL_READ, ("GET",), values={"extension": ("docx", "pdf")}, converters={"pk": "regex"}
    ),
    # GET: the confirmation (a redirect for an issued report); POST: issue.
    "official:issue": Route(OFFICIAL_WRITE, ("GET", "POST")),
    "official:replace": Route(OFFICIAL_WRITE, ("POST",), item_states=("issued",)),
    "official:discard": Route(OFFICIAL_WRITE, ("POST",)),
    # Background exports: `pk` is an ExportJob's id, filled with each job of the world
    # (export_job_calls). The page, its JSON and the file take GET (and HEAD) only.
    "campaigns:export_job": Route(EXPORT_JOB, ("GET",)),
    "campaigns:export_job_progress": Route(EXPORT_JOB, ("GET",)),
    "campaigns:export_job_download": Route(EXPORT_JOB, ("GET",)),
}

REPORT_KINDS = report_kinds()

#: URL parameters the walker can fill, and the converter each must use ("regex" for a named
#: group of a re_path).
KNOWN_PARAMS = {
    "code": "SlugConverter",
    "kind": ReportKindConverter.__name__,
    "pk": "IntConverter",
    "parent_kind": ReportKindConverter.__name__,
    "parent_pk": "IntConverter",
    "extension": "regex",
}
#: The review decisions that would change an item in each state: a submitted item is accepted
#: or returned; an accepted one can only be reopened ("return").
REVIEW_DECISIONS = {"submitted": ("accept", "return"), "accepted": ("return",)}
#: The values of parameters that are not ids.
PARAM_VALUES = {"extension": ("xlsx", "csv")}


@dataclass(frozen=True)
class WalkedPattern:
    name: str  # "reports:edit"; the route itself when the pattern has no name
    route: str  # "<lang>/units/<slug:code>/<report:kind>/<int:pk>/edit/"
    params: dict  # parameter -> converter class name


def walk(patterns=None, prefix: str = "", namespace: str = "", converters=None) -> Iterator:
    """Every URL pattern under the root URLconf, through includes and i18n_patterns."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    converters = converters or {}
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES:
                continue
            if isinstance(entry.pattern, LocalePrefixPattern):
                part = "<lang>/"
            else:
                part = str(entry.pattern)
            inner_namespace = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found = {**converters, **_converters_of(entry.pattern)}
            yield from walk(entry.url_patterns, prefix + part, inner_namespace, found)
        elif isinstance(entry, URLPattern):
            if getattr(entry.callback, "__module__", "") in SKIPPED_VIEW_MODULES:
                continue
            route = prefix + str(entry.pattern)
            params = {**converters, **_converters_of(entry.pattern)}
            name = f"{namespace}{entry.name}" if entry.name else route
            yield WalkedPattern(name=name, route=route, params=params)
        else:  # pragma: no cover - a new kind of resolver entry needs a look
            raise TypeError(f"unknown URL entry {entry!r}")


def _converters_of(pattern) -> dict:
    named = {name: type(conv).__name__ for name, conv in getattr(pattern, "converters", {}).items()}
    regex = getattr(pattern, "regex", None)
    for group in getattr(regex, "groupindex", {}) or {}:
        named.setdefault(group, "regex")
    return named


# ---------------------------------------------------------------------------------------------
# The district, its people, and a draft, a submitted and an accepted item of each kind in each
# unit below the root
# ---------------------------------------------------------------------------------------------

UNIT_KEYS = ("root", "ward", "cell", "sibling_ward", "sibling_cell")
REPORTING_UNIT_KEYS = ("ward", "cell", "sibling_ward", "sibling_cell")
STATES = ("draft", "submitted", "accepted")
#: Two reporting periods of the quarterly 2024 campaign have started by 20/05/2024: the first
#: holds each task's existing report, the second is free for a new one.
TAKEN_PERIOD, FREE_PERIOD = date(2024, 1, 1), date(2024, 4, 1)


def token(unit_code: str, kind: str, state: str) -> str:
    """Text that appears only in one item: if it shows on a page, that item's data did."""
    return f"zq-{unit_code}-{kind}-{state}-zq"


def posted_token(unit_code: str, kind: str) -> str:
    return f"zq-{unit_code}-{kind}-posted-zq"


#: The committees, which have official reports (the district's names every ward); a draft and
#: an issued report of each.
COMMITTEE_KEYS = ("root", "ward", "sibling_ward")
OFFICIAL_STATES = ("draft", "issued")
OFFICIAL_DAYS = {"issued": date(2024, 4, 5), "draft": date(2024, 5, 15)}


def official_token(unit_code: str, state: str) -> str:
    """In the title of one official report: on its page, its preview and its files."""
    return f"zq-{unit_code}-official-{state}-zq"


def official_posted_token(unit_code: str) -> str:
    return f"zq-{unit_code}-official-posted-zq"


#: The background exports, by (owner's role, state): what each exports, in what format. The
#: district staff's export of the review queue names every unit; the ward's secretary's of the
#: unit table, the ward and its cell only. The queued one has no file yet.
EXPORT_JOBS = {
    ("staff", "done"): (ExportJob.Kind.REVIEW_QUEUE, "xlsx"),
    ("ward_secretary", "done"): (ExportJob.Kind.UNITS, "xlsx"),
    ("ward_secretary", "queued"): (ExportJob.Kind.UNITS, "csv"),
}


def export_token(owner: str, state: str) -> str:
    """In one export's file name: on its page and in its download's Content-Disposition."""
    return f"zq-export-{owner}-{state}-zq"


@dataclass
class World:
    units: dict[str, Unit]
    campaign: object  # the active 2024 campaign
    plan_campaigns: dict[str, object]  # state -> the (inactive) campaign holding that plan
    items: dict[tuple[str, str, str], Model]  # (unit key, kind slug, state) -> item
    users: dict[str, object]
    #: (committee key, "draft" or "issued") -> official report
    official: dict[tuple[str, str], OfficialReport] = field(default_factory=dict)
    #: (owner's role, "done" or "queued") -> background export
    exports: dict[tuple[str, str], ExportJob] = field(default_factory=dict)

    def item(self, unit_key: str, kind: str, state: str) -> Model:
        cached = self.items[(unit_key, kind, state)]
        return type(cached).objects.get(pk=cached.pk)

    def report(self, committee_key: str, state: str) -> OfficialReport:
        return OfficialReport.objects.get(pk=self.official[committee_key, state].pk)

    def task(self, unit_key: str) -> BreakthroughTask:
        return self.item(unit_key, "tasks", "draft")


def _stored_pdf(model: type[Model], unit: Unit, name: str) -> str:
    """Puts a PDF in the default storage where evidence_path would, and returns its name."""
    meta = model._meta
    path = f"{meta.app_label}/{meta.model_name}/{unit.pk}/{uuid.uuid4().hex}.pdf"
    return default_storage.save(path, ContentFile(PDF, name=name))


def _make_items(unit: Unit, campaign, plan_campaigns: dict) -> dict[tuple[str, str], Model]:
    made: dict[tuple[str, str], Model] = {}
    for state in STATES:
        extra = {"status": state}
        if state != "draft":
            extra["submitted_at"] = timezone.now()

        def mark(kind: str, state: str = state) -> str:
            return token(unit.code, kind, state)

        made["sessions", state] = StudySession.objects.create(
            campaign=campaign,
            unit=unit,
            held_on=date(2024, 3, 15),
            presenter=mark("sessions"),
            members_expected=40,
            attendees=38,
            notes_vi=mark("sessions"),
            notes_en=mark("sessions"),
            minutes=_stored_pdf(StudySession, unit, f"{mark('sessions')}.pdf"),
            minutes_name=f"{mark('sessions')}.pdf",
            **extra,
        )
        # One plan per unit and campaign: the draft, submitted and accepted plans live in three
        # older campaigns, so the active one has none and recording a plan would create a row
        # (the walk must be able to see a write that should not have happened).
        made["plans", state] = ImplementationPlan.objects.create(
            campaign=plan_campaigns[state],
            unit=unit,
            number=mark("plans")[:64],
            issued_on=date(plan_campaigns[state].year, 4, 10),
            programme=mark("plans"),
            summary_vi=mark("plans"),
            summary_en=mark("plans"),
            document=_stored_pdf(ImplementationPlan, unit, f"{mark('plans')}.pdf"),
            document_name=f"{mark('plans')}.pdf",
            **extra,
        )
        task = BreakthroughTask.objects.create(
            campaign=campaign,
            unit=unit,
            field="economy",
            title_vi=mark("tasks"),
            title_en=mark("tasks"),
            description_vi=mark("tasks"),
            indicator_vi="Số tuyến phố",
            target="12",
            owner=mark("tasks"),
            due_on=date(2024, 12, 31),
            **extra,
        )
        made["tasks", state] = task
        made["reports", state] = ProgressReport.objects.create(
            task=task,
            unit=unit,
            period_start=TAKEN_PERIOD,
            percent=30,
            narrative_vi=mark("reports"),
            narrative_en=mark("reports"),
            evidence=_stored_pdf(ProgressReport, unit, f"{mark('reports')}.pdf"),
            evidence_name=f"{mark('reports')}.pdf",
            **extra,
        )
        made["initiatives", state] = Initiative.objects.create(
            campaign=campaign,
            unit=unit,
            name_vi=mark("initiatives"),
            name_en=mark("initiatives"),
            description_vi=mark("initiatives"),
            started_on=date(2024, 3, 1),
            **extra,
        )
        made["incidents", state] = Incident.objects.create(
            campaign=campaign,
            unit=unit,
            title_vi=mark("incidents"),
            title_en=mark("incidents"),
            description_vi=mark("incidents"),
            opened_on=date(2024, 5, 1),
            owner=mark("incidents"),
            **extra,
        )
        made["propaganda", state] = PropagandaActivity.objects.create(
            campaign=campaign,
            unit=unit,
            held_on=date(2024, 3, 20),
            channel=PropagandaActivity.Channel.LOUDSPEAKER,
            audience=300,
            note_vi=mark("propaganda"),
            note_en=mark("propaganda"),
            evidence=_stored_pdf(PropagandaActivity, unit, f"{mark('propaganda')}.pdf"),
            evidence_name=f"{mark('propaganda')}.pdf",
            **extra,
        )
    return made


#: What issuing froze in each committee's report (its document as JSON, its DOCX and PDF), by
#: committee code: drawn by the service in the first world of a test process (a second or two),
#: then written straight into the issued row of every later world. The worlds are the same
#: (same units, items and day), so issuing again would draw the same document.
_FROZEN_BY_CODE: dict[str, dict] = {}
FROZEN_COLUMNS = ("snapshot", "docx", "pdf")


def _make_official_reports(units: dict, campaign, author) -> dict[tuple[str, str], OfficialReport]:
    """Each committee's issued report (as of 05/04, drawn into its DOCX and PDF by the service),
    then its draft (as of 15/05, compared with the issued one), each with a token in its title
    and in a rewritten paragraph (the pages show the paragraphs, the documents both)."""
    made = {}
    for key in COMMITTEE_KEYS:
        for state in ("issued", "draft"):
            report = official_services.start_draft(
                user=author,
                campaign=campaign,
                committee=units[key],
                as_of=OFFICIAL_DAYS[state],
                language="vi",
            )
            mark = official_token(units[key].code, state)
            OfficialReport.objects.filter(pk=report.pk).update(
                title=f"{report.title} {mark}",
                edits={"next": f"Tiếp tục kiểm tra, đôn đốc các chi bộ ({mark})."},
            )
            frozen = _FROZEN_BY_CODE.get(units[key].code)
            if state == "issued" and frozen is None:
                report = official_services.issue(
                    report_id=report.pk, user=author, expected_version=report.version
                )
                _FROZEN_BY_CODE[units[key].code] = {
                    name: getattr(report, name) for name in FROZEN_COLUMNS
                }
            elif state == "issued":
                OfficialReport.objects.filter(pk=report.pk).update(
                    state=OfficialReport.State.ISSUED,
                    issued_by=author,
                    issued_at=timezone.now(),
                    version=report.version + 1,
                    **frozen,
                )
                report = OfficialReport.objects.get(pk=report.pk)
            made[key, state] = report
    return made


def _make_export_jobs(campaign, users: dict) -> dict[tuple[str, str], ExportJob]:
    """Each export of EXPORT_JOBS started by the service as the page would (its task is queued
    on commit, which the test's transaction never reaches), and the finished ones written by
    the task's service: the file in the default storage, the e-mail in the outbox."""
    made = {}
    for (owner, state), (kind, extension) in EXPORT_JOBS.items():
        job = export_job_start(
            owner=users[owner],
            asked=ExportRequest(
                kind=kind,
                extension=extension,
                campaign_id=campaign.pk,
                query="",
                root_id=None,
                as_of=None,
                language="vi",
                filename=f"{export_token(owner, state)}.{extension}",
            ),
        )
        if state == "done":
            assert export_job_run(job_id=job.pk) == ExportJob.State.DONE
        job.refresh_from_db()
        assert job.state == state and bool(job.file) == (state == "done")
        made[owner, state] = job
    return made


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(date(2024, 5, 20), tick=False):
        yield


@pytest.fixture
def world(district, campaign, staff, standing, ward_secretary, cell_secretary, sibling_secretary):
    plan_campaigns = {
        state: CampaignFactory(
            code=f"cd{year}",
            year=year,
            is_active=False,
            starts_on=date(year, 2, 1),
            ends_on=date(year, 12, 31),
            study_deadline=date(year, 3, 31),
            plan_deadline=date(year, 4, 30),
            breakthrough_deadline=date(year, 4, 30),
        )
        for state, year in zip(STATES, (2023, 2022, 2021), strict=True)
    }
    units = {key: getattr(district, key) for key in UNIT_KEYS}
    items = {}
    for key in REPORTING_UNIT_KEYS:
        for (kind, state), item in _make_items(units[key], campaign, plan_campaigns).items():
            items[key, kind, state] = item
    # Addresses, so that a review's "returned" e-mail would be queued (and seen in the snapshot).
    for user in (ward_secretary, cell_secretary, sibling_secretary):
        user.email = f"{user.username}@example.vn"
        user.save(update_fields=["email"])
    # The dashboard pages read the status rows that the report services keep; these items were
    # made without them, so the rows are built once here.
    refresh_unit_status(campaign)
    official = _make_official_reports(units, campaign, staff)
    users = {
        "cell_secretary": cell_secretary,
        "ward_secretary": ward_secretary,
        "sibling_secretary": sibling_secretary,
        "standing": standing,
        "staff": staff,
        "no_role": UserFactory(username="khong-vai-tro"),
        "anonymous": None,
    }
    exports = _make_export_jobs(campaign, users)
    return World(units, campaign, plan_campaigns, items, users, official, exports)


# ---------------------------------------------------------------------------------------------
# Who may do what: written out by hand for this district (the oracle, independent of the app)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    sees: frozenset = frozenset()  # units whose pages and items the person may read
    writes: frozenset = frozenset()  # units whose reports the person records
    reviews: bool = False  # district office staff
    has_role: bool = False
    home: str | None = None  # where "/" sends them: a unit key, "dashboard", or None (403)
    #: Units named on the person's pages although outside their scope: a unit's ancestors are
    #: named (not linked) in its breadcrumb. Their items stay hidden.
    named: frozenset = frozenset()
    #: A district role (office staff, Standing Committee): reads the drafts of every committee
    #: in scope, not only of those they draft for.
    district: bool = False
    #: Committees whose official reports the person drafts, saves, issues, replaces, discards.
    drafts: frozenset = frozenset()


EVERY_UNIT = frozenset(UNIT_KEYS)
EVERY_COMMITTEE = frozenset(COMMITTEE_KEYS)
POLICY: dict[str, Policy] = {
    "cell_secretary": Policy(
        sees=frozenset({"cell"}),
        writes=frozenset({"cell"}),
        has_role=True,
        home="cell",
        named=frozenset({"root", "ward"}),
    ),
    "ward_secretary": Policy(
        sees=frozenset({"ward", "cell"}),
        writes=frozenset({"ward"}),
        has_role=True,
        home="ward",
        named=frozenset({"root"}),
        drafts=frozenset({"ward"}),
    ),
    "sibling_secretary": Policy(
        sees=frozenset({"sibling_ward", "sibling_cell"}),
        writes=frozenset({"sibling_ward"}),
        has_role=True,
        home="sibling_ward",
        named=frozenset({"root"}),
        drafts=frozenset({"sibling_ward"}),
    ),
    # The Standing Committee reads every report, drafts included, and writes none.
    "standing": Policy(sees=EVERY_UNIT, has_role=True, home="dashboard", district=True),
    "staff": Policy(
        sees=EVERY_UNIT,
        reviews=True,
        has_role=True,
        home="dashboard",
        district=True,
        drafts=EVERY_COMMITTEE,
    ),
    "no_role": Policy(),
    "anonymous": Policy(),
}
ROLES = tuple(POLICY)
OWNERS = ("cell_secretary", "ward_secretary", "sibling_secretary")

ALLOWED = "allowed write"  # the expectation of a write the person may make: not walked


def _refused_whoever_asks(role: str, route: Route, method: str) -> set | None:
    """Anonymous visitors and methods the page does not take, the same on every page."""
    if role == "anonymous":
        # Every page but the public ones asks for a login (a method the page never takes may
        # be refused first with 405: that tells nothing either).
        return {"login"} if method in route.methods else {"login", 405}
    if method not in route.methods:
        return {405}
    return None


def expected(role: str, route: Route, method: str, unit_key: str | None, kind: str | None):
    """The status the request must get; ALLOWED for a permitted write (positive controls)."""
    policy = POLICY[role]
    refused = _refused_whoever_asks(role, route, method)
    if refused is not None:
        return refused
    category = route.category
    if category == SELF_HOME:
        return {302} if policy.home else {403}
    if category == SELF_PROFILE:
        return {200} if method == "GET" else {302}
    if category == SCOPED_PAGE and not policy.has_role:
        return {403}
    if category == STAFF_PAGE and not policy.reviews:
        return {403}
    if category in (SCOPED_PAGE, STAFF_PAGE) and unit_key is None:
        # No drill-down: everything in the person's scope.
        answers = route.answers
        return set(answers[method] if isinstance(answers, dict) else answers)
    if unit_key not in policy.sees:
        return {404}
    if category in (UNIT_READ, SCOPED_PAGE, STAFF_PAGE):
        return {200}
    if category == ITEM_READ:
        return {200}  # the file route of a kind without a file is settled by the caller
    if category in (UNIT_WRITE, CHILD_WRITE, ITEM_WRITE):
        if unit_key not in policy.writes:
            return {403}
        if category == UNIT_WRITE and REPORT_KINDS[kind].parent:
            return {404}  # progress reports are recorded from their task's page
        return ALLOWED
    if category == ITEM_REVIEW:
        return ALLOWED if policy.reviews else {403}
    raise AssertionError(f"no expectation for {category}")


def reads_official(role: str, committee: str, state: str) -> bool:
    """An issued report is read by everyone whose scope holds its committee; a draft only by
    the district's roles and those who draft for the committee."""
    policy = POLICY[role]
    if committee not in policy.sees:
        return False
    return state != "draft" or policy.district or committee in policy.drafts


def expected_official(
    role: str,
    route: Route,
    method: str,
    committee: str | None = None,
    state: str | None = None,
    via: str | None = None,
):
    """The status of a request to an official:* page. `committee` and `state` name the report
    in the URL; for official:new, `via` says how the committee came: "form" (posted),
    "query" (?committee=<code>), "replaces" (?replaces=<the report's id>), or None (the page
    alone)."""
    policy = POLICY[role]
    refused = _refused_whoever_asks(role, route, method)
    if refused is not None:
        return refused
    category = route.category
    if category == OFFICIAL_LIST:
        return {200} if policy.has_role else {403}
    if category == OFFICIAL_NEW and via != "replaces":
        if not policy.drafts:
            return {403}  # nobody's drafter: whatever committee is asked for
        if committee is None:
            return {200}
        if committee in policy.drafts:
            return {200} if method == "GET" else ALLOWED
        # A committee the form does not offer is refused by the form; asked for in the query,
        # it is as if it did not exist.
        return {400} if via == "form" else {404}
    # One report: official:new?replaces=<id> acts on an issued report like official:replace.
    acts_on = ("issued",) if category == OFFICIAL_NEW else route.item_states
    if not reads_official(role, committee, state):
        return {404}
    if category == OFFICIAL_READ or (category == OFFICIAL_FORM and method == "GET"):
        return {200}
    if committee not in policy.drafts:
        return {403}
    if state not in acts_on:
        return {302}  # "an issued report cannot change", "only an issued report is replaced"
    return {200} if method == "GET" else ALLOWED


def expected_export_job(role: str, route: Route, method: str, name: str, owner: str, state: str):
    """The status of a request to a campaigns:export_job* page for the job `owner` has in
    `state`: the owner's alone, 404 for anyone else, whatever they may see (an export holds
    what its owner's scope showed)."""
    refused = _refused_whoever_asks(role, route, method)
    if refused is not None:
        return refused
    if role != owner:
        return {404}
    if name == "campaigns:export_job_download" and state != "done":
        return {302}  # not written yet: back to the job's page
    return {200}


def hidden_markers(world: World, role: str) -> list[str]:
    """Texts that must not appear on any page this role gets: the items of every unit they may
    not see, and the names of those units (but for the ones named by design); the official
    reports they may not read and the exports they do not own."""
    policy = POLICY[role]
    markers = []
    for key in UNIT_KEYS:
        if key in policy.sees:
            continue
        unit = world.units[key]
        # The district committee's name is the site's own name, in every page's title and
        # footer; the root has no reports of its own.
        if key not in policy.named and key != "root":
            markers += [unit.name_vi, unit.name_en]
        if key in REPORTING_UNIT_KEYS:
            markers += [token(unit.code, kind, state) for kind in REPORT_KINDS for state in STATES]
            markers += [posted_token(unit.code, kind) for kind in REPORT_KINDS]
        if key in COMMITTEE_KEYS:
            markers.append(official_posted_token(unit.code))
    # The official reports the person may not read (a draft may be hidden in a visible unit).
    for key, state in product(COMMITTEE_KEYS, OFFICIAL_STATES):
        if not reads_official(role, key, state):
            markers.append(official_token(world.units[key].code, state))
    markers += [export_token(owner, state) for owner, state in EXPORT_JOBS if owner != role]
    return markers


# ---------------------------------------------------------------------------------------------
# Filling the URLs and the forms
# ---------------------------------------------------------------------------------------------


def pdf_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def report_form_data(kind: str, *, unit: Unit, campaign, item: Model | None = None) -> dict:
    """Valid form data for recording (item=None) or editing an item of `kind` in `unit`; the
    same data the positive controls prove the unit's secretary can save."""
    mark = posted_token(unit.code, kind)
    year = campaign.year
    if kind == "sessions":
        data = {
            "held_on": f"15/03/{year}",
            "kind": "regular",
            "format": "in_person",
            "presenter": mark,
            # At most the unit's member count (10 in the smallest unit walked).
            "members_expected": str(min(unit.member_count, 10) or 1),
            "attendees": "1",
            "notes_vi": mark,
            "notes_en": "",
            "minutes": pdf_upload(f"{mark}.pdf"),
        }
    elif kind == "plans":
        data = {
            "number": "05-KH/ĐU",
            "issued_on": f"10/04/{year}",
            "programme": "Chương trình hành động số 01",
            "summary_vi": mark,
            "summary_en": "",
            "document": pdf_upload(f"{mark}.pdf"),
        }
    elif kind == "tasks":
        data = {
            "field": "economy",
            "title_vi": mark,
            "title_en": "",
            "description_vi": "",
            "description_en": "",
            "goal_vi": "",
            "goal_en": "",
            "indicator_vi": "Số tuyến phố sạch đẹp",
            "indicator_en": "",
            "target": "12",
            "owner": "Tổ trưởng tổ dân phố",
            "due_on": f"31/12/{year}",
        }
    elif kind == "reports":
        period = item.period_start if item is not None else FREE_PERIOD
        data = {
            "period_start": period.isoformat(),
            "percent": "45",
            "narrative_vi": mark,
            "narrative_en": "",
            "evidence": pdf_upload(f"{mark}.pdf"),
        }
    elif kind == "initiatives":
        data = {
            "name_vi": mark,
            "name_en": "",
            "description_vi": "",
            "description_en": "",
            "started_on": f"01/03/{year}",
            "stage": "running",
            "results_vi": "",
            "results_en": "",
        }
    elif kind == "incidents":
        data = {
            "title_vi": mark,
            "title_en": "",
            "description_vi": "",
            "description_en": "",
            "opened_on": f"01/05/{year}",
            "severity": "medium",
            "owner": "Tổ dân phố số 3",
            "resolved_on": "",
            "resolution_vi": "",
            "resolution_en": "",
        }
    elif kind == "propaganda":
        data = {
            "held_on": f"20/03/{year}",
            "channel": "meeting",
            "audience": "45",
            "note_vi": mark,
            "note_en": "",
            "evidence": pdf_upload(f"{mark}.pdf"),
        }
    else:
        raise AssertionError(f"the walker cannot fill a form for the new kind {kind!r}")
    if item is None:
        data["submission_key"] = str(uuid.uuid4())
    else:
        data["version"] = str(item.version)
    return {**smuggled_fields(unit), **data}


SMUGGLED_COMMENT = "zq-smuggled-zq"


def smuggled_fields(unit: Unit) -> dict:
    """Columns no form offers, sent anyway as a hand-made POST would: another unit, campaign and
    task, a reviewed state. The unit and campaign come from the URL and the state from the
    services, so every one of these must be ignored."""
    other_unit = Unit.objects.exclude(pk=unit.pk).order_by("-pk").first()
    other_task = BreakthroughTask.objects.exclude(unit=unit).order_by("pk").first()
    old_campaign = Campaign.objects.filter(is_active=False).order_by("year").first()
    reviewer = User.objects.order_by("pk").first()
    fields = {
        "unit": other_unit.pk,
        "unit_id": other_unit.pk,
        "task": other_task.pk,
        "task_id": other_task.pk,
        "campaign": old_campaign.pk,
        "campaign_id": old_campaign.pk,
        "status": ReviewStatus.ACCEPTED,
        "review_comment": SMUGGLED_COMMENT,
        "reviewed_by": reviewer.pk,
        "created_by": reviewer.pk,
    }
    return {name: str(value) for name, value in fields.items()}


@dataclass
class Call:
    name: str
    method: str
    url: str
    #: Builds the POST data at request time (files are consumed, versions read fresh).
    data: Callable[[], dict] | None
    #: The statuses allowed ("login" for the redirect to the login page); ALLOWED for a write
    #: the person may make; None for any (public pages).
    expect: object
    unit_key: str | None = None
    kind: str | None = None
    state: str | None = None
    decision: str | None = None
    via: str | None = None  # official:new: how the committee came (expected_official)
    note: str = ""
    location: str | None = None  # where a redirect must lead, when that matters

    def label(self) -> str:
        extra = f" [{self.note}]" if self.note else ""
        return f"{self.method} {self.url}{extra}"


def url_for(name: str, lang: str = "vi", **kwargs) -> str:
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


def item_call_data(
    world: World, name: str, unit_key: str, kind: str, state: str, decision: str | None = None
):
    """POST data for a route on one item, built when the request is made."""

    def build() -> dict:
        item = world.item(unit_key, kind, state)
        if name == "reports:edit":
            campaign = item.task.campaign if kind == "reports" else item.campaign
            return report_form_data(kind, unit=world.units[unit_key], campaign=campaign, item=item)
        if name == "reports:review":
            return {"decision": decision, "comment": "Cần bổ sung", "version": item.version}
        return {"version": item.version}  # submit

    return build


def calls_for(world: World, role: str, pattern: WalkedPattern, lang: str = "vi") -> Iterator[Call]:
    """Every request the walk makes to one pattern as one role: each unit (and each report kind
    and item state the pattern takes) filled in, each by GET and by POST."""
    route = ROUTES.get(pattern.name)
    if route is None:
        raise AssertionError(f"the walker does not know {pattern.name!r} ({pattern.route})")
    unknown = set(pattern.params) - set(KNOWN_PARAMS)
    if unknown:
        raise AssertionError(f"the walker cannot fill {sorted(unknown)} of {pattern.route}")
    if route.category in OFFICIAL_CATEGORIES:
        yield from official_calls(world, role, pattern, lang)
        return
    if route.category == EXPORT_JOB:
        yield from export_job_calls(world, role, pattern, lang)
        return
    params = pattern.params
    if "pk" in params or "parent_pk" in params:
        unit_keys: tuple = REPORTING_UNIT_KEYS  # the root records no reports
    elif "code" in params:
        unit_keys = UNIT_KEYS
    elif route.unit_in_query:
        unit_keys = (None, *UNIT_KEYS)
    else:
        unit_keys = (None,)
    if "parent_kind" in params:  # only the kinds filed under another, under their own parent
        kinds: tuple = tuple(slug for slug, k in REPORT_KINDS.items() if k.parent)
    else:
        kinds = tuple(REPORT_KINDS) if "kind" in params else (None,)
    states = route.item_states if "pk" in params else (None,)
    values = [
        [(name, value) for value in PARAM_VALUES[name]] for name in params if name in PARAM_VALUES
    ]
    combinations = product(unit_keys, kinds, states, *values)
    for index, (unit_key, kind, state, *plain) in enumerate(combinations):
        kwargs = dict(plain)
        if "code" in params:
            kwargs["code"] = world.units[unit_key].code
        if kind is not None:
            kwargs["kind"] = kind
        if "pk" in params:
            kwargs["pk"] = world.items[unit_key, kind, state].pk
        if "parent_pk" in params:
            parent = REPORT_KINDS[kind].parent
            kwargs["parent_kind"] = parent
            kwargs["parent_pk"] = world.items[unit_key, parent, "draft"].pk
        url = url_for(pattern.name, lang, **kwargs)
        query = dict(route.query)
        if route.unit_in_query and unit_key is not None:
            query["unit"] = world.units[unit_key].code
        if query:
            url += "?" + urlencode(query)
        for method in ("GET", "POST"):
            if method not in route.methods and index > 0:
                # A method the page does not take is refused (405) before any id is looked at:
                # asked once per pattern, with the first filling, not with every unit's ids.
                continue
            expect = expected(role, route, method, unit_key, kind)
            no_file = pattern.name == "reports:file" and not REPORT_KINDS[kind].file_field
            if no_file and expect == {200}:
                expect = {404}  # this kind keeps no file
            location = None
            if route.category == SELF_HOME and expect == {302}:
                home = POLICY[role].home
                location = (
                    url_for("campaigns:dashboard", lang)
                    if home == "dashboard"
                    else url_for("units:detail", lang, code=world.units[home].code)
                )
            decisions = REVIEW_DECISIONS[state] if route.category == ITEM_REVIEW else (None,)
            for decision in decisions if method == "POST" else (None,):
                data = None
                if method == "POST":
                    data = _post_data(world, role, pattern.name, unit_key, kind, state, decision)
                notes = [f"state={state}"] if state and len(route.item_states) > 1 else []
                notes += [f"decision={decision}"] if decision else []
                yield Call(
                    pattern.name,
                    method,
                    url,
                    data,
                    expect,
                    unit_key=unit_key,
                    kind=kind,
                    state=state,
                    decision=decision,
                    note=", ".join(notes),
                    location=location,
                )


def _post_data(world, role, name, unit_key, kind, state, decision):
    """A builder of the POST data for one request (called when the request is made)."""
    category = ROUTES[name].category
    if category in (ITEM_WRITE, ITEM_REVIEW):
        return item_call_data(world, name, unit_key, kind, state, decision)
    if category == UNIT_WRITE:
        unit = world.units[unit_key]
        return lambda: report_form_data(kind, unit=unit, campaign=world.campaign)
    if category == CHILD_WRITE:
        unit = world.units[unit_key]
        return lambda: report_form_data(kind, unit=unit, campaign=world.campaign)
    if category == SELF_PROFILE:
        user = world.users[role]

        def profile() -> dict:
            if user is None:
                return {"last_name": "X", "first_name": "Y", "email": "", "language": "vi"}
            user.refresh_from_db()
            return {
                "last_name": user.last_name,
                "first_name": user.first_name,
                "email": user.email,
                "language": user.language,
                "receives_digests": "on" if user.receives_digests else "",
                "digest_when_all_clear": "on" if user.digest_when_all_clear else "",
            }

        return profile
    return dict  # an empty POST to a page that takes none


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def official_call_data(world: World, name: str, committee: str, state: str):
    """POST data for an official:* route on one report, built when the request is made (the
    version read fresh): the same data the positive controls prove a writer can send. Columns
    no form offers (another committee, a state, a language) ride along and must be ignored."""
    other = next(key for key in COMMITTEE_KEYS if key != committee)
    smuggled = {
        "unit": str(world.units[other].pk),
        "committee": str(world.units[other].pk),
        "state": OfficialReport.State.ISSUED,
        "language": "en",
        "supersedes": str(world.official[other, "issued"].pk),
    }

    def build() -> dict:
        report = world.report(committee, state)
        if name == "official:detail":  # the draft's form, its title rewritten
            return {
                **smuggled,
                "version": str(report.version),
                "as_of": _day(report.as_of),
                "dated": _day(report.dated),
                "number": "",
                "number_suffix": report.number_suffix,
                "superior_body": report.superior_body,
                "issuing_body": report.issuing_body,
                "place": report.place,
                "title": official_posted_token(world.units[committee].code),
                "recipients": report.recipients,
                "signer": str(report.signer_id or ""),
                "on_behalf": report.on_behalf,
                "signer_title": report.signer_title,
            }
        if name in ("official:replace", "official:new"):  # new: ?replaces=<id>
            return {**smuggled, "as_of": _day(OFFICIAL_DAYS["draft"])}
        return {"version": str(report.version)}  # issue, discard

    return build


def new_official_data(world: World, committee: str):
    """The new-report form's data for one unit as the committee."""
    return lambda: {
        "committee": str(world.units[committee].pk),
        "as_of": _day(OFFICIAL_DAYS["draft"]),
        "language": "vi",
    }


def official_calls(world: World, role: str, pattern: WalkedPattern, lang: str) -> Iterator[Call]:
    """The requests to one official:* pattern. A pattern with a `pk` is filled with the id of
    each committee's draft and issued report (and each value of its other parameters); the list
    with each committee as its filter; the new-report page with every unit as the committee
    posted (the form's choice) or asked for (?committee=<code>), and every report as the one
    replaced (?replaces=<id>). A method the page does not take is asked once."""
    name = pattern.name
    route = ROUTES[name]
    values = {**PARAM_VALUES, **route.values}
    plain = [[(p, value) for value in values[p]] for p in pattern.params if p in values]

    def call(method, url, data=None, committee=None, state=None, via=None, note=""):
        expect = expected_official(role, route, method, committee, state, via)
        return Call(
            name,
            method,
            url,
            data if method == "POST" else None,
            expect,
            unit_key=committee,
            state=state,
            via=via,
            note=note,
        )

    if "pk" in pattern.params:
        first = True
        for committee, state in product(COMMITTEE_KEYS, OFFICIAL_STATES):
            pk = world.official[committee, state].pk
            data = official_call_data(world, name, committee, state)
            for extra in product(*plain):
                url = url_for(name, lang, pk=pk, **dict(extra))
                for method in ("GET", "POST"):
                    if method in route.methods or first:
                        yield call(method, url, data, committee, state, note=f"{committee} {state}")
                first = False
        return
    base = url_for(name, lang)
    if name == "official:list":
        yield call("GET", base)
        yield call("POST", base, dict)  # 405
        for committee in COMMITTEE_KEYS:
            query = urlencode({"committee": world.units[committee].code, "state": "draft"})
            yield call("GET", f"{base}?{query}", committee=committee)
        return
    if name != "official:new":  # pragma: no cover - a new page needs its fillings written
        raise AssertionError(f"the walker cannot fill {name}")
    yield call("GET", base)
    for committee in UNIT_KEYS:
        data = new_official_data(world, committee)
        yield call("POST", base, data, committee, via="form", note=f"committee={committee}")
        url = f"{base}?{urlencode({'committee': world.units[committee].code})}"
        for method in ("GET", "POST"):
            yield call(method, url, data, committee, via="query")
    for committee, state in product(COMMITTEE_KEYS, OFFICIAL_STATES):
        url = f"{base}?{urlencode({'replaces': world.official[committee, state].pk})}"
        data = official_call_data(world, name, committee, state)
        for method in ("GET", "POST"):
            yield call(method, url, data, committee, state, "replaces", f"{committee} {state}")


def export_job_calls(world: World, role: str, pattern: WalkedPattern, lang: str) -> Iterator[Call]:
    """The requests to one campaigns:export_job* pattern: filled with the id of each job of the
    world; a method the page does not take is asked once. A download of a job not yet written
    must lead back to the job's page."""
    name = pattern.name
    route = ROUTES[name]
    first = True
    for owner, state in EXPORT_JOBS:
        pk = world.exports[owner, state].pk
        url = url_for(name, lang, pk=pk)
        for method in ("GET", "POST"):
            if method not in route.methods and not first:
                continue
            expect = expected_export_job(role, route, method, name, owner, state)
            location = url_for("campaigns:export_job", lang, pk=pk) if expect == {302} else None
            yield Call(
                name,
                method,
                url,
                dict if method == "POST" else None,
                expect,
                state=state,
                note=f"{owner}'s {state} export",
                location=location,
            )
        first = False


# ---------------------------------------------------------------------------------------------
# What "nothing changed" means
# ---------------------------------------------------------------------------------------------

REPORT_MODELS = (
    StudySession,
    ImplementationPlan,
    BreakthroughTask,
    ProgressReport,
    Initiative,
    Incident,
    PropagandaActivity,
)
#: The apps whose every table is compared column by column: the reports, flags, mail, and the
#: derived rows the report services rebuild on each write (dashboard status and rollups); and
#: the units with their roles. A table added to them later is compared too.
COMPARED_APPS = ("campaigns", "breakthroughs", "units")


def _is_history(model: type[Model]) -> bool:
    return model.__name__.startswith("Historical")


def _compared_models() -> list[type[Model]]:
    return [
        model
        for app in COMPARED_APPS
        for model in apps.get_app_config(app).get_models()
        # Users are counted only: signing in moves last_login, and a person's own settings are
        # theirs to change.
        if not _is_history(model) and model is not User
    ]


def _counted_models() -> list[type[Model]]:
    return [*(m for m in apps.get_models() if _is_history(m)), User]


def snapshot() -> dict:
    """Every column of every row of the compared apps, the row counts of the history tables and
    the users, and the names of the files in the default storage. Plain SQL: it runs after
    every one of some two thousand requests."""
    quote = connection.ops.quote_name
    state: dict = {}
    with connection.cursor() as cursor:
        for model in _compared_models():
            table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")  # noqa: S608 - model names
            state[model._meta.label] = cursor.fetchall()
        counted = _counted_models()
        counts = ", ".join(
            f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})"  # noqa: S608 - model names
            for m in counted
        )
        cursor.execute(f"SELECT {counts}")
        for model, count in zip(counted, cursor.fetchone(), strict=True):
            state[f"count {model._meta.label}"] = count
    state["files"] = sorted(
        os.path.join(folder, name)
        for folder, _dirs, names in os.walk(default_storage.location)
        for name in names
    )
    return state


def differences(before: dict, after: dict) -> list[str]:
    changed = []
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, list) and isinstance(new, list):
            gone = [row for row in old if row not in new]
            came = [row for row in new if row not in old]
            changed.append(f"{key}: -{gone[:2]} +{came[:2]}")
        else:
            changed.append(f"{key}: {old} -> {new}")
    return sorted(changed)


# ---------------------------------------------------------------------------------------------
# Making a request and judging the answer
# ---------------------------------------------------------------------------------------------


def is_login_redirect(response) -> bool:
    if response.status_code != 302:
        return False
    path = urlsplit(response["Location"]).path
    return path in {url_for("login", lang) for lang in LANGUAGES}


def perform(client, call: Call):
    if call.method == "GET":
        return client.get(call.url)
    return client.post(call.url, call.data() if call.data else {})


def body_of(response) -> str:
    """The text a person would read in the answer: a page, a CSV, a downloaded file, or every
    cell of a spreadsheet (an .xlsx is a zip: its text cannot be searched as bytes)."""
    if getattr(response, "streaming", False):
        # Exhausting the content closes the response: the test client does it with the
        # connection-closing signal receiver detached. Closing it again here would fire that
        # receiver, which closes the database connection of the test's transaction.
        content = b"".join(
            part.encode() if isinstance(part, str) else part for part in response.streaming_content
        )
    else:
        content = response.content
    if response.get("Content-Type", "").startswith(XLSX_TYPE) and response.status_code == 200:
        workbook = load_workbook(io.BytesIO(content), read_only=True)
        cells = [
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]
        return "\n".join([response.get("Content-Disposition", ""), *cells])
    text = response.get("Content-Disposition", "") + content.decode("utf-8", "replace")
    # A Word file is a zip and a PDF's text sits in compressed streams: their words are read
    # out too (an official report's document names units).
    kind = response.get("Content-Type", "")
    if response.status_code == 200 and kind.startswith(DOCX_TYPE):
        document = Document(io.BytesIO(content))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        text += "\n".join(["", *(p.text for p in document.paragraphs), *cells])
    elif response.status_code == 200 and kind.startswith("application/pdf"):
        try:
            pages = PdfReader(io.BytesIO(content)).pages
            words = "\n".join(page.extract_text() for page in pages)
            # Lines joined again: a name or a code may wrap (after a hyphen, or at a space).
            text += "\n" + words.replace("-\n", "-").replace("\n", " ")
        except PdfReadError:
            pass  # the walk's stand-in evidence PDFs hold no text; their bytes are read above
    return text


def judge(call: Call, response, body: str, markers: list[str], changes: list[str]) -> list[str]:
    """What is wrong with one answer, as readable lines."""
    problems = []
    status = response.status_code
    expect = call.expect
    got = "login" if is_login_redirect(response) else status
    if expect is not None and got not in expect:
        where = f" -> {response['Location']}" if status in (301, 302) else ""
        problems.append(f"{call.label()}: got {status}{where}, expected {sorted(map(str, expect))}")
    if call.location and got == 302 and response["Location"] != call.location:
        problems.append(
            f"{call.label()}: redirected to {response['Location']}, not {call.location}"
        )
    shown = [marker for marker in markers if marker and marker in body]
    if shown:
        problems.append(f"{call.label()}: {status} body shows hidden data {shown[:3]}")
    if changes:
        problems.append(f"{call.label()}: {status} changed the database: {changes[:3]}")
    return problems


def sign_in(client, world: World, role: str) -> None:
    user = world.users[role]
    if user is not None:
        client.force_login(user)


# ---------------------------------------------------------------------------------------------
# 1. Every URL pattern is known to the walker
# ---------------------------------------------------------------------------------------------


def test_every_url_pattern_is_known_to_the_walker():
    walked = list(walk())
    names = [p.name for p in walked]
    assert len(names) == len(set(names)), f"two patterns share a name: {sorted(names)}"
    unknown = [f"{p.name} ({p.route})" for p in walked if p.name not in ROUTES | PUBLIC]
    assert not unknown, (
        "New URL patterns: add each to ROUTES (how to fill and judge it) or to PUBLIC (why it "
        f"needs no scope): {unknown}"
    )
    stale = sorted((ROUTES.keys() | PUBLIC.keys()) - set(names))
    assert not stale, f"ROUTES/PUBLIC name patterns that no longer exist: {stale}"
    assert set(PARAM_VALUES) <= set(KNOWN_PARAMS)
    for pattern in walked:
        if pattern.name in PUBLIC:
            continue
        route = ROUTES[pattern.name]
        known = {**KNOWN_PARAMS, **route.converters}
        for param, converter in pattern.params.items():
            assert known.get(param) == converter, (
                f"{pattern.route}: the walker cannot fill <{converter}:{param}>"
            )
        assert set(route.values) <= set(pattern.params), pattern.name
    # The official pages (their `pk` an official report's) are filled by official_calls.
    official = {p.name for p in walked if p.name.startswith("official:")}
    assert official == {n for n, r in ROUTES.items() if r.category in OFFICIAL_CATEGORIES}
    # The background exports' pages (their `pk` an export job's) are filled by export_job_calls.
    exports = {p.name for p in walked if p.route.startswith("<lang>/dashboard/exports/")}
    assert exports == {n for n, r in ROUTES.items() if r.category == EXPORT_JOB}
    # Each kind of report must be one the walker can build items and forms for.
    assert set(REPORT_KINDS) == {
        "sessions",
        "plans",
        "tasks",
        "reports",
        "initiatives",
        "incidents",
        "propaganda",
    }
    assert {kind.model for kind in REPORT_KINDS.values()} == set(REPORT_MODELS)
    # The walk reaches into the language prefix and the includes.
    assert "reports:review" in names and "units:detail" in names
    assert any(p.route.startswith("<lang>/units/<slug:code>/") for p in walked)
    assert not any(p.route.startswith("admin/") for p in walked)


# ---------------------------------------------------------------------------------------------
# 2-3. Every pattern, as every role, with every unit's ids
# ---------------------------------------------------------------------------------------------


# Every role under /vi/; the language prefix takes no part in scope, so /en/ is walked for one
# outsider only, to keep the run short.
WALKS = [*((role, "vi") for role in ROLES), ("sibling_secretary", "en")]


@pytest.mark.parametrize(("role", "lang"), WALKS)
def test_every_url_as_role_keeps_to_the_roles_scope(client, world, role, lang):
    sign_in(client, world, role)
    markers = hidden_markers(world, role)
    problems: list[str] = []
    walked = 0
    before = snapshot()
    for pattern in walk():
        if pattern.name in PUBLIC:
            continue
        for call in calls_for(world, role, pattern, lang):
            if call.expect == ALLOWED:
                continue  # a write this role may make: see the positive controls
            response = perform(client, call)
            body = body_of(response)
            after = snapshot()
            problems += judge(call, response, body, markers, differences(before, after))
            before = after
            walked += 1
    assert walked > 100  # the walk did walk
    assert not problems, f"{len(problems)} problem(s) as {role}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_public_pages_show_nothing_of_any_unit(client, world, role):
    """The public patterns take no unit ids; whoever asks, they show no unit's data and write
    no report."""
    markers = hidden_markers(world, role)
    calls = {
        "healthz": [("GET", url_for("healthz"), None)],
        "login": [("GET", url_for("login"), None), ("POST", url_for("login"), {})],
        "logout": [("POST", url_for("logout"), {})],
        "switch_language": [
            ("POST", url_for("switch_language"), {"language": "vi", "next": "/vi/"})
        ],
        "unsubscribe": [
            ("GET", url_for("unsubscribe", token="khong-hop-le"), None),
            ("POST", url_for("unsubscribe", token="khong-hop-le"), {}),
        ],
        "password_set": [
            ("GET", url_for("password_set", uidb64="MQ", token="khong-hop-le"), None),
            (
                "POST",
                url_for("password_set", uidb64="MQ", token="khong-hop-le"),
                {"new_password1": "x", "new_password2": "x"},
            ),
        ],
    }
    assert calls.keys() == PUBLIC.keys()
    problems = []
    before = snapshot()
    for name, requests in calls.items():
        for method, url, data in requests:
            sign_in(client, world, role)  # logout ends the session: start each one signed in
            response = client.get(url) if method == "GET" else client.post(url, data)
            body = body_of(response)
            after = snapshot()
            call = Call(name, method, url, None, None)  # public: any answer but a 5xx
            if response.status_code >= 500:
                problems.append(f"{call.label()}: {response.status_code}")
            problems += judge(call, response, body, markers, differences(before, after))
            before = after
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# 4. Positive controls: the same URLs and forms work for those allowed
# ---------------------------------------------------------------------------------------------


def _allowed_calls(world: World, role: str, namespace: str | None = "reports") -> list[Call]:
    """The writes the walk left out for this role, of one namespace's pages (None: all)."""
    return [
        call
        for pattern in walk()
        if pattern.name not in PUBLIC
        and (namespace is None or pattern.name.startswith(f"{namespace}:"))
        for call in calls_for(world, role, pattern)
        if call.expect == ALLOWED
    ]


@pytest.mark.parametrize("role", OWNERS)
def test_the_units_secretary_can_read_record_edit_and_submit_their_own(client, world, role):
    sign_in(client, world, role)
    own = next(iter(POLICY[role].writes))
    unit = world.units[own]

    # Reading: every kind's page shows the item; the evidence downloads.
    for kind in REPORT_KINDS:
        item = world.item(own, kind, "draft")
        page = client.get(url_for("reports:detail", code=unit.code, kind=kind, pk=item.pk))
        assert page.status_code == 200
        assert token(unit.code, kind, "draft") in page.text
        assert (
            client.get(url_for("reports:edit", code=unit.code, kind=kind, pk=item.pk)).status_code
            == 200
        )
        if REPORT_KINDS[kind].file_field:
            download = client.get(url_for("reports:file", code=unit.code, kind=kind, pk=item.pk))
            assert download.status_code == 200
            assert b"".join(download.streaming_content) == PDF  # exhausting it closes it

    # Writing: exactly the calls the walk left out for this role, each of which must change the
    # database (a create adds a row, an edit moves the version on, a submit sends it).
    allowed = _allowed_calls(world, role)
    by_name = {}
    for call in allowed:
        assert call.unit_key == own, f"{role} is allowed a write outside their unit: {call.label()}"
        by_name.setdefault(call.name, []).append(call)
    assert set(by_name) == {
        "reports:new",
        "reports:new_child",
        "reports:edit",
        "reports:submit",
    }
    order = ["reports:new", "reports:new_child", "reports:edit", "reports:submit"]
    for name in order:
        for call in by_name[name]:
            before = snapshot()
            response = perform(client, call)
            changes = differences(before, snapshot())
            if call.method == "GET":
                assert response.status_code == 200, call.label()
                assert not changes, f"{call.label()} changed {changes}"
                continue
            assert response.status_code == 302, f"{call.label()}: {response.status_code}"
            assert changes, f"{call.label()} was allowed but changed nothing"

    for kind in REPORT_KINDS:
        edited = world.item(own, kind, "draft")
        assert edited.status == ReviewStatus.SUBMITTED, kind
        assert edited.version == 3, kind  # made at 1, edited to 2, submitted at 3
        model = REPORT_KINDS[kind].model
        posted = posted_token(unit.code, kind)
        # Each form's text landed in this unit's rows and nowhere else: the edited item and
        # the new one, whatever unit, campaign or task the POST tried to slip in.
        rows = [r for r in model.objects.all() if posted in " ".join(map(str, vars(r).values()))]
        assert sorted(r.pk for r in rows if r.unit_id == unit.pk) == sorted(r.pk for r in rows)
        assert len(rows) == 2, (kind, len(rows))
        (new,) = [r for r in rows if r.pk != edited.pk]
        assert new.status == ReviewStatus.DRAFT and new.reviewed_by is None, kind
        assert new.created_by == world.users[role], kind
        if kind == "reports":
            assert new.task == world.task(own)
        else:
            assert new.campaign == world.campaign, kind
        assert not model.objects.filter(review_comment=SMUGGLED_COMMENT).exists(), kind
    new_plan = ImplementationPlan.objects.get(unit=unit, campaign=world.campaign)
    assert new_plan.document_name == f"{posted_token(unit.code, 'plans')}.pdf"


def test_district_staff_can_review_every_kind_and_the_walk_left_exactly_that_out(client, world):
    staff = world.users["staff"]
    sign_in(client, world, "staff")
    allowed = _allowed_calls(world, "staff")
    assert {call.name for call in allowed} == {"reports:review"}
    # Every unit and kind: a submitted item accepted or returned, an accepted one reopened.
    assert len(allowed) == len(REPORTING_UNIT_KEYS) * len(REPORT_KINDS) * 3
    accept = [
        c
        for c in allowed
        if (c.unit_key, c.state, c.decision) == ("sibling_cell", "submitted", "accept")
    ]
    send_back = [
        c
        for c in allowed
        if (c.unit_key, c.state, c.decision) == ("sibling_ward", "submitted", "return")
    ]
    reopen = [
        c for c in allowed if (c.unit_key, c.state, c.decision) == ("cell", "accepted", "return")
    ]
    assert len(accept) == len(send_back) == len(reopen) == len(REPORT_KINDS)
    for call in accept + send_back + reopen:
        before = snapshot()
        response = perform(client, call)
        assert response.status_code == 302, call.label()
        assert differences(before, snapshot()), f"{call.label()} changed nothing"
    for kind in REPORT_KINDS:
        accepted = world.item("sibling_cell", kind, "submitted")
        assert accepted.status == ReviewStatus.ACCEPTED and accepted.reviewed_by == staff
        returned = world.item("sibling_ward", kind, "submitted")
        assert returned.status == ReviewStatus.RETURNED and returned.review_comment
        reopened = world.item("cell", kind, "accepted")
        assert reopened.status == ReviewStatus.RETURNED and reopened.reviewed_by == staff
    # Each unit's secretary is told about each item sent back to it.
    for secretary in ("sibling_secretary", "cell_secretary"):
        assert OutgoingMail.objects.filter(
            kind=OutgoingMail.Kind.RETURNED, recipient=world.users[secretary]
        ).count() == len(REPORT_KINDS)


def test_people_in_scope_read_what_they_may(client, world):
    """The walk expects 200 for these; here the page must also show the item itself."""
    cases = [
        ("ward_secretary", "cell"),
        ("sibling_secretary", "sibling_cell"),
        ("standing", "sibling_cell"),
        ("staff", "cell"),
    ]
    for role, unit_key in cases:
        sign_in(client, world, role)
        unit = world.units[unit_key]
        for kind in REPORT_KINDS:
            item = world.item(unit_key, kind, "submitted")
            page = client.get(url_for("reports:detail", code=unit.code, kind=kind, pk=item.pk))
            assert page.status_code == 200, (role, kind)
            assert token(unit.code, kind, "submitted") in page.text, (role, kind)
        client.logout()


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("ward_secretary", "cell", "sibling_cell"),
        ("sibling_secretary", "sibling_cell", "cell"),
        ("staff", "sibling_cell", None),
        ("standing", "cell", None),
    ],
)
def test_the_dashboard_pages_list_the_units_in_scope(client, world, role, shown, hidden):
    """The body checks of the walk are not vacuous: the unit table and its exports do name
    units, those in the person's scope."""
    sign_in(client, world, role)
    name = world.units[shown].name_vi
    pages = [
        url_for("campaigns:units_table"),
        url_for("campaigns:units_table") + "?" + urlencode({"unit": world.units[shown].code}),
        url_for("campaigns:export_units", extension="csv"),
        url_for("campaigns:export_units", extension="xlsx"),
    ]
    if hidden:
        # Searching for an outside unit by its name (typed without diacritics, so that the
        # search box's echo of it does not count) finds nothing.
        query = urlencode({"q": fold(world.units[hidden].name_vi)})
        empty = client.get(url_for("campaigns:units_table") + "?" + query)
        assert world.units[hidden].name_vi not in body_of(empty)
        query = urlencode({"q": fold(name)})
        found = client.get(url_for("campaigns:units_table") + "?" + query)
        assert name in body_of(found)  # the same search finds a unit in scope
    if POLICY[role].reviews:
        pages += [
            url_for("campaigns:review_queue"),
            url_for("campaigns:export_review_queue", extension="csv"),
        ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert name in body_of(response), url


# ---------------------------------------------------------------------------------------------
# 4a. Official reports: the writes the walk left out work, and readers get the whole report
# ---------------------------------------------------------------------------------------------

#: (name, how official:new got its committee, the state of the report in the URL): the writes
#: a committee's drafter makes, one of each per committee.
OFFICIAL_WRITES = {
    ("official:new", "form", None),
    ("official:new", "query", None),
    ("official:new", "replaces", "issued"),
    ("official:detail", None, "draft"),
    ("official:issue", None, "draft"),
    ("official:replace", None, "issued"),
    ("official:discard", None, "draft"),
}


def _official_rows(exclude_unit: Unit) -> list[dict]:
    return list(OfficialReport.objects.exclude(unit=exclude_unit).order_by("pk").values())


@pytest.mark.parametrize(
    ("role", "committees"),
    [
        ("staff", {"root", "ward", "sibling_ward"}),
        ("ward_secretary", {"ward"}),
        ("sibling_secretary", {"sibling_ward"}),
    ],
)
def test_official_report_writes_the_walk_left_out_work(client, world, role, committees):
    """Each write the walk left out for this role, with the walk's URL and data, does what it
    says to that committee's report and touches no other committee's. Each is undone (a
    savepoint) before the next, so each meets the reports as the walk did: staff discard a
    draft with its version, a ward's secretary issues the ward's draft, and so on."""
    sign_in(client, world, role)
    user = world.users[role]
    every = _allowed_calls(world, role, None)
    assert {call.name.split(":")[0] for call in every} <= {"reports", "official"}
    allowed = _allowed_calls(world, role, "official")
    assert {call.unit_key for call in allowed} == committees
    for committee in committees:
        made = {(c.name, c.via, c.state) for c in allowed if c.unit_key == committee}
        assert made == OFFICIAL_WRITES, committee
    assert len(allowed) == len(OFFICIAL_WRITES) * len(committees)
    start = snapshot()
    for call in allowed:
        unit = world.units[call.unit_key]
        with transaction.atomic():
            before, others = snapshot(), _official_rows(unit)
            existing = set(OfficialReport.objects.values_list("pk", flat=True))
            response = perform(client, call)
            assert response.status_code == 302, f"{call.label()}: {response.status_code}"
            assert differences(before, snapshot()), f"{call.label()} changed nothing"
            assert _official_rows(unit) == others, f"{call.label()} changed another committee's"
            new = list(OfficialReport.objects.exclude(pk__in=existing))
            if call.name in ("official:new", "official:replace"):
                (draft,) = new
                assert (draft.unit, draft.state, draft.language) == (unit, "draft", "vi")
                assert draft.created_by == user
                replaced = world.official[call.unit_key, "issued"] if call.state else None
                assert draft.supersedes == replaced, call.label()
                assert response["Location"] == url_for("official:detail", pk=draft.pk)
            elif call.name == "official:discard":
                assert not new
                discarded = world.official[call.unit_key, "draft"].pk
                assert not OfficialReport.objects.filter(pk=discarded).exists()
            else:
                assert not new
                report = world.report(call.unit_key, call.state)
                assert report.unit == unit
                if call.name == "official:detail":
                    assert report.title == official_posted_token(unit.code)
                    assert (report.state, report.version) == ("draft", 2)
                else:  # issue
                    assert (report.state, report.issued_by) == ("issued", user)
                    assert report.docx and report.pdf
            transaction.set_rollback(True)
    assert not differences(start, snapshot())


@pytest.mark.parametrize(
    ("role", "committee", "state"),
    [
        ("ward_secretary", "ward", "draft"),
        ("ward_secretary", "ward", "issued"),
        ("sibling_secretary", "sibling_ward", "issued"),
        ("standing", "root", "draft"),
        ("staff", "root", "issued"),
    ],
)
def test_official_reports_are_read_whole_by_those_who_may(client, world, role, committee, state):
    """The walk expects 200 for these; here the page, the preview and both files must show the
    report itself (its title's token), so the walk's markers check reads their text. The
    district's report names the wards: what keeps it from a ward's secretary is the 404."""
    sign_in(client, world, role)
    report = world.official[committee, state]
    mark = official_token(world.units[committee].code, state)
    urls = [
        url_for("official:detail", pk=report.pk),
        url_for("official:preview", pk=report.pk),
        url_for("official:file", pk=report.pk, extension="docx"),
        url_for("official:file", pk=report.pk, extension="pdf"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = body_of(response)
        assert mark in body, url
        if committee == "root" and url.endswith(("docx", "pdf")):
            for ward in ("ward", "sibling_ward"):
                assert world.units[ward].name_vi in body, (url, ward)


def test_a_committees_draft_is_not_for_the_secretary_above_it(client, world):
    """A grassroots committee under the ward: the ward's secretary sees it (it is in the ward's
    subtree) and reads its issued report, but may not write to it, and its draft is theirs to
    know nothing of (404, as for an id that does not exist); the district's roles read it."""
    committee = UnitFactory(
        parent=world.units["ward"],
        code="p-kim-lien-dux",
        name_vi="Đảng bộ Trường học Kim Liên",
        name_en="Kim Lien School Party Committee",
        kind=UnitKind.GRASSROOTS_COMMITTEE,
        member_count=20,
    )
    staff = world.users["staff"]
    reports = {}
    for state in ("issued", "draft"):
        reports[state] = official_services.start_draft(
            user=staff,
            campaign=world.campaign,
            committee=committee,
            as_of=OFFICIAL_DAYS[state],
            language="vi",
        )
        title = official_token(committee.code, state)
        OfficialReport.objects.filter(pk=reports[state].pk).update(title=title)
    official_services.issue(report_id=reports["issued"].pk, user=staff, expected_version=1)
    hidden_draft = official_token(committee.code, "draft")
    sign_in(client, world, "ward_secretary")
    problems = []
    before = snapshot()

    def check(method, url, expect, data=None):
        nonlocal before
        response = client.get(url) if method == "GET" else client.post(url, data or {})
        body = body_of(response)
        after = snapshot()
        call = Call("official", method, url, None, expect)
        problems.extend(judge(call, response, body, [hidden_draft], differences(before, after)))
        before = after
        return body

    listed = check("GET", url_for("official:list"), {200})
    assert f'href="{url_for("official:detail", pk=reports["issued"].pk)}"' in listed
    assert f'href="{url_for("official:detail", pk=reports["draft"].pk)}"' not in listed

    for state, report in reports.items():
        hidden = state == "draft"
        version = {"version": str(report.version)}
        check("GET", url_for("official:detail", pk=report.pk), {404} if hidden else {200})
        check("POST", url_for("official:detail", pk=report.pk), {404} if hidden else {403})
        check("GET", url_for("official:preview", pk=report.pk), {404} if hidden else {200})
        for extension in ("docx", "pdf") if hidden else ("pdf",):
            url = url_for("official:file", pk=report.pk, extension=extension)
            check("GET", url, {404} if hidden else {200})
        for name in ("official:issue", "official:replace", "official:discard"):
            check("POST", url_for(name, pk=report.pk), {404} if hidden else {403}, version)
        replaces = url_for("official:new") + f"?replaces={report.pk}"
        check("GET", replaces, {404} if hidden else {403})
        # The ward's secretary drafts for the ward only: the form does not offer this one.
        form = {"committee": str(committee.pk), "as_of": _day(OFFICIAL_DAYS["draft"])}
        check("POST", url_for("official:new"), {400}, {**form, "language": "vi"})
        check("GET", url_for("official:new") + "?committee=p-kim-lien-dux", {404})
    assert not problems, "\n".join(problems)
    sign_in(client, world, "standing")
    assert client.get(url_for("official:detail", pk=reports["draft"].pk)).status_code == 200


# ---------------------------------------------------------------------------------------------
# 4b. Background exports: the owner gets the whole job, its file read as the walk reads it
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "shown", "hidden"),
    [
        ("ward_secretary", "cell", "sibling_cell"),
        ("staff", "sibling_cell", None),
    ],
)
def test_an_export_is_read_whole_by_its_owner(client, world, owner, shown, hidden):
    """The walk expects 200 for these; here the page must name the job (its file name), the
    JSON say it is done and where its file is, and the file hold the rows, which name the units
    of the owner's scope: so the walk's markers check reads the file's cells. A HEAD is the
    owner's alone too."""
    sign_in(client, world, owner)
    job = world.exports[owner, "done"]
    mark = export_token(owner, "done")
    page = client.get(url_for("campaigns:export_job", pk=job.pk))
    assert page.status_code == 200
    assert mark in body_of(page)
    progress = client.get(url_for("campaigns:export_job_progress", pk=job.pk))
    assert progress.status_code == 200
    assert progress.json()["state"] == ExportJob.State.DONE
    download_url = url_for("campaigns:export_job_download", pk=job.pk)
    assert progress.json()["download_url"] == download_url
    download = client.get(download_url)
    assert download.status_code == 200
    assert download["Content-Type"].startswith(XLSX_TYPE)
    body = body_of(download)
    assert mark in body  # the file's name, in the Content-Disposition
    assert world.units[shown].name_vi in body
    if hidden:
        assert world.units[hidden].name_vi not in body

    def head(url: str) -> int:
        response = client.head(url)
        # A HEAD's answer has no body; a file's is drained all the same, which closes it.
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert not content, url
        return response.status_code

    assert head(download_url) == head(url_for("campaigns:export_job_progress", pk=job.pk)) == 200
    sign_in(client, world, "standing" if owner == "staff" else "staff")
    assert head(download_url) == 404


# ---------------------------------------------------------------------------------------------


def _mixed_cases():
    # (role, the unit whose code is in the URL, the unit the item or task really belongs to)
    return [
        ("cell_secretary", "cell", "sibling_cell"),
        ("cell_secretary", "cell", "ward"),  # the committee above
        ("ward_secretary", "ward", "cell"),  # the cell below: visible, but not the ward's item
        ("ward_secretary", "ward", "sibling_ward"),
        ("ward_secretary", "cell", "sibling_cell"),  # a visible unit's code, an outsider's item
        ("sibling_secretary", "sibling_ward", "ward"),
        ("sibling_secretary", "sibling_ward", "sibling_cell"),
        ("staff", "sibling_ward", "sibling_cell"),
        ("staff", "ward", "sibling_ward"),
        ("standing", "cell", "sibling_cell"),
    ]


@pytest.mark.parametrize(("role", "url_unit", "item_unit"), _mixed_cases())
def test_a_url_mixing_units_is_404(client, world, role, url_unit, item_unit):
    """The unit in the URL is one the person may use; the item or task id is another unit's.
    Where the person passes the unit's gate (may see it, may write or review there) the answer
    must be 404, the same as for an id that does not exist; where they do not, the gate's own
    403 comes first."""
    sign_in(client, world, role)
    policy = POLICY[role]
    code = world.units[url_unit].code
    owner_code = world.units[item_unit].code
    markers = [token(owner_code, kind, s) for kind in REPORT_KINDS for s in STATES]
    problems = []
    passed_gate = 0
    before = snapshot()

    def check(name, method, url, data, expect):
        nonlocal before
        response = client.get(url) if method == "GET" else client.post(url, data)
        body = body_of(response)
        after = snapshot()
        call = Call(name, method, url, None, expect)
        problems.extend(judge(call, response, body, markers, differences(before, after)))
        before = after

    for name in (
        "reports:detail",
        "reports:file",
        "reports:edit",
        "reports:submit",
        "reports:review",
    ):
        route = ROUTES[name]
        for kind in REPORT_KINDS:
            state = route.item_states[0]
            item = world.item(item_unit, kind, state)
            url = url_for(name, code=code, kind=kind, pk=item.pk)
            for method in route.methods:
                gate = {
                    ITEM_READ: True,
                    ITEM_WRITE: url_unit in policy.writes,
                    ITEM_REVIEW: policy.reviews,
                }[route.category]
                expect = {404} if gate else {403}
                passed_gate += gate
                data = None
                if method == "POST":
                    data = item_call_data(world, name, item_unit, kind, state, "accept")()
                check(name, method, url, data, expect)
    # A progress report on another unit's task, under the person's own unit.
    task_url = url_for(
        "reports:new_child",
        code=code,
        parent_kind="tasks",
        parent_pk=world.task(item_unit).pk,
        kind="reports",
    )
    gate = url_unit in policy.writes
    form = report_form_data("reports", unit=world.units[url_unit], campaign=world.campaign)
    check("reports:new_child", "GET", task_url, None, {404} if gate else {403})
    check("reports:new_child", "POST", task_url, form, {404} if gate else {403})
    assert passed_gate >= len(REPORT_KINDS)  # the item lookup itself was reached
    assert not problems, "\n".join(problems)


def test_another_units_one_time_form_key_is_not_theirs_to_reuse(client, world):
    """A form's one-time key makes a re-sent form return the item it first made, but only
    within the unit: another unit's key (copied from a page, or guessed) records a new item for
    the sender's own unit and neither returns nor touches the other unit's item."""
    sign_in(client, world, "sibling_secretary")
    own = world.units["sibling_ward"]
    for kind in REPORT_KINDS:
        theirs = world.item("cell", kind, "draft")
        key = uuid.uuid4()
        type(theirs).objects.filter(pk=theirs.pk).update(submission_key=key)
        before = type(theirs).objects.filter(pk=theirs.pk).values().get()
        if kind == "reports":
            url = url_for(
                "reports:new_child",
                code=own.code,
                parent_kind="tasks",
                parent_pk=world.task("sibling_ward").pk,
                kind="reports",
            )
        else:
            url = url_for("reports:new", code=own.code, kind=kind)
        data = report_form_data(kind, unit=own, campaign=world.campaign)
        data["submission_key"] = str(key)
        response = client.post(url, data)
        assert response.status_code == 302, kind
        made = type(theirs).objects.filter(unit=own).order_by("-pk").first()
        assert made.pk != theirs.pk and posted_token(own.code, kind) in str(vars(made)), kind
        assert response["Location"] == url_for(
            "reports:detail", code=own.code, kind=kind, pk=made.pk
        ), kind
        assert type(theirs).objects.filter(pk=theirs.pk).values().get() == before, kind
        page = client.get(response["Location"])
        assert token(world.units["cell"].code, kind, "draft") not in page.text, kind


# ---------------------------------------------------------------------------------------------
# 5. Links: a page links only to units the person may open
# ---------------------------------------------------------------------------------------------

LINK = re.compile(r'(?:href|action)="([^"]*)"')
UNIT_PATH = re.compile(r"^/(?:vi|en)/units/([^/]+)/")


def linked_unit_codes(body: str) -> set[str]:
    """The unit codes a page links to: /<lang>/units/<code>/… paths and ?unit=<code> queries."""
    codes = set()
    for raw in LINK.findall(body):
        parts = urlsplit(html.unescape(raw))
        if match := UNIT_PATH.match(parts.path):
            codes.add(match.group(1))
        codes.update(parse_qs(parts.query).get("unit", []))
    return codes


@pytest.mark.parametrize(
    "role",
    ["cell_secretary", "ward_secretary", "sibling_secretary"],
)
def test_pages_link_only_to_units_in_scope(client, world, role):
    """Every page the walk lets this person open (200) links only to units in their scope; a
    link to any other unit could only 404, and naming it there says more than the breadcrumb's
    plain (unlinked) ancestor names do."""
    sign_in(client, world, role)
    visible = {world.units[key].code for key in POLICY[role].sees}
    district_codes = {unit.code for unit in world.units.values()}
    problems = []
    pages = 0
    for pattern in walk():
        if pattern.name in PUBLIC:
            continue
        for call in calls_for(world, role, pattern):
            if call.method != "GET" or call.expect != {200}:
                continue
            response = perform(client, call)
            if "text/html" not in response.get("Content-Type", ""):
                body_of(response)
                continue
            pages += 1
            outside = (linked_unit_codes(body_of(response)) & district_codes) - visible
            if outside:
                problems.append(
                    f"{call.label()} links to units outside the scope: {sorted(outside)}"
                )
    assert pages >= 10  # the pages this person can open were looked at
    assert not problems, "\n".join(problems)
