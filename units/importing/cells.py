"""One cell at a time: clean text, whole numbers, a choice by code or label in either language."""

import re
import unicodedata
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from ..spreadsheet import MAX_CELL_CHARS, header_key

MAX_MEMBERS = 1_000_000
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 .()-]{5,22}$")


class CellError(Exception):
    pass


def cell_text(value, *, required: bool = False, max_length: int = MAX_CELL_CHARS) -> str:
    """A cell as clean text: NFC, no-break spaces as spaces, trimmed. Control and invisible
    formatting characters (bidi overrides, zero-width) are refused: they make two names that
    look alike differ, or a name display reversed."""
    if value is None:
        text = ""
    elif isinstance(value, (bool, int)):
        text = str(value)
    elif isinstance(value, float | Decimal):
        text = str(int(value)) if value == int(value) else str(value)
    else:
        text = str(value)
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise CellError(_("contains control or invisible formatting characters; retype it."))
    # The column's own limit (a unit's name, a person's name, an e-mail), so that what the
    # preview accepts the database stores.
    if len(text) > max_length:
        raise CellError(_("is longer than %(max)s characters.") % {"max": max_length})
    if required and not text:
        raise CellError(_("is empty."))
    return " ".join(text.split())


def cell_count(value) -> int:
    if isinstance(value, bool):
        raise CellError(_("is not a whole number."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        if value != int(value):
            raise CellError(_("is not a whole number."))
        number = int(value)
    else:
        text = cell_text(value, required=True)
        # "1.250" (vi) and "1,250" (en): a thousands separator, never a decimal point here.
        if not re.fullmatch(r"\d{1,3}([.,  ]\d{3})+|\d+", text):
            raise CellError(_("“%(value)s” is not a whole number.") % {"value": text[:40]})
        number = int(re.sub(r"\D", "", text))
    if number < 0:
        raise CellError(_("cannot be negative."))
    if number > MAX_MEMBERS:
        limit = number_format(MAX_MEMBERS, force_grouping=True)
        raise CellError(_("is more than %(max)s.") % {"max": limit})
    return number


def choice_lookup(choices) -> dict[str, str]:
    """Every way a choice may be written (its code, its label in each language), folded, to
    its code; built once per import rather than once per cell."""
    from django.utils import translation

    lookup = {}
    for language in ("vi", "en"):
        with translation.override(language):
            for code, label in choices:
                lookup[header_key(str(label))] = code
    for code, _label in choices:
        lookup[header_key(code)] = code
    return lookup


def cell_choice(value, lookup: dict[str, str], *, what: str) -> str:
    """A code or a label in either language ("party_cell", "Chi bộ", "Party cell")."""
    text = cell_text(value, required=True)
    code = lookup.get(header_key(text))
    if code is None:
        raise CellError(
            _("“%(value)s” is not a %(what)s the app knows (see the template's second sheet).")
            % {"value": text[:60], "what": what}
        )
    return code
