"""Report pages, under a unit: /<lang>/units/<code>/<kind>/… with <kind> the slug of a registered
report kind (sessions, plans, tasks, reports, initiatives, incidents), and items filed under
another at /<lang>/units/<code>/<parent kind>/<id>/<kind>/new/ (a task's progress reports)."""

from django.urls import path, register_converter

from ..registry import ReportKind, report_kind, report_kinds
from . import views


class ReportKindConverter:
    """Matches the slug of any registered report kind. The pattern is read when the URLconf is
    first used, after every app has registered its rules."""

    @property
    def regex(self) -> str:
        return "|".join(report_kinds())

    def to_python(self, value: str) -> ReportKind:
        return report_kind(value)

    def to_url(self, value) -> str:
        return value.slug if isinstance(value, ReportKind) else str(value)


register_converter(ReportKindConverter, "report")

app_name = "reports"
urlpatterns = [
    path("<report:kind>/new/", views.report_new, name="new"),
    path(
        "<report:parent_kind>/<int:parent_pk>/<report:kind>/new/",
        views.report_new_child,
        name="new_child",
    ),
    path("<report:kind>/<int:pk>/", views.report_detail, name="detail"),
    path("<report:kind>/<int:pk>/edit/", views.report_edit, name="edit"),
    path("<report:kind>/<int:pk>/submit/", views.report_submit_view, name="submit"),
    path("<report:kind>/<int:pk>/review/", views.report_review_view, name="review"),
    path("<report:kind>/<int:pk>/file/", views.report_file, name="file"),
]
