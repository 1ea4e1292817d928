"""From grid outputs to detections: decoding and non-maximum suppression.

Taught in notebook 05 (decoding and non-maximum suppression).
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from helpers import validation
from helpers.boxes import check_boxes, convert
from helpers.detection.grid import activate, decode_grid, grid_to_boxes
from helpers.detection.scenes import BOX, CHANNELS, CLASSES, NUM_CLASSES
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


def _select(
    grid: tf.Tensor,
    score_threshold: tf.Tensor,
    iou_threshold: tf.Tensor,
    max_detections: int,
    class_agnostic: bool,
) -> tuple[tf.Tensor, ...]:
    """Decoding, score threshold and NMS for a whole batch, in TensorFlow ops.

    ``grid`` is ``(N, G, G, 15)`` in the targets' layout (:func:`activate`). Every cell
    is a candidate: its box on the canvas (clipped), its best class, and score =
    objectness x that class's probability. ``tf.image.combined_non_max_suppression``
    suppresses, for all images at once, on ``yxyx`` boxes: with one score column
    (class-agnostic) every box competes with every other; per class, each cell's score
    sits in its own class's column only. Scores below ``score_threshold`` are set to -1
    first, so that a score equal to the threshold is kept, and NMS drops them.

    Returns ``boxes (N, G*G, 4)`` xyxy, ``classes``, ``scores`` ``(N, G*G)``, and
    ``kept (N, M)`` indices into them with ``valid (N,)`` of them real, best first.
    """
    cells = grid.shape[1] * grid.shape[2]
    boxes = tf.clip_by_value(grid_to_boxes(grid[..., BOX], grid.shape[1]), 0.0, 1.0)
    boxes = tf.reshape(boxes, [-1, cells, 4])
    probabilities = tf.reshape(grid[..., CLASSES], [-1, cells, NUM_CLASSES])
    classes = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    scores = tf.reshape(grid[..., 0], [-1, cells]) * tf.reduce_max(probabilities, axis=-1)
    masked = tf.where(scores >= score_threshold, scores, -1.0)
    if class_agnostic:
        columns = masked[..., None]
    else:
        columns = tf.where(tf.one_hot(classes, NUM_CLASSES) > 0, masked[..., None], -1.0)
    yxyx = tf.gather(boxes, [1, 0, 3, 2], axis=-1)
    kept_yxyx, kept_scores, _, valid = tf.image.combined_non_max_suppression(
        yxyx[:, :, None, :],
        columns,
        max_output_size_per_class=max_detections,
        max_total_size=max_detections,
        iou_threshold=iou_threshold,
        score_threshold=-0.5,  # drops the -1s, keeps every score >= 0
        clip_boxes=False,
    )
    # combined NMS returns boxes and scores, not indices: find each kept one's cell
    same = tf.reduce_all(kept_yxyx[:, :, None, :] == yxyx[:, None, :, :], axis=-1)
    same &= kept_scores[:, :, None] == masked[:, None, :]
    kept = tf.argmax(tf.cast(same, tf.int32), axis=-1, output_type=tf.int32)
    return boxes, classes, scores, kept, valid


_select_graph = tf.function(_select, reduce_retracing=True)


def postprocess(
    grid: np.ndarray,
    *,
    score_threshold: float = 0.25,
    iou_threshold: float = 0.5,
    max_detections: int = 20,
    class_agnostic: bool = True,
    nms: bool = True,
) -> list[Detections]:
    """Detections of every image of a ``(N, G, G, 15)`` grid in the targets' layout (a
    target, or a prediction after :func:`activate`): decoding, the score threshold and
    NMS, in one graph for the whole batch (:func:`_select`). Taught in notebook 05.

    ``nms=False`` stops after the threshold (to show what NMS removes).
    """
    decoded = decode_grid(grid)  # checks the grid
    score_threshold = validation.check_number(score_threshold, "score_threshold")
    iou_threshold = validation.check_number(iou_threshold, "iou_threshold", minimum=0, maximum=1)
    max_detections = validation.check_int(max_detections, "max_detections", minimum=1)
    if not nms:
        results = []
        for boxes, scores, classes in zip(
            decoded.boxes, decoded.scores, decoded.classes, strict=True
        ):
            keep = np.flatnonzero(scores >= score_threshold)
            keep = keep[np.argsort(-scores[keep], kind="stable")]
            results.append(Detections(boxes[keep], classes[keep], scores[keep]))
        return results
    if not len(decoded.boxes):
        return []
    boxes, classes, scores, kept, valid = (
        value.numpy()
        for value in _select_graph(
            tf.constant(np.asarray(grid, dtype=np.float32)),
            tf.constant(score_threshold, tf.float32),
            tf.constant(iou_threshold, tf.float32),
            max_detections,
            bool(class_agnostic),
        )
    )
    results = []
    for i in range(len(boxes)):
        cells = kept[i, : valid[i]]
        results.append(
            Detections(boxes[i, cells], classes[i, cells].astype(np.int64), scores[i, cells])
        )
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

    Taught in notebook 05. The model's logits go through :func:`activate`, then
    :func:`postprocess` (decoding, threshold and batched NMS in one graph).

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
    logits = (
        model.predict(images, batch_size=batch_size, verbose=0)
        if len(images)
        else np.zeros((0, *model.output_shape[1:]), np.float32)
    )
    return postprocess(
        np.asarray(activate(logits)),
        score_threshold=score_threshold,
        iou_threshold=iou_threshold,
        max_detections=max_detections,
        class_agnostic=class_agnostic,
    )
