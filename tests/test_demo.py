"""The browser demo as a reader uses it: exported models, Node.js, headless Chromium, bad input.

One demo folder is built per session (two localizers and a detector trained briefly on the
offline sample, then exported: see ``demo_models``), and one browser opens it; the tests
share both. Parts whose tools are missing are skipped with the install command in the
reason: the ``demo`` extra (tf2onnx, onnx, onnxruntime, selenium), npm and Node.js,
Chromium and its driver (``.ci/run`` installs them all).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from clitools import ROOT, cli_in_process
from demo_strokes import digit_strokes, ink_box

from benchmarks.demo_browser import call

DEMO_EXTRA = ("tf2onnx", "onnx", "onnxruntime")
CANVASES = 200
TOLERANCE = 1e-5
NPM_CACHE = ROOT / "build" / "npm"


def _missing_modules(names) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def _skip_unless_installed(names, what: str) -> None:
    missing = _missing_modules(names)
    if missing:
        pytest.skip(f"{what} skipped: {', '.join(missing)} missing (pip install {' '.join(names)})")


# ---- models and the demo folder (once per session) --------------------------------------


@pytest.fixture(scope="session")
def demo_models(tmp_path_factory, sample):
    """Keras models for the three slots, saved as .keras, trained briefly on the sample.

    Each budget is the smallest measured to pass its page test with room to spare (the
    training is most of this file's time): the frame localizer needs 8 epochs (20 of 20
    dropped digits right; 6 or 7 epochs: 18, the test's bare minimum), the tight one 3
    (10 of 10 drawings boxed; 2 epochs did as well), the detector 2 epochs of 4000
    canvases in batches of 32 (3 of the 3 digits found; 2 x 3000: 2, 2 x 2000: none).
    """
    _skip_unless_installed(DEMO_EXTRA, "exporting the demo models")
    from helpers.detection import train_detector
    from helpers.training import train

    (x_train, y_train), _ = sample
    folder = tmp_path_factory.mktemp("demo_models")
    models = {
        "localizer": train(
            "improved", x_train, y_train, epochs=8, box_kind="frame", verbose=0
        ).model,
        "tight": train("improved", x_train, y_train, epochs=3, box_kind="tight", verbose=0).model,
        "detector": train_detector(
            x_train, y_train, epochs=2, images_per_epoch=4000, batch_size=32, verbose=0
        ).model,
    }
    paths = {}
    for slot, model in models.items():
        paths[slot] = folder / f"{slot}.keras"
        model.save(paths[slot])
    return models, paths


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory, demo_models):
    """The demo folder built from :func:`demo_models` and its manifest."""
    if shutil.which("npm") is None:
        pytest.skip("the demo page needs onnxruntime-web from npm: install Node.js and npm")
    from helpers.demo.build import build_demo

    out = tmp_path_factory.mktemp("demo")
    manifest = build_demo(out, demo_models[1], npm_cache=NPM_CACHE)
    return out, manifest


@pytest.fixture(scope="session")
def test_canvases(sample):
    """200 localizer canvases and 200 detector canvases from held-out digits."""
    from helpers.detection import make_test_scenes
    from helpers.synthesis import synthesize

    _, (x_test, y_test) = sample
    localizer, _ = synthesize(x_test[:CANVASES], seed=3)
    detector, _, _ = make_test_scenes(x_test, y_test, CANVASES)
    return {"localizer": localizer, "tight": localizer, "detector": detector}


def _keras_outputs(model, images) -> list[np.ndarray]:
    """Keras' outputs in the ONNX file's order: the detector's grid, or box then class."""
    from helpers.detection import activate

    out = model.predict(images, verbose=0)
    if isinstance(out, dict):
        return [out["bounding_box"], out["classification"]]
    return [np.asarray(activate(out))]  # the detector is exported with its activation


def test_every_model_is_exported_under_two_mb(demo_site):
    out, manifest = demo_site
    assert sorted(manifest["models"]) == ["detector", "localizer", "tight"]
    for slot, entry in manifest["models"].items():
        size = (out / entry["file"]).stat().st_size
        assert size == entry["bytes"] <= 2 * 2**20, slot
        assert entry["kind"] == ("detector" if slot == "detector" else "localizer")
    assert json.loads((out / "manifest.json").read_text()) == manifest


def test_the_page_uses_no_other_site(demo_site):
    out, _ = demo_site
    for name in ("index.html", "demo.js"):
        assert not re.search(r"https?://", (out / name).read_text()), name
    for name in ("ort.wasm.min.js", "ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs"):
        assert (out / "ort" / name).is_file()


@pytest.mark.parametrize("slot", ["localizer", "tight", "detector"])
def test_onnxruntime_matches_keras_on_200_canvases(demo_site, demo_models, test_canvases, slot):
    import onnxruntime

    out, manifest = demo_site
    session = onnxruntime.InferenceSession(str(out / manifest["models"][slot]["file"]))
    images = test_canvases[slot]
    expected = _keras_outputs(demo_models[0][slot], images)
    got = session.run(None, {"image": images})
    assert [o.name for o in session.get_outputs()][: len(got)]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("slot", ["localizer", "detector"])
def test_onnxruntime_web_in_node_matches_keras(
    demo_site, demo_models, test_canvases, slot, tmp_path
):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js missing: install nodejs to run onnxruntime-web outside a browser")
    out, manifest = demo_site
    images = np.ascontiguousarray(test_canvases[slot], dtype="<f4")
    (tmp_path / "in.bin").write_bytes(images.tobytes())
    result = subprocess.run(
        [
            node,
            str(ROOT / "tests" / "demo_node_predict.js"),
            str(NPM_CACHE / "node_modules" / "onnxruntime-web"),
            str(out / manifest["models"][slot]["file"]),
            str(tmp_path / "in.bin"),
            str(tmp_path / "out.bin"),
            str(len(images)),
            str(images.shape[1]),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout.strip().splitlines()[-1])
    flat = np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype="<f4")
    expected = _keras_outputs(demo_models[0][slot], images)
    start = 0
    for described, theirs in zip(outputs, expected, strict=True):
        assert tuple(described["dims"]) == theirs.shape, described["name"]
        mine = flat[start : start + theirs.size].reshape(theirs.shape)
        start += theirs.size
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOLERANCE)
    assert start == flat.size


