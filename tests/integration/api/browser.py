"""The web page tests' browser and HTTP helpers: Debian's chromium driven through its
chromium-driver by selenium (nothing downloaded), and a small synchronous API client for
arranging and checking what the page shows."""

import json
import shutil
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.integration.polling import wait_for

WITHIN = 20.0


def chromium() -> webdriver.Chrome:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail("chromium and chromium-driver are missing: run `python -m devstack install`")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,900", "--disable-extensions", "--no-first-run"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


class Page:
    """One browser tab on the gateway, with waits that poll the DOM against a deadline."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, hash_route: str = "") -> None:
        self.driver.get(f"{self.base_url}/ui/{hash_route}")

    def find(self, css: str) -> WebElement:
        return wait_for(lambda: self._visible(css), WITHIN)

    def until(self, check):
        """Polls check(); a view re-rendered under it (a stale element) counts as not yet."""

        def attempt():
            try:
                return check()
            except StaleElementReferenceException:
                return None

        return wait_for(attempt, WITHIN)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def _visible(self, css: str) -> WebElement | None:
        try:
            for element in self.driver.find_elements(By.CSS_SELECTOR, css):
                if element.is_displayed():
                    return element
        except StaleElementReferenceException:
            pass
        return None

    def text_of(self, css: str, predicate) -> str:
        """Waits until the element's text satisfies predicate; returns the text."""

        def check():
            element = self._visible(css)
            text = element.text if element is not None else None
            return text is not None and predicate(text) and text

        return self.until(check)

    def type_into(self, css: str, text: str) -> None:
        element = self.find(css)
        element.clear()
        element.send_keys(text)

    def token(self) -> str:
        return self.driver.execute_script("return sessionStorage.getItem('kushim.token')")

    def hash(self) -> str:
        return self.driver.execute_script("return window.location.hash")

    def console_errors(self) -> list[str]:
        return [entry["message"] for entry in self.driver.get_log("browser")
                if entry["level"] == "SEVERE"]

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        return path


class Api:
    """The gateway's HTTP API over loopback, as a test arranges and checks through it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, token: str | None = None, body=None) -> tuple[int, dict]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL
            self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=WITHIN) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def get(self, path: str, token: str) -> dict:
        status, body = self.call("GET", path, token)
        assert status == 200, (path, status, body)
        return body

    def headers(self, path: str) -> dict[str, str]:
        request = urllib.request.Request(self.base_url + path)  # noqa: S310 - loopback
        try:
            with urllib.request.urlopen(request, timeout=WITHIN) as response:  # noqa: S310
                return dict(response.headers)
        except urllib.error.HTTPError as error:
            return dict(error.headers)
