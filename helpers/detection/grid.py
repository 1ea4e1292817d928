"""The grid: which cell owns which digit, and targets encoded and decoded per cell.

Taught in notebook 05 (the grid: encoding and decoding).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from keras import ops

from helpers import validation
from helpers.boxes import check_boxes
from helpers.detection.scenes import BOX, CHANNELS, CLASSES, GRID_SIZE, NUM_CLASSES, OBJECTNESS
from helpers.errors import InputError


def owner_cells(boxes: np.ndarray, grid_size: int = GRID_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``(row, column)`` of the grid cell that contains each box centre.

    Both arrays have the shape of ``boxes[..., 0]``; a centre on a cell edge belongs to
    the cell to its right (below), and the last cell takes the canvas edge.
    """
    boxes = check_boxes(boxes)
    grid_size = validation.check_int(grid_size, "grid_size", minimum=1)
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
    boxes, classes = validation.check_padded_labels(boxes, classes)
    grid_size = validation.check_int(grid_size, "grid_size", minimum=1)
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


def activate(logits):
    """The detector's raw ``(N, G, G, 15)`` logits -> the grid in the targets' layout.

    Objectness through a sigmoid, the 10 class scores through a softmax, the box through
    a sigmoid: ``(cx, cy)`` is the centre inside the cell (0 = left/top edge of the cell,
    1 = right/bottom edge) and ``(w, h)`` the size as a fraction of the canvas. The model
    outputs logits (its loss works on them, as Keras' ``from_logits`` losses do); this is
    the step that makes its numbers readable. Works on NumPy arrays and tensors
    (``keras.ops``); returns a tensor.
    """
    logits = ops.convert_to_tensor(logits, dtype="float32")
    return ops.concatenate(
        [
            ops.sigmoid(logits[..., OBJECTNESS]),
            ops.softmax(logits[..., CLASSES], axis=-1),
            ops.sigmoid(logits[..., BOX]),
        ],
        axis=-1,
    )


def logits_from_grid(grid: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The logits that :func:`activate` turns (almost) into ``grid``: a target as a
    near-perfect prediction, for looking at the loss (notebook 05).

    Probabilities are clipped to ``[eps, 1 - eps]`` first, since 0 and 1 have no
    finite logit; class logits are log-probabilities (a softmax ignores a constant).
    """
    grid = validation.check_finite(grid, "grid")
    if grid.ndim != 4 or grid.shape[-1] != CHANNELS:
        raise InputError(f"grid: expected shape (N, G, G, {CHANNELS}), got {grid.shape}")
    p = np.clip(grid.astype(np.float64), eps, 1 - eps)
    logits = np.log(p) - np.log1p(-p)  # the inverse of the sigmoid
    logits[..., CLASSES] = np.log(p[..., CLASSES])
    return logits.astype(np.float32)


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
    grid = validation.check_finite(grid, "grid")
    if grid.ndim != 4 or grid.shape[1] != grid.shape[2] or grid.shape[-1] != CHANNELS:
        raise InputError(f"grid: expected shape (N, G, G, {CHANNELS}), got {grid.shape}")
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
