"""Every page of the campaign app, under a language prefix (dongda/urls.py):

- ""                              the home page (the overview or the person's unit)
- "dashboard/…"                   namespace `campaigns`: overview, unit table, exports, review
                                  queue, digest preview
- "units/<code>/"                 namespace `units`: the unit's page
- "units/<code>/<kind>/…"         namespace `reports`: the report pages (campaigns.reporting.urls)
- "official-reports/…"            namespace `official`: the committees' official reports
                                  (campaigns.official.urls)

The namespaces name the URL spaces, which are older than this app's packages, so links and the
URL-walk test keep their names.
"""

from django.urls import include, path, re_path

from .dashboard import export_views
from .dashboard import views as dashboard
from .mail import views as mail

dashboard_patterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("units/", dashboard.units_table, name="units_table"),
    re_path(r"^export\.(?P<extension>xlsx|csv)$", dashboard.export_units, name="export_units"),
    path("review/", dashboard.review_queue, name="review_queue"),
    re_path(
        r"^review/export\.(?P<extension>xlsx|csv)$",
        dashboard.export_review_queue,
        name="export_review_queue",
    ),
    path("exports/<int:pk>/", export_views.export_job, name="export_job"),
    path(
        "exports/<int:pk>/progress.json",
        export_views.export_job_progress,
        name="export_job_progress",
    ),
    path(
        "exports/<int:pk>/download/", export_views.export_job_download, name="export_job_download"
    ),
    path("digest/", mail.digest_preview, name="digest_preview"),
    path("digest/email.html", mail.digest_preview_html, name="digest_preview_html"),
]
unit_patterns = [
    path("<slug:code>/", dashboard.unit_detail, name="detail"),
]

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("dashboard/", include((dashboard_patterns, "campaigns"))),
    path("units/", include((unit_patterns, "units"))),
    path("units/<slug:code>/", include("campaigns.reporting.urls")),
    path("official-reports/", include("campaigns.official.urls")),
]
