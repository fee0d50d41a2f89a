"""Every screen in one language: every admin page, every form and every URL of the app, rendered
in Vietnamese and in English, shows no interface text of the other language
(tests/i18n/language.py says how the other language is recognised and what is set aside)."""

from datetime import date

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from campaigns.engine.run import deadline_engine_run
from campaigns.models import DayOff, OutgoingMail
from tests.factories import UserFactory
from tests.test_scope_url_walk import (  # noqa: F401 - in_2024: the walk's day, autouse here too
    PUBLIC,
    REPORT_KINDS,
    body_of,
    calls_for,
    in_2024,
    perform,
    sign_in,
    url_for,
    walk,
)
from units.spreadsheet import COLUMNS
from units.tokens import unsubscribe_token

from .language import data_strings, english_in, other_language_in, readable_text, vietnamese_in

pytestmark = pytest.mark.django_db

LANGUAGES = ("vi", "en")
#: Files a person downloads as documents (an official report's Word file and PDF, the evidence
#: people uploaded): not interface, and not in the page's language but in the report's, which
#: their HTML twin, the report's preview, is checked in (one content draws all three).
DOCUMENT_TYPES = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


def check(response, lang: str, data) -> list[str]:
    """The other language's words on one page or export, or why it could not be checked."""
    if response.status_code >= 500:
        return [f"status {response.status_code}"]
    kind = response.get("Content-Type", "")
    if kind.startswith(DOCUMENT_TYPES):
        body_of(response)  # read to the end, which closes it
        return []
    if "text/html" not in kind or response.status_code in (301, 302):
        if response.status_code in (301, 302) or "json" in kind:
            return []
        # An export (CSV, or every cell of an .xlsx) speaks the page's language too.
        text = body_of(response)
        return english_in(text, data) if lang == "vi" else vietnamese_in(text, data)
    body = response.content.decode()
    if "<html" not in body[:500]:
        return []  # an empty answer (405) or a fragment has no words to judge
    head = body[:500]
    if f'lang="{lang}"' not in head and f'lang="{lang}-' not in head:  # "vi" or "vi-VN"
        return [f"the page is not marked lang={lang}"]
    return other_language_in(body, lang, data)


# ---------------------------------------------------------------------------------------------
# The detector sees what it should, and sets aside what it should
# ---------------------------------------------------------------------------------------------


def test_the_detector_finds_english_on_a_vietnamese_page():
    html = (
        '<html lang="vi"><body><h1>Trang quản trị</h1><select><option>- Select an option -'
        '</option></select><input type="submit" value="Search"><label>Access attempts</label>'
        '<span lang="en">English</span><p>Mã đơn vị p-kim-lien, tệp bien-ban.pdf</p></body></html>'
    )
    assert other_language_in(html, "vi") == [
        "- Select an option -",
        "Access",
        "Search",
        "Select",
        "attempts",
        "option",
    ]


def test_the_detector_finds_vietnamese_on_an_english_page_but_not_names():
    html = (
        '<html lang="en"><body><p>Đống Đa District Party Committee</p><p>Nguyễn Văn An</p>'
        '<button lang="vi">Tiếng Việt</button><p>Trang quản trị cho Django</p></body></html>'
    )
    assert other_language_in(html, "en", {"Nguyễn Văn An"}) == ["quản", "trị"]


def test_the_detector_sets_aside_the_data_people_typed():
    text = readable_text('<html lang="vi"><p>Chi bộ Residential Group No. 1 Party Cell</p></html>')
    assert english_in(text) == ["Cell", "Group", "Party"]
    assert english_in(text, {"Residential Group No. 1 Party Cell"}) == []
    assert vietnamese_in("Kim Liên Ward", {"Kim Liên Ward"}) == []


