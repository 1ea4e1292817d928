"""Canvases with one to five digits, each with its class and tight box.

Taught in notebook 05 (multi-digit scenes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers import validation
from helpers.boxes import iou
from helpers.canvas import as_rng, draw_placements, render_in_chunks
from helpers.constants import DEFAULT_SEED, DETECTION_TEST_SEED, DIGIT_SIZE, NUM_CLASSES
from helpers.synthesis import ink_extents

CANVAS_SIZE = 96
GRID_SIZE = 12
MAX_DIGITS = 5
#: Largest IoU allowed between the tight boxes of two digits on one canvas.
MAX_OVERLAP = 0.1
#: Channels per grid cell: objectness, 10 class probabilities, (cx, cy, w, h).
CHANNELS = 1 + NUM_CLASSES + 4
OBJECTNESS = slice(0, 1)
CLASSES = slice(1, 1 + NUM_CLASSES)
BOX = slice(1 + NUM_CLASSES, CHANNELS)
#: Seed of the fixed evaluation canvases (built from the test digits).
TEST_SEED = DETECTION_TEST_SEED
TEST_IMAGES = 500


def synthesize_scenes(
    digits: np.ndarray,
    labels: np.ndarray,
    n_images: int,
    *,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
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
        digits: ``(M, 28, 28)`` uint8 (0..255) or float (0..1) digits, M >= 1 (checked
            by :func:`helpers.validation.check_digits`); labels ``(M,)`` classes 0..9.
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
    digits = validation.check_digits(digits, allow_empty=False)
    labels = validation.check_labels(labels, len(digits))
    n_images = validation.check_int(n_images, "n_images", minimum=0)
    # Smaller canvases are fine for digits scaled down to fit them.
    canvas_size = validation.check_int(
        canvas_size, "canvas_size", minimum=DIGIT_SIZE if scale is None else 1
    )
    min_digits = validation.check_int(min_digits, "min_digits", minimum=1)
    max_digits = validation.check_int(max_digits, "max_digits", minimum=min_digits)
    max_overlap = validation.check_number(max_overlap, "max_overlap", minimum=0, maximum=1)
    max_tries = validation.check_int(max_tries, "max_tries", minimum=1)
    seed = validation.check_seed(seed)
    low, high = validation.check_scale(scale, canvas_size) or (DIGIT_SIZE, DIGIT_SIZE)
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
            size, x, y = draw_placements(rng, len(rows), canvas_size, scale)
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

    canvas = np.zeros((n, canvas_size, canvas_size), dtype=np.float32)
    for slot in range(max_digits):
        rows = np.flatnonzero(classes[:, slot] >= 0)
        at = (xs[rows, slot], ys[rows, slot], sizes[rows, slot])
        layer = render_in_chunks(digits[index[rows, slot]], *at, canvas_size)
        canvas[rows] = np.maximum(canvas[rows], layer)
    images = np.clip(canvas, 0.0, 1.0)[..., None]

    # Move filled slots first (a digit that did not fit leaves a gap otherwise).
    order = np.argsort(classes < 0, axis=1, kind="stable")
    boxes = np.take_along_axis(boxes, order[..., None], axis=1)
    classes = np.take_along_axis(classes, order, axis=1)
    return images, boxes, classes


def unpad(boxes: np.ndarray, classes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Padded labels to a list of ``(boxes (K, 4), classes (K,))``, one pair per image."""
    boxes, classes = validation.check_padded_labels(boxes, classes)
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
