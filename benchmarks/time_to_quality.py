"""How soon does the improved recipe reach the original lab's quality? Side by side, one process.

Usage::

    python benchmarks/time_to_quality.py [--epochs 10]

Three runs on the same digits (the offline sample), with the same seed, scored on the
same held-out canvases (made once from the sample's test digits):

1. the baseline (the original lab) for ``--epochs`` epochs: its final accuracy and share
   of boxes at IoU >= 0.6 are the bar;
2. the improved recipe, scored after every epoch: the training time at which it first
   clears both bars, as a share of the baseline's time;
3. a faster network tried for the improved recipe and left out: a stride-2 first
   convolution (the later stages see a quarter of the area) with wider stages
   (16, 48, 96 filters), for its speed and its quality after the same epochs.

Training time is the sum of the epochs' wall times (tracing included, scoring
excluded), after an untimed warm-up run of each recipe. Images per second are training
images over that time. Ratios are what to quote: absolute seconds depend on the
machine, which the output names, and on its load, which it records. Results go to
``benchmarks/results/time_to_quality.json``.
"""

from __future__ import annotations

# First, so that TensorFlow's C++ start-up logs are silenced (see helpers/__init__.py).
import helpers  # noqa: F401

# isort: split

import argparse
import dataclasses
import json
import os
import time

import keras

from benchmarks.compare_recipes import RESULTS, machine, warm_up
from helpers.data import load_mnist
from helpers.evaluation import evaluate
from helpers.pipeline import make_test_set
from helpers.training import BASELINE, IMPROVED, Recipe, train

STRIDED_STEM = dataclasses.replace(
    IMPROVED, name="+ stride-2 stem, 16-48-96", strided_stem=True, channels=(16, 48, 96)
)


class ScoreEachEpoch(keras.callbacks.Callback):
    """Scores the model on fixed canvases after every epoch; keeps the clock for the epochs only."""

    def __init__(self, test: tuple):
        super().__init__()
        self.test, self.rows, self.seconds = test, [], 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._start
        scores = evaluate(self.model, *self.test).summary()
        self.rows.append({"epoch": epoch + 1, "train_seconds": self.seconds, **scores})


def run(recipe: Recipe, digits, labels, test: tuple, epochs: int) -> dict:
    """Train ``recipe``, scored after each epoch; the per-epoch rows and the speed."""
    clock = ScoreEachEpoch(test)
    result = train(recipe, digits, labels, epochs=epochs, seed=0, verbose=0, callbacks=[clock])
    speed = result.images_seen / clock.seconds
    final = clock.rows[-1]
    print(
        f"{recipe.name:28} {clock.seconds:6.1f} s {speed:6.0f} img/s  accuracy "
        f"{final['accuracy']:.3f}  mean IoU {final['mean_iou']:.3f}  "
        f"IoU>=0.6 {final['share_iou_0.6']:.3f}  (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return {"recipe": recipe.name, "images_per_second": speed, "epochs": clock.rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = load_mnist("sample")
    test = make_test_set(x_test, y_test)
    print(f"Machine: {machine()}\n{len(x_train)} training digits, {args.epochs} epochs\n")
    warm_up(x_train, y_train)  # so that the first timed run does not pay the process's start-up
    load = [os.getloadavg()[0]]
    runs = []
    for recipe in (BASELINE, IMPROVED, STRIDED_STEM):
        runs.append(run(recipe, x_train, y_train, test, args.epochs))
        load.append(os.getloadavg()[0])
    baseline, improved, strided = runs
    bar = baseline["epochs"][-1]
    reached = next(
        (
            row
            for row in improved["epochs"]
            if row["accuracy"] >= bar["accuracy"] and row["share_iou_0.6"] >= bar["share_iou_0.6"]
        ),
        None,
    )
    summary = {
        "baseline_seconds": bar["train_seconds"],
        "improved_reaches_baseline_at_epoch": reached and reached["epoch"],
        "time_to_baseline_quality_ratio": reached
        and reached["train_seconds"] / bar["train_seconds"],
        "speed_ratio_improved_to_baseline": improved["images_per_second"]
        / baseline["images_per_second"],
        "speed_ratio_strided_stem_to_baseline": strided["images_per_second"]
        / baseline["images_per_second"],
    }
    print(json.dumps(summary, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "time_to_quality.json").write_text(
        json.dumps(
            {
                "machine": machine(),
                "load_average_1min": {"min": min(load), "max": max(load)},
                "train_digits": len(x_train),
                "test_digits": len(x_test),
                "summary": summary,
                "runs": runs,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
