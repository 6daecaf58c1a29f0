"""The web view in a real browser: headless Chromium (Debian's, driven by Selenium through
Debian's chromedriver) opens the sign-in link the bot sent on Telegram, sees the district
table, sorts it, opens a commune, downloads the .xlsx, signs out.

``make test`` installs Chromium when it is missing and sets ``NTM_REQUIRE_BROWSER=1``: there the
test fails rather than skips without a browser. Screenshots go to the test's temporary
directory (``docs/web-overview.png`` in the README is one of them).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.runner import Runtime
from storage.reports import ReportRepo
from tests.fakes.telegram import FakeTelegram
from tests.telegram_util import ADMIN, free_port, running_bot

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _browser_or_skip() -> None:
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    if os.environ.get("NTM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"Chromium or chromedriver missing ({CHROMIUM}, {CHROMEDRIVER})")
    pytest.skip("no Chromium here: `make test` installs it (chromium, chromium-driver)")


def start_chrome(downloads: Path, profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.set_page_load_timeout(30)
    return driver


async def seed(runtime: Runtime) -> None:
    """Three communes' BHYT reports, one corrected by a colleague."""
    app = runtime.app
    assert app is not None
    communes = {c.name: c for c in await app.deps.communes.all()}
    repo = ReportRepo(app.db)
    figures = [("Dân Lực", 12500, 10600), ("Thọ Dân", 9000, 8900), ("Xuân Thọ", 7000, 5100)]
    for n, (name, population, insured) in enumerate(figures):
        commune = communes[name]
        user = await app.deps.users.ensure("telegram", str(800 + n), chat_id=str(800 + n))
        await app.deps.users.register(user.id, "officer", commune.id)
        await app.deps.users.set_profile(user.id, f"Cán bộ {name}", "Công chức")
        for version, people in enumerate((population, population - 500), start=1):
            if name != "Dân Lực" and version == 2:
                break
            rate = round(insured / people * 100, 2)
            async with app.db.transaction():
                await repo.add(
                    commune_id=commune.id,
                    form_id="bhyt",
                    subject="",
                    period="2021-10",
                    answers={"population": people, "insured": insured},
                    computed={"rate": rate},
                    meets_target=rate > 85,
                    submitted_by=user.id,
                    channel="telegram",
                    now=dt.datetime(2021, 10, 10 + version, 9, tzinfo=dt.UTC),
                    report_date=dt.date(2021, 10, 10 + version),
                )


def browse(link: str, base: str, shots: Path, downloads: Path) -> dict[str, Any]:
    """What a person does in the browser; returns what they saw."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    driver = start_chrome(downloads, shots / "profile")
    saw: dict[str, Any] = {}
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(link)  # a page whose button signs in (opening the link spends nothing)
        wait.until(seen.presence_of_element_located((By.ID, "sign-in")))
        driver.save_screenshot(str(shots / "sign-in.png"))
        driver.find_element(By.CSS_SELECTOR, "#sign-in button").click()
        wait.until(seen.presence_of_element_located((By.ID, "overview")))
        saw["address"] = driver.current_url
        saw["cookies"] = driver.get_cookies()
        rows = driver.find_elements(By.CSS_SELECTOR, "#overview tbody tr")
        saw["rows"] = len(rows)
        driver.save_screenshot(str(shots / "overview.png"))

        header = driver.find_element(By.CSS_SELECTOR, 'a[data-key="bhyt.rate"]')
        header.click()  # coverage, highest first
        wait.until(seen.url_contains("sort=bhyt.rate"))
        first = driver.find_elements(By.CSS_SELECTOR, "#overview tbody tr td:first-child a")
        saw["sorted"] = [a.text for a in first[:4]]
        saw["sorted_address"] = driver.current_url
        driver.save_screenshot(str(shots / "overview-sorted.png"))

        first[0].click()  # the commune on top
        wait.until(seen.presence_of_element_located((By.CSS_SELECTOR, "article.series")))
        saw["commune"] = driver.find_element(By.TAG_NAME, "h1").text
        saw["commune_text"] = driver.find_element(By.TAG_NAME, "main").text
        driver.save_screenshot(str(shots / "commune.png"))

        driver.set_window_size(390, 844)  # a phone: the page fits, wide tables scroll inside
        driver.refresh()
        wait.until(seen.presence_of_element_located((By.CSS_SELECTOR, "article.series")))
        saw["phone_overflow"] = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        driver.save_screenshot(str(shots / "commune-phone.png"))
        driver.set_window_size(1400, 1000)

        driver.find_element(By.LINK_TEXT, "Tải .xlsx").click()
        deadline = time.monotonic() + 30
        found: list[Path] = []
        while time.monotonic() < deadline:
            found = [p for p in downloads.glob("*.xlsx") if p.stat().st_size > 0]
            if found and not list(downloads.glob("*.crdownload")):
                break
            time.sleep(0.1)
        saw["download"] = found[0].read_bytes() if found else b""

        driver.get(base + "/web/")
        driver.find_element(By.CSS_SELECTOR, "header form button").click()  # sign out
        wait.until(seen.title_contains("Đã đăng xuất"))
        driver.get(base + "/web/")
        saw["after_sign_out"] = driver.find_element(By.TAG_NAME, "h1").text
    finally:
        driver.quit()
    return saw


async def test_the_office_reads_the_district_in_a_browser(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    _browser_or_skip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"NTM_WEBHOOK_PORT": str(port), "NTM_PUBLIC_URL": base}
    async with running_bot(monkeypatch, fake_telegram, tmp_path, **env) as runtime:
        await seed(runtime)
        before = len(fake_telegram.sent(ADMIN))
        fake_telegram.push_text(ADMIN, "/web")
        deadline = time.monotonic() + 15
        link = None
        while link is None:
            assert time.monotonic() < deadline, fake_telegram.sent(ADMIN)[before:]
            texts = "\n".join(m.text for m in fake_telegram.sent(ADMIN)[before:])
            found = re.search(rf"{re.escape(base)}/web/login\?t=\S+", texts)
            link = found[0] if found else None
            await asyncio.sleep(0.05)
        shots = tmp_path / "screenshots"
        downloads = tmp_path / "downloads"
        shots.mkdir()
        downloads.mkdir()
        saw = await asyncio.to_thread(browse, link, base, shots, downloads)

    assert saw["address"] == f"{base}/web/"  # the token is out of the address bar
    session = next(c for c in saw["cookies"] if c["name"] == "ntm_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert saw["rows"] == 34  # every commune, those that never reported too
    assert "dir=desc" in saw["sorted_address"]
    assert saw["sorted"][:3] == ["Thọ Dân", "Dân Lực", "Xuân Thọ"]  # 98,9% · 88,3% · 72,9%
    assert saw["commune"] == "Xã Thọ Dân"
    assert "BC-" in saw["commune_text"] and "Cán bộ Thọ Dân" in saw["commune_text"]
    book = load_workbook(io.BytesIO(saw["download"]))
    assert book.sheetnames[0] == "Mới nhất" and "Việc" in book.sheetnames
    assert saw["after_sign_out"] == "Chưa đăng nhập"
    assert saw["phone_overflow"] <= 0, saw["phone_overflow"]
    for name in ("sign-in.png", "overview.png", "overview-sorted.png", "commune.png",
                 "commune-phone.png"):  # fmt: skip
        assert (shots / name).read_bytes()[:4] == b"\x89PNG"