# ---------------------------------------------------------------------------------------------
# The admin: index, every app, and every registered model's list, add and change pages
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def admin_world(world):
    """The URL walk's district with one row of every model the admin lists."""
    deadline_engine_run(today=date(2024, 5, 15))
    Group.objects.create(name="Văn phòng")
    DayOff.objects.create(date=date(2024, 9, 3), name_vi="Nghỉ bù", name_en="Day off in lieu")
    now = timezone.now()
    AccessAttempt.objects.create(
        username="ai-do", ip_address="10.0.0.1", user_agent="Firefox", failures_since_start=3
    )
    AccessLog.objects.create(username="vanphong", ip_address="10.0.0.2", user_agent="Firefox")
    AccessFailureLog.objects.create(
        username="ai-do", ip_address="10.0.0.1", user_agent="Firefox", attempt_time=now
    )
    OutgoingMail.objects.create(
        kind=OutgoingMail.Kind.RETURNED,
        dedupe_key="digest:1:2024-W20",
        recipient=world.users["staff"],
        campaign=world.campaign,
        subject="Thư tổng hợp",
    )
    return world


@pytest.fixture
def superuser(db):
    return UserFactory(username="quantri", is_staff=True, is_superuser=True)


def admin_urls() -> list[tuple[str, str]]:
    """(label, URL) of the admin's pages: the index, each app, and each model's list, add form,
    the change form and history of its first row."""
    urls = [("index", reverse("admin:index")), ("password", reverse("admin:password_change"))]
    apps_seen = set()
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        if meta.app_label not in apps_seen:
            apps_seen.add(meta.app_label)
            urls.append((meta.app_label, reverse("admin:app_list", args=[meta.app_label])))
        name = f"admin:{meta.app_label}_{meta.model_name}"
        urls.append((f"{meta.label} list", reverse(f"{name}_changelist")))
        urls.append((f"{meta.label} search", reverse(f"{name}_changelist") + "?q=zz"))
        if model_admin.has_add_permission(_AdminRequest()):
            urls.append((f"{meta.label} add", reverse(f"{name}_add")))
        first = model._default_manager.order_by("pk").first()
        assert first is not None, f"no {meta.label} row to open in the admin"
        urls.append((f"{meta.label} change", reverse(f"{name}_change", args=[first.pk])))
        urls.append((f"{meta.label} history", reverse(f"{name}_history", args=[first.pk])))
    return urls


class _AdminRequest:
    """Enough of a request for ModelAdmin.has_add_permission: a superuser."""

    class user:
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(*args, **kwargs):
            return True


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_admin_page_is_in_one_language(client, admin_world, superuser, lang):
    client.cookies["dongda_language"] = lang
    login = client.get(reverse("admin:login"))
    problems = {"login": check(login, lang, frozenset())}
    client.force_login(superuser)
    data = data_strings()
    for label, url in admin_urls():
        response = client.get(url)
        assert response.status_code == 200, (label, url, response.status_code)
        problems[label] = check(response, lang, data)
    problems = {label: found for label, found in problems.items() if found}
    assert not problems, "\n".join(f"{label}: {found}" for label, found in problems.items())


