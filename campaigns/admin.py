from django.contrib import admin
from modeltranslation.admin import TabbedTranslationAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Campaign,
    DeadlineEngineRun,
    Flag,
    ImplementationPlan,
    Incident,
    OutgoingMail,
    StudySession,
)


class ReportAdmin(SimpleHistoryAdmin, TabbedTranslationAdmin):
    list_filter = ["status", "campaign"]
    search_fields = ["unit__code", "unit__search_name"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["created_by", "reviewed_by", "submitted_at", "reviewed_at"]


@admin.register(Campaign)
class CampaignAdmin(TabbedTranslationAdmin):
    list_display = ["short_title", "year", "study_deadline", "plan_deadline", "is_active"]


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
class FlagAdmin(admin.ModelAdmin):
    list_display = ["unit", "kind", "subject", "opened_on", "closed_on"]
    list_filter = ["kind", "campaign"]
    search_fields = ["unit__code", "unit__search_name"]


@admin.register(DeadlineEngineRun)
class DeadlineEngineRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "as_of", "opened", "closed"]


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
