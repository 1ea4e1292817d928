"""How soon does the improved recipe reach the lab's quality, and how fast is it? One process.

Usage::

    python -m benchmarks.time_to_quality [--epochs 10] [--seeds 0 1 2]

For each seed, four runs on the same digits (the offline sample), scored on the same
held-out canvases (made once from the sample's test digits): the baseline after every
epoch, the others after every quarter epoch, so that the time to the bar is not rounded
up to a whole epoch (an epoch of the improved recipe is about 6% of the baseline's
10-epoch time here; the summary gives the whole-epoch figure too):

1. the baseline (the original lab) for ``--epochs`` epochs: its final accuracy and share
   of boxes at IoU >= 0.6 are the bar;
2. the improved recipe: the training time at which it first clears both bars, as a
   share of the baseline's time, and its quality after the same epochs;
3. the improved recipe as it was before its network got cheaper (the lab's 16, 32 and
   64 filters, no normalisation of the class features:
   :data:`helpers.training.EARLIER_NETWORK`), so that the speed-up is measured in the
   same process as the bar;
4. the improved recipe without the normalisation of its class features, to show what that
   one layer buys in the first epochs.

The clock runs from the call to ``train()`` (model build, compilation, tracing and every
epoch so far), with the time spent scoring taken out. Images per second are training
images over the whole call. Every recipe trains once, untimed, before the timed runs
(the process' start-up). Ratios are what to quote: absolute seconds depend on the
machine, which the output names, and on its load, which it records. Results go to
``benchmarks/results/time_to_quality.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
import time

import keras

from benchmarks.compare_recipes import epochs_and_seeds, machine, warm_up, write_result
from helpers.data import load_mnist
from helpers.evaluation import evaluate
from helpers.pipeline import make_test_set
from helpers.training import BASELINE, EARLIER_NETWORK, IMPROVED, Recipe, train

#: The improved recipe on its earlier network (2.5x the multiply-adds per canvas).
EARLIER = dataclasses.replace(IMPROVED, name="improved, earlier network", **EARLIER_NETWORK)
#: The improved recipe without its class-feature normalisation: what that layer buys.
NO_CLASS_NORM = dataclasses.replace(
    IMPROVED, name="improved, no class-feature normalisation", class_norm=False
)
CONTENDERS = (IMPROVED, EARLIER, NO_CLASS_NORM)
#: How often the contenders are scored: every quarter epoch (16 steps on the sample).
CHECKPOINTS_PER_EPOCH = 4


class ScoreAsItTrains(keras.callbacks.Callback):
    """Scores the model on fixed canvases ``per_epoch`` times an epoch; its clock leaves
    the scoring out.

    Rows carry ``epoch`` as a fraction (1.25 after a quarter of the second epoch), so
    that the time to a bar is not rounded up to a whole epoch.
    """

    def __init__(self, test: tuple, per_epoch: int):
        super().__init__()
        self.test, self.per_epoch, self.rows, self.scoring = test, per_epoch, [], 0.0
        self.epoch = 0
        self.start = time.perf_counter()  # made just before train(): the clock starts there

    def on_train_begin(self, logs=None):
        self.steps = self.params["steps"]  # steps per epoch, as fit was given them
        self.every = math.ceil(self.steps / self.per_epoch)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        done = batch + 1
        if done % self.every and done != self.steps:
            return
        scored_at = time.perf_counter()
        scores = evaluate(self.model, *self.test).summary()
        seconds = scored_at - self.start - self.scoring
        self.scoring += time.perf_counter() - scored_at
        epoch = self.epoch + done / self.steps
        self.rows.append({"epoch": round(epoch, 4), "train_seconds": seconds, **scores})


def run(
    recipe: Recipe, digits, labels, test: tuple, epochs: int, seed: int, per_epoch: int
) -> dict:
    """Train ``recipe``, scored ``per_epoch`` times an epoch; the rows and the speed."""
    clock = ScoreAsItTrains(test, per_epoch)
    result = train(recipe, digits, labels, epochs=epochs, seed=seed, verbose=0, callbacks=[clock])
    final = clock.rows[-1]
    speed = result.images_seen / final["train_seconds"]
    print(
        f"seed {seed}  {recipe.name:40} {final['train_seconds']:5.1f} s {speed:5.0f} img/s  "
        f"accuracy {final['accuracy']:.3f}  mean IoU {final['mean_iou']:.4f}  "
        f"IoU>=0.6 {final['share_iou_0.6']:.3f}  (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return {"recipe": recipe.name, "seed": seed, "images_per_second": speed, "epochs": clock.rows}


def first_match(rows: list[dict], bar: dict, whole_epochs: bool = False) -> dict | None:
    """The first row whose accuracy and share of boxes at IoU >= 0.6 both reach ``bar``'s
    (among whole epochs only, with ``whole_epochs``)."""
    return next(
        (
            row
            for row in rows
            if row["accuracy"] >= bar["accuracy"]
            and row["share_iou_0.6"] >= bar["share_iou_0.6"]
            and (not whole_epochs or float(row["epoch"]).is_integer())
        ),
        None,
    )


def summarise(runs: list[dict], seeds: list[int]) -> dict:
    """Per seed and recipe: time to the baseline's quality, speed ratio; then over seeds."""
    by = {(r["recipe"], r["seed"]): r for r in runs}
    per_seed = []
    for seed in seeds:
        baseline = by[BASELINE.name, seed]
        bar = baseline["epochs"][-1]
        row = {"seed": seed, "baseline_seconds": bar["train_seconds"]}
        for recipe in CONTENDERS:
            run = by[recipe.name, seed]
            reached = first_match(run["epochs"], bar)
            whole = first_match(run["epochs"], bar, whole_epochs=True)
            row[recipe.name] = {
                "reaches_baseline_at_epoch": reached and reached["epoch"],
                "time_to_baseline_quality_ratio": reached
                and reached["train_seconds"] / bar["train_seconds"],
                "time_to_baseline_quality_ratio_scored_per_whole_epoch": whole
                and whole["train_seconds"] / bar["train_seconds"],
                "speed_ratio_to_baseline": run["images_per_second"] / baseline["images_per_second"],
            }
        per_seed.append(row)

    def worst_ratio(name: str, key: str) -> float | None:
        ratios = [row[name][key] for row in per_seed]
        return None if None in ratios else max(ratios)

    def mean_final(name: str, key: str) -> float:
        return statistics.mean(by[name, seed]["epochs"][-1][key] for seed in seeds)

    return {
        "per_seed": per_seed,
        **{
            f"worst_{key}": {r.name: worst_ratio(r.name, key) for r in CONTENDERS}
            for key in (
                "time_to_baseline_quality_ratio",
                "time_to_baseline_quality_ratio_scored_per_whole_epoch",
            )
        },
        "mean_speed_ratio_to_baseline": {
            r.name: statistics.mean(row[r.name]["speed_ratio_to_baseline"] for row in per_seed)
            for r in CONTENDERS
        },
        "mean_final_quality": {
            r.name: {key: mean_final(r.name, key) for key in ("accuracy", "mean_iou")}
            for r in (BASELINE, *CONTENDERS)
        },
    }


def main() -> None:
    args = epochs_and_seeds(__doc__.splitlines()[0])
    (x_train, y_train), (x_test, y_test) = load_mnist("sample")
    test = make_test_set(x_test, y_test)
    print(f"Machine: {machine()}\n{len(x_train)} training digits, {args.epochs} epochs\n")
    warm_up(x_train, y_train)  # so that the first timed run does not pay the process's start-up
    for recipe in (EARLIER, NO_CLASS_NORM):
        train(recipe, x_train[:256], y_train[:256], epochs=1, verbose=0)
    load = [os.getloadavg()[0]]
    runs = []
    for seed in args.seeds:
        for recipe in (BASELINE, *CONTENDERS):
            # The baseline's bar is its last epoch; the others are scored every quarter.
            per_epoch = 1 if recipe is BASELINE else CHECKPOINTS_PER_EPOCH
            runs.append(run(recipe, x_train, y_train, test, args.epochs, seed, per_epoch))
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
