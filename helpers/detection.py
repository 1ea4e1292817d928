"""From one digit to many: multi-digit canvases, a grid detector, NMS and mAP by hand.

The localizer of the first notebooks has exactly one box head, so it can only ever
answer "one digit, here". A *detector* answers "these digits, there", however many
there are. This module holds everything the detection notebook needs:

Synthesis (:func:`synthesize_scenes`)
    ``96x96`` canvases with 1 to 5 digits each, placed so that no two *tight* boxes
    overlap by more than a small IoU. Labels are padded arrays: boxes ``(N, 5, 4)``
    (normalised xyxy, the course convention) and classes ``(N, 5)`` with ``-1`` in the
    unused slots; :func:`unpad` turns them into per-image lists.
The grid (:func:`encode_targets`, :func:`decode_grid`)
    The canvas is cut into ``12x12`` cells of 8 pixels. The cell that contains a
    digit's box centre *owns* that digit. Every cell predicts 15 numbers:
    objectness (is a digit centred here?), 10 class probabilities, and a box as
    centre offset inside the cell ``(cx, cy)`` in [0, 1] and size ``(w, h)`` as a
    fraction of the canvas. Targets use the same 15-channel layout, so decoding a
    target gives back the ground truth.
The detector (:func:`build_detector`, :class:`DetectionHead`, :class:`DetectionLoss`)
    A small fully convolutional network: three conv + 2x2 max-pool stages bring 96
    pixels down to the 12-cell grid, two more convolutions widen the view to ~54
    pixels (two digits' worth) and three 1x1 heads give objectness, class and box per
    cell. The loss is binary cross-entropy on objectness in every cell, and, on the
    cells that own a digit only, cross-entropy on the class and ``1 - CIoU`` plus L1
    on the box.
Decoding and NMS (:func:`detect`, :func:`non_max_suppression`)
    Score of a cell = objectness x probability of its best class. Cells above a
    score threshold become candidate boxes; ``tf.image.non_max_suppression`` (which
    wants ``yxyx`` boxes) removes duplicates. The default is **class-agnostic** NMS:
    our digits never overlap much (IoU <= 0.1 by construction), so two boxes with
    IoU >= 0.5 are the same digit, even when the neighbouring cell that produced the
    second one read it as another class; per-class NMS would keep that wrong label
    as an extra detection. ``class_agnostic=False`` gives per-class NMS.
mAP by hand (:func:`mean_average_precision`)
    Pascal-VOC-style average precision at IoU 0.5, all-point interpolation, one class
    at a time, then the mean over the classes that have ground truth.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import keras
import numpy as np
from keras import layers, ops

from helpers.boxes import check_boxes, convert, iou
from helpers.synthesis import CHUNK, DIGIT_SIZE, as_rng, ink_extents, render
from helpers.training import TrainingRun

CANVAS_SIZE = 96
GRID_SIZE = 12
MAX_DIGITS = 5
NUM_CLASSES = 10
#: Largest IoU allowed between the tight boxes of two digits on one canvas.
MAX_OVERLAP = 0.1
#: Channels per grid cell: objectness, 10 class probabilities, (cx, cy, w, h).
CHANNELS = 1 + NUM_CLASSES + 4
OBJECTNESS = slice(0, 1)
CLASSES = slice(1, 1 + NUM_CLASSES)
BOX = slice(1 + NUM_CLASSES, CHANNELS)
#: Seed of the fixed evaluation canvases (built from the test digits).
TEST_SEED = 2024
#: IoU ``>= threshold`` is tested with this slack: IoU by :func:`helpers.boxes.iou` has an
#: epsilon in its denominator, so an exact 0.5 would otherwise come out as 0.4999999.
IOU_TOLERANCE = 1e-6
TEST_IMAGES = 500


# --------------------------------------------------------------------------------------
# Synthesis
# --------------------------------------------------------------------------------------


def synthesize_scenes(
    digits: np.ndarray,
    labels: np.ndarray,
    n_images: int,
    *,
    seed: int | np.random.Generator | None = 0,
    canvas_size: int = CANVAS_SIZE,
    min_digits: int = 1,
    max_digits: int = MAX_DIGITS,
    max_overlap: float = MAX_OVERLAP,
    scale: tuple[float, float] | None = None,
    max_tries: int = 30,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canvases with several digits each, every digit with its class and tight box.

    Each canvas gets a number of digits drawn uniformly from ``min_digits..max_digits``.
    Digits are taken from ``digits`` in a fresh random order, one permutation after
    another, so every digit is used about equally often. The digits are placed one
    slot at a time, for all canvases at once: a placement whose tight box has an IoU
    above ``max_overlap`` with a digit already on that canvas is drawn again (up to
    ``max_tries`` times; a digit that still does not fit is left out, which is rare
    with the defaults). Overlapping ink is combined with a pixel-wise maximum.

    Args:
        digits: ``(M, 28, 28)`` uint8 (0..255) or float (0..1) digits; labels ``(M,)``.
        n_images: number of canvases.
        seed: an int seed or a ``numpy.random.Generator``.
        canvas_size: side of the square canvas in pixels.
        min_digits, max_digits: digits per canvas, inclusive bounds (1 <= min <= max).
        max_overlap: largest allowed IoU between two tight boxes of one canvas.
        scale: ``(min, max)`` side in pixels to resize each digit to; ``None`` keeps 28.
        max_tries: redraws per digit before it is left out.

    Returns:
        ``images (N, S, S, 1) float32`` in [0, 1], ``boxes (N, max_digits, 4) float32``
        normalised ``(xmin, ymin, xmax, ymax)`` (zeros in empty slots) and
        ``classes (N, max_digits) int64`` with ``-1`` in empty slots. Filled slots come
        first.
    """
    digits = np.asarray(digits)
    labels = np.asarray(labels)
    if digits.ndim != 3 or digits.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE) or not len(digits):
        raise ValueError(f"digits: expected shape (M, 28, 28) with M >= 1, got {digits.shape}")
    if labels.shape != (len(digits),):
        raise ValueError(f"labels: expected shape ({len(digits)},), got {labels.shape}")
    if n_images < 0:
        raise ValueError(f"n_images must be >= 0, got {n_images}")
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"expected 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    low, high = (DIGIT_SIZE, DIGIT_SIZE) if scale is None else scale
    if not 1 <= low <= high <= canvas_size:
        raise ValueError(f"scale: expected 1 <= min <= max <= {canvas_size}, got {scale}")
    rng = as_rng(seed)
    n = n_images
    counts = rng.integers(min_digits, max_digits + 1, n)
    filled = np.arange(max_digits)[None, :] < counts[:, None]  # (N, max_digits)
    total = int(counts.sum())
    order = np.concatenate(
        [rng.permutation(len(digits)) for _ in range(-(-total // len(digits)) or 1)]
    )
    index = np.zeros((n, max_digits), dtype=np.int64)
    index[filled] = order[:total]
    ink = ink_extents(digits)  # (M, 4) pixel boxes inside the 28x28 frame

    boxes = np.zeros((n, max_digits, 4), dtype=np.float32)
    classes = np.full((n, max_digits), -1, dtype=np.int64)
    sizes = np.zeros((n, max_digits))
    xs, ys = np.zeros((n, max_digits)), np.zeros((n, max_digits))
    for slot in range(max_digits):
        todo = filled[:, slot].copy()
        for _ in range(max_tries):
            rows = np.flatnonzero(todo)
            if not len(rows):
                break
            size = (
                rng.uniform(low, high, len(rows))
                if scale
                else np.full(len(rows), float(DIGIT_SIZE))
            )
            x = np.floor(rng.uniform(0, 1, len(rows)) * (canvas_size - size + 1))
            y = np.floor(rng.uniform(0, 1, len(rows)) * (canvas_size - size + 1))
            local = ink[index[rows, slot]] * (size / DIGIT_SIZE)[:, None]
            box = (local + np.stack([x, y, x, y], axis=1)) / canvas_size
            # IoU with the digits already placed on the same canvases.
            placed = classes[rows, :slot] >= 0  # (R, slot)
            overlaps = iou(
                np.broadcast_to(box[:, None, :], (len(rows), slot, 4)), boxes[rows, :slot]
            )
            fits = ~np.any(placed & (overlaps > max_overlap), axis=1)
            ok = rows[fits]
            boxes[ok, slot] = box[fits]
            classes[ok, slot] = labels[index[ok, slot]]
            sizes[ok, slot], xs[ok, slot], ys[ok, slot] = size[fits], x[fits], y[fits]
            todo[ok] = False

    images = np.zeros((n, canvas_size, canvas_size, 1), dtype=np.float32)
    for lo in range(0, n, CHUNK):
        part = slice(lo, lo + CHUNK)
        canvas = images[part, ..., 0]
        for slot in range(max_digits):
            rows = np.flatnonzero(classes[part, slot] >= 0)
            if not len(rows):
                continue
            patches = _to_unit(digits[index[part][rows, slot]])
            at = (xs[part][rows, slot], ys[part][rows, slot], sizes[part][rows, slot])
            layer = render(patches, *at, canvas_size)
            canvas[rows] = np.maximum(canvas[rows], layer)
        images[part, ..., 0] = np.clip(canvas, 0.0, 1.0)

    # Move filled slots first (a digit that did not fit leaves a gap otherwise).
    order = np.argsort(classes < 0, axis=1, kind="stable")
    boxes = np.take_along_axis(boxes, order[..., None], axis=1)
    classes = np.take_along_axis(classes, order, axis=1)
    return images, boxes, classes


def _to_unit(digits: np.ndarray) -> np.ndarray:
    if digits.dtype == np.uint8:
        return digits.astype(np.float32) / 255.0
    return digits.astype(np.float32)


def unpad(boxes: np.ndarray, classes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Padded labels to a list of ``(boxes (K, 4), classes (K,))``, one pair per image."""
    boxes, classes = np.asarray(boxes), np.asarray(classes)
    return [(b[c >= 0].astype(np.float32), c[c >= 0]) for b, c in zip(boxes, classes, strict=True)]


def make_test_scenes(
    digits: np.ndarray,
    labels: np.ndarray,
    n_images: int = TEST_IMAGES,
    *,
    seed: int = TEST_SEED,
    **options: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fixed evaluation canvases: same digits and seed -> same canvases, every time."""
    return synthesize_scenes(digits, labels, n_images, seed=seed, **options)


# --------------------------------------------------------------------------------------
# The grid: target encoding and decoding
# --------------------------------------------------------------------------------------


def owner_cells(boxes: np.ndarray, grid_size: int = GRID_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``(row, column)`` of the grid cell that contains each box centre.

    Both arrays have the shape of ``boxes[..., 0]``; a centre on a cell edge belongs to
    the cell to its right (below), and the last cell takes the canvas edge.
    """
    boxes = check_boxes(boxes)
    cx = (boxes[..., 0] + boxes[..., 2]) / 2
    cy = (boxes[..., 1] + boxes[..., 3]) / 2
    col = np.clip(np.floor(cx * grid_size), 0, grid_size - 1).astype(np.int64)
    row = np.clip(np.floor(cy * grid_size), 0, grid_size - 1).astype(np.int64)
    return row, col


def encode_targets(
    boxes: np.ndarray, classes: np.ndarray, grid_size: int = GRID_SIZE
) -> np.ndarray:
    """Padded ground truth -> the ``(N, G, G, 15)`` training target of the detector.

    The cell that contains a digit's box centre gets objectness 1, the one-hot class,
    and the box as ``(cx, cy)`` offset inside the cell (in cell units, [0, 1)) and
    ``(w, h)`` as a fraction of the canvas. All other cells are 0. When two digits'
    centres fall in one cell, the one in the earlier slot wins (the other is not in
    the target; :func:`count_collisions` says how often that happens).
    """
    boxes = check_boxes(boxes)
    classes = np.asarray(classes)
    n, slots = classes.shape
    target = np.zeros((n, grid_size, grid_size, CHANNELS), dtype=np.float32)
    row, col = owner_cells(boxes, grid_size)
    cx = (boxes[..., 0] + boxes[..., 2]) / 2
    cy = (boxes[..., 1] + boxes[..., 3]) / 2
    values = np.zeros((n, slots, CHANNELS), dtype=np.float32)
    values[..., 0] = 1.0
    values[..., CLASSES] = np.eye(NUM_CLASSES, dtype=np.float32)[np.clip(classes, 0, None)]
    values[..., 11] = cx * grid_size - col
    values[..., 12] = cy * grid_size - row
    values[..., 13] = boxes[..., 2] - boxes[..., 0]
    values[..., 14] = boxes[..., 3] - boxes[..., 1]
    images = np.arange(n)
    for slot in reversed(range(slots)):  # earlier slots are written last: they win
        keep = classes[:, slot] >= 0
        target[images[keep], row[keep, slot], col[keep, slot]] = values[keep, slot]
    return target


def count_collisions(boxes: np.ndarray, classes: np.ndarray, grid_size: int = GRID_SIZE) -> int:
    """How many digits share their owner cell with a digit in an earlier slot."""
    row, col = owner_cells(boxes, grid_size)
    cell = np.where(np.asarray(classes) >= 0, row * grid_size + col, -1 - np.arange(row.shape[1]))
    return int(sum(len(c) - len(np.unique(c)) for c in cell))


def grid_to_boxes(box_params, grid_size: int = GRID_SIZE):
    """Cell-relative ``(..., G, G, 4)`` ``(cx, cy, w, h)`` -> normalised xyxy boxes.

    Works on NumPy arrays and on tensors (the loss uses it), through ``keras.ops``:
    ``cx_canvas = (column + cx) / G``, likewise ``cy``; then corners at +-half the size.
    """
    offsets = np.arange(grid_size, dtype=np.float32)
    col = offsets[None, :]  # varies along the last grid axis (x)
    row = offsets[:, None]  # varies along the first grid axis (y)
    cx = (box_params[..., 0] + col) / grid_size
    cy = (box_params[..., 1] + row) / grid_size
    half_w, half_h = box_params[..., 2] / 2, box_params[..., 3] / 2
    return ops.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)


class GridDecoding(NamedTuple):
    """Every cell of every image, flattened row by row.

    ``boxes (N, G*G, 4)`` normalised xyxy; ``scores``, ``classes`` and ``objectness``
    ``(N, G*G)``.
    """

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    objectness: np.ndarray


def decode_grid(grid: np.ndarray) -> GridDecoding:
    """Turn a ``(N, G, G, 15)`` grid (a prediction or a target) into per-cell candidates.

    Score = objectness x probability of the best class; the box is put back on the
    canvas with :func:`grid_to_boxes` and clipped to [0, 1].
    """
    grid = np.asarray(grid, dtype=np.float32)
    if grid.ndim != 4 or grid.shape[1] != grid.shape[2] or grid.shape[-1] != CHANNELS:
        raise ValueError(f"grid: expected shape (N, G, G, {CHANNELS}), got {grid.shape}")
    n, g = grid.shape[:2]
    boxes = np.clip(np.asarray(grid_to_boxes(grid[..., BOX], g)), 0.0, 1.0)
    probabilities = grid[..., CLASSES]
    classes = probabilities.argmax(axis=-1)
    objectness = grid[..., 0]
    scores = objectness * probabilities.max(axis=-1)
    return GridDecoding(
        boxes.reshape(n, g * g, 4).astype(np.float32),
        scores.reshape(n, g * g).astype(np.float32),
        classes.reshape(n, g * g).astype(np.int64),
        objectness.reshape(n, g * g).astype(np.float32),
    )


# --------------------------------------------------------------------------------------
# The detector
# --------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="helpers")
class DetectionHead(layers.Layer):
    """Raw ``(N, G, G, 15)`` numbers -> objectness, class probabilities and cell box.

    Objectness through a sigmoid, the 10 class scores through a softmax, the box
    through a sigmoid: ``(cx, cy)`` is the centre inside the cell (0 = left/top edge
    of the cell, 1 = right/bottom edge) and ``(w, h)`` the size as a fraction of the
    canvas, so every predicted number has a bounded, meaningful range.
    """

    def call(self, raw):
        objectness = ops.sigmoid(raw[..., OBJECTNESS])
        classes = ops.softmax(raw[..., CLASSES], axis=-1)
        box = ops.sigmoid(raw[..., BOX])
        return ops.concatenate([objectness, classes, box], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape


def build_detector(
    canvas_size: int = CANVAS_SIZE,
    grid_size: int = GRID_SIZE,
    filters: tuple[int, ...] = (16, 32, 64),
    head_filters: int = 96,
    object_prior: float = 0.02,
) -> keras.Model:
    """The single-shot grid detector (uncompiled), Keras functional API.

    One conv (3x3, ReLU) + 2x2 max-pool stage per entry of ``filters``: with the
    defaults 96 -> 48 -> 24 -> 12 cells of 8 pixels. Then two 3x3 convolutions at the
    grid's resolution (each cell now sees ~54 pixels, enough for its digit and the
    neighbours) and three 1x1 heads: objectness (1), class (10) and box (4) per cell.
    The objectness bias starts at ``log(p / (1 - p))`` for ``p = object_prior``
    (about 3 digits in 144 cells), so training does not start by predicting a digit
    everywhere.

    Input ``float32 (N, S, S, 1)`` in [0, 1]; output ``(N, G, G, 15)`` (see the module
    docstring for the channel layout).
    """
    stride = canvas_size // grid_size
    if canvas_size % grid_size or stride != 2 ** len(filters):
        raise ValueError(
            f"canvas_size {canvas_size} / grid_size {grid_size} must equal 2 ** len(filters) "
            f"= {2 ** len(filters)}"
        )
    inputs = keras.Input(shape=(canvas_size, canvas_size, 1), name="image")
    x = inputs
    for i, width in enumerate(filters, start=1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    for i in (1, 2):
        x = layers.Conv2D(head_filters, 3, padding="same", activation="relu", name=f"grid{i}")(x)
    prior = math.log(object_prior / (1 - object_prior))
    objectness = layers.Conv2D(
        1, 1, bias_initializer=keras.initializers.Constant(prior), name="objectness_logit"
    )(x)
    classes = layers.Conv2D(NUM_CLASSES, 1, name="class_logits")(x)
    box = layers.Conv2D(4, 1, name="box_raw")(x)
    raw = layers.Concatenate(name="raw")([objectness, classes, box])
    outputs = DetectionHead(name="grid")(raw)
    return keras.Model(inputs, outputs, name="grid_detector")


_SAFE_BOX = (0.25, 0.25, 0.75, 0.75)


@keras.saving.register_keras_serializable(package="helpers")
class DetectionLoss(keras.losses.Loss):
    """The detector's loss, per image, summed over the grid cells.

    * objectness: binary cross-entropy in **every** cell (``focal_gamma > 0`` turns it
      into the focal loss, which down-weights the many easy empty cells);
    * class: cross-entropy, only in cells that own a digit;
    * box: ``1 - CIoU`` between the decoded boxes plus the L1 distance of the four
      cell-relative numbers, only in cells that own a digit.

    Empty cells have no box to learn, so their boxes are swapped for a dummy before
    the CIoU (a zero-size box would make its aspect-ratio term divide by zero).
    """

    def __init__(
        self,
        grid_size: int = GRID_SIZE,
        object_weight: float = 1.0,
        class_weight: float = 1.0,
        box_weight: float = 2.0,
        l1_weight: float = 1.0,
        focal_gamma: float = 0.0,
        name: str = "detection_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.grid_size = grid_size
        self.object_weight = object_weight
        self.class_weight = class_weight
        self.box_weight = box_weight
        self.l1_weight = l1_weight
        self.focal_gamma = focal_gamma

    def components(self, y_true, y_pred) -> dict:
        """The three terms, each ``(N,)``, before weighting."""
        y_true = ops.convert_to_tensor(y_true, dtype="float32")
        y_pred = ops.convert_to_tensor(y_pred, dtype="float32")
        eps = keras.backend.epsilon()
        positive = y_true[..., 0]  # (N, G, G) 1 where a digit is centred
        p = ops.clip(y_pred[..., 0], eps, 1 - eps)
        bce = -(positive * ops.log(p) + (1 - positive) * ops.log(1 - p))
        if self.focal_gamma:
            p_true = positive * p + (1 - positive) * (1 - p)
            bce = bce * ops.power(1 - p_true, self.focal_gamma)
        objectness = ops.sum(bce, axis=(1, 2))

        log_probs = ops.log(ops.clip(y_pred[..., CLASSES], eps, 1.0))
        cross_entropy = -ops.sum(y_true[..., CLASSES] * log_probs, axis=-1)
        classification = ops.sum(positive * cross_entropy, axis=(1, 2))

        mask = positive[..., None] > 0.5
        safe = ops.convert_to_tensor(np.float32(_SAFE_BOX))
        true_boxes = ops.where(mask, grid_to_boxes(y_true[..., BOX], self.grid_size), safe)
        pred_boxes = ops.where(mask, grid_to_boxes(y_pred[..., BOX], self.grid_size), safe)
        ciou = keras.utils.bounding_boxes.compute_ciou(true_boxes, pred_boxes, "xyxy")
        l1 = ops.sum(ops.abs(y_true[..., BOX] - y_pred[..., BOX]), axis=-1)
        box = ops.sum(positive * ((1.0 - ciou) + self.l1_weight * l1), axis=(1, 2))
        return {"objectness": objectness, "classification": classification, "box": box}

    def call(self, y_true, y_pred):
        parts = self.components(y_true, y_pred)
        return (
            self.object_weight * parts["objectness"]
            + self.class_weight * parts["classification"]
            + self.box_weight * parts["box"]
        )

    def get_config(self):
        return {
            **super().get_config(),
            "grid_size": self.grid_size,
            "object_weight": self.object_weight,
            "class_weight": self.class_weight,
            "box_weight": self.box_weight,
            "l1_weight": self.l1_weight,
            "focal_gamma": self.focal_gamma,
        }


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------


def detection_dataset(
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    seed: int = 0,
    canvas_size: int = CANVAS_SIZE,
    grid_size: int = GRID_SIZE,
    batches: int | None = None,
    **options: Any,
):
    """A ``tf.data`` stream of fresh ``(images, targets)`` batches.

    ``batches`` ends the stream after that many batches (``None``: endless). A stream
    that ends with training lets ``model.fit`` return at once; see
    :func:`helpers.pipeline.training_dataset`.

    Batch ``k`` is synthesised from ``numpy.random.default_rng([seed, k])``: new
    canvases (new digits drawn at random, new counts and places) every step,
    reproducible whatever the number of threads. ``options`` go to
    :func:`synthesize_scenes`.
    """
    import tensorflow as tf

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    digits, labels = np.asarray(digits), np.asarray(labels)

    slots = batch_size * options.get("max_digits", MAX_DIGITS)

    def make(step):
        rng = np.random.default_rng([seed, int(step)])
        # Draw the batch's digits first, so that the cost per batch does not grow with the
        # size of the training set (full MNIST has 60,000 digits).
        pick = rng.integers(0, len(digits), slots)
        images, boxes, classes = synthesize_scenes(
            digits[pick], labels[pick], batch_size, seed=rng, canvas_size=canvas_size, **options
        )
        return images, encode_targets(boxes, classes, grid_size)

    def batch(step):
        images, target = tf.numpy_function(make, [step], [tf.float32, tf.float32], stateful=False)
        images = tf.ensure_shape(images, [batch_size, canvas_size, canvas_size, 1])
        target = tf.ensure_shape(target, [batch_size, grid_size, grid_size, CHANNELS])
        return images, target

    counter = tf.data.Dataset.counter()
    if batches is not None:
        counter = counter.take(batches)
    return counter.map(batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
        tf.data.AUTOTUNE
    )


def compile_detector(
    model: keras.Model, *, learning_rate: float = 2e-3, decay_steps: int | None = None, **loss
) -> keras.Model:
    """Adam with cosine decay over ``decay_steps`` (constant rate when ``None``)."""
    rate = learning_rate
    if decay_steps:
        rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(rate), loss=DetectionLoss(**loss))
    return model


def train_detector(
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 15,
    images_per_epoch: int = 4000,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    seed: int = 0,
    verbose: int | str = 2,
    model: keras.Model | None = None,
    callbacks: list | None = None,
    **options: Any,
) -> TrainingRun:
    """Build, compile and train the detector on fresh canvases of ``digits``.

    Args:
        digits: ``(M, 28, 28)`` training digits; labels ``(M,)``.
        epochs: passes of ``images_per_epoch`` canvases each (all new canvases).
        batch_size: canvases per step.
        learning_rate: peak Adam rate, decayed with a cosine over the whole run.
        seed: seeds Keras (weights) and the data.
        model: an uncompiled detector to train (:func:`build_detector` when ``None``).
        options: synthesis options for :func:`synthesize_scenes` (``scale``, ...).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if batch_size < 1 or images_per_epoch < batch_size:
        raise ValueError(
            f"need 1 <= batch_size <= images_per_epoch, got {batch_size} and {images_per_epoch}"
        )
    keras.utils.set_random_seed(seed)
    steps = images_per_epoch // batch_size
    dataset = detection_dataset(
        digits, labels, batch_size=batch_size, seed=seed, batches=steps * epochs, **options
    )
    model = model if model is not None else build_detector()
    compile_detector(model, learning_rate=learning_rate, decay_steps=steps * epochs)
    start = time.perf_counter()
    history = model.fit(
        dataset,
        epochs=epochs,
        steps_per_epoch=steps,
        shuffle=False,  # every batch is new anyway
        verbose=verbose,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - start
    return TrainingRun(model, history, seconds, images_seen=steps * batch_size * epochs)


# --------------------------------------------------------------------------------------
# Decoding and non-maximum suppression
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Mean average precision, by hand
# --------------------------------------------------------------------------------------


def pairwise_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """``(A, B)`` IoU of every box in ``boxes_a (A, 4)`` with every box in ``boxes_b (B, 4)``."""
    a = check_boxes(boxes_a, "boxes_a").reshape(-1, 4)
    b = check_boxes(boxes_b, "boxes_b").reshape(-1, 4)
    shape = (len(a), len(b), 4)
    return iou(np.broadcast_to(a[:, None], shape), np.broadcast_to(b[None], shape))


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the interpolated precision-recall curve (all points, VOC 2010+).

    The curve is first made monotone: the precision at recall ``r`` becomes the best
    precision reached at any recall ``>= r``. The area is then a sum of rectangles,
    one per step in recall. No points (no detection) gives 0.
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if not len(recall):
        return 0.0
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # the envelope, from the right
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


@dataclass
class ClassCurve:
    """One class's matching result: every detection in score order, TP or FP."""

    scores: np.ndarray  # (D,) sorted, best first
    true_positive: np.ndarray  # (D,) bool
    n_true: int  # ground-truth digits of this class

    @property
    def recall(self) -> np.ndarray:
        return np.cumsum(self.true_positive) / max(self.n_true, 1)

    @property
    def precision(self) -> np.ndarray:
        tp = np.cumsum(self.true_positive)
        return tp / np.arange(1, len(tp) + 1)

    @property
    def ap(self) -> float:
        return average_precision(self.recall, self.precision) if self.n_true else float("nan")


@dataclass
class MeanAP:
    """mAP and its parts: per-class AP and precision-recall curves."""

    iou_threshold: float
    curves: dict[int, ClassCurve] = field(default_factory=dict)

    @property
    def per_class(self) -> np.ndarray:
        """``(10,)`` AP per class (NaN for a class without ground truth)."""
        return np.array([self.curves[c].ap for c in sorted(self.curves)])

    @property
    def map(self) -> float:
        """Mean AP over the classes that have ground truth (NaN if none has)."""
        values = self.per_class[~np.isnan(self.per_class)]
        return float(values.mean()) if len(values) else float("nan")


def match_class(
    detections: list[Detections],
    truths: list[tuple[np.ndarray, np.ndarray]],
    cls: int,
    iou_threshold: float = 0.5,
) -> ClassCurve:
    """Greedy matching of one class's detections to its ground truth, best score first.

    All detections of class ``cls`` over all images are sorted by score (ties keep
    image order). Each one, in turn, takes the *unmatched* ground-truth digit of the
    same class and image with the highest IoU, if that IoU is ``>= iou_threshold``
    (up to :data:`IOU_TOLERANCE`): a true positive. Otherwise it is a false
    positive: a wrong place, or a duplicate of a digit that a better-scored detection
    already claimed.
    """
    entries = []  # (score, image, box)
    n_true = 0
    for image, (det, (_, true_classes)) in enumerate(zip(detections, truths, strict=True)):
        n_true += int(np.sum(np.asarray(true_classes) == cls))
        for box, score in zip(
            det.boxes[det.classes == cls], det.scores[det.classes == cls], strict=True
        ):
            entries.append((float(score), image, box))
    order = sorted(range(len(entries)), key=lambda i: -entries[i][0])  # stable
    matched = [np.zeros(np.sum(np.asarray(t[1]) == cls), dtype=bool) for t in truths]
    true_positive = np.zeros(len(entries), dtype=bool)
    for rank, i in enumerate(order):
        _, image, box = entries[i]
        true_boxes, true_classes = truths[image]
        candidates = np.asarray(true_boxes, dtype=np.float32)[np.asarray(true_classes) == cls]
        if not len(candidates):
            continue
        overlaps = pairwise_iou(box[None], candidates)[0]
        overlaps[matched[image]] = -1.0  # a digit is found once
        best = int(np.argmax(overlaps))
        if overlaps[best] >= iou_threshold - IOU_TOLERANCE:
            true_positive[rank] = True
            matched[image][best] = True
    scores = np.array([entries[i][0] for i in order], dtype=np.float64)
    return ClassCurve(scores, true_positive, n_true)


def match_image(
    detections: Detections | tuple,
    truth: tuple[np.ndarray, np.ndarray],
    iou_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Match one image's detections to its ground truth with the rules of mAP.

    Detections, best score first, each take the unmatched true digit *of their class*
    with the highest IoU, if it reaches ``iou_threshold``.

    Returns:
        ``true_positive (K,)`` bool per detection and ``found (T,)`` bool per true digit.
    """
    boxes, classes, scores = (np.asarray(a) for a in detections)
    true_boxes, true_classes = (np.asarray(a) for a in truth)
    true_positive = np.zeros(len(scores), dtype=bool)
    found = np.zeros(len(true_classes), dtype=bool)
    if not len(scores) or not len(true_classes):
        return true_positive, found
    overlaps = pairwise_iou(boxes, true_boxes)  # (K, T)
    overlaps[classes[:, None] != true_classes[None, :]] = -1.0
    for k in np.argsort(-scores, kind="stable"):
        candidates = np.where(found, -1.0, overlaps[k])
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold - IOU_TOLERANCE:
            true_positive[k], found[best] = True, True
    return true_positive, found


def count_outcomes(
    detections: list[Detections],
    truths: list[tuple[np.ndarray, np.ndarray]],
    iou_threshold: float = 0.5,
) -> dict[str, int]:
    """Totals over images: true positives, false positives and missed digits."""
    tp = fp = missed = 0
    for det, truth in zip(detections, truths, strict=True):
        hits, found = match_image(det, truth, iou_threshold)
        tp, fp, missed = tp + hits.sum(), fp + (~hits).sum(), missed + (~found).sum()
    return {"true_positives": int(tp), "false_positives": int(fp), "missed": int(missed)}


def mean_average_precision(
    detections: list[Detections] | list[tuple],
    truths: list[tuple[np.ndarray, np.ndarray]],
    iou_threshold: float = 0.5,
    num_classes: int = NUM_CLASSES,
) -> MeanAP:
    """mAP at ``iou_threshold``: average precision per class, then the mean.

    Args:
        detections: per image, ``(boxes (K, 4), classes (K,), scores (K,))``.
        truths: per image, ``(boxes (T, 4), classes (T,))`` (see :func:`unpad`).
    """
    if len(detections) != len(truths):
        raise ValueError(f"{len(detections)} detection lists for {len(truths)} images")
    detections = [
        Detections(
            check_boxes(d[0]).reshape(-1, 4),
            np.asarray(d[1]).reshape(-1),
            np.asarray(d[2], dtype=np.float64).reshape(-1),
        )
        for d in detections
    ]
    truths = [(check_boxes(b).reshape(-1, 4), np.asarray(c).reshape(-1)) for b, c in truths]
    result = MeanAP(iou_threshold)
    for cls in range(num_classes):
        result.curves[cls] = match_class(detections, truths, cls, iou_threshold)
    return result


def evaluate_detector(
    model: keras.Model,
    images: np.ndarray,
    boxes: np.ndarray,
    classes: np.ndarray,
    *,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    nms_iou: float = 0.5,
    class_agnostic: bool = True,
) -> MeanAP:
    """mAP of ``model`` on canvases with padded ground truth (as :func:`synthesize_scenes`).

    A low score threshold (0.05) is the custom for mAP: the precision-recall curve
    should reach as far into recall as the detector can go.
    """
    found = detect(model, images, score_threshold, nms_iou, class_agnostic=class_agnostic)
    return mean_average_precision(found, unpad(boxes, classes), iou_threshold)


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def plot_scenes(
    images: np.ndarray,
    truths: list[tuple[np.ndarray, np.ndarray]] | None = None,
    detections: list[Detections] | None = None,
    *,
    ncols: int = 4,
    grid_size: int | None = None,
    title: str | None = None,
    size: float = 2.6,
    captions: list[str] | None = None,
):
    """Canvases with true boxes (green, class on top) and detections (red, class:score).

    ``grid_size`` draws the grid lines and shades the cells that own a true digit.
    ``captions`` replace the panel titles (by default: the number of digits and
    detections).
    """
    import matplotlib.pyplot as plt

    from helpers.viz import PRED_COLOUR, TRUE_COLOUR, box_legend, draw_box, show_canvas

    images = np.asarray(images)
    n = len(images)
    side = images.shape[1]
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, (size + 0.4) * nrows + 0.5), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        show_canvas(ax, images[i])
        caption = []
        if truths is not None:
            caption.append(_plural(len(truths[i][1]), "digit"))
        if detections is not None:
            caption.append(_plural(len(detections[i].scores), "detection"))
        text = f"#{i}: " + ", ".join(caption) if caption else f"#{i}"
        ax.set_title(captions[i] if captions is not None else text, fontsize=9)
        if grid_size:
            step = side / grid_size
            for k in range(1, grid_size):
                ax.axhline(k * step, color="tab:blue", linewidth=0.4, alpha=0.6)
                ax.axvline(k * step, color="tab:blue", linewidth=0.4, alpha=0.6)
        if truths is not None:
            true_boxes, true_classes = truths[i]
            if grid_size and len(true_boxes):
                rows, cols = owner_cells(true_boxes, grid_size)
                step = side / grid_size
                for r, c in zip(rows, cols, strict=True):
                    ax.add_patch(
                        plt.Rectangle(
                            (c * step, r * step), step, step, color="tab:blue", alpha=0.45
                        )
                    )
                    ax.plot((c + 0.5) * step, (r + 0.5) * step, "o", color="tab:blue", ms=2)
            for box, cls in zip(true_boxes, true_classes, strict=True):
                draw_box(ax, box, side, TRUE_COLOUR)
                ax.text(
                    box[0] * side,
                    box[1] * side - 1,
                    str(cls),
                    color=TRUE_COLOUR,
                    fontsize=8,
                    va="bottom",
                    clip_on=True,
                )
        if detections is not None:
            det = detections[i]
            for box, cls, score in zip(det.boxes, det.classes, det.scores, strict=True):
                draw_box(ax, box, side, PRED_COLOUR, linewidth=1.2)
                ax.text(
                    box[2] * side,
                    box[3] * side + 1,
                    f"{cls}:{score:.2f}",
                    color=PRED_COLOUR,
                    fontsize=7,
                    ha="right",
                    va="top",
                    clip_on=True,
                )
    box_legend(fig, predicted=detections is not None)
    if title:
        fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def plot_pr_curves(result: MeanAP, title: str | None = None):
    """One precision-recall panel per class: raw curve, interpolated envelope and AP."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    classes = sorted(result.curves)
    ncols = 5
    nrows = -(-len(classes) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(2.6 * ncols, 2.4 * nrows + 0.4),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for ax, cls in zip(axes.flat, classes, strict=False):
        curve = result.curves[cls]
        recall, precision = curve.recall, curve.precision
        if len(recall):
            envelope = np.maximum.accumulate(precision[::-1])[::-1]
            r = np.concatenate([[0.0], recall])
            e = np.concatenate([envelope[:1], envelope])
            ax.plot(recall, precision, color="tab:gray", linewidth=0.8)
            ax.step(r, e, where="pre", color="tab:blue")
            ax.fill_between(r, e, step="pre", color="tab:blue", alpha=0.15)
        ax.set_title(f"digit {cls}: AP {curve.ap:.3f}", fontsize=10)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("recall")
    for ax in axes[:, 0]:
        ax.set_ylabel("precision")
    for ax in axes.flat[len(classes) :]:
        ax.axis("off")
    handles = [
        Line2D([], [], color="tab:gray", linewidth=0.8, label="precision after each detection"),
        Line2D([], [], color="tab:blue", label="interpolated (area = AP)"),
    ]
    fig.legend(handles=handles, loc="lower center", ncols=2, frameon=False, fontsize=9)
    fig.suptitle(title or f"Precision-recall at IoU {result.iou_threshold:g}: mAP {result.map:.3f}")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
