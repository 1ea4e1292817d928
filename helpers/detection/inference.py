"""From grid outputs to detections: decoding and non-maximum suppression.

Taught in notebook 05 (decoding and non-maximum suppression).
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from helpers import validation
from helpers.boxes import check_boxes, convert
from helpers.detection.grid import decode_grid
from helpers.detection.scenes import CHANNELS
from helpers.errors import InputError


class Detections(NamedTuple):
    """One image's detections, best score first.

    ``boxes (K, 4)`` normalised xyxy, ``classes (K,)`` int, ``scores (K,)``. A tuple, so
    ``boxes, classes, scores = detections`` works too.
    """

    boxes: np.ndarray
    classes: np.ndarray
    scores: np.ndarray


def check_detector(model: keras.Model, name: str = "model") -> keras.Model:
    """``model`` if it is a grid detector (one ``(N, S, S, 1)`` input, one ``(N, G, G, 15)``
    output, as :func:`helpers.detection.build_detector` makes), else :class:`InputError`."""
    inputs = getattr(model, "input_shape", None)
    outputs = getattr(model, "output_shape", None)
    if not (
        isinstance(inputs, tuple)
        and len(inputs) == 4
        and isinstance(outputs, tuple)
        and len(outputs) == 4
        and outputs[-1] == CHANNELS
    ):
        label = getattr(model, "name", type(model).__name__)
        raise InputError(
            f"{name} {label!r}: expected a grid detector with input (N, S, S, 1) and output "
            f"(N, G, G, {CHANNELS}), got input {inputs} and output {outputs}"
        )
    return model


def non_max_suppression(
    boxes: np.ndarray,
    scores: np.ndarray,
    classes: np.ndarray | None = None,
    *,
    iou_threshold: float = 0.5,
    max_detections: int = 20,
    class_agnostic: bool = True,
) -> np.ndarray:
    """Indices of the boxes that survive NMS, best score first.

    Uses ``tf.image.non_max_suppression``, which expects ``yxyx`` boxes: they are
    converted with :func:`helpers.boxes.convert`. Class-agnostic by default (see the
    module docstring); with ``class_agnostic=False`` each class is suppressed on its
    own and the survivors are merged by score.
    """
    import tensorflow as tf

    boxes = check_boxes(boxes).reshape(-1, 4)
    scores = validation.check_finite(scores, "scores").reshape(-1)
    iou_threshold = validation.check_number(iou_threshold, "iou_threshold", minimum=0, maximum=1)
    max_detections = validation.check_int(max_detections, "max_detections", minimum=1)
    if len(scores) != len(boxes):
        raise InputError(f"scores: expected one per box ({len(boxes)}), got {len(scores)}")
    if not len(boxes):
        return np.zeros(0, dtype=np.int64)
    if not class_agnostic:
        if classes is None:
            raise InputError("classes: per-class NMS (class_agnostic=False) needs them, got None")
        classes = np.asarray(classes).reshape(-1)
        keep = []
        for c in np.unique(classes):
            members = np.flatnonzero(classes == c)
            chosen = non_max_suppression(
                boxes[members],
                scores[members],
                iou_threshold=iou_threshold,
                max_detections=max_detections,
            )
            keep.append(members[chosen])
        keep = np.concatenate(keep)
        return keep[np.argsort(-scores[keep], kind="stable")][:max_detections]
    yxyx = convert(boxes, "xyxy", "yxyx")
    selected = tf.image.non_max_suppression(
        yxyx, scores, max_output_size=max_detections, iou_threshold=iou_threshold
    )
    return selected.numpy().astype(np.int64)


def postprocess(
    grid: np.ndarray,
    *,
    score_threshold: float = 0.25,
    iou_threshold: float = 0.5,
    max_detections: int = 20,
    class_agnostic: bool = True,
    nms: bool = True,
) -> list[Detections]:
    """Decode a ``(N, G, G, 15)`` grid and apply the score threshold and NMS per image."""
    score_threshold = validation.check_number(score_threshold, "score_threshold")
    decoded = decode_grid(grid)
    results = []
    for boxes, scores, classes in zip(decoded.boxes, decoded.scores, decoded.classes, strict=True):
        candidates = np.flatnonzero(scores >= score_threshold)
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
        if nms:
            kept = non_max_suppression(
                boxes[candidates],
                scores[candidates],
                classes[candidates],
                iou_threshold=iou_threshold,
                max_detections=max_detections,
                class_agnostic=class_agnostic,
            )
            candidates = candidates[kept]
        results.append(Detections(boxes[candidates], classes[candidates], scores[candidates]))
    return results


def detect(
    model: keras.Model,
    images: np.ndarray,
    score_threshold: float = 0.25,
    iou_threshold: float = 0.5,
    *,
    max_detections: int = 20,
    class_agnostic: bool = True,
    batch_size: int = 256,
) -> list[Detections]:
    """Run the detector on ``images`` and return the detections of each image.

    Args:
        model: a detector from :func:`build_detector` (trained, or loaded from disk).
        images: ``float32 (N, H, W, 1)`` in [0, 1], ``H = W`` = the model's input side.
        score_threshold: keep cells whose objectness x class probability reaches this.
        iou_threshold: NMS drops a box that overlaps a better one by more than this.

    Returns:
        A list of ``N`` :class:`Detections` ``(boxes (K, 4), classes (K,), scores (K,))``,
        best score first.
    """
    check_detector(model)
    images = validation.check_images(images, side=model.input_shape[1])
    grid = (
        model.predict(images, batch_size=batch_size, verbose=0)
        if len(images)
        else np.zeros((0, *model.output_shape[1:]), np.float32)
    )
    return postprocess(
        grid,
        score_threshold=score_threshold,
        iou_threshold=iou_threshold,
        max_detections=max_detections,
        class_agnostic=class_agnostic,
    )
