from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TabbedTranslationAdmin
from simple_history.admin import SimpleHistoryAdmin

from dongda.text import BidiControlsRefused, BidiControlsRefusedAdmin
from units.selectors import user_scope

from .models import (
    Campaign,
    DayOff,
    DeadlineEngineRun,
    Flag,
    ImplementationPlan,
    Incident,
    OutgoingMail,
    StudySession,
)
from .setup import (
    campaign_copy,
    campaign_members_refresh,
    date_fields,
    moved_dates,
    take_member_counts,
)


class ReportAdmin(BidiControlsRefusedAdmin, SimpleHistoryAdmin, TabbedTranslationAdmin):
    list_filter = ["status", "campaign"]
    search_fields = ["unit__code", "unit__search_name"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["created_by", "reviewed_by", "submitted_at", "reviewed_at"]

    def get_readonly_fields(self, request, obj=None):
        # Evidence comes in through the report pages only, where its content, macros and name
        # are checked (campaigns.reporting.evidence); the admin pages take no files at all
        # (settings.UPLOAD_FILE_FIELDS).
        files = [f.name for f in self.model._meta.fields if isinstance(f, models.FileField)]
        return [*super().get_readonly_fields(request, obj), *files]


class CampaignCopyForm(BidiControlsRefused, forms.Form):
    """What the office types to copy a campaign to a new year; every date is offered moved by a
    year, and a date left empty is moved by whole years to the year typed."""

    code = forms.SlugField(label=_("Code"), max_length=32)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2999)
    title_vi = forms.CharField(label=_("Title (Vietnamese)"), widget=forms.Textarea({"rows": 3}))
    title_en = forms.CharField(
        label=_("Title (English)"), required=False, widget=forms.Textarea({"rows": 3})
    )
    short_title_vi = forms.CharField(label=_("Short title (Vietnamese)"), max_length=120)
    short_title_en = forms.CharField(
        label=_("Short title (English)"), max_length=120, required=False
    )

    def __init__(self, *args, source: Campaign, **kwargs):
        self.source = source
        year = source.year + 1
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {
            "code": _next_year_text(source.code, source.year) or f"{source.code}-{year}",
            "year": year,
            "title_vi": _next_year_text(source.title_vi, source.year),
            "title_en": _next_year_text(source.title_en, source.year),
            "short_title_vi": _next_year_text(source.short_title_vi, source.year),
            "short_title_en": _next_year_text(source.short_title_en, source.year),
            **moved_dates(source, year),
            **kwargs["initial"],
        }
        super().__init__(*args, **kwargs)
        for name in date_fields():
            label = Campaign._meta.get_field(name).verbose_name
            self.fields[name] = forms.DateField(
                label=capfirst(label),
                required=False,
                localize=True,
                widget=AdminDateWidget(format="%d/%m/%Y"),
                help_text=_("Empty: the source's date, moved to the year above."),
            )

    def copy_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "code": data["code"],
            "year": data["year"],
            "title_vi": data["title_vi"],
            "title_en": data["title_en"],
            "short_title_vi": data["short_title_vi"],
            "short_title_en": data["short_title_en"],
            "dates": {name: data.get(name) for name in date_fields()},
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """The service's refusals, each beside its field when the form has it."""
        for name, messages_ in error.message_dict.items():
            field = name if name in self.fields else None
            for message in messages_:
                if field is None and name != NON_FIELD_ERRORS:
                    label = capfirst(Campaign._meta.get_field(name).verbose_name)
                    message = f"{label}: {message}"
                self.add_error(field, message)


def _next_year_text(text: str, year: int) -> str:
    return text.replace(str(year), str(year + 1)) if text and str(year) in text else ""


def _is_office_staff(request) -> bool:
    """Setting campaigns up is the district office's: its staff, signed in to the admin."""
    user = request.user
    return user.is_active and user.is_staff and user_scope(user).is_staff_reviewer


