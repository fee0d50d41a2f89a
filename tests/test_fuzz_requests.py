"""No request gets a 5xx (issue 13, "Hardening"): every URL pattern, fed what browsers, scanners
and scripts send.

The patterns are read from the resolver (the scope walk's `walk`; the admin is left out, as there);
a pattern missing from PAGES below fails the first test, so a new page is fuzzed from the day it
exists. Each person of conftest.py's cast, and an anonymous visitor, requests every pattern, its
path filled with the ids of a unit and a committee that person may use (AIMS: so that the
requests get past the views' gates), with:

- methods the page does not take (PUT, PATCH, DELETE, OPTIONS, TRACE, one that does not exist);
- its path parameters set to values their converters take but that name nothing;
- NUL, invalid UTF-8, the UTF-8 of a lone surrogate and an overlong NUL in every query parameter
  the view reads (PAGES) and one it does not; a session cookie and a header holding NUL; a GET
  declaring UTF-7;
- for a page that takes a form, bodies no form sends (BODIES): multipart without a boundary,
  with garbage, with NUL, in UTF-7 (which decodes to lone surrogates) or in a codec that is no
  text encoding; a form in UTF-16, UTF-7, base64 or an unknown charset; JSON, text/plain, XML;
- values that reach the views (ODD: control characters, 100,000 characters, 5,000 digits, …)
  in all the page's query parameters at once.

Where every person sends the same value to the same page, each sends a third of them (`share`),
and the thirds cover the values together. One person the page serves sweeps it: each query
parameter on its own with each value fit for it (QUERY_SWEEPER; the views' reads of request.GET
are recorded, and a parameter read but missing from PAGES fails the test), and each form
posting to it (FORM_SWEEPER), its fields read from the page that shows it as a browser would:
every value in all the fields at once, then each field on its own among valid others, and junk
files in its file fields. The valid others are spoiled so that nothing can be saved: an edit
carries a stale version, a new item a one-time key its unit already used (or, when that key is
the field fuzzed, dates a year before the campaign's), an official report a day to come.

Every answer must be a 4xx or a normal page (2xx, 3xx), never a 5xx; a streamed answer (a CSV
export, a file) must stream to its end; CSRF is checked as in production. The database must not
change: a request that runs a statement writing to a table of the campaigns, breakthroughs or
units apps is followed by the scope walk's snapshot (every column of those apps' tables, the
counts of the history tables and the users, the stored files), compared with the one taken before
the person's first request, and so is the end of the run.

The values are a fixed sample and the run the same every time: 35 to 45 s on two busy cores,
on SQLite or PostgreSQL (NUL breaks only there). The malformed bytes are refused at the door
(dongda.middleware_requests) for a millisecond each; tests/dongda/test_middleware_requests.py
looks at each refusal once, and at the requests Django cannot even build.
"""

import re
import sys
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import product
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import got_request_exception
from django.db import connection, transaction
from django.http import QueryDict
from django.test import Client
from django.test.client import encode_multipart
from django.urls import resolve

from campaigns.registry import report_kinds
from units.models import Unit

from . import test_scope_url_walk as scope_walk
from .test_scope_url_walk import (
    differences,
    official_call_data,
    report_form_data,
    snapshot,
    url_for,
    walk,
)

pytestmark = pytest.mark.django_db

# The scope walk's small district on 20/05/2024: a draft, a submitted and an accepted item of
# each kind in each unit below the district, and a draft and an issued official report of each
# committee.
world = scope_walk.world
in_2024 = scope_walk.in_2024

REPORT_KINDS = report_kinds()
ROLES = (
    "anonymous",
    "staff",
    "staff_en",
    "standing",
    "ward_secretary",
    "cell_secretary",
    "sibling_secretary",
)


@dataclass(frozen=True)
class Aim:
    """Where one person's requests point: the language of the URLs, the unit whose items fill
    /units/<code>/… and the committee whose official reports fill /official-reports/<id>/…,
    each one the person may use where there is one."""

    lang: str
    unit: str
    committee: str


AIMS = {
    "anonymous": Aim("vi", "ward", "ward"),
    "staff": Aim("vi", "sibling_cell", "root"),
    "staff_en": Aim("en", "cell", "ward"),
    "standing": Aim("vi", "ward", "sibling_ward"),
    "ward_secretary": Aim("vi", "ward", "ward"),
    "cell_secretary": Aim("vi", "cell", "ward"),
    "sibling_secretary": Aim("vi", "sibling_ward", "sibling_ward"),
}

# ---------------------------------------------------------------------------------------------
# What each page reads
# ---------------------------------------------------------------------------------------------

UNIT_TABLE = ("unit", "as_of", "q", "kind", "study", "plan", "task", "flag", "sort", "page")
REVIEW_QUEUE = ("unit", "committee", "kind", "state", "age", "q", "page")


@dataclass(frozen=True)
class Page:
    #: The query parameters the view reads.
    query: tuple[str, ...] = ()
    #: Where the form posting to this page is shown: "self" (its own GET), the name of another
    #: pattern filled the same way, or None (a page no form of the app posts to).
    form_on: str | None = None
    #: How the path is filled: which official report ("draft" or "issued") or which item state.
    state: str = "draft"
    #: Values for the path parameters that are not ids (a re_path's choices): the page is
    #: requested with each, and fuzzed with the first.
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: How many of the values that reach the view each field gets on its own.
    odd_per_field: int = 2


