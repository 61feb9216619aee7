"""A headless Chromium (Debian's, scripts/env.sh ensure_chromium) driven by Playwright."""
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "artifacts", "console")


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    assert os.path.exists(executable), (
        "No Chromium at %s: `make test` installs it (scripts/env.sh ensure_chromium), or set "
        "CHROMIUM" % executable)
    # Playwright's sync API keeps an asyncio loop running in this thread; Django then refuses
    # database calls as if they came from async code. They do not: allow them while it runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        # Playwright's own browser download needs the internet: the system's Chromium instead.
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    os.makedirs(ARTIFACTS, exist_ok=True)

    def take(name, full_page=True):
        path = os.path.join(ARTIFACTS, name + ".png")
        page.screenshot(path=path, full_page=full_page)
        return path

    return take