@admin.register(Campaign)
class CampaignAdmin(BidiControlsRefusedAdmin, TabbedTranslationAdmin):
    """Campaigns and their settings. The office copies one to a new year (an action, or the
    button on a campaign's page) and takes a campaign's member counts again on purpose (an
    action); a campaign added here takes its member counts when it is saved."""

    list_display = [
        "short_title",
        "year",
        "starts_on",
        "ends_on",
        "study_deadline",
        "plan_deadline",
        "is_active",
        "members_taken_at",
    ]
    readonly_fields = ["members_taken_at", "members_taken_by"]
    actions = ["copy_to_new_year", "take_member_counts_again"]

    def has_office_permission(self, request) -> bool:
        return _is_office_staff(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            take_member_counts(obj, by=request.user)

    def get_urls(self):
        copy_view = self.admin_site.admin_view(self.copy_view)
        return [
            path("<int:object_id>/copy/", copy_view, name="campaigns_campaign_copy"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_copy": _is_office_staff(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Copy to a new year"), permissions=["office"])
    def copy_to_new_year(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, gettext("Choose one campaign to copy."), messages.WARNING)
            return None
        return redirect("admin:campaigns_campaign_copy", object_id=chosen[0].pk)

    @admin.action(description=_("Take the member counts again"), permissions=["office"])
    def take_member_counts_again(self, request, queryset):
        """Asks first: the campaign's figures are judged again on today's counts."""
        campaigns = list(queryset.select_related("members_taken_by"))
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/campaigns/campaign/member_counts_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": gettext("Take the member counts again?"),
                    "opts": self.model._meta,
                    "campaigns": campaigns,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        units = 0
        for campaign in campaigns:
            units = campaign_members_refresh(campaign=campaign, by=request.user)
        self.message_user(
            request,
            ngettext(
                "Member counts taken again for %(count)d campaign (%(units)d units).",
                "Member counts taken again for %(count)d campaigns (%(units)d units each).",
                len(campaigns),
            )
            % {"count": len(campaigns), "units": units},
            messages.SUCCESS,
        )
        return None

    def copy_view(self, request, object_id: int):
        """The copy form: the source's names and dates moved by a year, ready to correct."""
        if not _is_office_staff(request):
            raise PermissionDenied
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        source = self.get_object(request, str(object_id))
        if source is None:
            raise Http404
        if request.method == "POST":
            form = CampaignCopyForm(request.POST, source=source)
            if form.is_valid():
                try:
                    campaign = campaign_copy(source=source, **form.copy_kwargs(), by=request.user)
                except ValidationError as error:
                    form.add_service_errors(error)
                else:
                    self.message_user(
                        request,
                        gettext(
                            "“%(new)s” was created from “%(source)s”, with its own member "
                            "counts. Check its dates and settings."
                        )
                        % {"new": campaign.short_title, "source": source.short_title},
                        messages.SUCCESS,
                    )
                    return redirect("admin:campaigns_campaign_change", object_id=campaign.pk)
        else:
            form = CampaignCopyForm(source=source)
        return TemplateResponse(
            request,
            "admin/campaigns/campaign/copy.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Copy “%(source)s” to a new year")
                % {"source": source.short_title},
                "opts": self.model._meta,
                "source": source,
                "form": form,
                "media": self.media + form.media,
            },
        )


@admin.register(DayOff)
class DayOffAdmin(BidiControlsRefusedAdmin, TabbedTranslationAdmin):
    """Substitute days off and other days the holiday calendar does not know; deadlines that
    fall on them move to the next working day in the campaigns that ask for it."""

    list_display = ["date", "name"]
    date_hierarchy = "date"


@admin.register(StudySession)
class StudySessionAdmin(ReportAdmin):
    list_display = ["unit", "held_on", "kind", "attendees", "members_expected", "status"]


@admin.register(ImplementationPlan)
class ImplementationPlanAdmin(ReportAdmin):
    list_display = ["unit", "number", "issued_on", "status"]


@admin.register(Incident)
class IncidentAdmin(ReportAdmin):
    list_display = ["title", "unit", "opened_on", "severity", "resolved_on", "status"]


@admin.register(Flag)
class FlagAdmin(BidiControlsRefusedAdmin, admin.ModelAdmin):
    list_display = ["unit", "kind", "subject", "opened_on", "closed_on"]
    list_filter = ["kind", "campaign"]
    search_fields = ["unit__code", "unit__search_name"]


@admin.register(DeadlineEngineRun)
class DeadlineEngineRunAdmin(admin.ModelAdmin):
    """A read-only log of the engine's runs. Its columns are named here, in both languages: the
    model's fields carry no verbose names (adding them is a migration for no other gain)."""

    list_display = ["started", "finished", "day", "flags_opened", "flags_closed"]
    fields = readonly_fields = [*list_display, "failure"]

    def has_add_permission(self, request):
        return False  # runs are the engine's to record

    @admin.display(description=_("Started at"), ordering="started_at")
    def started(self, run):
        return run.started_at

    @admin.display(description=_("Finished at"), ordering="finished_at")
    def finished(self, run):
        return run.finished_at

    @admin.display(description=_("As of"), ordering="as_of")
    def day(self, run):
        return run.as_of

    @admin.display(description=_("Flags opened"))
    def flags_opened(self, run):
        return run.opened

    @admin.display(description=_("Flags closed"))
    def flags_closed(self, run):
        return run.closed

    @admin.display(description=_("Error"))
    def failure(self, run):
        return run.error


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin):
    """Read-only: rows change state only through the outbox services (exactly once)."""

    list_display = ["recipient", "kind", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["state", "kind", "campaign"]
    search_fields = ["recipient__username", "recipient__email", "dedupe_key"]
    readonly_fields = [field.name for field in OutgoingMail._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
