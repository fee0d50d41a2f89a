"""Bidirectional controls (right-to-left overrides, isolates, direction marks) are refused in
every text people type, on the app's forms and in the administration, with a message beside the
field in the page's language; nothing is saved."""

import html
import importlib
import pkgutil
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from campaigns.admin import CampaignCopyForm
from campaigns.models import DayOff, ReviewStatus, StudySession
from campaigns.official.forms import PlainTextField
from dongda.text import (
    BIDI_CONTROLS,
    BidiControlsRefused,
    guard_text_field,
    refuse_bidi_controls,
)
from tests.factories import StudySessionFactory, UserFactory

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "abc\u202edef" shows as "abcfed"
EN_MESSAGE = "This text contains invisible characters that change the order in which it is shown"

EVERY_CONTROL = [
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def en_url(name: str, **kwargs) -> str:
    with translation.override("en"):
        return reverse(name, kwargs=kwargs)


# ---------------------------------------------------------------------------------------------
# The validator
# ---------------------------------------------------------------------------------------------


def test_the_refused_set_is_unicodes_bidi_control_property():
    assert frozenset(EVERY_CONTROL) == BIDI_CONTROLS


@pytest.mark.parametrize("control", EVERY_CONTROL, ids=lambda ch: f"U+{ord(ch):04X}")
def test_every_bidi_control_is_refused_and_named(control):
    with pytest.raises(ValidationError) as refused:
        refuse_bidi_controls(f"Chi bộ {control}số 6")
    assert refused.value.code == "bidi_controls"
    assert f"U+{ord(control):04X}" in refused.value.messages[0]


@pytest.mark.parametrize(
    "text",
    [
        "Đảng bộ phường Kim Liên",
        "Đa\u0300ng bộ",  # decomposed diacritics, as some keyboards send them
        "05-KH/ĐU",
        "Dòng 1\nDòng 2\tcột",
        "Gia đình 👨\u200d👩\u200d👧",  # a zero-width joiner is not a direction control
        "",
    ],
)
def test_ordinary_text_passes(text):
    refuse_bidi_controls(text)


# ---------------------------------------------------------------------------------------------
# Through the pages, as people type
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_profile_refuses_a_name_with_an_override(client, ward_secretary, lang):
    client.force_login(ward_secretary)
    response = client.post(
        f"/{lang}/accounts/profile/",
        {
            "last_name": "Nguyễn",
            "first_name": f"Hà{RLO}nộ",
            "email": "ha@dongda.example",
            "language": "vi",
            "receives_digests": "on",
        },
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "U+202E" in page
    if lang == "en":
        assert EN_MESSAGE in page
    ward_secretary.refresh_from_db()
    assert RLO not in ward_secretary.first_name


@time_machine.travel(datetime(2024, 3, 20, 2, 0, tzinfo=UTC), tick=False)
@pytest.mark.parametrize(
    ("presenter", "message"),
    [
        ("Đồng chí \u2067Nguyễn Thị Hoà\u2069", f"{EN_MESSAGE} (U+2067, U+2069)"),
        # Word's manual line break, pasted: a control character, refused by the same guard.
        (
            "Đồng chí\x0bNguyễn Thị Hoà",
            "control characters that cannot be shown or printed (U+000B)",
        ),
    ],
    ids=["isolate", "vertical-tab"],
)
def test_a_report_form_refuses_invisible_characters_in_its_text(
    client, district, campaign, cell_secretary, presenter, message
):
    client.force_login(cell_secretary)
    response = client.post(
        en_url("reports:new", code=district.cell.code, kind="sessions"),
        {
            "held_on": "15/03/2024",
            "kind": "regular",
            "format": "in_person",
            "presenter": presenter,
            "members_expected": "40",
            "attendees": "39",
            "notes_vi": "",
            "notes_en": "",
            "submission_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 400
    assert message in text_of(response)
    assert not StudySession.objects.exists()


def test_a_review_comment_with_a_direction_mark_is_refused(client, district, campaign, staff):
    session = StudySessionFactory(
        campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED
    )
    client.force_login(staff)
    response = client.post(
        en_url("reports:review", code=district.cell.code, kind="sessions", pk=session.pk),
        {"decision": "return", "comment": "Sửa số \u200f15", "version": session.version},
    )
    assert response.status_code == 400
    assert EN_MESSAGE in text_of(response)
    session.refresh_from_db()
    assert session.status == ReviewStatus.SUBMITTED


@pytest.fixture
def office(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    client.cookies["dongda_language"] = "en"
    return client


def test_the_administration_refuses_a_day_off_named_with_an_override(office):
    response = office.post(
        reverse("admin:campaigns_dayoff_add"),
        {"date": "02/09/2024", "name_vi": f"Quốc khánh {RLO}bù", "name_en": "National Day"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert EN_MESSAGE in text_of(response)
    assert not DayOff.objects.exists()


def test_copying_a_campaign_refuses_a_title_with_an_override(campaign):
    form = CampaignCopyForm(
        {"code": "cd2025", "year": "2025", "title_vi": f"Chuyên đề {RLO}2025",
         "short_title_vi": "Chuyên đề 2025"},
        source=campaign,
    )  # fmt: skip
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["title_vi"]] == ["bidi_controls"]


def test_the_official_reports_text_refuses_the_marks_too():
    """Its own check (control characters, bidi) reads the shared list, which has the marks."""
    with pytest.raises(ValidationError, match="U\\+200F"):
        PlainTextField(max_length=100).clean("Số 15\u200f-BC/QU")


# ---------------------------------------------------------------------------------------------
# Every form, now and later
# ---------------------------------------------------------------------------------------------

APPS = ("units", "campaigns", "breakthroughs")


def _app_forms() -> list[type[forms.BaseForm]]:
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)
    found, pending = [], [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in APPS:
            found.append(cls)
    return found


def _takes_text(field: forms.Field) -> bool:
    return (
        isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.PasswordInput | forms.HiddenInput)
        and not field.disabled
    )


def test_every_app_form_that_takes_text_refuses_bidi_controls():
    app_forms = _app_forms()
    assert len(app_forms) > 10
    unguarded = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in app_forms
        if any(_takes_text(f) for f in cls.base_fields.values())
        and not issubclass(cls, BidiControlsRefused)
    ]
    assert unguarded == []


def test_every_admin_form_field_that_takes_text_refuses_bidi_controls(db):
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(username="quantri", is_staff=True, is_superuser=True)
    checked, unguarded = 0, []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in APPS:
            continue
        for obj in (None, model()):
            form = model_admin.get_form(request, obj)
            for name, field in form.base_fields.items():
                if _takes_text(field):
                    checked += 1
                    if refuse_bidi_controls not in field.validators:
                        unguarded.append(f"{model._meta.label}.{name}")
    assert checked > 10
    assert unguarded == []


def test_the_validator_stays_on_the_form_instance(ward_secretary):
    """full_clean adds it to the instance's copy of each field, never to the class's."""
    from units.account_views import ProfileForm

    ProfileForm({"first_name": "x"}, instance=ward_secretary).is_valid()
    assert refuse_bidi_controls not in ProfileForm.base_fields["first_name"].validators


# ---------------------------------------------------------------------------------------------
# Control characters, refused by the same guard
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("control", ["\x0b", "\x0c", "\x1b", "\x7f", "\x85"])
def test_control_characters_a_paste_brings_are_refused_and_named(control):
    field = forms.CharField()
    guard_text_field(field)
    with pytest.raises(ValidationError) as refused:
        field.clean(f"Biên bản{control}họp chi bộ")
    assert refused.value.error_list[0].code == "control_characters"
    assert f"U+{ord(control):04X}" in str(
        refused.value.error_list[0].message % refused.value.error_list[0].params
    )


def test_line_ends_and_tabs_stay_allowed():
    field = forms.CharField(widget=forms.Textarea)
    guard_text_field(field)
    assert field.clean("Dòng một\r\nDòng hai\tcột") == "Dòng một\r\nDòng hai\tcột"