PAGES: dict[str, Page] = {
    "healthz": Page(),
    "login": Page(query=("next",), form_on="self"),
    "logout": Page(query=("next",), form_on="profile"),
    "profile": Page(form_on="self"),
    "password_set": Page(form_on="self"),
    "unsubscribe": Page(form_on="self"),
    "switch_language": Page(form_on="profile"),
    "home": Page(),
    "campaigns:dashboard": Page(query=("unit", "as_of")),
    "campaigns:units_table": Page(query=UNIT_TABLE),
    "campaigns:export_units": Page(query=UNIT_TABLE, values={"extension": ("csv", "xlsx")}),
    "campaigns:review_queue": Page(query=REVIEW_QUEUE),
    "campaigns:export_review_queue": Page(
        query=REVIEW_QUEUE, values={"extension": ("csv", "xlsx")}
    ),
    # A background export's pages, filled with a finished job of the person's or someone else's.
    "campaigns:export_job": Page(state="done"),
    "campaigns:export_job_progress": Page(state="done"),
    "campaigns:export_job_download": Page(state="done"),
    "campaigns:digest_preview": Page(query=("week", "unit")),
    "campaigns:digest_preview_html": Page(query=("week", "unit")),
    "unit_import:page": Page(),
    "unit_import:template": Page(),
    "unit_import:preview": Page(form_on="unit_import:page"),
    "unit_import:confirm": Page(),
    "units:detail": Page(query=("children",)),
    "reports:new": Page(form_on="self"),
    "reports:new_child": Page(form_on="self"),
    "reports:detail": Page(query=("next",)),
    "reports:file": Page(),
    "reports:edit": Page(form_on="self"),
    "reports:submit": Page(form_on="reports:detail"),
    "reports:review": Page(form_on="reports:detail", state="submitted"),
    "official:list": Page(query=("committee", "state", "page")),
    "official:new": Page(query=("replaces", "committee", "as_of"), form_on="self"),
    # Every request draws the draft's document (a tenth of a second): one value a field.
    "official:detail": Page(form_on="self", odd_per_field=1),
    "official:preview": Page(state="issued"),
    # The issued report's stored files: a draft's would be drawn afresh for every request.
    "official:file": Page(state="issued", values={"extension": ("docx", "pdf")}),
    "official:issue": Page(form_on="self"),
    "official:replace": Page(form_on="official:detail", state="issued"),
    "official:discard": Page(form_on="official:detail"),
}

#: The kinds whose pages are filled: every kind for the forms (each has its own), one for the
#: pages that read the same whatever the kind.
FORM_PATTERNS = ("reports:new", "reports:new_child", "reports:edit")

#: Who sends each query parameter of a page on its own (everyone else sends each value in all of
#: them at once): someone the page serves, so that the values reach the view.
QUERY_SWEEPER = {"login": "anonymous", "logout": "anonymous"}  # the others: "staff"

OWNERS = ("ward_secretary", "cell_secretary", "sibling_secretary")
#: Who fuzzes the fields of each form, by (pattern, kind): someone the form is shown to. The
#: units' secretaries share the report kinds, each recording and editing in their own unit.
FORM_SWEEPER = {
    ("login", None): "anonymous",
    ("logout", None): "cell_secretary",
    ("profile", None): "standing",
    ("switch_language", None): "ward_secretary",
    ("unit_import:preview", None): "staff",
    **{
        (name, kind): OWNERS[index % len(OWNERS)]
        for index, kind in enumerate(REPORT_KINDS)
        for name in ("reports:new", "reports:edit")
        if not REPORT_KINDS[kind].parent or name == "reports:edit"
    },
    ("reports:new_child", "reports"): "sibling_secretary",
    ("reports:submit", "sessions"): "cell_secretary",
    ("reports:review", "sessions"): "staff_en",
    ("official:new", None): "sibling_secretary",
    ("official:detail", None): "ward_secretary",
    ("official:issue", None): "staff_en",
    ("official:replace", None): "staff",
    ("official:discard", None): "sibling_secretary",
}
#: Forms no page shows to the walk, with the reason (their generic bodies are still sent).
FORMS_NOT_SHOWN = {
    ("password_set", None): "shown only with a valid invitation's token",
    ("unsubscribe", None): "shown only with a valid unsubscribe token",
    ("reports:new", "reports"): "a progress report is recorded from its task's page (404)",
}

# ---------------------------------------------------------------------------------------------
# The values
# ---------------------------------------------------------------------------------------------

