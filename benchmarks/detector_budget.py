"""The detector's training budget: mAP@0.5 and time for a few settings, in one run.

Usage::

    python -m benchmarks.detector_budget [--settings 6x4000x32x0.002 6x4000x16x0.002 ...]

Each setting is ``EPOCHSxCANVASESxBATCHxLEARNING_RATE``: the detector of notebook 05 trains
that many epochs of that many fresh canvases (seed 0, offline sample), in batches of that
size, with Adam's peak rate decayed along a cosine, then is scored on notebook 05's 500
held-out scenes with its score threshold (0.05) and NMS IoU (0.5), by the same measurement as
``benchmarks/detector_logits.py`` (which adds mAP@[.5:.95]). The defaults compare
batches of 32 and 16 on the same 24,000 canvases, and batch 32 with a higher rate (a larger
batch is often given one). It chose notebook 05's budget
(``helpers.constants.DETECTOR_*``), which must fit the notebook in 3 minutes on 2 cores.
Results go to ``benchmarks/results/detector_budget.json``, with the machine named.
"""

from __future__ import annotations

import argparse

#: Notebook 05's held-out scenes.
SCENES = 500
DEFAULT_SETTINGS = ["6x4000x32x0.002", "6x4000x32x0.003", "6x4000x16x0.002"]


def parse_setting(text: str) -> dict:
    """``"6x4000x16x0.002"`` as a dict of ``train_detector`` arguments."""
    try:
        epochs, images, batch, rate = text.split("x")
        return {
            "epochs": int(epochs),
            "images_per_epoch": int(images),
            "batch_size": int(batch),
            "learning_rate": float(rate),
        }
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a setting is EPOCHSxCANVASESxBATCHxRATE, like 6x4000x16x0.002, not {text!r}"
        ) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", type=parse_setting, default=None)
    args = parser.parse_args()
    settings = args.settings or [parse_setting(text) for text in DEFAULT_SETTINGS]

    from benchmarks.compare_recipes import write_result
    from benchmarks.detector_logits import measure

    rows = []
    for setting in settings:
        canvases = setting["epochs"] * setting["images_per_epoch"]
        rows.append({**setting, "canvases": canvases, **measure(0, scenes=SCENES, **setting)})
        print(rows[-1], flush=True)
    write_result(
        "detector_budget",
        {"data": "sample", "seed": 0, "test_scenes": SCENES, "rows": rows},
    )


if __name__ == "__main__":
    main()