# ---------------------------------------------------------------------------------------------
# The app: every URL the scope walk knows, as district staff (who may open nearly all of them)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_of_the_url_walk_is_in_one_language(client, world, lang):
    sign_in(client, world, "staff")
    # The import template's example row is sample data (a unit and a person), not interface.
    data = data_strings() | {column.example for column in COLUMNS if len(column.example) > 1}
    problems, pages = [], 0
    for pattern in walk():
        if pattern.name in PUBLIC:
            continue  # the sign-in and token pages are checked below, as their visitors see them
        for call in calls_for(world, "staff", pattern, lang):
            if call.method != "GET":
                continue
            response = perform(client, call)
            pages += response.status_code == 200
            speaks = lang
            if call.name == "official:preview":
                # The report as it prints, in the report's language whatever the page's.
                speaks = world.official[call.unit_key, call.state].language
            elif call.name == "campaigns:export_job_download" and response.status_code == 200:
                # The file in the language of the page it was asked from, whatever this one's.
                job_pk = int(call.url.rstrip("/").split("/")[-2])
                speaks = next(job for job in world.exports.values() if job.pk == job_pk).language
            found = check(response, speaks, data)
            if found:
                problems.append(f"{call.label()} ({response.status_code}): {found}")
    assert pages > 60  # the walk did open the pages
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_pages_people_reach_without_signing_in_are_in_one_language(client, world, lang):
    person = world.users["cell_secretary"]
    person.set_unusable_password()
    person.save()
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(person.pk))
    set_password = url_for(
        "password_set", lang, uidb64=uid, token=default_token_generator.make_token(person)
    )
    pages = {
        "login": client.get(url_for("login", lang)),
        "login, wrong password": client.post(
            url_for("login", lang), {"username": "vanphong", "password": "sai"}
        ),
        "unsubscribe": client.get(url_for("unsubscribe", lang, token=unsubscribe_token(person.pk))),
        "unsubscribe, bad link": client.get(url_for("unsubscribe", lang, token="hong")),
        "choose a password": client.get(set_password, follow=True),
        "not found": client.get(f"/{lang}/khong-co/"),
    }
    problems = {}
    for label, response in pages.items():
        assert response.status_code in (200, 400, 404), (label, response.status_code)
        found = check(response, lang, data_strings())
        if found:
            problems[label] = found
    assert not problems, problems


# ---------------------------------------------------------------------------------------------
# Forms: every widget (selects, radios, file inputs, dates), empty and with its errors
# ---------------------------------------------------------------------------------------------


def form_pages(client, world, lang: str) -> dict:
    """Every form of the app as the person who fills it: each report kind's new and edit forms
    (and the new one sent back empty, so every error shows), the profile, the import page."""
    secretary = world.users["cell_secretary"]
    client.force_login(secretary)
    cell = world.units["cell"]
    pages = {}
    for kind, spec in REPORT_KINDS.items():
        draft = world.item("cell", kind, "draft")
        if spec.parent:
            parent = world.item("cell", spec.parent, "draft")
            new = url_for(
                "reports:new_child",
                lang,
                code=cell.code,
                parent_kind=spec.parent,
                parent_pk=parent.pk,
                kind=kind,
            )
        else:
            new = url_for("reports:new", lang, code=cell.code, kind=kind)
        pages[f"{kind} new"] = client.get(new)
        pages[f"{kind} new, sent empty"] = client.post(new, {"submission_key": "x"})
        edit = url_for("reports:edit", lang, code=cell.code, kind=kind, pk=draft.pk)
        pages[f"{kind} edit"] = client.get(edit)
    pages["profile"] = client.get(url_for("profile", lang))
    pages["profile, bad e-mail"] = client.post(
        url_for("profile", lang), {"email": "khong-phai-email", "language": lang}
    )
    client.force_login(world.users["staff"])
    pages["import"] = client.get(url_for("unit_import:page", lang))
    pages["import, sent empty"] = client.post(url_for("unit_import:preview", lang), {})
    submitted = world.item("cell", "sessions", "submitted")
    pages["review"] = client.get(
        url_for("reports:detail", lang, code=cell.code, kind="sessions", pk=submitted.pk)
    )
    pages["review, return without a comment"] = client.post(
        url_for("reports:review", lang, code=cell.code, kind="sessions", pk=submitted.pk),
        {"decision": "return", "comment": "", "version": submitted.version},
        follow=True,
    )
    return pages


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_form_is_in_one_language(client, world, lang):
    pages = form_pages(client, world, lang)
    data = data_strings()
    problems = {}
    for label, response in pages.items():
        assert response.status_code in (200, 400), (label, response.status_code)
        found = check(response, lang, data)
        if found:
            problems[label] = found
    assert not problems, "\n".join(f"{label}: {found}" for label, found in problems.items())
