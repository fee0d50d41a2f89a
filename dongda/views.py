"""The error pages, in the language of the URL they answer (they render without a view's
context, so they stay on the bottom floor)."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils import translation


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors here: the failure may be the database they would query.
    html = loader.get_template("500.html").render({"LANGUAGE_CODE": translation.get_language()})
    return HttpResponseServerError(html)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
