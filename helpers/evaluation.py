"""Scoring a two-headed model: accuracy for the class, IoU for the box."""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from helpers.boxes import check_boxes, iou

IOU_THRESHOLD = 0.6


def predict(
    model: keras.Model, images: np.ndarray, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities ``(N, 10)`` and boxes ``(N, 4)`` (normalised xyxy) for ``images``.

    Args:
        images: ``(N, 75, 75, 1) float32`` in [0, 1].
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"images: expected shape (N, H, W, 1), got {images.shape}")
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
        return float(np.mean(self.ious >= (self.threshold if threshold is None else threshold)))

    @property
    def confusion(self) -> np.ndarray:
        """``(10, 10) int64``: row = true class, column = predicted class."""
        matrix = np.zeros((10, 10), dtype=np.int64)
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
    """Score ``model`` on a test set.

    Args:
        images: ``(N, 75, 75, 1) float32`` in [0, 1]; labels ``(N,)`` classes 0..9;
            boxes ``(N, 4)`` normalised xyxy.
        threshold: IoU at which a box counts as good (0.6 in the course).

    Inference time per image is measured on a second pass over the whole set, after a
    warm-up call, so graph tracing is not counted.
    """
    labels = np.asarray(labels).astype(np.int64)
    true_boxes = check_boxes(boxes, "boxes")
    if not (len(images) == len(labels) == len(true_boxes)):
        raise ValueError(
            f"images ({len(images)}), labels ({len(labels)}) and boxes ({len(true_boxes)}) "
            "must have the same length"
        )
    predict(model, images[:batch_size], batch_size)  # warm-up: trace the predict function
    start = time.perf_counter()
    probabilities, predicted_boxes = predict(model, images, batch_size)
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
