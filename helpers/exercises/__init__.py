"""The course's exercises: what each asks for, the inputs it is checked on, how it is judged.

An :class:`Exercise` is split in three steps so that the same check runs in a student's
notebook and, for a grade, across a process boundary that the student's code cannot
reach (``python -m helpers grade`` judges outside the kernel):

1. ``make_cases(rng)`` - inputs the student never saw, drawn from ``rng``
   (plain data: numbers, strings, lists, NumPy arrays). The grader draws them with a seed
   of its own; a notebook draws fresh ones at every run.
2. ``collect(answer, cases)`` - runs *in the kernel*: calls the student's function on
   every case (or reads the student's value) and returns plain data only, never a live
   object. It computes nothing the judgement relies on.
3. ``judge(data, cases, source)`` - runs *in the judging process*: computes the course's
   reference answers itself and returns ``None`` (right) or a hint that says *what* is
   wrong, never the answer. ``source`` is the text of the student's solution cell (or
   ``None``), so a judge can refuse a solution that only calls the library function the
   exercise replaces.

In a notebook a check cell reads::

    course.check_exercise("01.paste_batch", lambda: paste_batch)

which prints ``Correct!`` or ``Not yet: <hint>`` and never raises, so "Run All" goes on.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from helpers.errors import InputError

#: Plain data as the kernel hands it back: JSON-able values and NumPy arrays.
Plain = Any
#: ``make_cases(rng)``: the inputs of one check, as a list of keyword-argument dicts.
MakeCases = Callable[[np.random.Generator], list[dict[str, Plain]]]
#: ``collect(answer, cases)``: runs the student's answer on every case; plain data only.
Collect = Callable[[Any, list[dict[str, Plain]]], Plain]
#: ``judge(data, cases, source)``: ``None`` when right, else the hint.
Judge = Callable[[Plain, list[dict[str, Plain]], "str | None"], "str | None"]


@dataclass(frozen=True)
class Exercise:
    """One exercise of one notebook.

    Attributes:
        key: ``"<notebook number>.<answer>"``, e.g. ``"01.paste_batch"``: the name a check
            cell passes to :func:`helpers.course.check_exercise` and the grade's column.
        notebook: the notebook's file stem, e.g. ``"01_dataset_synthesis"``.
        answer: the name the student defines in the solution cell.
        kind: ``"function"`` (judged on fresh inputs) or ``"value"`` (judged as it is).
        make_cases, collect, judge: the three steps described in the module docstring.
        points: what the exercise is worth in a grade.
    """

    key: str
    notebook: str
    answer: str
    kind: Literal["function", "value"]
    make_cases: MakeCases
    collect: Collect
    judge: Judge
    points: int = 1


#: Every module of this package defines the exercises of one notebook (``nb01_dataset``,
#: ``nb02_architecture``, ...) and fills the registry through :func:`register` when imported.
_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to the registry (once per key) and return it."""
    if exercise.key in _REGISTRY:
        raise InputError(f"exercise {exercise.key!r} is registered twice")
    _REGISTRY[exercise.key] = exercise
    return exercise


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of the course, by key (imports the exercise modules once)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return dict(_REGISTRY)


def get(key: str) -> Exercise:
    """The exercise called ``key``; :class:`InputError` naming the known keys otherwise."""
    exercises = all_exercises()
    if key not in exercises:
        raise InputError(f"no exercise {key!r}; known: {', '.join(sorted(exercises))}")
    return exercises[key]


def to_plain(value: Any) -> Plain:
    """``value`` as plain data (for the trip out of the kernel): arrays stay NumPy arrays
    of numbers, NumPy scalars become Python numbers, tuples become lists.

    Raises:
        InputError: for anything else (a model, a function, an object of the student's).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise InputError("expected an array of numbers, got an array of Python objects")
        return value
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, "numpy"):  # a TensorFlow tensor
        return to_plain(np.asarray(value.numpy()))
    raise InputError(f"expected plain data (numbers, strings, arrays), got {type(value).__name__}")

