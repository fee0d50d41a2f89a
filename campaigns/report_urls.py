"""Report pages, under a unit: /<lang>/units/<code>/<kind>/… (kind: sessions, plans, tasks,
reports, initiatives, incidents)."""

from django.urls import path, register_converter

from . import report_views as views
from .reports import ReportKindConverter

register_converter(ReportKindConverter, "report")

app_name = "reports"
urlpatterns = [
    path("<report:kind>/new/", views.report_new, name="new"),
    path("tasks/<int:task_pk>/reports/new/", views.progress_report_new, name="new_progress"),
    path("<report:kind>/<int:pk>/", views.report_detail, name="detail"),
    path("<report:kind>/<int:pk>/edit/", views.report_edit, name="edit"),
    path("<report:kind>/<int:pk>/submit/", views.report_submit_view, name="submit"),
    path("<report:kind>/<int:pk>/review/", views.report_review_view, name="review"),
    path("<report:kind>/<int:pk>/file/", views.report_file, name="file"),
]
