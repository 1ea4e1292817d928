"""Synthesis inside the TensorFlow graph: the training pipeline's canvases, no Python callback.

The same canvases and boxes as :func:`helpers.synthesis.place_digits` for the same
offsets, written with TensorFlow ops so that ``tf.data`` can run, parallelise and
prefetch them without calling back into Python (and without holding the GIL). Every
digit is placed by two matrix products, ``canvas = R @ digit @ C.T``, where ``R``
(canvas x 28) puts the digit's rows in place and ``C`` its columns: the placement
matrices of :func:`helpers.canvas.placement_matrices`, here built in the graph.

Supported: frame and tight boxes, resized digits (``scale``). Background noise and
clutter are not (they exist to make test sets harder, not to train on): the training
pipeline makes those batches with :func:`helpers.synthesis.synthesize_checked` in a
Python callback. Arguments arrive checked (:class:`helpers.synthesis.SynthesisOptions`).
Taught in notebook 03.
"""

from __future__ import annotations

import tensorflow as tf

from helpers.constants import DIGIT_SIZE


def draw_placements(
    seed: tf.Tensor, n: int | tf.Tensor, canvas_size: int, scale: tuple[float, float] | None = None
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``size, x, y``, each ``(n,) float64`` pixels, drawn from a stateless ``(2,)`` seed.

    The same formula as :func:`helpers.canvas.draw_placements` (whole-pixel corners, the
    digit inside the canvas), from TensorFlow's stateless generator instead of NumPy's.
    """
    draws = tf.random.stateless_uniform([3, n], seed=seed, dtype=tf.float64)
    if scale is None:
        size = tf.fill([n], tf.constant(DIGIT_SIZE, tf.float64))
    else:
        size = scale[0] + (scale[1] - scale[0]) * draws[0]
    positions = tf.floor(canvas_size - size) + 1
    return size, tf.floor(draws[1] * positions), tf.floor(draws[2] * positions)


def placement_matrices(
    start: tf.Tensor, size: tf.Tensor, canvas_size: int, source_size: int = DIGIT_SIZE
) -> tf.Tensor:
    """``(N, canvas_size, source_size) float32`` area weights, as in :mod:`helpers.canvas`.

    ``start`` and ``size`` are ``(N,) float64`` pixels; computed in float64 like the
    NumPy version, so both give the same float32 weights.
    """
    start = start[:, None, None]
    scale = source_size / size[:, None, None]
    target = tf.range(canvas_size, dtype=tf.float64)[None, :, None]
    source = tf.range(source_size, dtype=tf.float64)[None, None, :]
    lo = (target - start) * scale  # canvas pixel t, seen in source coordinates
    overlap = tf.minimum(lo + scale, source + 1) - tf.maximum(lo, source)
    return tf.cast(tf.maximum(overlap, 0.0) / scale, tf.float32)


def ink_extents(digits: tf.Tensor) -> tf.Tensor:
    """``(N, 4) float64`` pixel ``(xmin, ymin, xmax, ymax)`` of the ink (> 0) in each frame.

    As :func:`helpers.synthesis.ink_extents`: edges on pixel boundaries, and a digit
    without ink gets its whole frame.
    """
    ink = digits > 0
    cols = tf.cast(tf.reduce_any(ink, axis=1), tf.int32)  # (N, W)
    rows = tf.cast(tf.reduce_any(ink, axis=2), tf.int32)  # (N, H)
    width, height = tf.shape(cols)[1], tf.shape(rows)[1]
    has_ink = tf.reduce_any(ink, axis=[1, 2])

    def first(mask, whole):
        return tf.where(has_ink, tf.argmax(mask, axis=1, output_type=tf.int32), whole)

    def end(mask, whole):
        last = tf.argmax(tf.reverse(mask, axis=[1]), axis=1, output_type=tf.int32)
        return tf.where(has_ink, whole - last, whole)

    extents = [first(cols, 0), first(rows, 0), end(cols, width), end(rows, height)]
    return tf.cast(tf.stack(extents, axis=1), tf.float64)


def place_digits(
    digits: tf.Tensor,
    x: tf.Tensor,
    y: tf.Tensor,
    size: tf.Tensor,
    *,
    canvas_size: int,
    box_kind: str = "frame",
) -> tuple[tf.Tensor, tf.Tensor]:
    """Canvases and boxes for digits at given places, in the graph.

    Args:
        digits: ``(N, 28, 28) uint8`` (0..255) or float32 (0..1) digits.
        x, y: ``(N,) float64`` top-left corners in whole pixels.
        size: ``(N,) float64`` side of each digit on the canvas, in pixels.
        canvas_size: side of the square canvas in pixels.
        box_kind: ``"frame"`` or ``"tight"``.

    Returns:
        ``images (N, canvas_size, canvas_size, 1) float32`` in [0, 1] and
        ``boxes (N, 4) float32`` normalised ``(xmin, ymin, xmax, ymax)``.
    """
    patches = tf.cast(digits, tf.float32)
    if digits.dtype == tf.uint8:
        patches = patches / 255.0
    rows = placement_matrices(y, size, canvas_size)
    cols = placement_matrices(x, size, canvas_size)
    images = tf.matmul(tf.matmul(rows, patches), cols, transpose_b=True)[..., None]
    if box_kind == "tight":
        local = ink_extents(digits)
    else:
        # Broadcast against x, so that a static batch size stays static.
        local = x[:, None] * 0 + tf.constant([[0, 0, DIGIT_SIZE, DIGIT_SIZE]], tf.float64)
    pixel_boxes = local * (size / DIGIT_SIZE)[:, None] + tf.stack([x, y, x, y], axis=1)
    return images, tf.cast(pixel_boxes / canvas_size, tf.float32)
