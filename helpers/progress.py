"""Training progress that suits where the output goes.

A terminal or a notebook gets Keras' live progress bar. Anything else (``> train.log``,
a CI log, a batch job) gets one plain line per epoch: the live bar would fill the file
with a redraw per step, ANSI escapes included.

Used in notebook 03 (training) and by the command line.
"""

from __future__ import annotations

import sys
import time

import keras


class EpochLines(keras.callbacks.Callback):
    """Print ``epoch 3/10: loss 0.1234, ... (2.1 s)`` on stdout at the end of each epoch."""

    def on_train_begin(self, logs=None):
        self._epochs = self.params.get("epochs")

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        logs = sorted((logs or {}).items(), key=lambda item: item[0] != "loss")  # total first
        metrics = ", ".join(f"{name} {float(value):.4f}" for name, value in logs)
        print(f"epoch {epoch + 1}/{self._epochs}: {metrics} ({seconds:.1f} s)", flush=True)


def interactive() -> bool:
    """True in a terminal or a Jupyter kernel, where a live progress bar redraws in place."""
    return sys.stdout.isatty() or "ipykernel" in sys.modules


def fit_progress(verbose: int | str = "auto") -> tuple[int | str, list[keras.callbacks.Callback]]:
    """``(verbose, callbacks)`` for ``model.fit``.

    ``"auto"`` keeps Keras' bar where it redraws in place and swaps it for
    :class:`EpochLines` elsewhere; any other ``verbose`` is passed through unchanged.
    """
    if verbose != "auto" or interactive():
        return verbose, []
    return 0, [EpochLines()]
