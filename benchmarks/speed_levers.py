"""Which speed levers help training on a CPU? Each against the recipe, alternating, one process.

Usage::

    python -m benchmarks.speed_levers [--epochs 3] [--rounds 3]

Levers: several training steps per ``tf.function`` call (``steps_per_execution``; 31
is half of the sample's 62 steps per epoch), XLA compilation (``jit_compile``) and the
batch size. None of them is in the recipe (see the README for why). Each round trains
the recipe as it is and then each lever, on the offline sample for the same epochs, so
that every lever is compared with a run of the recipe made minutes before it; the
ratios are medians over the rounds. The figure of merit is training images per second
of the whole ``train()`` call (model build, tracing and every epoch). A training run
warms the process up first. The input pipeline is timed in ``compare_recipes.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics

from benchmarks.compare_recipes import machine, warm_up, write_result
from helpers.data import load_mnist
from helpers.training import IMPROVED, train

RECIPE = "none (the recipe as is)"
LEVERS = {
    RECIPE: {},
    "steps_per_execution=2": {"steps_per_execution": 2},
    "steps_per_execution=31": {"steps_per_execution": 31},
    "jit_compile=True": {"jit_compile": True},
    "batch 128": {"batch_size": 128},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    (x_train, y_train), _ = load_mnist("sample")
    print(f"Machine: {machine()}\nImproved recipe, offline sample, {args.epochs} epochs each\n")
    warm_up(x_train, y_train)
    speeds: dict[str, list[float]] = {name: [] for name in LEVERS}
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name, change in LEVERS.items():
            recipe = dataclasses.replace(IMPROVED, **change)
            run = train(recipe, x_train, y_train, epochs=args.epochs, verbose=0)
            speeds[name].append(run.images_per_second)
            load.append(os.getloadavg()[0])
    rows = []
    for name, runs in speeds.items():
        ratios = [lever / recipe for lever, recipe in zip(runs, speeds[RECIPE], strict=True)]
        rows.append(
            {
                "lever": name,
                "images_per_second": statistics.median(runs),
                "ratio_median": statistics.median(ratios),
                "ratio_range": [min(ratios), max(ratios)],
            }
        )
        print(
            f"{name:24} {rows[-1]['images_per_second']:8.0f} img/s  "
            f"{rows[-1]['ratio_median']:5.2f}x ({min(ratios):.2f} to {max(ratios):.2f})",
            flush=True,
        )
    write_result(
        "speed_levers",
        {
            "epochs": args.epochs,
            "rounds": args.rounds,
            "load_average_1min": {"min": min(load), "max": max(load)},
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
