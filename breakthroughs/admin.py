from django.contrib import admin

from campaigns.admin import ReportAdmin

from .models import BreakthroughTask, Initiative, ProgressReport


@admin.register(BreakthroughTask)
class BreakthroughTaskAdmin(ReportAdmin):
    list_display = ["title", "unit", "field", "due_on", "status"]
    search_fields = ["unit__code", "unit__search_name", "title_vi", "title_en"]
    list_filter = ["status", "field", "campaign"]


@admin.register(ProgressReport)
class ProgressReportAdmin(ReportAdmin):
    list_display = ["task", "period_start", "percent", "status"]
    list_filter = ["status"]
    autocomplete_fields = ["unit", "task"]


@admin.register(Initiative)
class InitiativeAdmin(ReportAdmin):
    list_display = ["name", "unit", "started_on", "stage", "status"]
    search_fields = ["unit__code", "unit__search_name", "name_vi", "name_en"]
