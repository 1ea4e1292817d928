"""Running and reading a student's answer: the tools every exercise module shares.

``collect`` steps (they run in the kernel and return plain data only):
:func:`collect_calls` (the answer called on every case, a crash recorded per case),
:func:`collect_value` (a value exercise) and :func:`describe_model` (a Keras model as plain
data). ``judge`` helpers: :func:`raised` (the hint for a case that crashed),
:func:`refusal` (refuses a solution that calls the library function it replaces, found
with :func:`called_names`), :func:`as_array`, :func:`reference_iou` and :func:`choice_judge`.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from helpers.errors import InputError
from helpers.exercises import Judge, Plain


def to_plain(value: Any) -> Plain:
    """``value`` as plain data (for the trip out of the kernel): arrays stay NumPy arrays
    of numbers, NumPy scalars become Python numbers, tuples become lists.

    Raises:
        InputError: for anything else (a model, a function, an object of the student's).
    """
    if value is None or isinstance(value, (bool, str, int, float)):
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


def collect_calls(
    answer: Callable, cases: list[dict[str, Plain]], convert: Callable[[Any], Plain] = to_plain
) -> list[Plain]:
    """``convert(answer(**case))`` for every case: the usual ``collect``.

    A case whose call raises gives the error record ``{"error": "<type>: <message>"}``
    instead, so that the judge can say on which inputs the function crashed (read it with
    :func:`raised`). ``convert`` (:func:`to_plain`, or :func:`describe_model` for a function
    that builds a model) runs outside that net: a result that is not plain data stops the
    collection with :class:`InputError`. Nothing is computed here beyond the student's calls.
    """
    results = []
    for case in cases:
        try:
            result = answer(**case)
        except Exception as error:  # the student's code: any error is reported, per case
            results.append({"error": f"{type(error).__name__}: {error}"})
        else:
            results.append(convert(result))
    return results


def collect_value(answer: Any, cases: list[dict[str, Plain]]) -> Plain:
    """A value exercise's ``collect``: the student's value as plain data (no cases to run)."""
    return to_plain(answer)


def raised(value: Plain, answer: str, where: str = "one of the inputs") -> str | None:
    """The hint for a case whose call crashed (an error record of :func:`collect_calls`),
    e.g. "`nms` raised ZeroDivisionError: ... on an empty list of boxes"; ``None`` when the
    call returned. ``where`` names the case's inputs in words."""
    if isinstance(value, dict) and set(value) == {"error"}:
        return f"`{answer}` raised {value['error']} on {where}"
    return None


def called_names(source: str | None) -> set[str]:
    """Names of the functions called in ``source``: ``f(...)`` and ``a.b.f(...)`` give ``f``.

    Empty when ``source`` is ``None`` or does not parse (the judge then cannot tell).
    """
    if not source:
        return set()
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
            elif isinstance(node.func, ast.Name):
                names.add(node.func.id)
    return names


def refusal(source: str | None, names: set[str], task: str) -> str | None:
    """The sentence refusing a solution that calls one of ``names`` (the library functions
    the exercise replaces), e.g. "write NMS yourself: your code calls `non_max_suppression`,
    the library function this exercise replaces"; ``None`` when it calls none of them."""
    called = called_names(source) & names
    if not called:
        return None
    listed = ", ".join(f"`{name}`" for name in sorted(called))
    return f"{task} yourself: your code calls {listed}, the library function this exercise replaces"


def as_array(value: Plain) -> np.ndarray | None:
    """``value`` as a float64 array; ``None`` for an error record or anything not numbers."""
    if isinstance(value, dict):
        return None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def reference_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """:func:`helpers.boxes.iou` for a judge: ``(N, 4)`` xyxy pairs -> ``(N,)`` float32 IoU.

    Imported at the call: it pulls in Keras, which a ``collect`` in the kernel never needs.
    """
    from helpers.boxes import iou

    return iou(boxes_a, boxes_b)


def choice_judge(choices: dict[str, Any]) -> Judge:
    """The ``judge`` of a prediction: any key of ``choices`` (a letter) is valid; the
    notebook compares it with what the experiment gave."""

    def judge(data: Plain, cases: list[dict[str, Plain]], source: str | None) -> str | None:
        if not isinstance(data, str) or data not in choices:
            return f'write one of the letters {", ".join(choices)} as a string, e.g. "a"'
        return None

    return judge


def describe_model(model: Any) -> dict[str, Plain]:
    """A Keras model as plain data, for the trip out of the kernel.

    Returns ``{"outputs": {name: shape without the batch axis}, "params": int, "layers":
    [[class name, output shape, params, activation], ...], "probe": {name: array}}``, where
    ``outputs`` and ``probe`` are ``None`` when the model's output is not a dict (its heads
    then have no names); ``probe`` holds the model's outputs for two fixed random canvases.

    Raises:
        InputError: ``model`` is not a Keras model.
    """
    if not (hasattr(model, "layers") and hasattr(model, "count_params")):
        raise InputError(f"expected a keras.Model, got {type(model).__name__}")
    output = model.output
    outputs = (
        {str(name): [int(d) for d in tensor.shape[1:]] for name, tensor in output.items()}
        if isinstance(output, dict)
        else None
    )
    layers = []
    for layer in model.layers:
        output = getattr(layer, "output", None)
        shape = [] if output is None else [None if d is None else int(d) for d in output.shape[1:]]
        activation = layer.get_config().get("activation")
        layers.append([type(layer).__name__, shape, int(layer.count_params()), activation])
    probe = None
    if outputs is not None:
        shape = tuple(int(d) for d in model.input.shape[1:])
        canvases = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
        probe = {name: to_plain(value) for name, value in model(canvases).items()}
    return {
        "outputs": outputs,
        "params": int(model.count_params()),
        "layers": layers,
        "probe": probe,
    }
