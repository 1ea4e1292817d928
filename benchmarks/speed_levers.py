"""Which speed levers help training on a CPU? Each lever against the default, in one process.

Usage::

    python -m benchmarks.speed_levers [--epochs 3]

Levers: several training steps per ``tf.function`` call (``steps_per_execution``),
XLA compilation (``jit_compile``) and the batch size. None of them is in the recipe,
because none measurably helped on a 2-core CPU (see the README). The first row is the
recipe as it is, the reference for the ratios. A training run warms up first. Each
variant trains the improved recipe on the offline sample for the same epochs; the
figure of merit is training images per second during ``fit`` (tracing included).
The input pipeline is timed separately in ``compare_recipes.py``.
"""

from __future__ import annotations

# First, so that TensorFlow's C++ start-up logs are silenced (see helpers/__init__.py).
import helpers  # noqa: F401

# isort: split

import argparse
import dataclasses
import json
import os

from benchmarks.compare_recipes import RESULTS, machine, warm_up
from helpers.data import load_mnist
from helpers.training import IMPROVED, train

LEVERS = {
    "none (the recipe as is)": {},
    "steps_per_execution=8": {"steps_per_execution": 8},
    "steps_per_execution=32": {"steps_per_execution": 32},
    "jit_compile=True": {"jit_compile": True},
    "batch 128": {"batch_size": 128},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    (x_train, y_train), _ = load_mnist("sample")
    print(f"Machine: {machine()}\nImproved recipe, offline sample, {args.epochs} epochs each\n")
    warm_up(x_train, y_train)
    rows = []
    for name, change in LEVERS.items():
        run = train(
            dataclasses.replace(IMPROVED, **change), x_train, y_train, epochs=args.epochs, verbose=0
        )
        rows.append(
            {
                "lever": name,
                "images_per_second": run.images_per_second,
                "fit_seconds": run.seconds,
                "load_average_1min": os.getloadavg()[0],  # the machine may be shared
            }
        )
        ratio = run.images_per_second / rows[0]["images_per_second"]
        print(f"{name:24} {run.images_per_second:8.0f} img/s  {ratio:5.2f}x", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speed_levers.json").write_text(
        json.dumps({"machine": machine(), "epochs": args.epochs, "rows": rows}, indent=1)
    )


if __name__ == "__main__":
    main()
