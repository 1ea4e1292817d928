"""Bounding boxes: one convention, IoU by hand, and conversions.

The course's one box convention: ``(N, 4) float32``, **normalised**
``(xmin, ymin, xmax, ymax)`` in [0, 1], where x runs left to right and y top to
bottom, measured in units of the canvas side. A pixel box is the same thing times
the canvas size, with edges on pixel boundaries: a 28x28 digit pasted at column 10,
row 5 of a 75x75 canvas has the pixel box ``(10, 5, 38, 33)`` and the normalised box
``(10/75, 5/75, 38/75, 33/75)``.

In Keras' vocabulary (``keras.utils.bounding_boxes``) the convention is
``"rel_xyxy"``; conversions below delegate to ``convert_format``. Only they import
Keras, so the NumPy-only code (synthesis, scenes, IoU) does not start TensorFlow.
Taught in notebooks 01 (the convention) and 04 (IoU by hand).
"""

from __future__ import annotations

import numpy as np

from helpers import validation
from helpers.constants import CANVAS_SIZE
from helpers.errors import InputError
from helpers.validation import check_boxes

#: Our names for box formats, mapped to Keras' format strings.
FORMATS = {
    "xyxy": "rel_xyxy",  # the course convention
    "yxyx": "rel_yxyx",  # what tf.image.draw_bounding_boxes and non_max_suppression use
    "center": "rel_center_xywh",  # (cx, cy, w, h), normalised
    "pixels": "xyxy",  # (xmin, ymin, xmax, ymax) in pixels
}


def order_corners(boxes: np.ndarray) -> np.ndarray:
    """Swap corners where needed so that ``xmin <= xmax`` and ``ymin <= ymax``.

    A regression head can output ``xmax < xmin``; read as a box, that is the same
    rectangle with its corners named the other way round.
    """
    boxes = check_boxes(boxes)
    x0, y0, x1, y1 = np.moveaxis(boxes, -1, 0)
    return np.stack(
        [np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1)], axis=-1
    )


def area(boxes: np.ndarray) -> np.ndarray:
    """Areas of ``(..., 4)`` boxes (after ordering their corners), shape ``(...)``."""
    x0, y0, x1, y1 = np.moveaxis(order_corners(boxes), -1, 0)
    return (x1 - x0) * (y1 - y0)


def iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Intersection over union of matching boxes, element by element.

    Args:
        boxes_a, boxes_b: ``(N, 4)`` (or any ``(..., 4)`` of equal shape) float boxes,
            ``(xmin, ymin, xmax, ymax)`` in one unit (normalised or pixels).

    Returns:
        ``(N,)`` float32 IoU in [0, 1]. Corners are put in order first, so flipped
        predictions are scored as the rectangle they describe; two empty boxes (union 0)
        score 0. Computed in float64 with no epsilon, so an IoU of exactly 0.5 comes out
        as 0.5 and a threshold compares without slack.

    Raises:
        InputError: shapes differ or are not ``(..., 4)``, or a coordinate is NaN/inf.
    """
    a = order_corners(check_boxes(boxes_a, "boxes_a")).astype(np.float64)
    b = order_corners(check_boxes(boxes_b, "boxes_b")).astype(np.float64)
    if a.shape != b.shape:
        raise InputError(f"iou: boxes_a {a.shape} and boxes_b {b.shape} must have the same shape")
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    intersection = inter_w * inter_h
    # areas in float64 too (area() works in float32): identical boxes then score exactly 1
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - intersection
    ratio = np.divide(intersection, union, out=np.zeros_like(union), where=union > 0)
    return np.clip(ratio, 0.0, 1.0).astype(np.float32)  # rounding must not leave [0, 1]


def convert(
    boxes: np.ndarray, source: str, target: str, canvas_size: int = CANVAS_SIZE
) -> np.ndarray:
    """Convert ``(..., 4)`` boxes between formats, with Keras' ``convert_format``.

    Formats: ``"xyxy"`` (the course convention, normalised), ``"yxyx"`` (normalised,
    for ``tf.image``), ``"center"`` (normalised ``cx, cy, w, h``) and ``"pixels"``
    (``xmin, ymin, xmax, ymax`` in pixels of a square canvas of side ``canvas_size``).
    """
    from keras.utils import bounding_boxes as keras_boxes  # here: only conversions need Keras

    for fmt, name in ((source, "source"), (target, "target")):
        validation.check_choice(fmt, name, tuple(FORMATS))
    canvas_size = validation.check_int(canvas_size, "canvas_size", minimum=1)
    boxes = check_boxes(boxes)
    converted = keras_boxes.convert_format(
        boxes, source=FORMATS[source], target=FORMATS[target], height=canvas_size, width=canvas_size
    )
    return np.asarray(converted, dtype=np.float32)


def to_pixels(boxes: np.ndarray, canvas_size: int = CANVAS_SIZE) -> np.ndarray:
    """Normalised ``xyxy`` boxes to pixel ``xyxy`` boxes on a ``canvas_size`` square."""
    return convert(boxes, "xyxy", "pixels", canvas_size)


def to_normalized(boxes: np.ndarray, canvas_size: int = CANVAS_SIZE) -> np.ndarray:
    """Pixel ``xyxy`` boxes to normalised ``xyxy`` boxes on a ``canvas_size`` square."""
    return convert(boxes, "pixels", "xyxy", canvas_size)
