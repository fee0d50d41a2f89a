from django.urls import path, re_path

from . import dashboard_views, views

app_name = "campaigns"
urlpatterns = [
    path("", dashboard_views.dashboard, name="dashboard"),
    path("units/", dashboard_views.units_table, name="units_table"),
    re_path(
        r"^export\.(?P<extension>xlsx|csv)$", dashboard_views.export_units, name="export_units"
    ),
    path("review/", dashboard_views.review_queue, name="review_queue"),
    re_path(
        r"^review/export\.(?P<extension>xlsx|csv)$",
        dashboard_views.export_review_queue,
        name="export_review_queue",
    ),
    path("digest/", views.digest_preview, name="digest_preview"),
    path("digest/email.html", views.digest_preview_html, name="digest_preview_html"),
]
