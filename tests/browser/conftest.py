import json
import os
from pathlib import Path

import pytest

from tests.conftest import chromium_path, require

#: axe-core, vendored from its npm package (`npm pack axe-core@4`; version in its header and in
#: README), run on every page the browser tests open.
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: What fails a test: the violations axe rates serious or critical (missing labels, contrast,
#: keyboard traps, landmarks...). Moderate and minor ones are advice.
FAILING_IMPACTS = ("serious", "critical")
#: The page checks itself once it has loaded and the charts and scripts have run, and reports to
#: Python through a binding; `pagehide` is too late for an asynchronous run, so a page left
#: within the first moments is checked by the final `axe_check` instead (see page_factory).
AXE_ON_LOAD = """
(() => {
  if (window.top !== window) return;
  const run = () => {
    if (!window.axe || !window.__axeReport || window.__axeRunning) return;
    window.__axeRunning = true;
    window.axe.run(document, { resultTypes: ["violations"] }).then((results) => {
      window.__axeRunning = false;
      window.__axeReport(location.href, JSON.stringify(results.violations));
    }, (error) => {
      window.__axeRunning = false;
      window.__axeReport(location.href, JSON.stringify([{ id: "axe-error", impact: "critical",
        help: String(error), nodes: [] }]));
    });
  };
  window.addEventListener("load", () => setTimeout(run, 50));
})();
"""

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


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v.get("impact") in FAILING_IMPACTS]


def describe(url: str, violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"][:5]]
        what = f"{violation['impact']} {violation['id']} ({violation['help']})"
        lines.append(f"{url}: {what}: {targets}")
    return "\n".join(lines)


def axe_check(page) -> list[dict]:
    """Runs axe on the page as it is now and returns its serious and critical violations."""
    if page.is_closed() or not page.url.startswith("http"):
        return []
    page.wait_for_function("() => !window.__axeRunning")
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations"
    )
    return serious(found)


@pytest.fixture
def page_factory(browser):
    """Pages at a given size. Every page they load is checked with axe-core: a serious or
    critical violation on any of them fails the test (at its teardown, with the list), so every
    browser test checks every page it visits; `page.axe_check()` checks the page as it is now
    (after a dialog opens, say)."""
    contexts = []
    reported: list[tuple[str, list[dict]]] = []

    def make(*, width: int = 1280, height: int = 900, mobile: bool = False):
        context = browser.new_context(
            viewport={"width": width, "height": height},
            is_mobile=mobile,
            has_touch=mobile,
            device_scale_factor=2 if mobile else 1,
        )
        contexts.append(context)
        # Before the page's own scripts: an init script is not subject to the page's CSP.
        context.add_init_script(path=str(AXE))
        context.add_init_script(script=AXE_ON_LOAD)
        context.expose_binding(
            "__axeReport",
            lambda source, url, violations: reported.append((url, serious(json.loads(violations)))),
        )
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))

        def check_now() -> None:
            found = axe_check(page)
            assert not found, "axe-core:\n" + describe(page.url, found)

        page.axe_check = check_now
        return page

    yield make
    # The page each context shows last is checked whether or not its own run had finished.
    for context in contexts:
        for page in context.pages:
            try:
                reported.append((page.url, axe_check(page)))
            except Exception as error:  # a closed or crashed page says so
                reported.append(
                    (
                        page.url,
                        [
                            {
                                "id": "axe-not-run",
                                "impact": "critical",
                                "help": str(error),
                                "nodes": [],
                            }
                        ],
                    )
                )
    for context in contexts:
        context.close()
    failures = {}
    for url, violations in reported:
        if violations:
            failures.setdefault(url, describe(url, violations))
    if failures:
        pytest.fail(
            f"axe-core found serious or critical violations on {len(failures)} page(s):\n"
            + "\n".join(failures.values()),
            pytrace=False,
        )
    assert reported or not contexts, "axe-core checked no page"
