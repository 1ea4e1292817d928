"""How long until ``fit()`` has taken its first step? Three ways to set training up.

Usage::

    python -m benchmarks.first_step [--rounds 5]

Under TensorFlow's default strategy, which the course keeps on one device, Keras creates
the optimiser's, the losses' and the metrics' variables *while* it traces the training
step, and TensorFlow then traces the step a second time. Under an explicit strategy
(here ``OneDeviceStrategy``) Keras creates them before the trace. The course keeps the
default strategy (why: ``benchmarks/fit_pause.py``) and creates them itself
(:func:`helpers.training.create_training_state`). This benchmark builds and compiles
the improved recipe the three ways, alternating, times from the model's build to the
end of ``fit()``'s first step (one epoch on the offline sample), and counts how often
the training step was traced. Results go to ``benchmarks/results/first_step.json``, with
the machine named.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import keras
import tensorflow as tf

from benchmarks.compare_recipes import machine, warm_up, write_result
from helpers.data import load_mnist
from helpers.pipeline import training_dataset
from helpers.training import IMPROVED, compile_model, get_strategy


def one_device() -> tf.distribute.Strategy:
    """The device named explicitly: the first GPU, else the CPU (tried and left out)."""
    return tf.distribute.OneDeviceStrategy(
        (tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU"))[0].name
    )


#: name -> (strategy factory, whether the course creates the training state before fit).
SETUPS = {
    "the course: default strategy, state created first": (get_strategy, True),
    "default strategy, state created while tracing": (get_strategy, False),
    "one device named": (one_device, False),
}


class FirstStep(keras.callbacks.Callback):
    """Records the time from ``start`` to the end of the first training step."""

    def __init__(self, start: float):
        super().__init__()
        self.start, self.seconds = start, None

    def on_train_batch_end(self, batch, logs=None):
        if self.seconds is None:
            self.seconds = time.perf_counter() - self.start


def first_step(setup: str, digits, labels) -> tuple[float, int]:
    """Seconds from the build to the end of ``fit()``'s first step, and traces of the step."""
    strategy_factory, create_state = SETUPS[setup]
    strategy = strategy_factory()
    dataset, steps = training_dataset(digits, labels, batch_size=IMPROVED.batch_size, epochs=1)
    clock = FirstStep(time.perf_counter())  # from the build, so creating the state counts
    with strategy.scope():
        model = compile_model(
            IMPROVED.build(), IMPROVED, steps, epochs=1, create_state=create_state
        )
    traces, step = [0], model.train_step

    def counted_step(data):  # runs in Python only while TensorFlow traces the step
        traces[0] += 1
        return step(data)

    model.train_step = counted_step
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=[clock])
    return clock.seconds, traces[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    (x_train, y_train), _ = load_mnist("sample")
    print(f"Machine: {machine()}\nImproved recipe, offline sample, {args.rounds} rounds\n")
    warm_up(x_train, y_train)
    seconds = {name: [] for name in SETUPS}
    traces = {name: set() for name in SETUPS}
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name in SETUPS:
            took, traced = first_step(name, x_train, y_train)
            seconds[name].append(took)
            traces[name].add(traced)
            load.append(os.getloadavg()[0])
    rows = [
        {
            "setup": name,
            "median_seconds_to_first_step": statistics.median(seconds[name]),
            "seconds": seconds[name],
            "traces_of_the_training_step": sorted(traces[name]),
        }
        for name in SETUPS
    ]
    for row in rows:
        print(
            f"{row['setup']:50} {row['median_seconds_to_first_step']:5.2f} s to the first step "
            f"(median), traced {row['traces_of_the_training_step']} time(s)"
        )
    write_result(
        "first_step",
        {
            "rounds": args.rounds,
            "load_average_1min": {"min": min(load), "max": max(load)},
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
