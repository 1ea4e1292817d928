"""How soon does the improved recipe reach the lab's quality, and how fast is it? One process.

Usage::

    python -m benchmarks.time_to_quality [--epochs 10] [--seeds 0 1 2]

For each seed, three runs on the same digits (the offline sample), scored on the same
held-out canvases (made once from the sample's test digits) after every epoch:

1. the baseline (the original lab) for ``--epochs`` epochs: its final accuracy and share
   of boxes at IoU >= 0.6 are the bar;
2. the improved recipe: the training time at which it first clears both bars, as a
   share of the baseline's time, and its quality after the same epochs;
3. the improved recipe on a network with less than half the arithmetic per canvas, tried
   and left out: a strided 4x4 first convolution, then one 3x3 stage
   (:data:`helpers.training.STRIDED_NETWORK`).

The clock runs from the call to ``train()`` (model build, compilation, tracing and every
epoch so far), with the time spent scoring taken out. Images per second are training
images over the whole call. Every recipe trains once, untimed, before the timed runs
(the process' start-up). Ratios are what to quote: absolute seconds depend on the
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
import statistics
import time

import keras

from benchmarks.compare_recipes import machine, warm_up, write_result
from helpers.data import load_mnist
from helpers.evaluation import evaluate
from helpers.pipeline import make_test_set
from helpers.training import BASELINE, IMPROVED, STRIDED_NETWORK, Recipe, train

STRIDED = dataclasses.replace(IMPROVED, name="improved, strided network", **STRIDED_NETWORK)


class ScoreEachEpoch(keras.callbacks.Callback):
    """Scores the model on fixed canvases after every epoch; its clock leaves the scoring out."""

    def __init__(self, test: tuple):
        super().__init__()
        self.test, self.rows, self.scoring = test, [], 0.0
        self.start = time.perf_counter()  # made just before train(): the clock starts there

    def on_epoch_end(self, epoch, logs=None):
        scored_at = time.perf_counter()
        scores = evaluate(self.model, *self.test).summary()
        seconds = scored_at - self.start - self.scoring
        self.scoring += time.perf_counter() - scored_at
        self.rows.append({"epoch": epoch + 1, "train_seconds": seconds, **scores})


def run(recipe: Recipe, digits, labels, test: tuple, epochs: int, seed: int) -> dict:
    """Train ``recipe``, scored after each epoch; the per-epoch rows and the speed."""
    clock = ScoreEachEpoch(test)
    result = train(recipe, digits, labels, epochs=epochs, seed=seed, verbose=0, callbacks=[clock])
    final = clock.rows[-1]
    speed = result.images_seen / final["train_seconds"]
    print(
        f"seed {seed}  {recipe.name:26} {final['train_seconds']:5.1f} s {speed:5.0f} img/s  "
        f"accuracy {final['accuracy']:.3f}  mean IoU {final['mean_iou']:.4f}  "
        f"IoU>=0.6 {final['share_iou_0.6']:.3f}  (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return {"recipe": recipe.name, "seed": seed, "images_per_second": speed, "epochs": clock.rows}


def first_match(rows: list[dict], bar: dict) -> dict | None:
    """The first epoch whose accuracy and share of boxes at IoU >= 0.6 both reach ``bar``'s."""
    return next(
        (
            row
            for row in rows
            if row["accuracy"] >= bar["accuracy"] and row["share_iou_0.6"] >= bar["share_iou_0.6"]
        ),
        None,
    )


def summarise(runs: list[dict], seeds: list[int]) -> dict:
    """Per seed: time to the baseline's quality, speed ratios; then the means over seeds."""
    by = {(r["recipe"], r["seed"]): r for r in runs}
    per_seed = []
    for seed in seeds:
        baseline, improved = by[BASELINE.name, seed], by[IMPROVED.name, seed]
        strided = by[STRIDED.name, seed]
        bar = baseline["epochs"][-1]
        reached = first_match(improved["epochs"], bar)
        per_seed.append(
            {
                "seed": seed,
                "baseline_seconds": bar["train_seconds"],
                "improved_reaches_baseline_at_epoch": reached and reached["epoch"],
                "time_to_baseline_quality_ratio": reached
                and reached["train_seconds"] / bar["train_seconds"],
                "speed_ratio_improved_to_baseline": improved["images_per_second"]
                / baseline["images_per_second"],
                "speed_ratio_strided_network_to_baseline": strided["images_per_second"]
                / baseline["images_per_second"],
            }
        )

    def mean_final(recipe: str, key: str) -> float:
        return statistics.mean(by[recipe, seed]["epochs"][-1][key] for seed in seeds)

    ratios = [row["time_to_baseline_quality_ratio"] for row in per_seed]
    return {
        "per_seed": per_seed,
        "worst_time_to_baseline_quality_ratio": None if None in ratios else max(ratios),
        "mean_speed_ratio_improved_to_baseline": statistics.mean(
            row["speed_ratio_improved_to_baseline"] for row in per_seed
        ),
        "mean_speed_ratio_strided_network_to_baseline": statistics.mean(
            row["speed_ratio_strided_network_to_baseline"] for row in per_seed
        ),
        "mean_final_quality": {
            recipe: {key: mean_final(recipe, key) for key in ("accuracy", "mean_iou")}
            for recipe in (BASELINE.name, IMPROVED.name, STRIDED.name)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = load_mnist("sample")
    test = make_test_set(x_test, y_test)
    print(f"Machine: {machine()}\n{len(x_train)} training digits, {args.epochs} epochs\n")
    warm_up(x_train, y_train)  # so that the first timed run does not pay the process's start-up
    train(STRIDED, x_train[:256], y_train[:256], epochs=1, verbose=0)
    load = [os.getloadavg()[0]]
    runs = []
    for seed in args.seeds:
        for recipe in (BASELINE, IMPROVED, STRIDED):
            runs.append(run(recipe, x_train, y_train, test, args.epochs, seed))
            load.append(os.getloadavg()[0])
    summary = summarise(runs, args.seeds)
    print(json.dumps({k: v for k, v in summary.items() if k != "per_seed"}, indent=1))
    write_result(
        "time_to_quality",
        {
            "load_average_1min": {"min": min(load), "max": max(load)},
            "train_digits": len(x_train),
            "test_digits": len(x_test),
            "epochs": args.epochs,
            "summary": summary,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
