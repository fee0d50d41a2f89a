"""Forms units fill in, written for how Vietnamese offices type: dd/mm/yyyy dates, "." between
thousands, diacritics from any keyboard (stored NFC). The unit and the campaign never come from
the form: the view passes them in from the URL and the person's scope."""

import re
from datetime import date

from django import forms
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from dongda.text import BidiControlsRefused, nfc

from ..models import Campaign, ImplementationPlan, Incident, PropagandaActivity, StudySession
from ..selectors import campaign_member_count
from .evidence import EvidenceField

# Django's own messages that its Vietnamese catalogue leaves untranslated; listed here so that
# makemessages keeps them in ours, which Django reads first.
DJANGO_MESSAGES_TRANSLATED_HERE = (gettext_noop("Null characters are not allowed."),)


class LocalDateField(forms.DateField):
    """dd/mm/yyyy in both languages (the active locale's DATE_INPUT_FORMATS), typed as text so
    the browser does not turn it into its own format."""

    widget = forms.DateInput(
        format="%d/%m/%Y",
        attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off"},
    )
    default_error_messages = {"invalid": _("Enter a date as dd/mm/yyyy, e.g. 15/03/2024.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)


class GroupedIntegerField(forms.IntegerField):
    """A whole number that may be typed with thousands grouped the local way: "1.250" in
    Vietnamese, "1,250" in English; spaces are ignored too."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
    default_error_messages = {
        "invalid": _("Enter a whole number, e.g. %(example)s."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if not text:
            return None
        separator = formats.get_format("THOUSAND_SEPARATOR")
        if re.fullmatch(rf"-?\d{{1,3}}(?:{re.escape(separator)}\d{{3}})+", text):
            text = text.replace(separator, "")
        if not re.fullmatch(r"-?\d{1,30}", text):
            raise forms.ValidationError(
                self.error_messages["invalid"],
                code="invalid",
                # The example groups thousands the way this language does: 1.250 or 1,250.
                params={"example": formats.number_format(1250, force_grouping=True)},
            )
        return int(text)

    def prepare_value(self, value):
        if isinstance(value, int):
            return formats.number_format(value, force_grouping=True)
        return value


class ReportForm(BidiControlsRefused, forms.ModelForm):
    """What every report form shares: NFC text, the version it was opened with (to refuse a save
    over someone else's change) and a one-time key (to make a double-click create one row)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    #: Date fields that must fall in the campaign's year and not after today.
    past_dates_in_year: tuple[str, ...] = ()
    #: Date fields that must fall in the campaign's year (they may be in the future).
    dates_in_year: tuple[str, ...] = ()
    #: Date fields that count for the campaign only from its first day (a session held before
    #: the campaign began is not part of it).
    dates_from_campaign_start: tuple[str, ...] = ()

    def __init__(self, *args, campaign: Campaign, unit, today: date | None = None, **kwargs):
        self.campaign = campaign
        self.unit = unit
        self.today = today or timezone.localdate()
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) and not isinstance(
                field.widget, forms.HiddenInput
            ):
                field.widget.attrs.setdefault("autocomplete", "off")
            if name.endswith("_en"):
                field.required = False
                field.help_text = _("Optional; the Vietnamese text is shown where this is empty.")

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str):
                cleaned[name] = nfc(value.strip())
        first, last = date(self.campaign.year, 1, 1), date(self.campaign.year, 12, 31)
        for name in (*self.past_dates_in_year, *self.dates_in_year):
            value = cleaned.get(name)
            if value is None:
                continue
            if not first <= value <= last:
                self.add_error(
                    name,
                    _("The date must fall within %(year)s, the campaign's year.")
                    % {"year": self.campaign.year},
                )
            elif name in self.past_dates_in_year and value > self.today:
                self.add_error(name, _("The date cannot be in the future."))
            elif name in self.dates_from_campaign_start and value < self.campaign.starts_on:
                self.add_error(
                    name,
                    _("The campaign began on %(start)s; an earlier date does not count for it.")
                    % {"start": formats.date_format(self.campaign.starts_on, "d/m/Y")},
                )
        return cleaned


class EvidenceFormMixin:
    """Keeps the person's original file name beside the opaquely stored file."""

    evidence_fields: dict[str, str] = {}  # file field -> column keeping the original name

    def save(self, commit=True):
        instance = super().save(commit=False)
        for field, name_column in self.evidence_fields.items():
            # A new file replaces the old one; no file chosen keeps it (there is no "clear").
            uploaded = self.cleaned_data.get(field)
            if uploaded is not None and hasattr(uploaded, "display_name"):
                setattr(instance, name_column, uploaded.display_name)
        if commit:
            instance.save()
        return instance


class StudySessionForm(EvidenceFormMixin, ReportForm):
    held_on = LocalDateField(label=_("Held on"))
    # The column's own limit, checked first: a number past it gets the plain "at most" message
    # rather than a comparison with the unit's member count.
    members_expected = GroupedIntegerField(
        label=_("Members expected"), min_value=1, max_value=2_147_483_647
    )
    attendees = GroupedIntegerField(label=_("Attendees"), min_value=0)
    minutes = EvidenceField(label=_("Minutes"), required=False)
    past_dates_in_year = ("held_on",)
    dates_from_campaign_start = ("held_on",)
    evidence_fields = {"minutes": "minutes_name"}

    class Meta:
        model = StudySession
        fields = [
            "held_on",
            "kind",
            "format",
            "presenter",
            "members_expected",
            "attendees",
            "notes_vi",
            "notes_en",
            "minutes",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "format": forms.RadioSelect,
            "notes_vi": forms.Textarea(attrs={"rows": 3}),
            "notes_en": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"notes_vi": _("Notes"), "notes_en": _("Notes (English)")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("members_expected", self.unit_members or None)

    @cached_property
    def unit_members(self) -> int:
        """The member count the campaign judges the unit on: the bound of members expected."""
        return campaign_member_count(campaign=self.campaign, unit=self.unit)

    def clean(self):
        cleaned = super().clean()
        expected, attendees = cleaned.get("members_expected"), cleaned.get("attendees")
        members = self.unit_members
        if expected is not None and expected > members:
            self.add_error(
                "members_expected",
                _(
                    "The unit has %(members)s members on record; members expected cannot be "
                    "more. If the unit has grown, ask the district office to correct its "
                    "member count."
                )
                % {"members": formats.number_format(members, force_grouping=True)},
            )
            return cleaned
        if expected is not None and attendees is not None and attendees > expected:
            self.add_error(
                "attendees",
                _("Attendees (%(attendees)s) cannot exceed the members expected (%(expected)s).")
                % {
                    "attendees": formats.number_format(attendees, force_grouping=True),
                    "expected": formats.number_format(expected, force_grouping=True),
                },
            )
        return cleaned


class ImplementationPlanForm(EvidenceFormMixin, ReportForm):
    issued_on = LocalDateField(label=_("Issued on"))
    document = EvidenceField(label=_("Document"), required=False)
    past_dates_in_year = ("issued_on",)
    evidence_fields = {"document": "document_name"}

    class Meta:
        model = ImplementationPlan
        fields = ["number", "issued_on", "programme", "summary_vi", "summary_en", "document"]
        widgets = {
            "summary_vi": forms.Textarea(attrs={"rows": 3}),
            "summary_en": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"summary_vi": _("Summary"), "summary_en": _("Summary (English)")}
        help_texts = {"number": _("As written on the plan, e.g. 05-KH/ĐU.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("programme", self.campaign.linked_programme)


class IncidentForm(ReportForm):
    opened_on = LocalDateField(label=_("Opened on"))
    resolved_on = LocalDateField(label=_("Resolved on"), required=False)
    past_dates_in_year = ("opened_on",)

    class Meta:
        model = Incident
        fields = [
            "title_vi",
            "title_en",
            "description_vi",
            "description_en",
            "opened_on",
            "severity",
            "owner",
            "resolved_on",
            "resolution_vi",
            "resolution_en",
        ]
        widgets = {
            "severity": forms.RadioSelect,
            "description_vi": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 2}),
            "resolution_vi": forms.Textarea(attrs={"rows": 3}),
            "resolution_en": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "resolved_on": _(
                "Keep the incident as a draft while it is being handled; once it is resolved, "
                "give the date and the resolution and submit it for review."
            ),
        }
        labels = {
            "title_vi": _("Title"),
            "title_en": _("Title (English)"),
            "description_vi": _("Description"),
            "description_en": _("Description (English)"),
            "resolution_vi": _("Resolution"),
            "resolution_en": _("Resolution (English)"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title_vi"].required = True

    def clean(self):
        cleaned = super().clean()
        opened, resolved = cleaned.get("opened_on"), cleaned.get("resolved_on")
        resolution = cleaned.get("resolution_vi")
        if resolved is not None:
            if resolved > self.today:
                self.add_error("resolved_on", _("The date cannot be in the future."))
            elif opened is not None and resolved < opened:
                self.add_error(
                    "resolved_on", _("An incident cannot be resolved before it was opened.")
                )
            if not resolution:
                self.add_error("resolution_vi", _("Say how the incident was resolved."))
        elif resolution and "resolved_on" not in self.errors:
            self.add_error("resolved_on", _("Give the date the incident was resolved."))
        return cleaned


class PropagandaActivityForm(EvidenceFormMixin, ReportForm):
    held_on = LocalDateField(label=_("Date"))
    audience = GroupedIntegerField(label=_("People reached"), min_value=0, max_value=10_000_000)
    evidence = EvidenceField(label=_("Evidence"), required=False)
    past_dates_in_year = ("held_on",)
    dates_from_campaign_start = ("held_on",)
    evidence_fields = {"evidence": "evidence_name"}

    class Meta:
        model = PropagandaActivity
        fields = ["held_on", "channel", "audience", "note_vi", "note_en", "evidence"]
        widgets = {
            "channel": forms.RadioSelect,
            "note_vi": forms.Textarea(attrs={"rows": 3}),
            "note_en": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"note_vi": _("Note"), "note_en": _("Note (English)")}
        help_texts = {
            "audience": _("About how many people the activity reached."),
        }


class ReviewForm(BidiControlsRefused, forms.Form):
    """District staff's decision on a submitted report."""

    ACCEPT, RETURN = "accept", "return"
    decision = forms.ChoiceField(
        choices=[(ACCEPT, _("Accept")), (RETURN, _("Return for correction"))],
        widget=forms.RadioSelect,
        label=_("Decision"),
    )
    comment = forms.CharField(
        label=_("Comment to the unit"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, committee: bool = False, **kwargs):
        """`committee`: the first level of two-level review, whose "accept" passes the report
        on to the district office."""
        super().__init__(*args, **kwargs)
        self.fields["comment"].help_text = _(
            "Needed when you return the report; optional when you accept it."
        )
        if committee:
            self.fields["decision"].choices = [
                (self.ACCEPT, _("Accept and pass on to the district office")),
                (self.RETURN, _("Return to the cell for correction")),
            ]

    def clean(self):
        cleaned = super().clean()
        cleaned["comment"] = nfc((cleaned.get("comment") or "").strip())
        if cleaned.get("decision") == self.RETURN and not cleaned["comment"]:
            self.add_error("comment", _("Say what the unit should correct."))
        return cleaned


class VersionForm(forms.Form):
    """For the buttons that change only the state (submit): the version the page showed."""

    version = forms.IntegerField(widget=forms.HiddenInput)
