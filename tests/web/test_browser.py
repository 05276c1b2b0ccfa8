"""The web view in a real browser (Debian's headless chromium, through selenium and the
system chromedriver), served by uvicorn on a loopback port: filtering through htmx,
drill-down, the diff, the CSV export, keyboard use, no console error on any page (a CSP
violation is one), and hostile identity names inert. Screenshots of each page at
1280 × 800 go to ``$MFA_WEB_SCREENSHOTS`` (else the test's temporary folder)."""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.web.app import WebSettings
from auditor.web.queries import PortalFilter, ReadOnlyStore
from auditor.web.security import Guard, loopback_hosts

from . import browser as br
from .conftest import SCRIPT, Built

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not br.available(), reason="chromium and chromium-driver not installed (make system-deps)"),
]

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def site(built: Built) -> Iterator[str]:
    port = br.free_port()
    settings = WebSettings(built.path, built.reports, guard=Guard(hosts=loopback_hosts("127.0.0.1", port), token=None))
    with br.serving(settings, port) as base:
        yield base


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    with br.chromium() as d:
        # The viewport itself at 1280 × 800 (the window's chrome is not counted).
        d.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )
        yield d


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("MFA_WEB_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


def _wait(d, condition, timeout: float = 15):  # type: ignore[no-untyped-def]
    return WebDriverWait(d, timeout).until(condition)


def _no_alert(d) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # noqa: B018 - the access is the check


def test_every_page_without_console_errors(site: str, driver, built: Built, shots: Path) -> None:  # type: ignore[no-untyped-def]
    ro = ReadOnlyStore(built.path)
    run = ro.run(built.run_b)
    portal = max(ro.portals(run), key=lambda p: p.total - p.protected)
    account = ro.portal_page(run, portal.p, PortalFilter(sort="status"), 1, 1).rows[0].n
    pages = {
        "runs": "/",
        "run": f"/runs/{built.run_b}",
        "portal": f"/runs/{built.run_b}/portals/{portal.p}?sort=status",
        "account": f"/runs/{built.run_b}/accounts/{account}",
        "findings": f"/runs/{built.run_b}/findings",
        "diff": "/diff?change=resolved",
        "run-fr": f"/lang/fr?next=/runs/{built.run_b}",
        "not-found": "/runs/none",
    }
    br.console_errors(driver)  # start clean
    for name, url in pages.items():
        driver.get(site + url)
        _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")
        time.sleep(0.2)  # htmx initialises on DOMContentLoaded; any CSP report lands by now
        errors = [e for e in br.console_errors(driver) if not (name == "not-found" and "404" in e)]
        assert errors == [], (name, errors)
        assert driver.execute_script("return typeof htmx") == "object", name  # the bundled file loaded under the CSP
        shot = br.screenshot(driver, shots, name)
        assert shot.stat().st_size > 5_000
    driver.get(site + "/lang/en?next=/")


def test_filter_through_htmx(site: str, driver, built: Built) -> None:  # type: ignore[no-untyped-def]
    ro = ReadOnlyStore(built.path)
    run = ro.run(built.run_b)
    portal = max(ro.portals(run), key=lambda p: p.by_status.get("not_enrolled", 0))
    expected = portal.by_status["not_enrolled"]
    driver.get(f"{site}/runs/{built.run_b}/portals/{portal.p}")
    driver.execute_script("window.__notReloaded = true")
    Select(driver.find_element(By.ID, "f-status")).select_by_value("not_enrolled")
    driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    _wait(driver, lambda d: "status=not_enrolled" in d.current_url)
    _wait(driver, lambda d: f"of {expected}" in d.find_element(By.ID, "rows").text)
    # htmx swapped the rows in place: same document, address bar updated.
    assert driver.execute_script("return window.__notReloaded === true")
    badges = driver.find_elements(By.CSS_SELECTOR, "#rows tbody .badge[class*=status-]")
    assert badges and {b.get_attribute("class") for b in badges} == {"badge status-not_enrolled"}
    assert len(badges) == min(50, expected)
    assert br.console_errors(driver) == []


def test_drill_down_from_portal_to_account(site: str, driver, built: Built) -> None:  # type: ignore[no-untyped-def]
    driver.get(f"{site}/runs/{built.run_b}")
    driver.find_element(By.CSS_SELECTOR, "table.data tbody th a").click()
    _wait(driver, lambda d: "/portals/" in d.current_url)
    link = driver.find_element(By.CSS_SELECTOR, "#rows tbody th a")
    shown = link.text
    link.click()
    _wait(driver, lambda d: "/accounts/" in d.current_url)
    assert shown in driver.find_element(By.TAG_NAME, "h1").text
    headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    assert headings == ["Registered methods", "Portals", "Findings", "This account across runs"]
    assert br.console_errors(driver) == []


def test_diff_tabs(site: str, driver, built: Built) -> None:  # type: ignore[no-untyped-def]
    driver.get(f"{site}/diff")
    for change in ("resolved", "new", "persisting"):
        tab = driver.find_element(By.ID, f"tab-{change}")
        count = int(tab.find_element(By.CLASS_NAME, "count").text.replace(",", ""))
        tab.click()
        _wait(driver, lambda d, c=change: f"change={c}" in d.current_url)
        rows = driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr")
        assert len(rows) == min(50, count), change
        assert driver.find_element(By.ID, f"tab-{change}").get_attribute("aria-current") == "page"


def test_csv_export_downloads_the_filtered_set(site: str, driver, built: Built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    driver.get(f"{site}/runs/{built.run_b}/findings")
    Select(driver.find_element(By.ID, "f-severity")).select_by_value("critical")
    driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    _wait(driver, lambda d: "severity=critical" in d.current_url)
    link = _wait(driver, lambda d: d.find_element(By.ID, "csv-export"))
    _wait(driver, lambda d: "severity=critical" in d.find_element(By.ID, "csv-export").get_attribute("href"))
    total = int(link.text.rsplit("(", 1)[1].rstrip(")").replace(",", ""))
    driver.find_element(By.ID, "csv-export").click()
    deadline = time.monotonic() + 20
    files: list[Path] = []
    while time.monotonic() < deadline:
        files = list(tmp_path.glob("*.csv"))
        if files:
            break
        time.sleep(0.1)
    assert files, "the CSV was not downloaded"
    rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8"))))
    assert len(rows) == total > 0
    assert {r["severity"] for r in rows} == {"critical"}


def test_hostile_names_are_inert(site: str, driver, built: Built) -> None:  # type: ignore[no-untyped-def]
    ro = ReadOnlyStore(built.path)
    run = ro.run(built.run_b)
    okta = next(p for p in ro.portals(run) if p.source == "okta" and p.total >= 10)
    driver.get(f"{site}/runs/{built.run_b}/portals/{okta.p}?size=200")
    _no_alert(driver)
    planted = driver.execute_script(
        "return document.querySelectorAll('main img, main style, main script, main iframe, [onerror]').length"
    )
    assert planted == 0
    cells = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#rows tbody td:nth-child(2)")]
    assert SCRIPT in cells  # shown as text, exactly
    assert not [c for c in cells if "\u202e" in c]
    # The page's background was not restyled by a planted <style>.
    assert driver.execute_script("return getComputedStyle(document.body).backgroundImage") == "none"
    script_n = next(
        c.n
        for c in ro.portal_page(run, okta.p, PortalFilter(), 1, 200).rows
        if c.account and c.account.display_name == SCRIPT
    )
    driver.get(f"{site}/runs/{built.run_b}/accounts/{script_n}")
    _no_alert(driver)
    assert SCRIPT in driver.find_element(By.TAG_NAME, "h1").text
    assert br.console_errors(driver) == []


def test_keyboard_skip_link_and_focus(site: str, driver, built: Built) -> None:  # type: ignore[no-untyped-def]
    driver.get(f"{site}/runs/{built.run_b}")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.get_attribute("class") == "skip"
    assert active.is_displayed()  # visible when focused
    active.send_keys(Keys.ENTER)
    _wait(driver, lambda d: d.switch_to.active_element.get_attribute("id") == "main")
    # Every form control has a label.
    driver.get(f"{site}/runs/{built.run_b}/findings")
    unlabeled = driver.execute_script(
        "return [...document.querySelectorAll('select, input')].filter(e => !e.labels || e.labels.length === 0).length"
    )
    assert unlabeled == 0


def test_filter_with_the_keyboard_alone(site: str, driver, built: Built) -> None:  # type: ignore[no-untyped-def]
    """Tab to the status control, pick with the arrow keys, tab to Apply, press Enter."""
    ro = ReadOnlyStore(built.path)
    run = ro.run(built.run_b)
    portal = max(ro.portals(run), key=lambda p: p.total)
    driver.get(f"{site}/runs/{built.run_b}/portals/{portal.p}")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(40):  # from the skip link through the header to the first filter
        if driver.switch_to.active_element.get_attribute("id") == "f-status":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    status = driver.switch_to.active_element
    assert status.get_attribute("id") == "f-status"
    status.send_keys(Keys.ARROW_DOWN)  # "any" -> the first status (worst first)
    chosen = Select(driver.find_element(By.ID, "f-status")).first_selected_option.get_attribute("value")
    assert chosen
    for _ in range(12):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.switch_to.active_element.tag_name == "button":
            break
    assert driver.switch_to.active_element.text == "Apply"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    _wait(driver, lambda d: f"status={chosen}" in d.current_url)
    expected = portal.by_status.get(chosen, 0)
    _wait(driver, lambda d: (f"of {expected}" if expected else "No row matches") in d.find_element(By.ID, "rows").text)


def test_the_console_check_sees_a_csp_violation(site: str, driver) -> None:  # type: ignore[no-untyped-def]
    """The "no console error" assertions can fail: an inline script added to a page is
    refused by the CSP, and the refusal reaches the log the tests read."""
    driver.get(f"{site}/")
    br.console_errors(driver)
    driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; document.body.appendChild(s);"
    )
    time.sleep(0.3)
    assert driver.execute_script("return window.__ran === undefined")  # not run
    errors = br.console_errors(driver)
    assert any("Content Security Policy" in e for e in errors), errors
