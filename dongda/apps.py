"""A library's app as the admin shows it. django-axes calls its app by its label ("Axes"), a word
no catalogue translates, and writes its rows' names in English: the admin shows the district's
words instead (dongda/admin.py). It also reads, at start-up, the proxies whose X-Forwarded-For
names the client axes counts failures by (dongda/proxies.py)."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    verbose_name = _("Sign-in protection")

    def ready(self):
        super().ready()
        # After django.contrib.admin (listed first), whose ready() registered axes' own admin.
        from .admin import install
        from .proxies import trusted_networks

        install()
        # Axes asks for the client's address at the first sign-in; a mistyped TRUSTED_PROXIES
        # must stop the app at start-up instead, naming the variable.
        trusted_networks()
