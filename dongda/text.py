"""Text as people type it: one Unicode form, accent-free search keys, and no invisible
characters that change the order in which a text is shown."""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: Unicode's Bidi_Control characters: the embeddings, overrides and isolates (U+202A–U+202E,
#: U+2066–U+2069) and the marks (U+200E LRM, U+200F RLM, U+061C ALM). Invisible, they reorder
#: what is shown ("Báo cáo \u202eđảo chiều" displays its end backwards), or move digits and
#: punctuation ("15\u200f-KH"), so a unit's name, a report or a comment would read differently
#: from what it says, and two names that look alike would differ. Vietnamese and English text
#: never needs them, so they are refused rather than silently removed: a person who pasted
#: them learns where from.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def nfc(value: str | None) -> str | None:
    """Vietnamese keyboards send either composed or decomposed diacritics; store one form."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value)


def fold(value: str) -> str:
    """Lower-case, strip diacritics and map đ to d, for search that ignores accents."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def bidi_controls_in(text: str) -> list[str]:
    """The bidirectional controls in a text, each once, in code point order."""
    return sorted(BIDI_CONTROLS.intersection(text))


def code_points(characters: list[str]) -> str:
    return ", ".join(f"U+{ord(ch):04X}" for ch in characters)


def refuse_bidi_controls(value) -> None:
    """A field validator: the error names the field (the form shows it beside it) and the
    characters, which the person cannot see."""
    if not isinstance(value, str):
        return
    found = bidi_controls_in(value)
    if found:
        raise ValidationError(
            _(
                "This text contains invisible characters that change the order in which it is "
                "shown (%(codes)s). Type it again, or paste it as plain text."
            ),
            code="bidi_controls",
            params={"codes": code_points(found)},
        )


#: The control characters a text may hold: line ends and the tab, which a textarea sends.
ALLOWED_CONTROLS = frozenset("\t\n\r")


def control_characters_in(text: str) -> list[str]:
    """The control characters (Unicode category Cc) in a text other than line ends and the
    tab, each once, in code point order."""
    return sorted(
        {ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS}
    )


def refuse_control_characters(value) -> None:
    """A field validator against the C0/C1 controls a keyboard does not type but a paste
    brings (Word's manual line break U+000B, a form feed, an escape): invisible on the page,
    they are refused by the spreadsheet export and the printed report, and PostgreSQL refuses
    NUL outright."""
    if not isinstance(value, str):
        return
    found = control_characters_in(value)
    if found:
        raise ValidationError(
            _(
                "This text contains control characters that cannot be shown or printed "
                "(%(codes)s). Type it again, or paste it as plain text."
            ),
            code="control_characters",
            params={"codes": code_points(found)},
        )


def guard_text_field(field: forms.Field | None) -> forms.Field | None:
    """Adds refuse_bidi_controls and refuse_control_characters to a field that takes text
    (every CharField: plain text, e-mail, slug, …). Passwords are left alone: never shown,
    they cannot mislead a reader, and refusing a character there would only lock someone out."""
    if (
        isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.PasswordInput)
        and not field.disabled
        and refuse_bidi_controls not in field.validators
    ):
        field.validators += [refuse_bidi_controls, refuse_control_characters]
    return field


class BidiControlsRefused:
    """Form mixin (first among the bases): every text field of the form refuses bidirectional
    controls and control characters, with the message beside the field in the page's language.

    One mixin on the base classes (ReportForm covers every report kind) instead of a validator
    on each field: a field added later, declared or built in a form's __init__, is covered
    without anyone remembering to. The validators go on in full_clean(), which runs after
    __init__ has added its fields and before any is cleaned; each form instance has its own
    copies of its fields, so nothing leaks into the class."""

    def full_clean(self):
        for field in self.fields.values():
            guard_text_field(field)
        super().full_clean()


class BidiControlsRefusedAdmin:
    """ModelAdmin mixin (first among the bases): the same for the administration's forms, where
    the office names units, campaigns and days off. The admin builds each form field from the
    model through formfield_for_dbfield, for its forms and its inlines alike."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return guard_text_field(super().formfield_for_dbfield(db_field, request, **kwargs))
