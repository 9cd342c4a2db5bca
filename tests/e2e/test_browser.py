"""A real browser against the artifact: styles applied, image loaded, admin styled.

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven with
Selenium; screenshots are kept under ``tests/artifacts/`` (not committed).
"""

import shutil
import tempfile

import pytest

from tests.helpers import REPO, require_tool, serve

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture(scope="module")
def browser():
    require_tool(CHROMIUM and CHROMEDRIVER, "Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="zipserve-chromium-")
    # No sandbox: tests run as root. The rest keeps Chromium off the network.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--window-size=1024,768",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def computed(driver, selector, prop):
    return driver.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0])).getPropertyValue(arguments[1]);",
        selector,
        prop,
    )


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_home_and_admin_render_styled(browser, servers, site, server):
    process, base = serve(servers, site, server)
    ARTIFACTS.mkdir(exist_ok=True)

    browser.get(f"{base}/")
    assert computed(browser, "body", "background-color") == "rgb(246, 241, 232)", "site.css applied"
    assert computed(browser, "h1", "color") == "rgb(31, 78, 121)"
    loaded = browser.execute_script(
        "const img = document.querySelector('img.logo'); return img.complete && img.naturalWidth;"
    )
    assert loaded == 64, "the logo image loaded"
    browser.save_screenshot(str(ARTIFACTS / f"home-{server}.png"))

    browser.get(f"{base}/admin/login/")
    # The admin's own stylesheet sets a coloured header band and its font.
    assert computed(browser, "#header", "background-color") not in ("", "rgba(0, 0, 0, 0)")
    sheets = browser.execute_script("return Array.from(document.styleSheets).map(s => s.href || '');")
    assert any("/static/admin/css/base." in href for href in sheets), sheets
    browser.save_screenshot(str(ARTIFACTS / f"admin-login-{server}.png"))
    assert process.stop() == 0
