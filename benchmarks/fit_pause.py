"""Does ``fit()`` pause after its last epoch? Consecutive short runs, two input pipelines.

Usage::

    python benchmarks/fit_pause.py [--calls 20]

Each call builds and trains the improved recipe for one epoch on the offline sample,
and records ``fit()``'s wall time and the time its epochs took (from a callback). The
gap between the two is what ``fit`` spends outside its epochs: setting up, and tearing
the input pipeline down at the end. Three set-ups, alternating, in one process:

* ``fixed``: as :func:`helpers.training.train` trains: the pipeline of
  :func:`helpers.pipeline.training_dataset`, with tf.data's autotuning switched off and a
  fixed number of threads, under TensorFlow's default strategy;
* ``autotune``: the same dataset with autotuning switched back on (the former default),
  for ``--reference-calls`` calls, as the reference that shows the pause;
* ``one device named``: the fixed pipeline, but the model built and trained under a
  ``OneDeviceStrategy`` (tried for its single trace, ``benchmarks/first_step.py``, before
  the course created the training state itself), for ``--reference-calls`` calls: Keras
  then feeds ``fit`` through a distributed iterator.

Results go to ``benchmarks/results/fit_pause.json``, with the machine and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from benchmarks.compare_recipes import machine, write_result
from benchmarks.first_step import one_device
from helpers.data import load_mnist
from helpers.pipeline import training_dataset
from helpers.training import IMPROVED, compile_model, get_strategy


class EpochClock(keras.callbacks.Callback):
    """Adds up the wall time of the epochs, from ``on_epoch_begin`` to ``on_epoch_end``."""

    def __init__(self):
        super().__init__()
        self.seconds = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._start


def one_call(dataset: tf.data.Dataset, steps: int, strategy: tf.distribute.Strategy) -> dict:
    """Train a fresh improved model for one epoch; fit's wall time and its epochs' time."""
    with strategy.scope():
        model = compile_model(IMPROVED.build(), IMPROVED, steps, 1)
    clock = EpochClock()
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[clock], shuffle=False, verbose=0)
    fit = time.perf_counter() - start
    return {"fit_seconds": fit, "epoch_seconds": clock.seconds, "gap_seconds": fit - clock.seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--reference-calls", type=int, default=12)
    args = parser.parse_args()
    (x_train, y_train), _ = load_mnist("sample")
    print(f"Machine: {machine()}\n1 epoch per call, improved recipe\n", flush=True)
    autotune = tf.data.Options()
    autotune.autotune.enabled = True
    runs = {"fixed": [], "autotune": [], "one device named": []}
    load = [os.getloadavg()[0]]
    for call in range(args.calls):
        for name, rows in runs.items():
            if name != "fixed" and call >= args.reference_calls:
                continue
            keras.utils.set_random_seed(call)
            dataset, steps = training_dataset(
                x_train, y_train, batch_size=IMPROVED.batch_size, seed=call, epochs=1
            )
            if name == "autotune":
                dataset = dataset.with_options(autotune)
            strategy = one_device() if name == "one device named" else get_strategy()
            rows.append(one_call(dataset, steps, strategy))
            print(f"{call:2d} {name:16} gap {rows[-1]['gap_seconds']:6.2f} s", flush=True)
        load.append(os.getloadavg()[0])
    summary = {
        name: {
            "calls": len(rows),
            "max_gap_seconds": max(r["gap_seconds"] for r in rows),
            "calls_with_gap_over_1s": sum(r["gap_seconds"] > 1 for r in rows),
            "mean_epoch_seconds": float(np.mean([r["epoch_seconds"] for r in rows])),
        }
        for name, rows in runs.items()
    }
    print(json.dumps(summary, indent=1))
    write_result(
        "fit_pause",
        {
            "load_average_1min": {"min": min(load), "max": max(load)},
            "summary": summary,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
