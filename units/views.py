from django.http import HttpResponseRedirect
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .services import user_set_language


@require_POST
def switch_language(request):
    """Like Django's set_language, but every page lives under a language prefix, so the target is
    the same page under the other prefix; a signed-in person's choice is also saved for e-mails."""
    language = request.POST.get("language", "")
    if not translation.check_for_language(language) or language not in ("vi", "en"):
        language = translation.get_language()
    next_url = request.POST.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    if safe and next_url:
        target = translate_url(next_url, language)
    else:
        with translation.override(language):
            target = reverse("home")
    response = HttpResponseRedirect(target)
    response.set_cookie("dongda_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response
