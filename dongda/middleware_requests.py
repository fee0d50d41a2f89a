"""Requests refused at the door with a plain 400: what no browser sends and the app could not
answer with anything but a 500.

- A charset other than UTF-8 in the Content-Type. The pages and their forms are UTF-8; Django
  would decode the query string and a multipart body in the declared charset, where UTF-7
  yields lone surrogates that no page can be encoded with (a 500 when the form is shown again)
  and a codec such as rot13 or base64 is no text encoding at all (a 500 on the first read).
- NUL in the path, the query string, a header, a cookie or a form's field names. PostgreSQL
  refuses NUL in text, so any lookup with such a value fails (a session cookie with one fails in
  the sessions table before any view runs); no keyboard types it. A NUL in a form field's value
  is left to the form, which refuses it beside the field in the person's language.
- A query string or a urlencoded body whose bytes are not UTF-8 once unescaped (%FF, an
  overlong %C0%80, the UTF-8 of a lone surrogate). Django would read them as U+FFFD and go on
  with text nobody sent.

Everything else is the views' and the forms' to refuse, with a message where a person could
have typed it. The 400 page is `handler400`'s, in the language of the URL. In settings.MIDDLEWARE
this comes right after CsrfViewMiddleware: after LocaleMiddleware (the page's language), before
anything that loads the session or reads the query (the middleware above only set up lazy
objects), and with the body read in process_view, after CSRF's own check: a body is never parsed
here for a request CSRF refuses, and the upload handlers (dongda.uploads) know the URL by then.

Two of these break Django before any middleware runs: building the request decodes the query
string in the declared charset (a codec such as rot13 raises LookupError, "undefined" raises
UnicodeError), and a Content-Type header too long to parse raises BadRequest, both outside the
handler that would turn them into a 400, so the WSGI server answers 500. `UnreadableRequestGuard`
wraps the WSGI application (dongda/wsgi.py) and answers those with the same 400 page.
"""

import codecs
from urllib.parse import unquote_to_bytes

from django.core.exceptions import BadRequest
from django.core.handlers.wsgi import get_path_info
from django.utils import translation
from django.utils.http import parse_header_parameters

from dongda.views import STANDALONE_HEADERS, render_standalone

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class MalformedRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = (
            _foreign_charset(request)
            or _nul_in_path_headers_or_cookies(request)
            or _bad_escapes("query string", _native_bytes(request.META.get("QUERY_STRING", "")))
        )
        if problem:
            raise BadRequest(problem)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Django reads a form body for POST only: other methods' bodies reach no view.
        if request.method != "POST" or request.content_type not in FORM_TYPES:
            return None
        if request.content_type == "application/x-www-form-urlencoded":
            # A NUL in a field's value is the form's to refuse, beside the field and in the
            # person's language (Django's text fields prohibit it); only its names are ours.
            problem = _bad_escapes("form", request.body, nul_allowed=True) or _nul_in_fields(
                request
            )
        else:
            problem = _nul_in_fields(request)
        if problem:
            raise BadRequest(problem)
        return None


class UnreadableRequestGuard:
    """WSGI middleware: the requests Django cannot even build (see the module's docstring) get
    the 400 page, in the language of the URL, before Django sees them."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            _content_type, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        except ValueError:
            return self.refuse(environ, start_response)
        if _charset_problem(params.get("charset")):
            return self.refuse(environ, start_response)
        return self.application(environ, start_response)

    @staticmethod
    def refuse(environ, start_response):
        language = translation.get_language_from_path(get_path_info(environ)) or "vi"
        body = render_standalone("400.html", language).encode()
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Content-Language", language),
                *STANDALONE_HEADERS.items(),
            ],
        )
        return [body]


def _foreign_charset(request) -> str:
    return _charset_problem((request.content_params or {}).get("charset"))


def _charset_problem(charset: str | None) -> str:
    if charset is None:
        return ""
    try:
        if codecs.lookup(charset).name == "utf-8":
            return ""
    except LookupError:
        pass
    return f"the request declares the charset {charset[:40]!r}; the app reads UTF-8 only"


def _nul_in_path_headers_or_cookies(request) -> str:
    if "\x00" in request.path_info:
        return "NUL in the path"
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            return f"NUL in the header {name}"
    if any("\x00" in name or "\x00" in value for name, value in request.COOKIES.items()):
        return "NUL in a cookie"
    return ""


def _native_bytes(text: str) -> bytes:
    """The bytes of a WSGI "native string" (bytes decoded as Latin-1, as Django reads them); an
    ASGI server hands the text already decoded."""
    try:
        return text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _bad_escapes(where: str, raw: bytes, *, nul_allowed: bool = False) -> str:
    """Why a query string or urlencoded body cannot be read as the UTF-8 a browser sends, or ""."""
    if not raw:
        return ""
    try:
        text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return f"the {where} is not UTF-8"
    return f"NUL in the {where}" if "\x00" in text and not nul_allowed else ""


def _nul_in_fields(request) -> str:
    if any("\x00" in name for name in request.POST):
        return "NUL in the name of a form field"
    if any("\x00" in name for name in request.FILES):
        return "NUL in the name of a file field"
    return ""
