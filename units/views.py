from django.http import HttpResponseRedirect
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

#: The longest `next` kept whole. A page's address is short; a longer one is a pasted or forged
#: query (a 5,000-character ?as_of=) that the switcher would otherwise echo into every page and
#: redirect: past this, only the path is kept.
MAX_NEXT_LENGTH = 1000


@require_POST
def switch_language(request):
    """Like Django's set_language, but every page lives under a language prefix, so the target is
    the same page, with its query, under the other prefix. It sets the browser's language (the
    cookie, for the pages without a prefix: / and the admin) and nothing else: the language of a
    person's e-mails is theirs to choose on their profile, not a side effect of reading a page in
    English once."""
    language = request.POST.get("language", "")
    if not translation.check_for_language(language) or language not in ("vi", "en"):
        language = translation.get_language()
    next_url = request.POST.get("next") or ""
    if len(next_url) > MAX_NEXT_LENGTH:
        next_url = next_url.split("?", 1)[0][:MAX_NEXT_LENGTH]
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if safe and next_url:
        target = translate_url(next_url, language)
    else:
        with translation.override(language):
            target = reverse("home")
    response = HttpResponseRedirect(target)
    response.set_cookie("dongda_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response
