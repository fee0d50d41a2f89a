"""The error pages, in the language of the URL they answer (they render without a view's
context, so they stay on the bottom floor).

The 400, CSRF and 500 pages render alone, without the base template's context processors: a
malformed request or a failing database must not be able to break the page that reports it."""

from django.http import HttpResponseBadRequest, HttpResponseForbidden, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils import translation

#: The headers a page answered before the middleware that would set them carries itself (the
#: 413 and the WSGI guard's 400 are answered before SecurityMiddleware and the CSP middleware).
STANDALONE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'",
}


def render_standalone(template: str, language: str | None = None, **context) -> str:
    """An error page extending error_standalone.html, in `language` (the active one when
    None), with nothing but LANGUAGE_CODE and `context`."""
    language = language or translation.get_language()
    with translation.override(language):
        return loader.get_template(template).render({"LANGUAGE_CODE": language, **context})


def bad_request(request, exception=None):
    # Its language from the URL itself: a host the site does not serve is refused by
    # SecurityMiddleware's HTTPS redirect, before LocaleMiddleware has read the prefix.
    language = translation.get_language_from_path(request.path_info) or translation.get_language()
    response = HttpResponseBadRequest(render_standalone("400.html", language))
    response["Content-Language"] = language
    return response


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors here: the failure may be the database they would query.
    return HttpResponseServerError(render_standalone("500.html"))


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def csrf_failure(request, reason: str = ""):
    """A form sent without its CSRF token: most often a page left open past the session, or
    cookies refused. The person is told what to do; Django has already logged the reason."""
    return HttpResponseForbidden(render_standalone("403_csrf.html"))
