"""Which language a page speaks: finds the other language's words in a page's readable text.

Two nets, because neither catches everything alone:

- phrases: every interface string the catalogues know (the project's, Django's, and those of the
  libraries whose pages people see: the admin, sign-in, the lockout list, history, the tree), as
  English on a Vietnamese page, and the project's Vietnamese on an English page;
- words: English words of an interface ("Search", "the", "Choose") that no Vietnamese sentence
  contains, and any word written with Vietnamese letters (ă, đ, ơ, tone marks) on an English page,
  for text that no catalogue holds at all (a library's untranslated label, a hard-coded string).

What is legitimately in the other language is removed first: an element marked with another
`lang` (the language switcher's "English" / "Tiếng Việt"), the data people typed (unit and person
names, report texts: `data_strings()` reads them from the database), codes, file names, e-mail
addresses and URLs, and the district's proper names, which English keeps with their diacritics.
"""

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import models

# %(name)s / %(count)d, bare %s / %d, and str.format's {name} / {}; "%%" is a literal percent.
PLACEHOLDER = re.compile(r"%%|%\(\w+\)[sdifr]|%[sdifr]|\{\w*\}")

READABLE_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
VOID_ELEMENTS = {
    *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"),
    *("track", "wbr"),
}


class ReadableText(HTMLParser):
    """What a reader sees or a screen reader says: text outside <script>/<style>/<template>, the
    attributes that carry words, and the value of a button-like input. Text inside an element
    marked with another language (the language switcher's "Tiếng Việt" on an English page) is
    meant to be in that language."""

    SILENT = ("script", "style", "template")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page_language = ""
        self.chunks: list[str] = []
        self._silent: str | None = None
        self._foreign: str | None = None  # tag of an element in another language
        self._foreign_depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.page_language = (attributes.get("lang") or "").split("-")[0]
        if self._foreign:
            if tag == self._foreign:
                self._foreign_depth += 1
            return
        language = (attributes.get("lang") or "").split("-")[0]
        if tag != "html" and language and language != self.page_language:
            if tag not in VOID_ELEMENTS:
                self._foreign, self._foreign_depth = tag, 1
            return
        if tag in self.SILENT:
            self._silent = tag
        for name in READABLE_ATTRIBUTES:
            if attributes.get(name):
                self.chunks.append(attributes[name])
        button = tag == "input" and attributes.get("type") in ("submit", "button", "reset")
        if button and attributes.get("value"):
            self.chunks.append(attributes["value"])

    def handle_endtag(self, tag):
        if self._foreign:
            if tag == self._foreign:
                self._foreign_depth -= 1
                if not self._foreign_depth:
                    self._foreign = None
            return
        if tag == self._silent:
            self._silent = None

    def handle_data(self, data):
        if not self._silent and not self._foreign and data.strip():
            self.chunks.append(data)


def readable_text(html: str) -> str:
    parser = ReadableText()
    parser.feed(html)
    parser.close()
    return "\n".join(" ".join(chunk.split()) for chunk in parser.chunks)


def page_language(html: str) -> str:
    parser = ReadableText()
    parser.feed(html[:2000])
    return parser.page_language


# ---------------------------------------------------------------------------------------------
# The phrases the catalogues know
# ---------------------------------------------------------------------------------------------


def literal_letters(text: str) -> int:
    return sum(ch.isalpha() for ch in PLACEHOLDER.sub("", text))


def worth_checking(text: str) -> bool:
    """Short single words ("Online", "units") are too often shared or borrowed to prove a leak;
    the word lists below name the ones that do."""
    words = PLACEHOLDER.sub("", text).split()
    return len(words) >= 2 or literal_letters(text) >= 8


def as_pattern(text: str) -> re.Pattern:
    """A whole-word, case-sensitive pattern; a placeholder stands for the value put in it."""
    parts = [re.escape(re.sub(r"\s+", " ", part)) for part in PLACEHOLDER.split(text)]
    return re.compile(r"(?<!\w)" + r"\S+".join(parts) + r"(?!\w)")