#: Bytes no browser sends and no column can hold, as they travel in a URL or a urlencoded body
#: (percent-escaped): refused at the door with a plain 400.
GARBAGE = {
    "NUL": "%00",
    "NUL inside": "p-kim%00lien",
    "invalid UTF-8": "%FF%FE%C3%28",
    "UTF-8 of a lone surrogate": "%ED%A0%80",
    "overlong NUL": "%C0%80",
}
#: Values that reach the views, which must refuse or ignore them.
ODD = {
    "control characters and bidi overrides": "%01%0B%1B%7F%C2%85%E2%80%AE%E2%81%A6x",
    "100,000 characters": "x" * 100_000,
    "40 digits": "9" * 40,
    "5,000 digits": "9" * 5000,
    "negative": "-1",
    "not a number": "1e309",
    "blank": "%20%09",
    "markup, CRLF, emoji, wide digits": (
        "%3Cb%3E%7B%25%22%0D%0ALocation:%20//x%F0%9F%98%80%EF%BC%91"
    ),
    "broken escape": "%zz%",
}
#: Values shaped like what a parameter takes, naming nothing that exists.
SHAPED = {
    "as_of": ("31/02/2024", "00/00/0000", "31/12/9999", "01/01/0001", "1/1/24", "2024-05-01"),
    "week": ("2024-W00", "2024-W54", "9999-W52", "0000-W01", "2024-W021", "-2024-W10"),
    "page": ("0", "9999999", "99999999999999999999999"),
    "replaces": ("0", "99999999999999999999", "1.0", "%D9%A1"),
    "unit": ("P-KIM-LIEN", "p-kim-lien%20", "dongda" * 20),
    "committee": ("P-KIM-LIEN", "0", "dongda" * 20),
    "next": (
        "//evil.example/",
        "javascript:alert(1)",
        "/vi/dashboard/review/?q=%0D%0Ax",
        "/vi/dashboard/review/?q=" + "x" * 3000,
        "http://testserver/vi/dashboard/review/",
    ),
}
#: A parameter no view reads.
UNREAD = "zz"
#: Which of ODD each query parameter gets on its own, by what the view makes of it: a number,
#: text (a code, a day, a search, a link), or a choice among fixed values (anything else is
#: dropped, so two values say all there is to say).
NUMBER_PARAMETERS = ("page", "replaces")
TEXT_PARAMETERS = ("unit", "committee", "as_of", "q", "week", "next")
NUMBER_VALUES = (
    "40 digits",
    "5,000 digits",
    "negative",
    "not a number",
    "blank",
    "control characters and bidi overrides",
)
TEXT_VALUES = (
    "control characters and bidi overrides",
    "100,000 characters",
    "blank",
    "markup, CRLF, emoji, wide digits",
    "broken escape",
)
CHOICE_VALUES = ("control characters and bidi overrides", "100,000 characters")
#: Into how many shares the values are cut among the people who do not sweep a page.
SHARES = 3
#: The body of the requests whose body is not the point: a version no item or report has.
STALE = b"version=0"

#: Path parameters, by converter: values the converter takes that name nothing.
PATH_VALUES = {
    "IntConverter": ("0", "0000000001", "9" * 25),
    "regex": ("0", "9" * 25),  # official:file's pk ([0-9]+)
    "SlugConverter": ("x" * 3000, "-", "p-kim-lien-cb01-"),
    "StringConverter": ("%00", "%FF%FE", "%ED%A0%80", "x" * 3000, "..", "%2E%2E"),
}

METHODS = ("PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW")

FORM = "application/x-www-form-urlencoded"
BOUNDARY = "fuzzboundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(*parts: bytes) -> bytes:
    return b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + p + b"\r\n" for p in parts) + (
        b"--" + BOUNDARY.encode() + b"--\r\n"
    )


