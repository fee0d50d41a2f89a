"""Forms of the official report pages.

Text is stored as people mean it: NFC (any keyboard's diacritics), line ends as "\\n", and no
control characters (bar the newline and the tab in the multi-line fields) nor bidirectional
overrides, which would make a document read differently from what it says. Markup or Word field
codes typed in a paragraph ("<b>", "{ DATE }") are text like any other: the pages escape them
and the renderers write them as characters. The committee, the campaign and the report come from
the view (the person's scope and the URL), never from the form.
"""

import hashlib
import unicodedata
from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dongda.text import BIDI_CONTROLS, BidiControlsRefused, code_points, nfc
from units.models import Unit, User

from ..models import Campaign, OfficialReport
from ..reporting.forms import LocalDateField
from . import services
from .content import ReportDocument

#: The longest paragraph a person may write.
PARAGRAPH_MAX = 5000

#: What each paragraph is about, to label its box (the keys of build.default_sections).
PARAGRAPH_LABELS = {
    "requirements": _("How the campaign was set in motion"),
    "study": _("Study and dissemination"),
    "plans": _("Implementation plans"),
    "tasks": _("Breakthrough tasks"),
    "models": _("New models"),
    "incidents": _("Local incidents"),
    "propaganda": _("Propaganda"),
    "behind": _("Units behind"),
    "actions": _("What was done about them"),
    "next": _("Tasks for the coming period"),
}


def paragraph_label(key: str) -> str:
    return str(PARAGRAPH_LABELS.get(key, key))


def normalise(text: str) -> str:
    """The form a text is stored and compared in: line ends as "\\n", NFC, no outer spaces."""
    return nfc(text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def bad_characters(text: str, *, multiline: bool) -> list[str]:
    allowed = "\n\t" if multiline else ""
    return sorted(
        {
            ch
            for ch in text
            if (unicodedata.category(ch) == "Cc" and ch not in allowed) or ch in BIDI_CONTROLS
        }
    )


def text_digest(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:32]


class PlainTextField(forms.CharField):
    """Text as a person typed it, normalised (see the module's docstring)."""

    def __init__(self, *, multiline: bool = False, rows: int = 3, **kwargs):
        self.multiline = multiline
        if multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value):
        value = super().to_python(value)
        return normalise(value) if value else value

    def validate(self, value):
        super().validate(value)
        found = bad_characters(value or "", multiline=self.multiline)
        if found:
            raise forms.ValidationError(
                _(
                    "Remove the invisible control characters from this text (%(codes)s); "
                    "they cannot be printed."
                ),
                code="control_characters",
                params={"codes": code_points(found)},
            )