def _pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for entry in polib.pofile(str(path)):
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            translated = entry.msgstr_plural.get(0, "")
            pairs += [(entry.msgid, translated), (entry.msgid_plural, translated)]
        else:
            pairs.append((entry.msgid, entry.msgstr))
    return pairs


def project_pairs() -> list[tuple[str, str]]:
    """(English msgid, Vietnamese msgstr) of the project's catalogue."""
    return _pairs(Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES" / "django.po")


#: The packages whose own catalogues hold text people see on this app's pages (the admin, its
#: sign-in, axes' lockout lists, simple-history's history pages, treebeard's move form,
#: modeltranslation's tabs). Their English msgids are English whether or not the package ships a
#: Vietnamese catalogue.
LIBRARY_DOMAINS = (
    "django/conf",
    "django/contrib/admin",
    "django/contrib/auth",
    "django/contrib/contenttypes",
    "axes",
    "simple_history",
    "treebeard",
    "modeltranslation",
)


def _library_msgids() -> list[str]:
    import django

    site_packages = Path(django.__file__).parent.parent
    msgids = []
    for domain in LIBRARY_DOMAINS:
        # Any language's catalogue lists the package's msgids, as they were when it was last
        # updated: the union of a few is current.
        for name in ("django.po", "djangojs.po"):
            for lang in ("en", "fr", "de", "vi"):
                path = site_packages / domain / "locale" / lang / "LC_MESSAGES" / name
                if path.exists():
                    msgids += [en for en, _ in _pairs(path)]
    return msgids


@cache
def english_phrases() -> tuple[tuple[str, re.Pattern], ...]:
    ours = [en for en, vi in project_pairs() if vi and vi != en]
    # The libraries' texts of two words or more ("Enter a valid value."); their bare words come
    # in through ENGLISH_WORDS.
    phrases = {p for p in set(_library_msgids()) if worth_checking(p) and " " in p.strip()}
    phrases |= {p for p in ours if worth_checking(p)}
    return _compiled(phrases)


@cache
def vietnamese_phrases() -> tuple[tuple[str, re.Pattern], ...]:
    return _compiled({vi for en, vi in project_pairs() if vi and vi != en and worth_checking(vi)})


def _compiled(phrases) -> tuple[tuple[str, re.Pattern], ...]:
    # The longest literal piece of a phrase is a cheap first test before the regular expression.
    out = []
    for phrase in sorted(phrases):
        pieces = [p.strip() for p in PLACEHOLDER.split(phrase) if p.strip()]
        if pieces:
            out.append((max(pieces, key=len), as_pattern(phrase)))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# The words
# ---------------------------------------------------------------------------------------------

#: English words of an interface that no Vietnamese text contains (so not "to", "an", "no",
#: "in", "ban", "tin", "the" is kept: Vietnamese writes "thẻ"). Compared without case.
# fmt: off
ENGLISH_WORDS = frozenset((
    "the", "and", "of", "for", "with", "from", "your", "you", "this", "that", "these", "are",
    "is", "was", "were", "has", "have", "not", "or", "by", "at", "all", "any", "into", "than",
    "then", "there", "which", "what", "when", "where", "who", "will", "would", "should",
    "could", "can", "cannot", "select", "selected", "choose", "chosen", "search", "add",
    "added", "change", "changed", "changes", "delete", "deleted", "save", "saved", "view",
    "filter", "filters", "history", "home", "site", "password", "username", "yes", "none",
    "unknown", "option", "options", "attempt", "attempts", "access", "action", "actions", "go",
    "clear", "show", "hide", "today", "now", "yesterday", "tomorrow", "calendar", "user",
    "users", "group", "groups", "permission", "permissions", "file", "files", "name", "date",
    "time", "log", "sign", "out", "first", "last", "next", "previous", "page", "results",
    "result", "total", "item", "items", "list", "edit", "new", "back", "close", "open",
    "submit", "cancel", "required", "optional", "unit", "units", "report", "reports", "status",
    "district", "ward", "cell", "committee", "party", "campaign", "flag", "flags", "review",
    "accepted", "returned", "draft", "submitted", "week", "weeks", "month", "months", "year",
    "years", "day", "days", "member", "members", "deadline", "progress", "task", "tasks",
    "session", "sessions", "plan", "plans", "incident", "incidents", "evidence", "settings",
    "language", "welcome", "documentation", "administration", "admin", "recent", "summary",
    "count", "number", "active", "inactive", "staff", "superuser", "superusers", "designates",
    "whether", "login", "logged", "logout", "address", "phone", "message", "messages", "sent",
    "failed", "queued", "kind", "kinds", "code", "title", "description", "notes", "goal",
    "indicator", "target", "owner", "due", "expected", "attendees", "presenter", "held",
    "format", "minutes", "comment", "comments", "decision", "accept", "return", "sort",
    "sorted", "ascending", "descending", "remove", "removing", "toggle", "sorting", "shown",
    "hidden", "more", "less", "position", "relative", "child", "sibling", "move", "moved",
    "node", "tree",
))
# fmt: on

#: Letters only Vietnamese uses here: the breve, circumflex, horn and stroke, and the tone marks.
VIETNAMESE_LETTERS = re.compile(
    "[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
    "ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ]"
)

#: Proper names an English page writes the Vietnamese way: the district (in the site's own name),
#: the city, and the words of the language switcher's and the languages' own names.
PROPER_NAMES = ("Quận ủy Đống Đa", "Đống Đa", "Hà Nội", "Tiếng Việt")

#: Things that are neither language: codes (p-kim-lien), file names, addresses, URLs, numbers,
#: times. A colon or full stop at the end of a word ("Finished at:") is punctuation, not a code.
NOT_WORDS = re.compile(r"\S*(?:[-_/@=#\d]|[.:](?=\S))\S*")
WORD = re.compile(r"[^\W\d_]+")


def strip(text: str, data: frozenset[str] | set[str] = frozenset()) -> str:
    """The text without what is legitimately in either language: the data, the proper names."""
    for value in sorted(data, key=len, reverse=True):
        if value in text:
            text = text.replace(value, " ")
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    return text


def _phrase_leaks(text: str, phrases) -> set[str]:
    return {
        match.group(0)
        for piece, pattern in phrases
        if piece in text
        for match in pattern.finditer(text)
    }


def english_in(text: str, data=frozenset()) -> list[str]:
    """English on a Vietnamese page."""
    text = strip(text, data)
    found = _phrase_leaks(text, english_phrases())
    plain = NOT_WORDS.sub(" ", text)
    found |= {w for w in WORD.findall(plain) if w.lower() in ENGLISH_WORDS}
    return sorted(found)


def vietnamese_in(text: str, data=frozenset()) -> list[str]:
    """Vietnamese on an English page."""
    text = strip(text, data)
    found = _phrase_leaks(text, vietnamese_phrases())
    plain = NOT_WORDS.sub(" ", text)  # a document number ("05-KH/ĐU") is a code
    found |= {w for w in WORD.findall(plain) if VIETNAMESE_LETTERS.search(w)}
    return sorted(found)


def other_language_in(html: str, lang: str, data=frozenset()) -> list[str]:
    """The words of the other language on a page in `lang` ("vi" or "en")."""
    text = readable_text(html)
    return english_in(text, data) if lang == "vi" else vietnamese_in(text, data)


# ---------------------------------------------------------------------------------------------
# The data: text people typed is shown as typed, in whatever language
# ---------------------------------------------------------------------------------------------

TEXT_FIELDS = (models.CharField, models.TextField, models.FileField)


def data_strings() -> frozenset[str]:
    """Every text value in the database (names, titles, notes, file names, the people's names),
    so a check can set aside what people typed. Choice columns are left in: their labels are
    interface text."""
    values: set[str] = set()
    for model in apps.get_models():
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, TEXT_FIELDS) and not f.choices and f.attname != "password"
        ]
        if not columns:
            continue
        for row in model._default_manager.values_list(*columns):
            values.update(str(v).strip() for v in row if v and len(str(v).strip()) > 1)
    # A permission reads "app | model | Can add model": Django names it in English when it
    # creates the row (at migrate), so the whole line is data, like a name typed in.
    values.update(str(p) for p in Permission.objects.select_related("content_type"))
    return frozenset(values)