#: (what, Content-Type, body): bodies no form of the app sends.
BODIES = (
    ("multipart without a boundary", "multipart/form-data", b"version=0"),
    ("multipart with an empty boundary", "multipart/form-data; boundary=", b"--\r\n"),
    ("multipart garbage", f"multipart/form-data; boundary={BOUNDARY}", b"\x00\xff garbage"),
    (
        "multipart with NUL in a field",
        f"multipart/form-data; boundary={BOUNDARY}",
        multipart(b'Content-Disposition: form-data; name="version"\r\n\r\n0\x00'),
    ),
    (
        "multipart with a broken file name",
        f"multipart/form-data; boundary={BOUNDARY}",
        multipart(
            b'Content-Disposition: form-data; name="minutes"; filename="a\x00\xff.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n%PDF-1.4 garbage"
        ),
    ),
    (
        "multipart in UTF-7",
        f"multipart/form-data; boundary={BOUNDARY}; charset=utf-7",
        multipart(b'Content-Disposition: form-data; name="comment"\r\n\r\n+2AA-'),
    ),
    (
        "multipart in a codec that is no text encoding",
        f"multipart/form-data; boundary={BOUNDARY}; charset=rot13",
        multipart(b'Content-Disposition: form-data; name="version"\r\n\r\n0'),
    ),
    ("a form in UTF-16", f"{FORM}; charset=utf-16", "version=0&comment=x".encode("utf-16")),
    ("a form in UTF-7", f"{FORM}; charset=utf-7", b"version=0&comment=+2AA-&q=+2AA-"),
    ("a form in a codec that is no text encoding", f"{FORM}; charset=rot13", b"version=0"),
    ("a form in base64", f"{FORM}; charset=base64", b"dmVyc2lvbj0w"),
    ("a form in an unknown charset", f"{FORM}; charset=x-no-such-charset", b"version=0"),
    ("a form with NUL", FORM, b"version=0&comment=%00&next=%00"),
    ("a form with invalid UTF-8", FORM, b"version=0&comment=%FF%FE&q=\xff"),
    ("JSON", "application/json", b'{"version": 0, "comment": "\\u0000\\ud800"}'),
    ("text/plain", "text/plain", b"version=0\x00"),
    ("XML", "application/xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
    ("a broken content type", "%%%; ;=", b"version=0"),
)

#: (what, file name, content): files for a form's file fields, sent with its other fields valid.
FILES = (
    ("an executable called .pdf", "bien-ban.pdf", b"MZ\x90\x00\x03 not a PDF"),
    ("NUL and invalid UTF-8 in a CSV", "don-vi.csv", b"code,name\r\n\x00\xff\xfe,x\r\n"),
    ("a cell of 100,000 characters", "don-vi.csv", b"code,name\r\n" + b"x" * 100_000 + b",y\r\n"),
    ("a zip that is no workbook", "don-vi.xlsx", b"PK\x03\x04 garbage"),
    ("an empty file", "rong.xlsx", b""),
    ("a name of 300 characters", "x" * 300 + ".pdf", scope_walk.PDF),
)

# ---------------------------------------------------------------------------------------------
# Requests, answers, problems
# ---------------------------------------------------------------------------------------------

CSRF_TOKEN = "f" * 32  # a well-formed secret; sent as the cookie and the X-CSRFToken header
#: A statement that writes, and its table.
WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
#: The tables no request of the run may write to: every table of the apps the snapshot compares,
#: history and users included (sessions and sign-in attempts are not the app's data).
WATCHED_APPS = ("campaigns", "breakthroughs", "units")


@dataclass
class Writes:
    """Notes the statements that write to the watched tables (connection.execute_wrapper)."""

    tables: frozenset = field(
        default_factory=lambda: frozenset(
            model._meta.db_table
            for app in WATCHED_APPS
            for model in apps.get_app_config(app).get_models()
        )
    )
    seen: list[str] = field(default_factory=list)

    def __call__(self, execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match and match.group(1) in self.tables:
            self.seen.append(sql.split("(")[0].strip()[:60])
        return execute(sql, params, many, context)


@dataclass
class Fuzzer:
    """Sends the requests as one person and keeps what went wrong."""

    client: Client
    role: str
    #: Signs the person in again (after the sign-out page did its job).
    sign_in: Callable[[], None]
    problems: list[str] = field(default_factory=list)
    sent: int = 0
    failures: list[BaseException | None] = field(default_factory=list)
    writes: Writes = field(default_factory=Writes)
    #: The database as the run found it (the scope walk's snapshot).
    state: dict = field(default_factory=snapshot)

    def send(
        self, method: str, url: str, *, body=b"", content_type=FORM, headers=None, what: str = ""
    ):
        """One request, in a savepoint (a database error of a broken request would leave a
        PostgreSQL transaction refusing every later statement), its answer read to the end."""
        self.sent += 1
        label = f"{self.role}: {method} {shorten(url)}" + (f" [{what}]" if what else "")
        self.failures.clear()
        self.writes.seen.clear()
        # The token the X-CSRFToken header carries, whatever a page or a sign-out set since.
        self.client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_TOKEN
        with transaction.atomic():
            response = self.client.generic(
                method, url, body, content_type=content_type, headers=headers
            )
            problems = []
            if response.status_code >= 500:
                cause = self.failures[0] if self.failures else None
                problems.append(f"{label}: {response.status_code} ({shorten(repr(cause))})")
            elif getattr(response, "streaming", False):
                # Read to the end as a browser would: a 200 whose stream breaks off is a
                # download cut short. (Exhausting it also closes it.)
                try:
                    b"".join(response.streaming_content)
                except Exception as exc:  # whatever broke the stream is the finding
                    problems.append(
                        f"{label}: {response.status_code}, then the stream broke: {exc!r}"
                    )
            if self.writes.seen:
                # Most statements that write change nothing in the end: an UPDATE guarded by a
                # stale version, the flags an "as of" drawing replays in a savepoint it undoes.
                changed = differences(self.state, snapshot())
                if changed:
                    problems.append(f"{label}: {response.status_code} changed {changed[:3]}")
            if problems:
                self.problems += problems
                transaction.set_rollback(True)
        return response

    def record(self, sender, request=None, **kwargs):
        """got_request_exception: what made the 500 (the client, told not to raise it, keeps
        only the status)."""
        self.failures.append(sys.exc_info()[1])


def shorten(text: str) -> str:
    return text if len(text) < 160 else f"{text[:120]}…({len(text)} characters)"


def signed_in_client(world, role: str, staff_en) -> Client:
    # CSRF is checked as in production (it reads the body of every POST): the token travels in
    # the header, so that the fuzzed bodies need not carry it.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.defaults["HTTP_X_CSRFTOKEN"] = CSRF_TOKEN
    sign_in(client, world, role, staff_en)
    return client


def sign_in(client: Client, world, role: str, staff_en) -> None:
    user = staff_en if role == "staff_en" else world.users[role]
    if user is not None:
        client.force_login(user)


# ---------------------------------------------------------------------------------------------
# Filling the URLs
# ---------------------------------------------------------------------------------------------


def pattern_kinds(pattern) -> tuple[str | None, ...]:
    """The report kinds a pattern is filled with: each (the forms differ), or one where the page
    reads the same whatever the kind; None for a pattern without a kind."""
    if "parent_kind" in pattern.params:
        return tuple(slug for slug, kind in REPORT_KINDS.items() if kind.parent)
    if "kind" in pattern.params:
        return tuple(REPORT_KINDS) if pattern.name in FORM_PATTERNS else ("sessions",)
    return (None,)


def export_job_of(world, role: str):
    """A finished export job: the district office's own for its staff, the ward secretary's for
    everyone else (theirs to read, or someone else's: a 404 to fuzz)."""
    owner = "staff" if role in ("staff", "staff_en") else "ward_secretary"
    return world.exports[owner, "done"]


def pattern_urls(world, pattern, role: str) -> Iterator[tuple[str | None, str]]:
    """(kind, URL) for one pattern as one person: the pattern filled with the ids of the person's
    unit and committee (each kind for the report forms, one kind for the other report pages)."""
    aim = AIMS[role]
    page = PAGES[pattern.name]
    params = pattern.params
    kinds = pattern_kinds(pattern)
    fixed = [
        dict(zip(page.values, chosen, strict=True)) for chosen in product(*page.values.values())
    ]
    for kind, values in product(kinds, fixed):
        kwargs = dict(values)
        if pattern.name.startswith("official:") and "pk" in params:
            kwargs["pk"] = world.official[aim.committee, page.state].pk
        elif pattern.name.startswith("campaigns:export_job"):
            kwargs["pk"] = export_job_of(world, role).pk
        elif "pk" in params:
            kwargs["pk"] = world.items[aim.unit, kind, page.state].pk
        if "code" in params:
            kwargs["code"] = world.units[aim.unit].code
        if "kind" in params:
            kwargs["kind"] = kind
        if "parent_kind" in params:
            parent = REPORT_KINDS[kind].parent
            kwargs["parent_kind"] = parent
            kwargs["parent_pk"] = world.items[aim.unit, parent, "draft"].pk
        if pattern.name == "password_set":
            kwargs = {"uidb64": "MQ", "token": "khong-hop-le"}
        elif pattern.name == "unsubscribe":
            kwargs = {"token": "khong-hop-le"}
        yield kind, url_for(pattern.name, aim.lang, **kwargs)


def path_variants(world, pattern, role: str) -> Iterator[tuple[str, str]]:
    """(what, URL): the pattern with each path parameter in turn replaced by each value its
    converter takes that names nothing (the others filled as usual)."""
    aim = AIMS[role]
    page = PAGES[pattern.name]
    # Stands for the parameter while the URL is reversed: every converter fuzzed takes it.
    marker = "0123456789"
    for name, converter in pattern.params.items():
        if name in page.values:
            continue
        for value in PATH_VALUES.get(converter, ()):
            kwargs = {p: _path_value(world, pattern, role, p) for p in pattern.params}
            kwargs[name] = marker
            url = url_for(pattern.name, aim.lang, **kwargs).replace(marker, value, 1)
            yield f"path {name}={shorten(value)}", url


def _path_value(world, pattern, role: str, param: str):
    """The value pattern_urls gives `param` (for the first kind)."""
    aim = AIMS[role]
    page = PAGES[pattern.name]
    if param in page.values:
        return page.values[param][0]
    if param == "code":
        return world.units[aim.unit].code
    child = "parent_kind" in pattern.params
    if param == "parent_kind":
        return "tasks"
    if param == "kind":
        return "reports" if child else "sessions"
    if param == "pk" and pattern.name.startswith("official:"):
        return world.official[aim.committee, page.state].pk
    if param == "pk" and pattern.name.startswith("campaigns:export_job"):
        return export_job_of(world, role).pk
    if param == "pk":
        return world.items[aim.unit, "sessions", page.state].pk
    if param == "parent_pk":
        return world.items[aim.unit, "tasks", "draft"].pk
    return {"uidb64": "MQ", "token": "khong-hop-le"}[param]


# ---------------------------------------------------------------------------------------------
# The forms on the pages
# ---------------------------------------------------------------------------------------------


FIELD_TAGS = ("input", "select", "textarea", "button")


@dataclass
class Form:
    method: str
    action: str
    #: name -> type ("file", "text", "hidden", "select", …)
    fields: dict[str, str] = field(default_factory=dict)


class FormReader(HTMLParser):
    """The forms of a page: their action and their fields, as a browser sees them."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self._current = Form(method, attributes.get("action") or "")
            self.forms.append(self._current)
        elif tag in FIELD_TAGS and self._current is not None and attributes.get("name"):
            kind = (attributes.get("type") or "text") if tag == "input" else tag
            self._current.fields[attributes["name"]] = kind

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def form_fields(html: str, action_path: str, page_path: str) -> dict[str, str]:
    """The fields (name -> type) of the page's POST forms that post to `action_path`."""
    reader = FormReader()
    reader.feed(html)
    found: dict[str, str] = {}
    for form in reader.forms:
        target = urlsplit(form.action).path or page_path
        if form.method == "post" and target == action_path:
            found.update(form.fields)
    return found


def one_year_earlier(data: dict, year: int) -> dict:
    """Every date of the form a year before the campaign's: each refused, so that a form whose
    one-time key was the field fuzzed cannot be saved either."""
    return {
        name: re.sub(rf"\b{year}\b", str(year - 1), value) if isinstance(value, str) else value
        for name, value in data.items()
    }


def valid_form(world, role: str, name: str, kind: str | None, keys: dict) -> dict[str, str]:
    """Data that the page's own checks accept, spoiled so that it cannot be saved (see the
    module's docstring). Text values only: the files come with FILES."""
    aim = AIMS[role]
    unit = world.units[aim.unit]
    data: dict = {}
    if name in ("reports:new", "reports:new_child"):
        data = report_form_data(kind, unit=unit, campaign=world.campaign)
        data["submission_key"] = keys.get((aim.unit, kind), "")
    elif name == "reports:edit":
        item = world.item(aim.unit, kind, "draft")
        campaign = item.task.campaign if kind == "reports" else item.campaign
        data = report_form_data(kind, unit=unit, campaign=campaign, item=item)
        data["version"] = "0"  # stale
    elif name == "reports:review":
        data = {"decision": "return", "comment": "Cần bổ sung", "version": "0"}
    elif name in ("reports:submit", "official:issue", "official:discard"):
        data = {"version": "0"}
    elif name == "official:detail":
        data = official_call_data(world, name, aim.committee, "draft")()
        data["version"] = "0"
    elif name in ("official:new", "official:replace"):
        data = {
            "committee": str(world.units[aim.committee].pk),
            "as_of": "31/12/2024",  # a day still to come on 20/05/2024
            "language": "vi",
        }
    elif name == "profile":
        # A language the app does not have keeps the person's own settings as they are.
        data = {"last_name": "Nguyễn", "first_name": "An", "email": "", "language": "xx"}
    elif name == "login":
        data = {"username": "khong-co-ai", "password": "sai-mat-khau"}
    elif name == "switch_language":
        data = {"language": "en", "next": "/vi/"}
    elif name == "password_set":
        data = {"new_password1": "mật-khẩu-mới-2024", "new_password2": "mật-khẩu-mới-2024"}
    return {k: v for k, v in data.items() if isinstance(v, str)}


def encode(data: dict[str, str], fuzzed: str, raw: str) -> bytes:
    """A urlencoded body: `data` with the field `fuzzed` set to the already escaped `raw`."""
    kept = urlencode({k: v for k, v in data.items() if k != fuzzed})
    return f"{kept}&{quote(fuzzed)}={raw}".encode("latin-1")


def spoiled(data: dict[str, str], fuzzed: str, year: int) -> dict[str, str]:
    """`data` for a form whose field `fuzzed` is set to a malformed value: when that field is
    what kept the form from being saved (a one-time key, the profile's language), another
    does instead."""
    if fuzzed == "submission_key":
        return one_year_earlier(data, year)
    if fuzzed == "language" and "email" in data:
        return {**data, "email": "khong-phai-dia-chi"}
    return data


#: Fields repeated under other keys (each paragraph of an official report has its box, the
#: digest of what the box showed and its "go back to the app's text" tick): the first of each
#: stands for the others when fields are fuzzed one at a time.
REPEATED = re.compile(r"^(paragraph|shown|reset)_")


def representatives(fields: Iterable[str]) -> list[str]:
    kept, seen = [], set()
    for name in sorted(fields):
        match = REPEATED.match(name)
        if match and match.group(1) in seen:
            continue
        if match:
            seen.add(match.group(1))
        kept.append(name)
    return kept


# ---------------------------------------------------------------------------------------------
# Recording which query parameters the views read
# ---------------------------------------------------------------------------------------------

#: Query parameters read by the views during a test, by URL name.
READS: dict[str, set[str]] = defaultdict(set)


class RecordingQueryDict(QueryDict):
    """request.GET that notes which parameters the view asks for (a copy records too). A
    template's `{{ query.urlencode }}` tries `query["urlencode"]` first: the dictionary's own
    attributes are no parameters."""

    view_name = ""

    def __getitem__(self, key):
        if not hasattr(QueryDict, key):
            READS[self.view_name].add(key)
        return super().__getitem__(key)

    def getlist(self, key, default=None):
        READS[self.view_name].add(key)
        return super().getlist(key, default)

    def __deepcopy__(self, memo):
        copied = super().__deepcopy__(memo)
        copied.view_name = self.view_name
        return copied


class RecordQueryReads:
    """The last middleware of the test's stack: gives the view a recording request.GET."""

    def __init__(self, get_response):
        self.get_response = get_response

    def process_view(self, request, view_func, view_args, view_kwargs):
        recording = RecordingQueryDict(request.META.get("QUERY_STRING", ""), mutable=False)
        recording.view_name = request.resolver_match.view_name
        request.GET = recording

    def __call__(self, request):
        return self.get_response(request)


def with_request_checks(middleware: list[str]) -> list[str]:
    """settings.MIDDLEWARE with the door's checks (dongda.middleware_requests) in their place,
    right after CsrfViewMiddleware (its docstring says why). Where settings already have them,
    their place is checked instead."""
    checks = "dongda.middleware_requests.MalformedRequestMiddleware"
    csrf = middleware.index("django.middleware.csrf.CsrfViewMiddleware")
    if checks in middleware:
        place = middleware.index(checks)
        assert place == csrf + 1, middleware
        return list(middleware)
    return [*middleware[: csrf + 1], checks, *middleware[csrf + 1 :]]


@pytest.fixture
def fuzz_settings(settings, tmp_path):
    """The middleware of the app, the door's checks included, and last the recorder of the
    query parameters the views read."""
    # Failed sign-ins hash the password they were given; the default hasher takes a tenth of a
    # second each time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The import's preview keeps an accepted sheet there until it is confirmed.
    settings.VAR_DIR = tmp_path / "var"
    settings.MIDDLEWARE = [
        *with_request_checks(settings.MIDDLEWARE),
        f"{__name__}.RecordQueryReads",
    ]
    READS.clear()
    return settings


# ---------------------------------------------------------------------------------------------
# 1. Every pattern is known
# ---------------------------------------------------------------------------------------------


def test_every_url_pattern_has_its_fuzzing_written_down():
    names = {pattern.name for pattern in walk()}
    missing = sorted(names - PAGES.keys())
    assert not missing, f"New URL patterns: say in PAGES what they read: {missing}"
    stale = sorted(PAGES.keys() - names)
    assert not stale, f"PAGES names patterns that no longer exist: {stale}"
    forms = {
        (pattern.name, kind)
        for pattern in walk()
        if PAGES[pattern.name].form_on is not None
        for kind in pattern_kinds(pattern)
    }
    unswept = sorted(forms - FORM_SWEEPER.keys() - FORMS_NOT_SHOWN.keys(), key=str)
    assert not unswept, f"Say in FORM_SWEEPER who fuzzes the fields of {unswept}"
    assert FORM_SWEEPER.keys() | FORMS_NOT_SHOWN.keys() <= forms
    for pattern in walk():
        for param, converter in pattern.params.items():
            # A kind's slug is matched against the registered kinds: nothing else reaches a view.
            filled = param in PAGES[pattern.name].values or converter == "ReportKindConverter"
            assert filled or converter in PATH_VALUES, f"{pattern.route}: no values for {param}"


# ---------------------------------------------------------------------------------------------
# 2. Every pattern, as every person
# ---------------------------------------------------------------------------------------------


#: Text as it may be stored, from before the forms refused it or through the admin or the
#: import: Word's line break and other control characters, bidirectional overrides, markup and a
#: formula. Every page and file that shows it must still be answered.
STORED_TEXT = '=HYPERLINK("//x")\x0bdòng hai\x01\x1b\u202e\u2066<b>{{ x }}{% now %}</b>\x7f'

#: The free-text columns of the reports, filled with it in the persons' units.
STORED_TEXT_COLUMNS = {
    "sessions": ("presenter", "notes_vi", "notes_en"),
    "plans": ("programme", "summary_vi", "summary_en"),
    "tasks": ("title_vi", "title_en", "owner", "description_vi"),
    "reports": ("narrative_vi", "narrative_en"),
    "initiatives": ("name_vi", "name_en", "results_vi"),
    "incidents": ("title_vi", "title_en", "owner", "description_vi"),
    "propaganda": ("note_vi", "note_en"),
}


def _stored_odd_text(world) -> None:
    """STORED_TEXT in every report of the cell and the sibling ward, and in the cell's name."""
    for (unit_key, kind, _state), item in world.items.items():
        if unit_key in ("cell", "sibling_ward"):
            columns = STORED_TEXT_COLUMNS[kind]
            type(item).objects.filter(pk=item.pk).update(**dict.fromkeys(columns, STORED_TEXT))
    name = dict.fromkeys(("name", "name_vi", "name_en"), STORED_TEXT)
    Unit.objects.filter(pk=world.units["cell"].pk).update(**name)


def _one_time_keys(world) -> dict:
    """Gives each unit's draft of each kind a one-time key, as if its form had been sent: a new
    form carrying that key is answered with that draft, and saves nothing."""
    keys = {}
    for (unit_key, kind, state), item in world.items.items():
        if state == "draft":
            key = uuid.uuid4()
            type(item).objects.filter(pk=item.pk).update(submission_key=key)
            keys[unit_key, kind] = str(key)
    return keys


@pytest.mark.parametrize("role", ROLES)
def test_malformed_requests_get_no_5xx_and_change_nothing(world, staff_en, role, fuzz_settings):
    _stored_odd_text(world)
    keys = _one_time_keys(world)
    client = signed_in_client(world, role, staff_en)
    fuzzer = Fuzzer(client, role, sign_in=lambda: sign_in(client, world, role, staff_en))
    got_request_exception.connect(fuzzer.record)
    try:
        with connection.execute_wrapper(fuzzer.writes):
            for pattern in walk():
                _fuzz_pattern(fuzzer, world, pattern, role, keys)
                if pattern.name == "logout":
                    fuzzer.sign_in()
    finally:
        got_request_exception.disconnect(fuzzer.record)
    changed = differences(fuzzer.state, snapshot())
    assert not fuzzer.problems, f"{len(fuzzer.problems)} problem(s):\n" + "\n".join(
        fuzzer.problems[:60]
    )
    assert not changed, f"{role}'s requests changed the database: {changed}"
    assert fuzzer.sent > 800  # the walk did walk
    unlisted = {
        name: sorted(read - set(PAGES[name].query) - {UNREAD})
        for name, read in READS.items()
        if read - set(PAGES[name].query) - {UNREAD}
    }
    assert not unlisted, f"Views read query parameters PAGES does not list: {unlisted}"


def _fuzz_pattern(fuzzer: Fuzzer, world, pattern, role: str, keys: dict) -> None:
    page = PAGES[pattern.name]
    send = fuzzer.send
    takes_forms = page.form_on is not None
    for index, (kind, url) in enumerate(pattern_urls(world, pattern, role)):
        page_answer = send("GET", url, what="as it is")
        if index == 0:
            for method in METHODS:
                send(method, url, body=STALE, what="a method the page does not take")
            for what, bad in path_variants(world, pattern, role):
                send("GET", bad, what=what)
                if takes_forms:
                    send("POST", bad, body=STALE, what=what)
            if takes_forms:
                sweeps = FORM_SWEEPER.get((pattern.name, kind)) == role
                for what, content_type, body in BODIES if sweeps else share(BODIES, role):
                    send("POST", url, body=body, content_type=content_type, what=what)
            for what, raw in GARBAGE.items():
                query = "&".join(f"{p}={raw}" for p in (*page.query, UNREAD))
                send("GET", f"{url}?{query}", what=f"every parameter {what}")
                if takes_forms:
                    send("POST", f"{url}?{query}", body=STALE, what=f"every parameter {what}")
            _with_session_cookie(fuzzer, "abcdefgh\x00ijkl", url)
            # The charset of a GET's Content-Type decodes its query string too (with a query
            # string, the request cannot even be built: see the WSGI guard's test).
            utf7 = {"content-type": "text/plain; charset=utf-7"}
            send("GET", url, headers=utf7, what="a GET declaring UTF-7")
            send("GET", url, headers={"user-agent": "x\x00y"}, what="NUL in a header")
            _fuzz_query(fuzzer, pattern.name, role, url)
        if takes_forms and FORM_SWEEPER.get((pattern.name, kind)) == role:
            _fuzz_form(fuzzer, world, pattern, role, kind, url, page_answer, keys)


def share(values, role: str) -> list:
    """The third of `values` that this person sends where they do not sweep the page: every
    third from their place in ROLES, so that each value is sent by two or three of them, among
    whom every kind of reader of the dashboard's pages."""
    offset = ROLES.index(role) % SHARES
    return list(values)[offset::SHARES]


def _with_session_cookie(fuzzer: Fuzzer, value: str, url: str) -> None:
    """A GET with the session cookie set to `value`: the session is looked up in the database
    before any view runs."""
    cookies = fuzzer.client.cookies
    name = settings.SESSION_COOKIE_NAME
    kept = cookies[name].value if name in cookies else ""
    cookies[name] = value
    fuzzer.send("GET", url, what=f"a session cookie {value!r}")
    cookies[name] = kept


def _fuzz_query(fuzzer: Fuzzer, name: str, role: str, url: str) -> None:
    """The person who sweeps this page's parameters sends each value in each of them on its
    own (so that no parameter refused first hides another); everyone else sends each value in
    all of them at once."""
    query = PAGES[name].query
    if QUERY_SWEEPER.get(name, "staff") != role:
        values = share(ODD.items(), role) if query else [("long", ODD["100,000 characters"])]
        for what, raw in values:
            every = "&".join(f"{p}={raw}" for p in (*query, UNREAD))
            fuzzer.send("GET", f"{url}?{every}", what=f"every parameter {what}")
        return
    for param in (*query, UNREAD):
        if param in NUMBER_PARAMETERS:
            chosen = NUMBER_VALUES
        elif param in TEXT_PARAMETERS:
            chosen = TEXT_VALUES
        else:
            chosen = CHOICE_VALUES
        values = {what: ODD[what] for what in chosen}
        values.update((value, value) for value in SHAPED.get(param, ()))
        for what, raw in values.items():
            fuzzer.send("GET", f"{url}?{param}={raw}", what=f"{param} {shorten(what)}")


def _fuzz_form(fuzzer, world, pattern, role, kind, url, page_answer, keys) -> None:
    """The fields of the forms posting to `url`, read from the page that shows them: every
    value in all of them at once; then each field on its own among valid others (spoiled so
    that nothing can be saved) with one or two of ODD, a different one or two for each field;
    and each file field with each of FILES."""
    page = PAGES[pattern.name]
    # The sign-out form signs the person out: signed in again for its page and each request.
    logs_out = pattern.name == "logout"
    if page.form_on == "self":
        shown_on, response = url, page_answer
    else:
        # The form's page is filled as the form's target (an item's page for its submit form).
        shown_on = url_for(page.form_on, AIMS[role].lang, **resolve(urlsplit(url).path).kwargs)
        if logs_out:
            fuzzer.sign_in()
        response = fuzzer.send("GET", shown_on, what=f"the form for {pattern.name}")
    assert response.status_code == 200, f"{role} is not shown the form of {pattern.name}"
    fields = form_fields(response.content.decode(), urlsplit(url).path, urlsplit(shown_on).path)
    assert fields, f"no form on {shown_on} posts to {url}"
    # The CSRF token travels in the header; a bad one in the body is refused before the view.
    fields.pop("csrfmiddlewaretoken", None)
    data = valid_form(world, role, pattern.name, kind, keys)

    def post(body: str | bytes, what: str, content_type: str = FORM) -> None:
        if logs_out:
            fuzzer.sign_in()
        body = body if isinstance(body, bytes) else body.encode()
        fuzzer.send("POST", url, body=body, content_type=content_type, what=what)

    post(urlencode(data), "the valid form, spoiled")
    for what, raw in {**GARBAGE, **ODD}.items():
        post("&".join(f"{quote(name)}={raw}" for name in sorted(fields)), f"every field {what}")
    odd = list(ODD.items())
    for index, name in enumerate(representatives(fields)):
        base = spoiled(data, name, world.campaign.year)
        chosen = [odd[(2 * index + step) % len(odd)] for step in range(page.odd_per_field)]
        for what, raw in chosen:
            post(encode(base, name, raw), f"{name} {what}")
        if fields[name] == "file":
            for what, file_name, content in FILES:
                upload = {**base, name: SimpleUploadedFile(file_name, content)}
                post(encode_multipart(BOUNDARY, upload), f"{name} {what}", MULTIPART)