# ---- the page in headless Chromium ------------------------------------------------------


@pytest.fixture(scope="session")
def browser(demo_site, tmp_path_factory):
    """Headless Chromium on the demo page, served on localhost, its models loaded."""
    from benchmarks.demo_browser import missing_tools, open_chromium, serve

    missing = missing_tools()
    if missing:
        pytest.skip(
            f"headless Chromium checks skipped: missing {', '.join(missing)} "
            "(apt-get install chromium chromium-driver)"
        )
    server, url = serve(demo_site[0])
    driver = open_chromium(tmp_path_factory.mktemp("chromium"))
    try:
        driver.get(url + "index.html")
        assert call(driver, "demo.ready") is True, driver.find_element("id", "one-message").text
        yield driver
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()


def _page_digits(out) -> tuple[np.ndarray, list[int]]:
    page = json.loads((out / "digits.json").read_text())
    pixels = np.frombuffer(base64.b64decode(page["pixels"]), np.uint8)
    return pixels.reshape(page["count"], 28, 28), page["labels"]


def test_the_page_fetches_nothing_from_another_site(browser):
    """onnxruntime-web, its WebAssembly, the models and the digits all come from the page's
    own server: no CDN at run time."""
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => entry.name);"
    )
    origin = browser.execute_script("return location.origin;")
    assert any(url.endswith(".wasm") for url in fetched), fetched
    assert any(url.endswith("detector.onnx") for url in fetched), fetched
    assert all(url.startswith(origin + "/") for url in fetched), fetched


def test_twenty_dropped_digits_are_classified_and_boxed(browser, demo_site, sample):
    from helpers.boxes import iou

    _, labels = _page_digits(demo_site[0])
    rng = np.random.default_rng(11)
    good = 0
    for index in rng.choice(len(labels), 20, replace=False):
        x, y = (int(v) for v in rng.integers(0, 75 - 28 + 1, 2))
        result = call(browser, f"demo.dropDigit({index}, {x}, {y})")
        true_box = np.array([x, y, x + 28, y + 28]) / 75
        np.testing.assert_allclose(result["trueBox"], true_box, atol=1e-6)
        assert result["trueLabel"] == labels[index] and result["slot"] == "localizer"
        overlap = iou(np.array([result["box"]]), true_box[None])[0]
        good += result["label"] == labels[index] and overlap >= 0.6
    assert good >= 18, f"{good} of 20 dropped digits classified and boxed (IoU >= 0.6)"
    answer = browser.find_element("id", "one-answer").text
    assert (
        answer.startswith("A ")
        and len(browser.find_elements("css selector", "#one-probabilities li")) == 10
    )


