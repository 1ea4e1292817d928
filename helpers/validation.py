"""The checks every public function runs on its arguments before doing any work.

One place for them, so that the same mistake gives the same sentence wherever it is
made: each check returns the argument in the form the caller needs (a NumPy array of
the right dtype, a plain ``int``) or raises :class:`helpers.errors.InputError` naming
the argument, the value received and what was expected.

This module imports only NumPy and :mod:`helpers.errors`, so that checking never pulls in
TensorFlow.

The course's input conventions, checked here:

* **digits**: ``(N, 28, 28)``, either ``uint8`` 0..255 (MNIST as loaded) or floats in
  [0, 1]. Other integer dtypes with values in 0..255 are converted to ``uint8``. Float
  digits above 1 are refused (most likely 0..255 values that were cast to float: divide
  by 255), rather than silently making canvases that reach 255.
* **labels**: ``(N,)`` whole numbers 0..9, as many as there are digits.
* **boxes**: ``(..., 4)`` finite floats, ``(xmin, ymin, xmax, ymax)``.
* **images** (model inputs): ``(N, H, W, 1)`` finite floats.

Not taught: the checks behind every public function's clear errors.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.constants import DIGIT_SIZE, NUM_CLASSES
from helpers.errors import InputError


def _shape_of(value: Any) -> str:
    """The shape of ``value`` as a user would read it, for error messages."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return str(tuple(shape))
    return type(value).__name__


