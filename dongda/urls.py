from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from units import views as unit_views

urlpatterns = [
    path("healthz", unit_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

urlpatterns += i18n_patterns(
    path("accounts/", include("units.account_urls")),
    path("", unit_views.home, name="home"),
    path("language/", unit_views.switch_language, name="switch_language"),
    path("dashboard/", include("campaigns.urls")),
    path("units/", include("units.urls")),
    path("units/<slug:code>/", include("campaigns.report_urls")),
    prefix_default_language=True,
)

handler404 = "units.views.page_not_found"
handler500 = "units.views.server_error"
handler403 = "units.views.permission_denied"
