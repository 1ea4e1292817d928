"""Build the browser demo: a static folder that runs course models with onnxruntime-web.

``python -m helpers export-demo [MODEL.keras] --out demo/`` writes::

    demo/index.html, demo.js, demo.css     the page (copied from helpers/demo/static/)
    demo/ort/                              onnxruntime-web, fetched from npm at build time
    demo/models/localizer.onnx             boxes and classes for dropped digits (frame boxes)
    demo/models/tight.onnx                 boxes for drawings (tight boxes: the ink's extent)
    demo/models/detector.onnx              every digit of a multi-digit canvas
    demo/digits.json                       real MNIST test digits to drop on the canvas
    demo/manifest.json                     which model is which, its size and where it came from

Every file is served as is by any static web server (GitHub Pages, ``python -m
http.server``); nothing is fetched from another site at run time. A model the caller
does not give is kept from an earlier build in the same folder, or else trained quickly
on the chosen data (:data:`QUICK`), so one command builds a working demo offline.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.demo.export import export_onnx, load_course_model, model_kind
from helpers.errors import InputError

#: onnxruntime-web from npm, pinned: the page is tested against this release.
ORT_WEB_VERSION = "1.31.1"
#: The files of onnxruntime-web's WebAssembly build that the page loads.
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs")
STATIC = Path(__file__).parent / "static"
#: Model slots of the page and the kind of model each one takes.
SLOTS = {"localizer": "localizer", "tight": "localizer", "detector": "detector"}
#: Real digits shipped with the page for "drop a digit".
PAGE_DIGITS = 200
PAGE_DIGITS_SEED = 7


@dataclass(frozen=True)
class QuickTraining:
    """How a slot without a model is trained: on the offline sample, a few minutes on 2 cores.

    With six epochs the page classified 18 of 20 dropped digits right and boxed all 20
    with IoU >= 0.6 (eight epochs, as the tests train: 20 of 20); the site build from a
    fresh clone stays under 5 minutes on 2 cores (benchmarks/results/site_build.md).
    Three epochs of fresh canvases: the detector finds the digits of the demo's tests.
    """

    localizer_epochs: int = 6
    detector_epochs: int = 3
    detector_images_per_epoch: int = 4000
    seed: int = 0


QUICK = QuickTraining()


def fetch_onnxruntime_web(cache: str | Path) -> Path:
    """The ``onnxruntime-web`` package folder, installed with npm into ``cache`` once.

    Returns ``cache/node_modules/onnxruntime-web`` (its ``dist/`` holds the browser build;
    Node.js can ``require`` the folder itself).

    Raises:
        InputError: npm is missing, or it could not install the package (no registry).
    """
    cache = Path(cache).absolute()
    package = cache / "node_modules" / "onnxruntime-web"
    manifest = package / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text())["version"] == ORT_WEB_VERSION:
        return package
    npm = shutil.which("npm")
    if npm is None:
        raise InputError(
            "building the demo needs npm (Node.js) to fetch onnxruntime-web: install Node.js, "
            "for example apt-get install nodejs npm"
        )
    cache.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts"]
    result = subprocess.run(
        [*command, "--prefix", str(cache), f"onnxruntime-web@{ORT_WEB_VERSION}"],
        capture_output=True,
        text=True,
    )
    if result.returncode or not manifest.is_file():
        reason = " ".join(result.stderr.split())[-200:]
        raise InputError(f"npm could not install onnxruntime-web@{ORT_WEB_VERSION}: {reason}")
    return package


def page_digits(digits: np.ndarray, labels: np.ndarray, count: int = PAGE_DIGITS) -> dict:
    """``count`` digits for the page: ``{"count", "side", "labels", "pixels"}``.

    ``pixels`` is base64 of ``(count, 28, 28) uint8`` row-major (0 = background), drawn
    at random (seed :data:`PAGE_DIGITS_SEED`) from ``digits (N, 28, 28) uint8``.
    """
    pick = np.random.default_rng(PAGE_DIGITS_SEED).choice(len(digits), count, replace=False)
    chosen = np.ascontiguousarray(digits[pick], dtype=np.uint8)
    return {
        "count": count,
        "side": int(chosen.shape[1]),
        "labels": [int(label) for label in labels[pick]],
        "pixels": base64.b64encode(chosen.tobytes()).decode("ascii"),
    }


def check_models(models: dict[str, str | Path | None]) -> dict:
    """Load each given model and check it fits its slot, before anything is trained.

    ``models`` maps a slot of :data:`SLOTS` to a ``.keras`` path or ``None``. Returns the
    loaded ``keras.Model`` per given slot.
    """
    loaded = {}
    for slot, path in models.items():
        if slot not in SLOTS:
            raise InputError(f"unknown demo slot {slot!r}: expected one of {sorted(SLOTS)}")
        if path is None:
            continue
        model = load_course_model(path)
        kind = model_kind(model, f"{path}")
        if kind != SLOTS[slot]:
            raise InputError(f"{path} is a {kind}, but the {slot} slot takes a {SLOTS[slot]}")
        loaded[slot] = model
    return loaded


def _train_quickly(slot: str, train: tuple, quick: QuickTraining):
    """A model for ``slot`` trained on ``train = (digits, labels)`` (see :class:`QuickTraining`)."""
    digits, labels = train
    if slot == "detector":
        from helpers.detection import train_detector

        return train_detector(
            digits,
            labels,
            epochs=quick.detector_epochs,
            images_per_epoch=quick.detector_images_per_epoch,
            seed=quick.seed,
            verbose=0,
        ).model
    from helpers.training import train as train_localizer

    box_kind = "tight" if slot == "tight" else "frame"
    run = train_localizer(
        "improved",
        digits,
        labels,
        epochs=quick.localizer_epochs,
        seed=quick.seed,
        box_kind=box_kind,
        verbose=0,
    )
    return run.model


def build_demo(
    out: str | Path,
    models: dict[str, str | Path | None] | None = None,
    *,
    data: str = "sample",
    npm_cache: str | Path = "build/npm",
    quick: QuickTraining = QUICK,
) -> dict:
    """Write the demo folder ``out`` (see the module docstring) and return its manifest.

    Args:
        out: the folder to write (created; files of an earlier build are replaced, its
            models kept where no new one is given).
        models: slot (``"localizer"``, ``"tight"``, ``"detector"``) -> ``.keras`` path;
            a missing slot keeps ``out/models/<slot>.onnx`` or is trained quickly.
        data: the data source (:func:`helpers.data.load_mnist`) for the page's digits and
            for quick training.
        npm_cache: where npm installs onnxruntime-web (reused by later builds).

    Raises:
        InputError: a model that is not a course model or not of its slot's kind, a model
            over 2 MB, the export packages or npm missing.
    """
    from helpers.data import load_mnist

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: expected a folder, found a file")
    loaded = check_models(dict.fromkeys(SLOTS) | (models or {}))
    package = fetch_onnxruntime_web(npm_cache)
    train, (x_test, y_test) = load_mnist(data)
    previous = _read_manifest(out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    entries = {}
    for slot in SLOTS:
        target = out / "models" / f"{slot}.onnx"
        if slot in loaded:
            source = str(Path(models[slot]).name)
            model = loaded[slot]
        elif target.is_file() and slot in previous.get("models", {}):
            entries[slot] = previous["models"][slot]
            continue
        else:
            source = f"trained by the build on {data!r} data"
            model = _train_quickly(slot, train, quick)
        exported = export_onnx(model, target, slot)
        entries[slot] = {**exported, "file": f"models/{target.name}", "source": source}
    for name in ("index.html", "demo.js", "demo.css"):
        shutil.copyfile(STATIC / name, out / name)
    (out / "ort").mkdir(exist_ok=True)
    for name in ORT_FILES:
        shutil.copyfile(package / "dist" / name, out / "ort" / name)
    (out / "digits.json").write_text(json.dumps(page_digits(x_test, y_test)))
    manifest = {"onnxruntime_web": ORT_WEB_VERSION, "models": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _read_manifest(out: Path) -> dict:
    path = out / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {}
