"""How fast is the browser demo? Model sizes, time to the first box, ms per prediction.

Usage::

    python -m benchmarks.demo_speed [--loads 3] [--predictions 50]

Builds a demo folder (``helpers.demo.build``) in a temporary folder from freshly built
course networks (untrained: the weights do not change the size or the work of a
prediction), serves it on localhost and opens it ``--loads`` times in headless Chromium,
each time with a fresh profile (nothing cached): the time from navigation to the first
box on the page (onnxruntime-web's WebAssembly start-up, the three models' download and
session creation, one prediction). Then, in the last page, ``--predictions`` timed runs
of each model on one canvas (after 5 untimed), beside Keras' own time for one canvas in
this process: ``model.predict`` and a direct call ``model(x)``. Results go to
``benchmarks/results/demo_speed.json`` with the machine named. Needs the ``demo`` extra,
npm, Chromium and its driver (see :mod:`benchmarks.demo_browser`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from benchmarks.compare_recipes import write_result
from benchmarks.demo_browser import call, missing_tools, open_chromium, serve
from helpers.demo.build import build_demo
from helpers.detection import build_detector
from helpers.models import build_model

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 5

TIME_PREDICTIONS = """
(async () => {
  const session = demo.sessions[%(slot)r];
  const side = %(side)d;
  const input = new ort.Tensor("float32", new Float32Array(side * side), [1, side, side, 1]);
  for (let i = 0; i < %(warm)d; i++) await session.run({ image: input });
  const times = [];
  for (let i = 0; i < %(n)d; i++) {
    const start = performance.now();
    await session.run({ image: input });
    times.push(performance.now() - start);
  }
  return times;
})()
"""


def keras_milliseconds(model: keras.Model, rounds: int) -> dict:
    """Median ms for one canvas through ``model.predict`` and through ``model(x)``."""
    side = model.input_shape[1]
    x = np.zeros((1, side, side, 1), np.float32)
    timings = {}
    for name, run in (
        ("predict", lambda: model.predict(x, verbose=0)),
        ("call", lambda: model(x, training=False)),
    ):
        for _ in range(WARM_UP):
            run()
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            run()
            times.append(1000 * (time.perf_counter() - start))
        timings[name] = round(statistics.median(times), 3)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=3, help="fresh page loads (3)")
    parser.add_argument("--predictions", type=int, default=50, help="timed predictions (50)")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        print(f"demo_speed: skipped, missing {', '.join(missing)}")
        return 0
    keras.utils.set_random_seed(0)
    models = {"localizer": build_model(), "tight": build_model(), "detector": build_detector()}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        paths = {}
        for slot, model in models.items():
            paths[slot] = scratch / f"{slot}.keras"
            model.save(paths[slot])
        manifest = build_demo(scratch / "demo", paths, npm_cache=ROOT / "build" / "npm")
        server, url = serve(scratch / "demo")
        first, page = [], {}
        try:
            for load in range(args.loads):
                driver = open_chromium(scratch / f"profile{load}")
                try:
                    driver.get(url + "index.html")
                    if call(driver, "demo.ready") is not True:
                        sys.exit(driver.find_element("id", "one-message").text)
                    first.append(driver.execute_script("return demo.firstPredictionAt;"))
                    if load == args.loads - 1:
                        for slot, entry in manifest["models"].items():
                            script = TIME_PREDICTIONS % {
                                "slot": slot,
                                "side": entry["input_side"],
                                "warm": WARM_UP,
                                "n": args.predictions,
                            }
                            page[slot] = statistics.median(call(driver, script))
                        browser = driver.capabilities.get("browserVersion", "?")
                finally:
                    driver.quit()
        finally:
            server.shutdown()
            server.server_close()
    rows = []
    for slot, entry in manifest["models"].items():
        on_keras = keras_milliseconds(models[slot], args.predictions)
        rows.append(
            {
                "model": slot,
                "onnx_bytes": entry["bytes"],
                "browser_ms_per_prediction": round(page[slot], 3),
                "keras_predict_ms": on_keras["predict"],
                "keras_call_ms": on_keras["call"],
                "browser_over_keras_call": round(page[slot] / on_keras["call"], 3),
            }
        )
    report = {
        "browser": f"headless Chromium {browser}, onnxruntime-web {manifest['onnxruntime_web']} "
        "(WebAssembly, 1 thread)",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "page_loads": args.loads,
        "ms_to_first_prediction": [round(ms) for ms in first],
        "median_ms_to_first_prediction": round(statistics.median(first)),
        "predictions_per_model": args.predictions,
        "rows": rows,
    }
    write_result("demo_speed", report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
