"""The message catalogues: complete, current, and no text of one language on the other's pages."""

import re
import shutil
from datetime import date
from io import StringIO
from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from campaigns.engine.run import deadline_engine_run
from tests.conftest import require
from tests.factories import BreakthroughTaskFactory, StudySessionFactory

from .language import as_pattern, readable_text, worth_checking

LANGUAGES = ("vi", "en")


def catalogue_path(lang: str, root: Path | None = None) -> Path:
    root = root or Path(django_settings.BASE_DIR) / "locale"
    return root / lang / "LC_MESSAGES" / "django.po"


def load_catalogue(lang: str, root: Path | None = None) -> polib.POFile:
    return polib.pofile(str(catalogue_path(lang, root)))


def live_entries(catalogue: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in catalogue if not entry.obsolete]


def nplurals(catalogue: polib.POFile) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", catalogue.metadata.get("Plural-Forms", ""))
    assert match, "the catalogue's header has no Plural-Forms"
    return int(match.group(1))


# ---------------------------------------------------------------------------------------------
# Complete: every entry translated, none fuzzy, placeholders kept.
# ---------------------------------------------------------------------------------------------

# %(name)s / %(count)d, bare %s / %d, and str.format's {name} / {}; "%%" is a literal percent.
PLACEHOLDER = re.compile(r"%%|%\(\w+\)[sdifr]|%[sdifr]|\{\w*\}")


def placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated(lang):
    catalogue = load_catalogue(lang)
    forms = nplurals(catalogue)
    untranslated = []
    for entry in live_entries(catalogue):
        if entry.msgid_plural:
            filled = [entry.msgstr_plural.get(n, "") for n in range(forms)]
            if not all(filled):
                untranslated.append(f"{entry.msgid!r} (plural forms: {filled!r})")
        elif not entry.msgstr:
            untranslated.append(repr(entry.msgid))
    assert not untranslated, f"{lang}: untranslated entries:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_entry_is_fuzzy(lang):
    fuzzy = [repr(e.msgid) for e in live_entries(load_catalogue(lang)) if "fuzzy" in e.flags]
    assert not fuzzy, f"{lang}: fuzzy entries (a guess by msgmerge, not a translation):\n" + (
        "\n".join(fuzzy)
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_msgid(lang):
    mismatched = []
    for entry in live_entries(load_catalogue(lang)):
        if entry.msgid_plural:
            wanted = placeholders(entry.msgid_plural)
            translations = [t for t in entry.msgstr_plural.values() if t]
        else:
            wanted = placeholders(entry.msgid)
            translations = [entry.msgstr] if entry.msgstr else []
        for translation in translations:
            if placeholders(translation) != wanted:
                mismatched.append(
                    f"{entry.msgid!r}: msgid has {wanted}, msgstr {translation!r} has "
                    f"{placeholders(translation)}"
                )
    assert not mismatched, f"{lang}: placeholders differ:\n" + "\n".join(mismatched)


# ---------------------------------------------------------------------------------------------
# Current: makemessages finds nothing that the committed catalogues lack.
# ---------------------------------------------------------------------------------------------

NOT_SOURCE = (".venv", ".git", "static", "var", "tests", "bench", "test-artifacts", "locale")


@pytest.fixture
def extracted_catalogue(tmp_path, settings, monkeypatch):
    """Runs makemessages on a copy of the source, so that the committed catalogues are never
    touched: makemessages writes to whichever `locale` folder sits above the files it reads."""
    require(all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge")), "GNU gettext")
    source = tmp_path / "source"
    shutil.copytree(
        django_settings.BASE_DIR,
        source,
        ignore=shutil.ignore_patterns(
            *NOT_SOURCE, "__pycache__", ".*_cache", "*.sqlite3*", "*.mo", "*.po"
        ),
    )
    (source / "locale").mkdir()
    settings.LOCALE_PATHS = [source / "locale"]
    monkeypatch.chdir(source)

    def extract(lang: str) -> polib.POFile:
        call_command(
            "makemessages",
            locale=[lang],
            ignore_patterns=list(NOT_SOURCE),
            no_location=True,
            verbosity=0,
            stdout=StringIO(),
            stderr=StringIO(),
        )
        return load_catalogue(lang, source / "locale")

    return extract


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_has_a_translation_for_every_string_in_the_code(lang, extracted_catalogue):
    fresh = extracted_catalogue(lang)
    committed = {
        (e.msgctxt, e.msgid): e
        for e in live_entries(load_catalogue(lang))
        if "fuzzy" not in e.flags
    }
    assert len(live_entries(fresh)) > 100, "makemessages found suspiciously few strings"
    missing = []
    for entry in live_entries(fresh):
        known = committed.get((entry.msgctxt, entry.msgid))
        if known is None:
            missing.append(f"{entry.msgid!r}: not in the committed catalogue")
        elif entry.msgid_plural and (
            known.msgid_plural != entry.msgid_plural or not all(known.msgstr_plural.values())
        ):
            missing.append(f"{entry.msgid!r}: plural {entry.msgid_plural!r} not translated")
        elif not entry.msgid_plural and not known.msgstr:
            missing.append(f"{entry.msgid!r}: empty translation")
    assert not missing, (
        f"{lang}: run `manage.py makemessages -l {lang} --no-location` and translate:\n"
        + "\n".join(missing)
    )


# ---------------------------------------------------------------------------------------------
# No leaks: a Vietnamese page shows no English interface text, and the other way round.
# ---------------------------------------------------------------------------------------------

# The page reader and the phrase matching are shared with test_page_language.py (language.py).


def vietnamese_catalogue_pairs() -> list[tuple[str, str]]:
    """(English msgid, Vietnamese msgstr) for every entry whose translation differs."""
    pairs = []
    for entry in live_entries(load_catalogue("vi")):
        if entry.msgid_plural:
            pairs.append((entry.msgid, entry.msgstr_plural.get(0, "")))
            pairs.append((entry.msgid_plural, entry.msgstr_plural.get(0, "")))
        else:
            pairs.append((entry.msgid, entry.msgstr))
    return [(en, vi) for en, vi in pairs if vi and vi != en]


ENGLISH_UI_TEXT = sorted({en for en, _ in vietnamese_catalogue_pairs() if worth_checking(en)})
VIETNAMESE_UI_TEXT = sorted({vi for _, vi in vietnamese_catalogue_pairs() if worth_checking(vi)})
# A few words a person would spot at once, checked whatever the catalogue says.
OBVIOUS = {
    "vi": ["Sign in", "Dashboard", "Checklist"],
    "en": ["Đăng nhập", "Tổng quan", "Danh mục việc cần làm"],
}


def leaks(text: str, lang: str) -> list[str]:
    foreign = ENGLISH_UI_TEXT if lang == "vi" else VIETNAMESE_UI_TEXT
    found = {m.group(0) for phrase in foreign for m in as_pattern(phrase).finditer(text)}
    found |= {word for word in OBVIOUS[lang] if word in text}
    return sorted(found)


@pytest.fixture
def populated(district, campaign):
    """Enough data that every list on the pages has rows: sessions, a task, open flags and a
    finished deadline-engine run."""
    StudySessionFactory(campaign=campaign, unit=district.ward, attendees=12, members_expected=12)
    StudySessionFactory(campaign=campaign, unit=district.cell, attendees=10, members_expected=40)
    BreakthroughTaskFactory(
        campaign=campaign,
        unit=district.ward,
        title_en="Tidying the pavements of the main streets",
    )
    deadline_engine_run(today=date(2024, 5, 15))
    return district


PAGES = {
    # name: (who, path, expected status)
    "login": (None, "/{lang}/accounts/login/", 200),
    "dashboard": ("staff", "/{lang}/dashboard/", 200),
    "unit_as_staff": ("staff", "/{lang}/units/p-kim-lien/", 200),
    "unit_as_secretary": ("ward_secretary", "/{lang}/units/p-kim-lien/", 200),
    "not_found": ("staff", "/{lang}/units/no-such-unit/", 404),
}


def render(request, client, page: str, lang: str) -> str:
    """The page's readable text, as the person in PAGES sees it with the `populated` data."""
    who, path, status = PAGES[page]
    request.getfixturevalue("populated")
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(path.format(lang=lang))
    assert response.status_code == status
    assert f'<html lang="{lang}">' in response.text
    return readable_text(response.text)


@pytest.mark.parametrize("page", PAGES)
def test_vietnamese_page_shows_no_english_ui_text(request, client, page):
    text = render(request, client, page, "vi")
    found = leaks(text, "vi")
    assert not found, f"English on the Vietnamese {page} page: {found}\n---\n{text}"


@pytest.mark.parametrize("page", PAGES)
def test_english_page_shows_no_vietnamese_ui_text(request, client, page):
    text = render(request, client, page, "en")
    found = leaks(text, "en")
    assert not found, f"Vietnamese on the English {page} page: {found}\n---\n{text}"


def test_english_unit_page_names_units_in_english(client, staff, populated):
    client.force_login(staff)
    text = readable_text(client.get("/en/units/p-kim-lien/").text)
    for unit in (populated.root, populated.ward, populated.cell):
        assert unit.name_en in text
        assert unit.name_vi not in text


def test_the_leak_check_catches_an_english_label_on_a_vietnamese_page():
    """The checks above pass only because nothing leaks, not because they cannot see."""
    html = (
        '<html lang="vi"><title>Tổng quan</title><body><h2>Open flags</h2>'
        '<span aria-label="Main menu"></span><script>var x = "Dashboard";</script></body></html>'
    )
    assert leaks(readable_text(html), "vi") == ["Main menu", "Open flags"]
    html = '<html lang="en"><body><p>3 đảng viên</p><button lang="vi">Tiếng Việt</button></html>'
    assert leaks(readable_text(html), "en") == ["3 đảng viên"]


# ---------------------------------------------------------------------------------------------
# Dates: dd/mm/yyyy on Vietnamese pages.
# ---------------------------------------------------------------------------------------------

NOT_DAY_FIRST = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d"
    r"|\btháng \d"
)


def test_vietnamese_dashboard_shows_the_study_deadline_day_first(client, staff, populated):
    client.force_login(staff)
    text = readable_text(client.get("/vi/dashboard/").text)
    assert "31/03/2024" in text  # the campaign's study deadline
    assert not NOT_DAY_FIRST.findall(text)


def test_vietnamese_unit_page_shows_dates_day_first(client, ward_secretary, populated):
    client.force_login(ward_secretary)
    text = readable_text(client.get("/vi/units/p-kim-lien/").text)
    assert "15/03/2024" in text  # the session's date
    assert "30/04/2024" in text  # the plan deadline, overdue
    assert "01/05/2024" in text  # the day the flags' condition began (the plan deadline + 1)
    assert not NOT_DAY_FIRST.findall(text)
