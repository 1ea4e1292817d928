"""A real browser runs notebook 01 in JupyterLab and moves its digit widget.

Usage::

    python -m benchmarks.browser_check [--out browser_check/]

Starts JupyterLab on localhost (offline sample, quick mode) on a copy of notebook 01, opens
it in headless Chromium through Selenium, runs every cell, then moves the widget's
"x offset" slider. It checks that the widget is drawn, that the box readout changes when
the slider moves and that no cell shows an error, and saves ``before.png`` and
``after.png`` screenshots in ``--out``. Needs Chromium and its driver from the system's
package manager (``apt-get install chromium chromium-driver``) and ``pip install
selenium``; where one is missing it says which, and exits without checking (code 0).
Not part of CI: it takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_dataset_synthesis.ipynb"
RUN_TIMEOUT_S = 900
STDERR = "application/vnd.jupyter.stderr"


def missing_tools() -> list[str]:
    """What this check needs and this machine lacks."""
    missing = [tool for tool in ("chromium", "chromedriver") if shutil.which(tool) is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install selenium)")
    return missing


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_jupyterlab(workdir: Path, port: int, token: str, log: Path) -> subprocess.Popen:
    """JupyterLab serving ``workdir`` on localhost, its log in ``log``; returns once it answers."""
    env = {**os.environ, "LOCALIZER_DATA": "sample", "LOCALIZER_QUICK": "1"}
    # JupyterLab 4 drops cells scrolled out of view from the page; keep them all, so that
    # the widget can be found wherever it is.
    tracker = workdir / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}"]
            + [f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workdir}"]
            + [f"--LabApp.user_settings_dir={workdir / 'settings'}"]
            + ["--allow-root"] * (os.geteuid() == 0),  # containers and CI often run as root
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            return server
        except OSError:
            time.sleep(1)
    server.terminate()
    raise RuntimeError(f"JupyterLab did not start within 120 s: see {log}")


def run_in_browser(url: str, out: Path) -> dict:
    """Open the notebook, run all cells, move the slider; return what was seen."""
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--window-size=1400,1000"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.get(url)
        wait = WebDriverWait(driver, 120)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"))
        wait.until(lambda d: "Idle" in d.find_element(By.CSS_SELECTOR, ".jp-StatusBar-Widget").text)
        menu = "//div[contains(@class,'lm-MenuBar-itemLabel')][.='Run']"
        driver.find_element(By.XPATH, menu).click()
        run_all = "//div[contains(@class,'lm-Menu-itemLabel')][.='Run All Cells']"
        wait.until(lambda d: d.find_element(By.XPATH, run_all)).click()

        def all_cells_ran(d) -> bool:
            cells = d.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputPrompt")
            prompts = [p.text for p in cells]
            return bool(prompts) and all(p.strip("[]: ").isdigit() for p in prompts)

        WebDriverWait(driver, RUN_TIMEOUT_S, poll_frequency=2).until(all_cells_ran)
        # JupyterLab shows tracebacks as stderr output; warnings are stderr too, so look inside.
        stderr = driver.find_elements(By.CSS_SELECTOR, f"[data-mime-type='{STDERR}']")
        errors = [e.text[:200] for e in stderr if "Traceback" in e.text or "Error" in e.text]
        errors += ["Error displaying widget"] * ("Error displaying widget" in driver.page_source)
        slider = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".widget-slider"))
        readout = driver.find_element(By.CSS_SELECTOR, ".widget-html-content")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
        time.sleep(1)
        before = readout.text
        driver.save_screenshot(str(out / "before.png"))
        handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
        handle.click()
        handle.send_keys(*[Keys.ARROW_RIGHT] * 20)
        WebDriverWait(driver, 60).until(lambda d: readout.text != before)
        time.sleep(1)  # let the canvas picture redraw before the screenshot
        driver.save_screenshot(str(out / "after.png"))
        return {"readout_before": before, "readout_after": readout.text, "errors": errors}
    except Exception:
        driver.save_screenshot(str(out / "failure.png"))  # what the page showed when it failed
        raise
    finally:
        driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="browser_check", help="folder for the screenshots")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        print(f"browser check skipped: this machine lacks {', '.join(missing)}")
        return 0
    import nbformat

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # A copy, so that JupyterLab's autosave never writes outputs into the course.
        workdir = Path(tmp)
        (workdir / "helpers").symlink_to(ROOT / "helpers")
        (workdir / "notebooks").mkdir()
        # Without its stored outputs, so that every "[n]:" prompt seen comes from this run.
        notebook = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, workdir / "notebooks" / NOTEBOOK)
        port, token = _free_port(), secrets.token_hex(16)
        server = start_jupyterlab(workdir, port, token, out / "jupyterlab.log")
        try:
            seen = run_in_browser(
                f"http://127.0.0.1:{port}/lab/tree/notebooks/{NOTEBOOK}?token={token}", out
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(seen)
    ok = seen["readout_before"] != seen["readout_after"] and not seen["errors"]
    print("browser check:", "passed" if ok else "FAILED", f"(screenshots in {out}/)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
