from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TabbedTranslationAdmin
from simple_history.admin import SimpleHistoryAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from dongda.text import BidiControlsRefusedAdmin

from .models import Assignment, Unit, User
from .sign_in import AdminSignInForm
from .signals import invitations_wanted

# The admin's sign-in page checks the sign-in name's length, as the app's does (units.sign_in).
admin.site.login_form = AdminSignInForm


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(Unit)
class UnitAdmin(BidiControlsRefusedAdmin, SimpleHistoryAdmin, TreeAdmin, TabbedTranslationAdmin):
    """District staff correct a unit's member count here; each change is kept in the unit's
    history (who, when, from what), and the unit's coverage and flags follow at once."""

    form = movenodeform_factory(Unit, exclude=["search_name"])
    history_list_display = ["member_count", "is_active"]
    list_display = ["name", "code", "kind", "sector", "member_count", "is_active"]
    list_filter = ["kind", "sector", "is_active"]
    search_fields = ["code", "name_vi", "name_en", "search_name"]


@admin.register(User)
class UserAdmin(BidiControlsRefusedAdmin, DjangoUserAdmin):
    fieldsets = (*DjangoUserAdmin.fieldsets, (_("Language"), {"fields": ["language", "phone"]}))
    list_display = ["username", "first_name", "last_name", "email", "language", "is_active"]
    inlines = [AssignmentInline]
    actions = ["send_invitation"]

    @admin.action(description=_("Send a new invitation"))
    def send_invitation(self, request, queryset):
        """For someone whose invitation expired or was lost: a fresh link to choose a password.
        Only people who have none yet (a link would not work for the others)."""
        people = [
            user.pk
            for user in queryset.filter(is_active=True).exclude(email="")
            if not user.has_usable_password()
        ]
        invitations_wanted.send(sender=User, user_ids=people, again=True)
        self.message_user(
            request,
            ngettext(
                "Invitation queued for %(count)d person without a password.",
                "Invitations queued for %(count)d people without a password.",
                len(people),
            )
            % {"count": len(people)},
        )


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "unit", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "unit__code", "unit__search_name"]
    autocomplete_fields = ["user", "unit"]
