"""From grid outputs to detections: decoding and non-maximum suppression."""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from helpers.boxes import check_boxes, convert
from helpers.detection.grid import decode_grid


class Detections(NamedTuple):
    """One image's detections, best score first.

    ``boxes (K, 4)`` normalised xyxy, ``classes (K,)`` int, ``scores (K,)``. A tuple, so
    ``boxes, classes, scores = detections`` works too.
    """

    boxes: np.ndarray
    classes: np.ndarray
    scores: np.ndarray


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
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    if len(scores) != len(boxes):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    if not len(boxes):
        return np.zeros(0, dtype=np.int64)
    if not class_agnostic:
        if classes is None:
            raise ValueError("per-class NMS needs the classes")
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
    images = np.asarray(images, dtype=np.float32)
    expected = tuple(model.input_shape[1:])
    if images.ndim != 4 or images.shape[1:] != expected:
        raise ValueError(
            f"images: expected shape (N, {', '.join(map(str, expected))}), got {images.shape}"
        )
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
