import os

import pytest

from tests.conftest import chromium_path, require

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # The machines have no network beyond loopback: stop Chromium's background calls home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests. Playwright's sync API runs an event loop in the test's
    thread; the ORM calls the fixtures make in that thread are still synchronous and safe, so
    Django's async guard is lifted for this package only (and put back after it, since
    `check --deploy` in other tests' subprocesses refuses the variable)."""
    executable = chromium_path()
    require(executable is not None, "Chromium (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page_factory(browser):
    contexts = []

    def make(*, width: int = 1280, height: int = 900, mobile: bool = False):
        context = browser.new_context(
            viewport={"width": width, "height": height},
            is_mobile=mobile,
            has_touch=mobile,
            device_scale_factor=2 if mobile else 1,
        )
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
