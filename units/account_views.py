from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from dongda.text import BidiControlsRefused

from .models import User
from .services import user_stop_digests, user_update_profile
from .tokens import UNSUBSCRIBE_MAX_AGE, read_unsubscribe_token


class LoginView(auth_views.LoginView):
    """After sign-in the person lands in the language of the page they signed in on.

    The sign-in page always has a language prefix, and it is the language the person was just
    reading (the one they followed a link in, chose with the switcher, or got from their
    browser's preference at /): the next page keeps it, and so does the cookie that / and the
    admin follow. The language saved on the profile is the language of the person's e-mails; it
    does not override a page they chose to read in the other language."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_success_url(self):
        url = self.get_redirect_url()
        if url:
            # ?next= keeps the language of the page that asked for a sign-in, even after the
            # person switched the sign-in page to the other one.
            language = translation.get_language()
            # translate_url resolves the path in the active language: the one of its prefix.
            with translation.override(translation.get_language_from_path(url) or language):
                return translate_url(url, language)
        return reverse("home")  # in the active language: the sign-in page's

    def form_valid(self, form):
        response = super().form_valid(form)
        response.set_cookie("dongda_language", translation.get_language(), samesite="Lax")
        return response


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The page an invitation links to: a new person chooses their password, once. Django's
    password-reset token does the work: it is bound to the (unusable) password, so it stops
    working the moment a password is set, and after PASSWORD_RESET_TIMEOUT."""

    template_name = "registration/password_set.html"
    post_reset_login = False

    def get_success_url(self):
        return reverse("login")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request, _("Your password is set. Sign in with your sign-in name and it.")
        )
        return response


class ProfileForm(BidiControlsRefused, forms.ModelForm):
    class Meta:
        model = User
        # Family name first, as Vietnamese forms ask for "Họ" before "Tên".
        fields = [
            "last_name",
            "first_name",
            "email",
            "language",
            "receives_digests",
            "digest_when_all_clear",
        ]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    """A person's own settings: name, e-mail, language and what the weekly digest sends them."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = user_update_profile(user=request.user, **form.cleaned_data)
        # The next page is in the language just chosen, and so is the message shown on it.
        with translation.override(user.language):
            messages.success(request, _("Your settings were saved."))
            return redirect("profile")
    return render(request, "registration/profile.html", {"form": form})


@csrf_exempt  # mail clients post the one-click unsubscribe without a CSRF token; the signed
# token in the URL is what authorises it (RFC 8058).
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    signed = read_unsubscribe_token(token)
    user = User.objects.filter(pk=signed.user_id).first() if signed else None
    if user is None:
        return render(request, "registration/unsubscribe.html", {"invalid": True}, status=400)
    if signed.expired:
        return _unsubscribe_expired(request, user)
    if request.method == "POST":
        user_stop_digests(user=user)
        return render(request, "registration/unsubscribe.html", {"done": True, "person": user})
    return render(request, "registration/unsubscribe.html", {"person": user, "token": token})


def _unsubscribe_expired(request, user: User):
    """Gone for good (410), whether opened or one-click posted: the page says what to do
    instead, in the person's own language, since the link was theirs."""
    language = user.language if user.language in ("vi", "en") else translation.get_language()
    with translation.override(language):
        response = render(
            request,
            "registration/unsubscribe.html",
            {
                "expired": True,
                "valid_days": UNSUBSCRIBE_MAX_AGE.days,
                "profile_url": reverse("profile"),
            },
            status=410,
        )
    # LocaleMiddleware would otherwise label the page with the language of the URL.
    response.headers["Content-Language"] = language
    return response
