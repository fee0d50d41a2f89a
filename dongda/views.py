"""The error pages, in the language of the URL they answer (they render without a view's
context, so they stay on the bottom floor).

The 400, CSRF and 500 pages render alone, without the base template's context processors: a
malformed request or a failing database must not be able to break the page that reports it."""

from django.http import HttpResponseBadRequest, HttpResponseForbidden, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils import translation


def _standalone(template: str) -> str:
    return loader.get_template(template).render({"LANGUAGE_CODE": translation.get_language()})


def bad_request(request, exception=None):
    # Its language from the URL itself: a host the site does not serve is refused by
    # SecurityMiddleware's HTTPS redirect, before LocaleMiddleware has read the prefix.
    language = translation.get_language_from_path(request.path_info) or translation.get_language()
    with translation.override(language):
        response = HttpResponseBadRequest(_standalone("400.html"))
    response["Content-Language"] = language
    return response


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors here: the failure may be the database they would query.
    return HttpResponseServerError(_standalone("500.html"))


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def csrf_failure(request, reason: str = ""):
    """A form sent without its CSRF token: most often a page left open past the session, or
    cookies refused. The person is told what to do; Django has already logged the reason."""
    return HttpResponseForbidden(_standalone("403_csrf.html"))
