"""The door (dongda.middleware_requests): what no browser sends is refused with the 400 page in
the language of the URL before anything reads it, and what a browser sends goes through. The
fuzz (tests/test_fuzz_requests.py) sends all of it to every page; here each refusal is looked at
once, with its page, its place among the middleware, and the WSGI guard for the requests Django
cannot even build."""

import io
from urllib.parse import urlencode

import pytest
from django.core.exceptions import BadRequest
from django.core.handlers.wsgi import WSGIRequest
from django.test import Client
from django.test.client import MULTIPART_CONTENT, encode_multipart

from dongda.middleware_requests import UnreadableRequestGuard
from tests.factories import TEST_PASSWORD
from tests.test_fuzz_requests import with_request_checks

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
LOGIN = "/en/accounts/login/"
TITLE = "The request could not be read"


@pytest.fixture(autouse=True)
def door(settings):
    settings.MIDDLEWARE = with_request_checks(settings.MIDDLEWARE)


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    ("what", "request_kwargs"),
    [
        ("NUL in the query string", {"path": f"{LOGIN}?next=%2Fen%2F%00"}),
        ("invalid UTF-8 in the query string", {"path": f"{LOGIN}?next=%FF%FE"}),
        ("the UTF-8 of a lone surrogate", {"path": f"{LOGIN}?next=%ED%A0%80"}),
        ("an overlong NUL", {"path": f"{LOGIN}?next=%C0%80"}),
        ("NUL in the path", {"path": "/en/accounts/unsubscribe/a%00b/"}),
        ("NUL in a header", {"path": LOGIN, "headers": {"user-agent": "x\x00y"}}),
        (
            "a charset other than UTF-8",
            {"path": LOGIN, "headers": {"content-type": "text/plain; charset=utf-7"}},
        ),
    ],
)
def test_a_request_no_browser_sends_gets_the_400_page_in_the_urls_language(
    client, what, request_kwargs
):
    response = client.generic("GET", **request_kwargs)
    assert response.status_code == 400, what
    assert TITLE in response.text and 'lang="en"' in response.text


def test_a_session_cookie_holding_nul_is_refused_before_the_session_is_looked_up(
    client, django_assert_num_queries
):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    with django_assert_num_queries(0):  # PostgreSQL would refuse the lookup: a 500
        response = client.get(LOGIN)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (FORM, b"user%00name=a&password=x"),
        (FORM, b"username=%FFab&password=x"),
        (MULTIPART_CONTENT, encode_multipart("BoUnDaRy", {"user\x00name": "a", "password": "x"})),
        (f"{FORM}; charset=utf-16", "username=a&password=x".encode("utf-16")),
        (f"{MULTIPART_CONTENT}; charset=utf-7", encode_multipart("BoUnDaRy", {"next": "+2AA-"})),
    ],
)
def test_a_form_no_browser_sends_is_refused_before_the_view_reads_it(client, content_type, body):
    response = client.generic("POST", LOGIN, body, content_type=content_type)
    assert response.status_code == 400
    assert TITLE in response.text


def test_what_a_browser_sends_goes_through(client, staff):
    page = client.get(f"{LOGIN}?next=%2Fen%2Fdashboard%2F%3Fq%3DK%C3%ADm%2BLi%C3%AAn")
    assert page.status_code == 200
    signed_in = client.post(
        f"{LOGIN}?next=%2Fen%2Fdashboard%2F",
        urlencode({"username": "vanphong", "password": TEST_PASSWORD}),
        content_type=f"{FORM}; charset=UTF-8",
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/en/dashboard/"
    # A multipart form (every report form with a file) in UTF-8, a tab and a newline in it.
    response = client.post("/en/language/", {"language": "vi", "next": "/en/\tx\ny"})
    assert response.status_code == 302


def test_a_form_that_fails_csrf_is_not_read_at_all():
    """The body is read after CSRF's check: a cross-site POST gets the CSRF page, and its body
    (here one the door would refuse) is never parsed."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    body = encode_multipart("BoUnDaRy", {"username": "a\x00b", "password": "x"})
    response = client.generic("POST", LOGIN, body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 403
    assert response.wsgi_request._read_started is False


# --- The WSGI guard ------------------------------------------------------------------------------

#: Requests whose WSGIRequest raises while it is built, before any middleware (the WSGI server
#: would answer a bare 500): the query string decoded in a charset that is no text encoding or
#: refuses to decode, a Content-Type too long to parse.
UNBUILDABLE = {
    "a codec that is no text encoding": {"CONTENT_TYPE": "text/plain; charset=rot13"},
    "a codec that refuses to decode": {"CONTENT_TYPE": f"{FORM}; charset=undefined"},
    "a Content-Type too long to parse": {"CONTENT_TYPE": "text/plain; a=" + "b" * 10_000},
}


def wsgi_environ(path: str, **extra) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "q=1",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        **extra,
    }


def call_wsgi(application, environ) -> tuple[str, dict, str]:
    answer = {}

    def start_response(status, headers):
        answer.update(status=status, headers=dict(headers))

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body.decode()


@pytest.mark.parametrize("what", UNBUILDABLE)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_request_django_cannot_build_gets_the_400_page_from_the_wsgi_guard(what, lang):
    environ = wsgi_environ(f"/{lang}/dashboard/units/", **UNBUILDABLE[what])
    with pytest.raises((LookupError, UnicodeError, BadRequest)):
        WSGIRequest(dict(environ))  # what Django's own application would do with it
    reached = []
    guard = UnreadableRequestGuard(lambda environ, start_response: reached.append(environ))
    status, headers, body = call_wsgi(guard, environ)
    assert status == "400 Bad Request" and not reached
    assert headers["Content-Language"] == lang and f'lang="{lang}"' in body
    if lang == "en":
        assert TITLE in body


def test_the_wsgi_guard_lets_a_readable_request_through():
    def application(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"the app"]

    guard = UnreadableRequestGuard(application)
    readable = ("", FORM, f"{FORM}; charset=UTF-8", MULTIPART_CONTENT, "text/plain; charset=utf8")
    for content_type in readable:
        environ = wsgi_environ("/vi/", CONTENT_TYPE=content_type)
        assert call_wsgi(guard, environ) == ("200 OK", {"Content-Type": "text/plain"}, "the app")


def test_the_served_application_is_guarded():
    from dongda.wsgi import application

    assert isinstance(application, UnreadableRequestGuard)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (FORM, b"username=a%00b&password=x"),
        (MULTIPART_CONTENT, encode_multipart("BoUnDaRy", {"username": "a\x00b", "password": "x"})),
    ],
)
def test_a_nul_in_a_fields_value_is_the_forms_to_refuse_beside_the_field(
    client, content_type, body
):
    response = client.generic("POST", LOGIN, body, content_type=content_type)
    assert response.status_code == 200  # the sign-in page again, with the field's error
    assert "Null characters are not allowed." in response.text
