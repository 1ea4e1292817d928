"""Scoring a two-headed model: accuracy for the class, IoU for the box (notebook 04)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from helpers import validation
from helpers.boxes import iou
from helpers.constants import NUM_CLASSES
from helpers.errors import InputError

IOU_THRESHOLD = 0.6
#: The localizer's contract: output name -> size of its last axis.
OUTPUTS = {"classification": NUM_CLASSES, "bounding_box": 4}


def check_localizer(model: keras.Model, name: str = "model") -> keras.Model:
    """``model`` if it has the localizer's two heads, else :class:`InputError`.

    The contract (what :func:`helpers.models.build_model` builds and the CLI saves):
    one input ``(N, H, W, 1)`` and a dict of two outputs, ``classification (N, 10)``
    and ``bounding_box (N, 4)``. Checked from the model's structure, without running it.
    """
    outputs = getattr(model, "output", None)  # Sequential models that were never built: None
    if isinstance(outputs, dict):
        found = {key: tuple(tensor.shape) for key, tensor in outputs.items()}
    elif isinstance(outputs, (list, tuple)):
        found = [tuple(tensor.shape) for tensor in outputs]
    else:
        found = tuple(outputs.shape) if hasattr(outputs, "shape") else None
    ok = isinstance(found, dict) and all(
        key in found and found[key][-1:] == (size,) for key, size in OUTPUTS.items()
    )
    if not ok:
        label = getattr(model, "name", type(model).__name__)
        raise InputError(
            f"{name} {label!r}: expected a two-headed localizer with outputs "
            f"{{'classification': (N, 10), 'bounding_box': (N, 4)}}, got outputs {found}"
        )
    return model


def _input_side(model: keras.Model) -> int | None:
    """The side of the model's square input, or ``None`` when the model leaves it open."""
    shape = getattr(model, "input_shape", None)
    return shape[1] if isinstance(shape, tuple) and len(shape) == 4 else None


def predict(
    model: keras.Model, images: np.ndarray, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities ``(N, 10)`` and boxes ``(N, 4)`` (normalised xyxy) for ``images``.

    Args:
        model: a two-headed localizer (see :func:`check_localizer`).
        images: ``(N, 75, 75, 1) float32`` in [0, 1] (the side is the model's input side).
    """
    check_localizer(model)
    images = validation.check_images(images, side=_input_side(model))
    batch_size = validation.check_int(batch_size, "batch_size", minimum=1)
    return _predict_checked(model, images, batch_size)


def _predict_checked(
    model: keras.Model, images: np.ndarray, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict` once its arguments are checked."""
    outputs = model.predict(images, batch_size=batch_size, verbose=0)
    return np.asarray(outputs["classification"]), np.asarray(outputs["bounding_box"])


@dataclass
class Evaluation:
    """Scores of one model on one test set. Arrays are per test example."""

    labels: np.ndarray  # (N,) true classes
    predicted: np.ndarray  # (N,) predicted classes
    probabilities: np.ndarray  # (N, 10)
    true_boxes: np.ndarray  # (N, 4) normalised xyxy
    boxes: np.ndarray  # (N, 4) predicted, normalised xyxy
    ious: np.ndarray  # (N,)
    seconds_per_image: float
    threshold: float = IOU_THRESHOLD

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predicted == self.labels))

    @property
    def mean_iou(self) -> float:
        return float(np.mean(self.ious))

    def share_above(self, threshold: float | None = None) -> float:
        """Share of boxes with IoU >= ``threshold`` (the evaluation's own by default)."""
        if threshold is not None:
            threshold = validation.check_number(threshold, "threshold", minimum=0, maximum=1)
        return float(np.mean(self.ious >= (self.threshold if threshold is None else threshold)))

    @property
    def confusion(self) -> np.ndarray:
        """``(10, 10) int64``: row = true class, column = predicted class."""
        matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
        np.add.at(matrix, (self.labels, self.predicted), 1)
        return matrix

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """``(10,) float``: accuracy on each true class (NaN for a class with no example)."""
        matrix = self.confusion
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(matrix) / matrix.sum(axis=1)

    def summary(self) -> dict[str, float]:
        """The headline numbers, as plain floats for JSON."""
        return {
            "accuracy": round(self.accuracy, 4),
            "mean_iou": round(self.mean_iou, 4),
            f"share_iou_{self.threshold:g}": round(self.share_above(), 4),
            "test_images": len(self.labels),
            "ms_per_image": round(1000 * self.seconds_per_image, 4),
        }


def evaluate(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    boxes: np.ndarray,
    *,
    threshold: float = IOU_THRESHOLD,
    batch_size: int = 256,
) -> Evaluation:
    """Score ``model`` on a test set. Taught in notebook 04.

    Args:
        images: ``(N, 75, 75, 1) float32`` in [0, 1] (0..255 is refused); labels
            ``(N,)`` classes 0..9;
            boxes ``(N, 4)`` normalised xyxy.
        threshold: IoU at which a box counts as good (0.6 in the course).

    Inference time per image is measured on a second pass over the whole set, after a
    warm-up call, so graph tracing is not counted.
    """
    check_localizer(model)
    images = validation.check_images(images, side=_input_side(model))
    if not len(images):
        raise InputError("images: expected at least one test image, got an empty test set")
    labels = validation.check_labels(labels, len(images))
    true_boxes = validation.check_boxes(boxes, "boxes", length=len(images))
    threshold = validation.check_number(threshold, "threshold", minimum=0, maximum=1)
    batch_size = validation.check_int(batch_size, "batch_size", minimum=1)
    _predict_checked(model, images[:batch_size], batch_size)  # warm-up: trace predict
    start = time.perf_counter()
    probabilities, predicted_boxes = _predict_checked(model, images, batch_size)
    seconds = (time.perf_counter() - start) / max(1, len(images))
    return Evaluation(
        labels=labels,
        predicted=probabilities.argmax(axis=1),
        probabilities=probabilities,
        true_boxes=true_boxes,
        boxes=predicted_boxes,
        ious=iou(predicted_boxes, true_boxes),
        seconds_per_image=seconds,
        threshold=threshold,
    )