def box_rows(text: str) -> int:
    """A paragraph's box tall enough for its text on a laptop (about 80 characters a line),
    within reason on a phone."""
    lines = sum(1 + len(line) // 80 for line in text.split("\n"))
    return max(4, min(lines + 1, 14))


def model_max(name: str) -> int:
    return OfficialReport._meta.get_field(name).max_length


def check_as_of(day: date, campaign: Campaign) -> str:
    """Why the day cannot be a report's "as of" day (the services' rule), or ""."""
    try:
        services.check_as_of(campaign, day)
    except services.OfficialReportError as error:
        return str(error)
    return ""


def default_as_of(campaign: Campaign, today: date) -> date:
    """Today, or the campaign's last day once it has ended."""
    return min(today, campaign.ends_on)


class CommitteeField(forms.ModelChoiceField):
    default_error_messages = {
        "invalid_choice": _("Choose one of the committees you draft reports for."),
    }

    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class SignerField(forms.ModelChoiceField):
    default_error_messages = {
        "invalid_choice": _(
            "Choose someone who signs for this committee: its secretary, or for the district "
            "a member of the Standing Committee."
        ),
    }

    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


class NewReportForm(forms.Form):
    """The committee, the day and the language of a new draft; a replacement keeps the
    committee and the language of the report it replaces."""

    committee = CommitteeField(queryset=Unit.objects.none(), label=_("Committee"), empty_label=None)
    as_of = LocalDateField(label=_("Figures as of"))
    language = forms.ChoiceField(
        label=_("Language of the report"),
        choices=[("vi", _("Vietnamese")), ("en", _("English"))],
        widget=forms.RadioSelect,
    )

    def __init__(
        self,
        *args,
        committees,
        campaign: Campaign,
        language: str,
        replaces: OfficialReport | None = None,
        today: date | None = None,
        **kwargs,
    ):
        self.campaign = campaign
        self.replaces = replaces
        self.today = today or timezone.localdate()
        super().__init__(*args, **kwargs)
        self.fields["as_of"].help_text = _(
            "Only what had been held, sent, accepted or returned by the end of this day counts."
        )
        self.initial.setdefault("as_of", default_as_of(campaign, self.today))
        if replaces is not None:
            del self.fields["committee"]
            del self.fields["language"]
        else:
            self.fields["committee"].queryset = committees
            self.initial.setdefault("language", language if language in ("vi", "en") else "vi")

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        problem = check_as_of(day, self.campaign)
        if problem:
            raise forms.ValidationError(problem, code="as_of")
        return day


class ReplaceForm(forms.Form):
    """The day of the figures of a report replacing an issued one."""

    as_of = LocalDateField(label=_("Figures as of"))

    def __init__(self, *args, campaign: Campaign, today: date | None = None, **kwargs):
        self.campaign = campaign
        self.today = today or timezone.localdate()
        super().__init__(*args, **kwargs)
        self.initial.setdefault("as_of", default_as_of(campaign, self.today))

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        problem = check_as_of(day, self.campaign)
        if problem:
            raise forms.ValidationError(problem, code="as_of")
        return day


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


HEADER_FIELDS = (
    "as_of",
    "dated",
    "number",
    "number_suffix",
    "superior_body",
    "issuing_body",
    "place",
    "title",
    "recipients",
    "signer",
    "on_behalf",
    "signer_title",
)
#: The header's and closing block's texts, written in the report's language.
DOCUMENT_TEXT_FIELDS = (
    "number_suffix",
    "superior_body",
    "issuing_body",
    "place",
    "title",
    "recipients",
    "on_behalf",
    "signer_title",
)


class DraftForm(BidiControlsRefused, forms.Form):
    """A draft's header, closing block and paragraphs.

    Each paragraph of the document has a box prefilled with its current text. A box sent back
    with the app's own text (what the figures say) is not kept as an edit, so the paragraph goes
    on following the figures; any other text is kept in `edits` under the paragraph's key, until
    its "go back to the app's text" box is ticked.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    as_of = LocalDateField(label=_("Figures as of"))
    dated = LocalDateField(label=_("Date of the report"))
    number = PlainTextField(
        label=_("Number"),
        max_length=model_max("number"),
        required=False,
        help_text=_("Digits and letters, e.g. 15. Leave empty to write it by hand."),
    )
    number_suffix = PlainTextField(label=_("Number suffix"), max_length=model_max("number_suffix"))
    superior_body = PlainTextField(
        label=_("Superior party organisation"), max_length=model_max("superior_body")
    )
    issuing_body = PlainTextField(label=_("Issuing body"), max_length=model_max("issuing_body"))
    place = PlainTextField(label=_("Place"), max_length=model_max("place"))
    title = PlainTextField(label=_("Title"), max_length=model_max("title"), multiline=True, rows=2)
    recipients = PlainTextField(
        label=_("Recipients"),
        max_length=model_max("recipients"),
        multiline=True,
        rows=5,
        required=False,
        help_text=_("One per line."),
    )
    signer = SignerField(queryset=User.objects.none(), label=_("Signer"), required=False)
    on_behalf = PlainTextField(
        label=_("On behalf of"), max_length=model_max("on_behalf"), required=False
    )
    signer_title = PlainTextField(
        label=_("Signer's title"), max_length=model_max("signer_title"), required=False
    )

    def __init__(
        self,
        *args,
        report: OfficialReport,
        defaults: ReportDocument,
        signers,
        **kwargs,
    ):
        """`defaults` is the draft's document with none of its edits applied (the app's own
        text of each paragraph, worked out from the figures as of the draft's day)."""
        self.report = report
        self.campaign = report.campaign
        self.defaults_document = defaults
        self.defaults = {p.key: normalise(p.text) for s in defaults.sections for p in s.paragraphs}
        super().__init__(*args, **kwargs)
        self.fields["signer"].queryset = signers
        for name in DOCUMENT_TEXT_FIELDS:
            # What the document says is in its own language, whatever the page's.
            self.fields[name].widget.attrs["lang"] = report.language
        self.fields["signer"].empty_label = _("(nobody yet)")
        edits = report.edits or {}
        for name in HEADER_FIELDS:
            self.initial.setdefault(
                name, report.signer_id if name == "signer" else getattr(report, name)
            )
        self.initial.setdefault("version", report.version)
        for key, default in self.defaults.items():
            text = edits.get(key, default)
            self.fields[f"paragraph_{key}"] = PlainTextField(
                label=paragraph_label(key),
                max_length=PARAGRAPH_MAX,
                multiline=True,
                rows=box_rows(text),
                required=False,
            )
            self.fields[f"paragraph_{key}"].widget.attrs["lang"] = report.language
            self.initial[f"paragraph_{key}"] = text
            # What the box showed, so that an untouched box is told from a rewritten one even
            # if the app's text moved on (a report arrived) between showing and saving.
            self.fields[f"shown_{key}"] = forms.CharField(
                widget=forms.HiddenInput, required=False, max_length=64
            )
            self.initial[f"shown_{key}"] = text_digest(text)
            if key in edits:
                self.fields[f"reset_{key}"] = forms.BooleanField(
                    label=_("Go back to the app's text"), required=False
                )

    # --- What the template shows --------------------------------------------------------------

    def header_fields(self):
        """The fields shown folded: the header and closing block, which rarely change."""
        top = ("as_of", "dated", "number", "signer")
        return [self[name] for name in HEADER_FIELDS if name not in top]

    def sections(self) -> list[dict]:
        """The paragraphs' boxes by section, each with whether it holds a person's text."""
        edits = self.report.edits or {}
        return [
            {
                "heading": section.heading,
                "paragraphs": [
                    {
                        "key": p.key,
                        "field": self[f"paragraph_{p.key}"],
                        "reset": self._bound_or_none(f"reset_{p.key}"),
                        "shown": self[f"shown_{p.key}"],
                        "edited": p.key in edits,
                    }
                    for p in section.paragraphs
                ],
            }
            for section in self.defaults_document.sections
        ]

    def _bound_or_none(self, name: str):
        return self[name] if name in self.fields else None

    # --- Checks ---------------------------------------------------------------------------------

    def clean_number(self):
        number = self.cleaned_data["number"]
        # ASCII only: a full-width "１５" would look like another report's "15" yet pass the
        # uniqueness check.
        if number and not (number.isascii() and number.isalnum()):
            raise forms.ValidationError(
                _("The number holds digits and letters only, e.g. 15."), code="number"
            )
        return number

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        problem = check_as_of(day, self.campaign)
        if problem:
            raise forms.ValidationError(problem, code="as_of")
        return day

    def clean(self):
        cleaned = super().clean()
        as_of, dated = cleaned.get("as_of"), cleaned.get("dated")
        if as_of and dated:
            if dated < as_of:
                self.add_error(
                    "dated",
                    forms.ValidationError(
                        _("A report cannot be dated before the day its figures are as of."),
                        code="dated_before_as_of",
                    ),
                )
            elif dated.year > self.campaign.year + 1:
                self.add_error(
                    "dated",
                    forms.ValidationError(
                        _("The date must fall before the end of %(year)s.")
                        % {"year": self.campaign.year + 1},
                        code="dated_too_late",
                    ),
                )
        number = cleaned.get("number")
        if number:
            probe = OfficialReport(
                pk=self.report.pk,
                unit_id=self.report.unit_id,
                number=number,
                dated=cleaned.get("dated") or self.report.dated,
            )
            if services.number_taken(probe):
                self.add_error(
                    "number",
                    forms.ValidationError(
                        _(
                            "Another issued report of this committee already has the number "
                            "%(number)s."
                        )
                        % {"number": f"{number}-{cleaned.get('number_suffix') or ''}"},
                        code="number_taken",
                    ),
                )
        return cleaned

    # --- What is saved ----------------------------------------------------------------------------

    def edits(self) -> dict[str, str]:
        """The paragraphs kept as a person's text; edits under keys the document does not show
        (none today) are kept as they were."""
        current = self.report.edits or {}
        kept = {k: v for k, v in current.items() if k not in self.defaults}
        for key, default in self.defaults.items():
            if self.cleaned_data.get(f"reset_{key}"):
                continue
            if self.add_prefix(f"paragraph_{key}") not in self.data:
                # A form that did not show this paragraph leaves it as it was.
                if key in current:
                    kept[key] = current[key]
                continue
            text = self.cleaned_data.get(f"paragraph_{key}") or ""
            untouched = self.cleaned_data.get(f"shown_{key}") == text_digest(text)
            if key not in current and untouched:
                continue  # the app's text as it was shown: it keeps following the figures
            if text != default:
                kept[key] = text
        return kept

    def changes(self) -> dict:
        changes = {name: self.cleaned_data[name] for name in HEADER_FIELDS}
        changes["edits"] = self.edits()
        return changes
