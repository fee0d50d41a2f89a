"""How much a request body may carry, refused before it is read.

Without this, Django reads a multipart body to its end before a form can say it is too big: a
300 MB upload kept a worker busy for seconds and was written to a temporary file first, and a
client announcing a huge body and sending it slowly held the worker all that time. This
middleware comes first (settings.MIDDLEWARE) and looks only at the request's headers:

- a Content-Length over settings.REQUEST_MAX_BYTES gets a short 413 page at once, in the language
  of the URL, with none of the body read (Django itself never reads past the Content-Length, so
  a body that passes here is bounded by it);
- a chunked body (no Content-Length) reaches Django only when the server has de-chunked it and
  says so (`wsgi.input_terminated`, as gunicorn does). Django would read such a body as empty, so
  it is read here, up to the same limit: past it, 413; within it, the request goes on with the
  body and its length, like any other. Without that flag (runserver) Django reads none of it.

Which file parts of an accepted body are kept, and how much of each, is the upload handler's
(dongda.uploads).
"""

import tempfile

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils import translation

from dongda.views import STANDALONE_HEADERS, render_standalone

CHUNK = 64 * 1024


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.REQUEST_MAX_BYTES
        declared = _content_length(request.META)
        spooled = None
        if declared is not None:
            if declared > limit:
                return too_large(request)
        elif _is_chunked(request.META) and request.META.get("wsgi.input_terminated"):
            spooled = _take_chunked_body(request, limit)
            if spooled is None:
                return too_large(request)
        response = self.get_response(request)
        if spooled is not None:
            # Closed when the server is done with the response, as Django closes the request.
            response._resource_closers.append(spooled.close)
        return response


def _content_length(meta) -> int | None:
    try:
        return int(meta["CONTENT_LENGTH"])
    except (KeyError, ValueError, TypeError):
        # Absent, empty or not a number: Django reads no body for it either.
        return None


def _is_chunked(meta) -> bool:
    return "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()


def _take_chunked_body(request, limit: int):
    """Reads a de-chunked body into a spooled file, at most `limit` bytes of it, and returns the
    file (None when the body is longer). The request then reads its body from that file, with
    its Content-Length set."""
    source = request.META["wsgi.input"]
    # In memory up to Django's own threshold for an upload, on disk past it, as Django would
    # keep the files in it anyway. Not a `with`: the request reads it after this returns.
    body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    size = 0
    while True:
        chunk = source.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            body.close()
            return None
        body.write(chunk)
    body.seek(0)
    # The multipart parser and request.body go by CONTENT_LENGTH, which a chunked request lacks.
    request.META["CONTENT_LENGTH"] = str(size)
    request._stream = LimitedStream(body, size)
    request._read_started = False
    return body


def too_large(request) -> HttpResponse:
    """The 413 page. It is answered before the session, the language and the security
    middleware run, so it reads the language from the URL (/vi/, /en/) like LocaleMiddleware
    would, uses no context processor and sets its own headers."""
    language = translation.get_language_from_request(request, check_path=True)
    with translation.override(language):
        limits = {
            "limit": filesizeformat(settings.REQUEST_MAX_BYTES),
            "file_limit": filesizeformat(settings.EVIDENCE_MAX_BYTES),
        }
    html = render_standalone("413.html", language, **limits)
    response = HttpResponse(html, status=413, headers=STANDALONE_HEADERS)
    response["Content-Language"] = language
    return response
