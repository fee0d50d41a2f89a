"""The project's URLs: the app's pages under a language prefix (/vi/…, /en/…), the admin and the
health check outside it. This module is the roof of the layering: it may name every app."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from campaigns.engine.views import healthz
from units.views import switch_language

# Django's defaults ("Django administration", "Django site admin") name the framework, not the
# district; lazy, so each request shows them in its own language.
admin.site.site_header = _("Thematic study tracker: administration")
admin.site.site_title = _("Administration")
admin.site.index_title = _("Data and accounts")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

urlpatterns += i18n_patterns(
    path("accounts/", include("units.account_urls")),
    path("language/", switch_language, name="switch_language"),
    path("import/units/", include("units.import_urls")),
    path("", include("campaigns.urls")),
    prefix_default_language=True,
)

handler400 = "dongda.views.bad_request"
handler404 = "dongda.views.page_not_found"
handler500 = "dongda.views.server_error"
handler403 = "dongda.views.permission_denied"
