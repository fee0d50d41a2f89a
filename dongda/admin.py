"""django-axes' admin lists in the page's language. Axes names its rows with English f-strings
("Access Log for vanphong @ 2024-05-20 …") and its lockout column with an untranslated header and
a sentence glued from a number and a word; the district office reads these lists when someone is
locked out. `dongda.apps.AxesConfig.ready()` puts these in place of axes' own."""

from axes import admin as axes_admin
from axes.conf import settings as axes_settings
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _


def _when(moment) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def attempt_name(attempt: AccessAttempt) -> str:
    return gettext("Failed sign-ins of %(username)s from %(ip)s") % {
        "username": attempt.username or "?",
        "ip": attempt.ip_address or "?",
    }


def log_name(entry: AccessLog) -> str:
    return gettext("Sign-in of %(username)s at %(time)s") % {
        "username": entry.username or "?",
        "time": _when(entry.attempt_time),
    }


def failure_name(entry: AccessFailureLog) -> str:
    return gettext("Failed sign-in of %(username)s at %(time)s from %(ip)s") % {
        "username": entry.username or "?",
        "time": _when(entry.attempt_time),
        "ip": entry.ip_address or "?",
    }


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.display(description=_("Status"))
    def status(self, obj: AccessAttempt):
        limit = axes_settings.AXES_FAILURE_LIMIT
        if obj.failures_since_start < limit:
            left = limit - obj.failures_since_start
            return ngettext("%(count)d attempt left", "%(count)d attempts left", left) % {
                "count": left
            }
        return gettext("Locked out")


def install() -> None:
    """Called once the admin has registered axes' own classes."""
    AccessAttempt.__str__ = attempt_name
    AccessLog.__str__ = log_name
    AccessFailureLog.__str__ = failure_name
    if admin.site.is_registered(AccessAttempt):
        admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)
