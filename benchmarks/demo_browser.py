"""Serve a demo folder on localhost and open it in headless Chromium (tests, benchmark).

Needs Chromium and its driver from the system's packages (``apt-get install chromium
chromium-driver``) and Selenium (the ``demo`` extra); :func:`missing_tools` (the one of
``benchmarks.browser_check``) names what this machine lacks, so that callers can skip
with that sentence instead of failing. Not in ``helpers``: the library does not depend on
Selenium, only these checks do.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

from benchmarks.browser_check import missing_tools

__all__ = ["CHROMIUM_FLAGS", "call", "missing_tools", "open_chromium", "serve"]

#: Headless, as root in CI (no sandbox), and quiet: no update checks, sync or other
#: background traffic, so the page's own requests are the only ones.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,1000",
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the types a browser insists on for modules and WebAssembly."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, *args) -> None:  # one line per request would drown test output
        pass


def serve(folder: str | Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``folder`` on a free localhost port in a thread; returns the server and its URL.

    Stop it with ``server.shutdown(); server.server_close()``.
    """
    handler = functools.partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def open_chromium(user_data_dir: str | Path):
    """A Selenium driver for headless Chromium with a fresh profile in ``user_data_dir``.

    The browser's console is recorded (``driver.get_log("browser")``).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_script_timeout(120)
    return driver


def call(driver, expression: str):
    """Evaluate a JavaScript expression in the page, await it if it is a promise, return it.

    A rejected promise comes back as the string ``"error: <message>"``.
    """
    return driver.execute_async_script(
        f"const done = arguments[arguments.length - 1]; Promise.resolve({expression})"
        ".then(done, (error) => done('error: ' + error.message));"
    )
