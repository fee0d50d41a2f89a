"""The sign-in forms, the app's and the admin's: Django's, with the sign-in name's length checked.

Django's AuthenticationForm sets the name field's max_length after the field is built, so the
page shows a `maxlength` that nothing checks: a hand-made POST with a name thousands of
characters long reached authenticate(), and django-axes, recording the failed sign-in, could
not store it (PostgreSQL refuses more than its column's 255 characters: a 500). Checked here,
the name gets the usual "at most 150 characters" message, and nobody is looked up or recorded.
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

from dongda.text import BidiControlsRefused


class NameLengthChecked:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = self.fields["username"]
        name.validators = [*name.validators, MaxLengthValidator(name.max_length)]


class SignInForm(BidiControlsRefused, NameLengthChecked, AuthenticationForm):
    pass


class AdminSignInForm(BidiControlsRefused, NameLengthChecked, AdminAuthenticationForm):
    pass