def _array(value: Any, name: str, dtype: Any = None) -> np.ndarray:
    """``np.asarray`` that turns NumPy's own complaints (ragged lists, strings) into ours."""
    try:
        # A float64 beyond float32's range becomes inf, which the checks then refuse.
        with np.errstate(over="ignore"):
            return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        expected = "an array" if dtype is None else f"an array of {np.dtype(dtype).name}"
        raise InputError(
            f"{name}: expected {expected}, got {type(value).__name__} ({error})"
        ) from None


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a plain ``int`` in ``[minimum, maximum]``; whole-number floats are refused.

    ``bool`` is refused too: ``True`` is an ``int`` in Python but never a size.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name}: expected a whole number, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise InputError(f"{name}: expected a whole number >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"{name}: expected a whole number <= {maximum}, got {value}")
    return value


def check_number(
    value: Any, name: str, minimum: float | None = None, maximum: float | None = None
) -> float:
    """``value`` as a finite ``float`` in ``[minimum, maximum]`` (NaN and inf are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name}: expected a finite number, got {value}")
    if minimum is not None and value < minimum:
        raise InputError(f"{name}: expected a number >= {minimum:g}, got {value:g}")
    if maximum is not None and value > maximum:
        raise InputError(f"{name}: expected a number <= {maximum:g}, got {value:g}")
    return value


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def check_digits(digits: Any, name: str = "digits", allow_empty: bool = True) -> np.ndarray:
    """``(N, 28, 28)`` digits as ``uint8`` 0..255 or as floats in [0, 1] (see the module doc).

    Returns a ``uint8`` array, or a float array whose values are in [0, 1]. Integer
    arrays of another dtype are converted to ``uint8`` when their values fit in 0..255.
    """
    array = _array(digits, name)
    if array.ndim != 3 or array.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE):
        raise InputError(f"{name}: expected shape (N, 28, 28), got {_shape_of(array)}")
    if not allow_empty and not len(array):
        raise InputError(f"{name}: expected at least one digit, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.integer) and not np.issubdtype(array.dtype, np.bool_):
        if array.size and (array.min() < 0 or array.max() > 255):
            raise InputError(
                f"{name}: expected integer pixels in 0..255, "
                f"got values from {array.min()} to {array.max()} ({array.dtype})"
            )
        return array.astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise InputError(f"{name}: expected finite pixel values, got NaN or inf")
        if array.size and (array.min() < 0 or array.max() > 1):
            raise InputError(
                f"{name}: float digits must be in [0, 1], got values from "
                f"{array.min():g} to {array.max():g} (for 0..255 values, pass uint8 "
                "or divide by 255)"
            )
        return array
    raise InputError(f"{name}: expected uint8 (0..255) or float (0..1) pixels, got {array.dtype}")


def check_labels(labels: Any, length: int | None = None, name: str = "labels") -> np.ndarray:
    """``(N,)`` class indices 0..9 as ``int64``; ``length`` is the N they must have."""
    array = _array(labels, name)
    if array.ndim != 1 or (length is not None and len(array) != length):
        expected = "(N,)" if length is None else f"({length},), one per digit"
        raise InputError(f"{name}: expected shape {expected}, got {_shape_of(array)}")
    if np.issubdtype(array.dtype, np.bool_) or not np.issubdtype(array.dtype, np.number):
        raise InputError(f"{name}: expected integer classes 0..9, got dtype {array.dtype}")
    if array.size and not (np.all(np.isfinite(array)) and np.all(array == np.round(array))):
        raise InputError(f"{name}: expected whole-number classes 0..9, got fractions or NaN")
    if array.size and (array.min() < 0 or array.max() >= NUM_CLASSES):
        raise InputError(
            f"{name}: expected classes 0..9, got values from {array.min()} to {array.max()}"
        )
    return array.astype(np.int64)


def check_boxes(boxes: Any, name: str = "boxes", length: int | None = None) -> np.ndarray:
    """``(..., 4)`` finite boxes as ``float32``; with ``length``, exactly ``(length, 4)``."""
    array = _array(boxes, name, np.float32)
    if array.ndim == 0 or array.shape[-1] != 4 or (length is not None and array.ndim != 2):
        raise InputError(
            f"{name}: expected shape (N, 4) as (xmin, ymin, xmax, ymax), got {array.shape}"
        )
    if length is not None and len(array) != length:
        raise InputError(f"{name}: expected {length} boxes, one per image, got {len(array)}")
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array).all(axis=-1)))
        raise InputError(f"{name}: {bad} box(es) contain NaN or infinite coordinates")
    return array


def check_images(images: Any, name: str = "images", side: int | None = None) -> np.ndarray:
    """``(N, H, W, 1)`` images in [0, 1] as ``float32``; with ``side``, ``H = W = side``.

    Values in 0..255 are refused with a hint: a model trained on [0, 1] canvases scores
    them without a word, and badly.
    """
    array = _array(images, name, np.float32)
    expected = "(N, H, W, 1)" if side is None else f"(N, {side}, {side}, 1)"
    if array.ndim != 4 or array.shape[-1] != 1:
        raise InputError(f"{name}: expected shape {expected}, got {array.shape}")
    if side is not None and array.shape[1:3] != (side, side):
        raise InputError(f"{name}: expected shape {expected}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name}: expected finite pixel values, got NaN or inf")
    if array.size and (array.min() < 0 or array.max() > 1):
        raise InputError(
            f"{name}: expected pixel values in [0, 1], got values from {array.min():g} to "
            f"{array.max():g} (for 0..255 images, divide by 255)"
        )
    return array


def check_scale(scale: Any, canvas_size: int, name: str = "scale") -> tuple[float, float] | None:
    """``None``, or a ``(min, max)`` digit side in pixels with ``1 <= min <= max <= canvas``."""
    if scale is None:
        return None
    try:
        low, high = (check_number(v, name) for v in scale)
    except (TypeError, ValueError):
        low = high = math.nan
    if not 1 <= low <= high <= canvas_size:
        raise InputError(
            f"{name}: expected (min, max) with 1 <= min <= max <= {canvas_size}, got {scale!r}"
        )
    return low, high


def check_targets(targets: Any, length: int, name: str = "targets") -> dict[str, np.ndarray]:
    """Keras targets of the two heads, as :func:`helpers.pipeline.targets` makes them.

    A dict with ``classification (length, 10)`` and ``bounding_box (length, 4)``, both
    finite; returned as ``float32`` arrays.
    """
    if not isinstance(targets, dict) or set(targets) != {"classification", "bounding_box"}:
        found = sorted(targets) if isinstance(targets, dict) else type(targets).__name__
        raise InputError(
            f"{name}: expected a dict with classification and bounding_box, as "
            f"pipeline.targets makes, got {found}"
        )
    classes = check_finite(targets["classification"], f"{name}['classification']")
    if classes.shape != (length, NUM_CLASSES):
        raise InputError(
            f"{name}['classification']: expected shape ({length}, 10), got {classes.shape}"
        )
    boxes = check_boxes(targets["bounding_box"], f"{name}['bounding_box']", length=length)
    return {"classification": classes, "bounding_box": boxes}


def check_labelled_images(
    data: Any, name: str = "validation", side: int | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A pair ``(images (N, side, side, 1), targets)`` with targets as in :func:`check_targets`."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise InputError(f"{name}: expected a pair (images, targets), got {type(data).__name__}")
    images = check_images(data[0], f"{name} images", side)
    return images, check_targets(data[1], len(images), f"{name} targets")


def check_seed(seed: Any, name: str = "seed") -> Any:
    """``None``, a whole number >= 0, or a ``numpy.random.Generator``."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    return check_int(seed, name, minimum=0)


def check_finite(array: Any, name: str) -> np.ndarray:
    """``array`` as a ``float32`` array with no NaN or infinite value."""
    array = _array(array, name, np.float32)
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name}: expected finite values, got NaN or inf")
    return array


def check_padded_labels(
    boxes: Any, classes: Any, length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Padded ground truth of multi-digit canvases, as made by the detector's scenes.

    ``boxes (N, K, 4)`` finite, normalised xyxy, and ``classes (N, K)`` whole numbers
    -1..9 (-1 marks an empty slot); with ``length``, ``N`` must equal it. Returns
    ``float32`` boxes and ``int64`` classes.
    """
    boxes = check_boxes(boxes)
    classes = _array(classes, "classes")
    if boxes.ndim != 3 or classes.shape != boxes.shape[:2]:
        raise InputError(
            f"boxes and classes: expected shapes (N, K, 4) and (N, K), "
            f"got {boxes.shape} and {_shape_of(classes)}"
        )
    if length is not None and len(classes) != length:
        raise InputError(f"classes: expected labels for {length} images, got {len(classes)}")
    if classes.size and (
        not np.issubdtype(classes.dtype, np.number)
        or np.issubdtype(classes.dtype, np.bool_)
        or not np.all(np.isin(classes, np.arange(-1, NUM_CLASSES)))
    ):
        raise InputError(f"classes: expected -1 (empty slot) or 0..9, got {np.unique(classes)}")
    return boxes, classes.astype(np.int64)
