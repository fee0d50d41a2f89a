"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), which can be told to fail the way real
mail servers do: answer 451 for the next N messages, refuse a recipient with 550, be slow, or be
down for a while and come back on the same port.

A test module imports the fixtures (`smtp_server`, `mail_via_smtp`) by their function names:
`from tests.smtp import mail_via_smtp_fixture, smtp_server_fixture  # noqa: F401`.
"""

import asyncio
import email
import email.policy
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Received:
    """One message the server accepted (answered 250 to its DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


class FaultyHandler:
    """aiosmtpd handler that records what it accepts and fails on request. Its counters are read
    from the test's thread while the server's event loop thread writes them, hence the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.temporary_failures = 0
        self.refused: set[str] = set()
        self.delay = 0.0
        self.in_flight = 0
        self.data_commands = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_commands += 1
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                return "451 4.3.0 try later"
            self.in_flight += 1
        try:
            if self.delay:
                # A client that dies during this sleep cancels this coroutine (aiosmtpd cancels
                # the session's handler on connection loss), so its message is never recorded.
                await asyncio.sleep(self.delay)
            if server.transport is None or server.transport.is_closing():
                return "421 4.4.2 client went away"
            with self.lock:
                self.received.append(
                    Received(
                        mail_from=envelope.mail_from,
                        rcpt_tos=tuple(envelope.rcpt_tos),
                        content=bytes(envelope.original_content or envelope.content),
                    )
                )
        finally:
            with self.lock:
                self.in_flight -= 1
        return "250 OK"


class SmtpServer:
    """The server and the knobs a test turns. Stays on one port across stop() and start()."""

    def __init__(self, port: int | None = None) -> None:
        self.handler = FaultyHandler()
        self.port = port or free_port()
        self._controller: Controller | None = None

    # Life cycle

    def start(self) -> "SmtpServer":
        if self._controller is None:
            self._controller = Controller(self.handler, hostname=HOST, port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def is_running(self) -> bool:
        return self._controller is not None

    @property
    def url(self) -> str:
        """What EMAIL_URL should say for a process (a Celery worker) to send here."""
        return f"smtp://{HOST}:{self.port}?timeout=10"

    # Faults

    def fail_next(self, count: int) -> None:
        """Answer '451 try later' to the next `count` messages."""
        with self.handler.lock:
            self.handler.temporary_failures = count

    def refuse(self, address: str) -> None:
        """Answer '550 no such user' to RCPT TO this address, every time."""
        with self.handler.lock:
            self.handler.refused.add(address.lower())

    def slow_down(self, seconds: float) -> None:
        """Take this long before accepting each message."""
        self.handler.delay = seconds

    # What arrived

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def in_flight(self) -> int:
        with self.handler.lock:
            return self.handler.in_flight

    def per_recipient(self) -> Counter:
        return Counter(rcpt.lower() for item in self.received for rcpt in item.rcpt_tos)

    def messages_to(self, address: str) -> list[EmailMessage]:
        address = address.lower()
        return [
            item.message
            for item in self.received
            if address in (rcpt.lower() for rcpt in item.rcpt_tos)
        ]

    def wait_until(self, condition, *, timeout: float = 30.0, interval: float = 0.02) -> None:
        """Poll `condition(self)` until it is true; fail the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition(self):
            if time.monotonic() > deadline:
                pytest.fail(
                    f"SMTP server: condition not met in {timeout} s; "
                    f"received {dict(self.per_recipient())}, in flight {self.in_flight}"
                )
            time.sleep(interval)


@pytest.fixture(name="smtp_server")
def smtp_server_fixture():
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="mail_via_smtp")
def mail_via_smtp_fixture(settings, smtp_server) -> SmtpServer:
    """Django in this process sends through the test SMTP server."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": HOST, "port": smtp_server.port, "timeout": 5},
        }
    }
    return smtp_server


@pytest.fixture(autouse=True)
def isolated_mail_settings(settings):
    """A cache of this test's own, and a known SITE_URL. The district digest is cached by campaign
    pk and week, and pks repeat between tests (and between test databases sharing one Redis), so
    a shared cache would hand one test the digest another test rendered. Links in e-mails start
    with SITE_URL, which a deployment's environment must not change here."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }
    settings.SITE_URL = "http://127.0.0.1:8000"