def _draw(driver, canvas_id: str, side: int, strokes) -> dict:
    """Draw ``strokes`` (lists of canvas pixels) with the mouse, one pointer-down each.

    Returns the page's prediction after the last stroke (the page predicts after each).
    """
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    left, top, width = driver.execute_script(
        f"const r = document.getElementById('{canvas_id}').getBoundingClientRect();"
        "return [r.left, r.top, r.width];"
    )
    scale = width / side
    result = None
    for stroke in strokes:
        driver.execute_script("demo.afterStroke = null;")
        actions = ActionBuilder(driver, duration=0)
        points = [(round(left + x * scale), round(top + y * scale)) for x, y in stroke]
        actions.pointer_action.move_to_location(*points[0]).pointer_down()
        for point in points[1:]:
            actions.pointer_action.move_to_location(*point)
        actions.pointer_action.pointer_up()
        actions.perform()
        result = call(
            driver,
            "new Promise(function wait(ok) { demo.afterStroke ? ok(demo.afterStroke) "
            ": setTimeout(() => wait(ok), 10); })",
        )
    return result


def test_ten_drawn_digits_are_boxed_after_their_strokes(browser):
    from helpers.boxes import iou

    rng = np.random.default_rng(5)
    good = []
    for digit in (0, 2, 3, 4, 5, 6, 7, 8, 9, 0):
        browser.find_element("id", "one-clear").click()
        strokes = digit_strokes(digit, rng)
        result = _draw(browser, "one-canvas", 75, strokes)
        assert result["slot"] == "tight" and result["trueBox"] is None
        good.append(iou(np.array([result["box"]]), ink_box(strokes)[None])[0] >= 0.5)
    assert sum(good) >= 8, f"{sum(good)} of 10 drawings boxed with IoU >= 0.5: {good}"


def test_the_detector_tab_draws_what_the_library_detects(browser, demo_site, demo_models):
    from helpers.detection import activate, postprocess

    out, _ = demo_site
    pixels, _ = _page_digits(out)
    browser.find_element("id", "tab-many").click()
    assert browser.find_element("id", "many").is_displayed()
    placements = [(3, 5, 4), (17, 60, 10), (42, 30, 62)]  # (digit index, x, y)
    canvas = np.zeros((1, 96, 96, 1), np.float32)
    for index, x, y in placements:
        patch = canvas[0, y : y + 28, x : x + 28, 0]
        np.maximum(patch, pixels[index] / 255, out=patch)
    js = json.dumps([{"index": i, "x": x, "y": y} for i, x, y in placements])
    result = call(browser, f"demo.dropDigits({js})")
    expected = postprocess(activate(demo_models[0]["detector"].predict(canvas, verbose=0)))[0]
    found = result["detections"]
    assert len(found) == len(expected.boxes) >= 1
    np.testing.assert_allclose([d["box"] for d in found], expected.boxes, atol=1e-4)
    assert [d["label"] for d in found] == expected.classes.tolist()
    items = browser.find_elements("css selector", "#many-detections li")
    assert len(items) == len(found)
    browser.find_element("id", "tab-one").click()


def test_an_empty_canvas_and_a_stroke_off_the_canvas_get_a_sentence(browser):
    message = browser.find_element("id", "one-message")
    browser.find_element("id", "one-clear").click()
    assert message.text == "The canvas is empty: drop a digit or draw one first."
    browser.find_element("id", "one-predict").click()
    assert "canvas is empty" in message.text
    result = _draw(browser, "one-canvas", 75, [[(30, 30), (50, 40), (90, 45), (120, 50)]])
    assert result["slot"] == "tight" and len(result["box"]) == 4
    assert message.text.startswith("Part of that stroke went outside the canvas")
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe


# ---- the command: bad input -------------------------------------------------------------


@pytest.fixture(scope="module")
def not_course_models(tmp_path_factory):
    import keras

    folder = tmp_path_factory.mktemp("not_course")
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    dense.save(folder / "dense.keras")
    (folder / "garbage.keras").write_text("not a model")
    return folder


@pytest.mark.parametrize(
    "args, says",
    [
        (["dense.keras"], "is not a course model"),
        (["garbage.keras"], "could not load"),
        (["missing.keras"], "not found"),
        (["--tight", "dense.keras"], "is not a course model"),
    ],
)
def test_the_command_refuses_a_model_it_cannot_show(not_course_models, args, says, monkeypatch):
    monkeypatch.chdir(not_course_models)
    result = cli_in_process("export-demo", *args, "--out", str(not_course_models / "out"))
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert says in result.stderr
    assert not (not_course_models / "out").exists()


def test_ci_installs_the_demo_extra():
    """.ci/run installs the same packages as pyproject.toml's ``demo`` extra."""
    import tomllib

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    line = next(li for li in (ROOT / ".ci" / "run").read_text().splitlines() if "tf2onnx" in li)
    assert all(f'"{requirement}"' in line for requirement in extra["demo"]), line
