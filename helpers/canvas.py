"""Putting digits on a canvas, in NumPy: where each one goes and how its pixels get there.

Shared by the localization data (:mod:`helpers.synthesis`) and the multi-digit scenes
(:mod:`helpers.detection.scenes`), so that both draw placements with the same formula
and render with the same code.

A placement is a side ``size`` (in pixels, float) and a top-left corner ``(x, y)``
(whole pixels, float64) such that the digit lies inside the canvas:
``0 <= x`` and ``x + size <= canvas_size``.

A plain paste is one fancy-indexing assignment for the whole batch (:func:`paste`).
A resized digit is written as two small matrix products, ``canvas = R @ digit @ C.T``,
where ``R`` (canvas x 28) places and resamples the digit's rows and ``C`` its columns
with area-overlap weights (a box filter) (:func:`render`). Neither has a Python loop
per image.

Taught in notebook 01 (pasting a digit by hand, then vectorised).
"""

from __future__ import annotations

import numpy as np

from helpers.constants import DIGIT_SIZE

#: Images are rendered in chunks of this many, to bound memory on full MNIST.
CHUNK = 2048


def as_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed, or the generator itself."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def to_unit(digits: np.ndarray) -> np.ndarray:
    """uint8 0..255 to float32 0..1; floats are taken to be in [0, 1] already."""
    if digits.dtype == np.uint8:
        return digits.astype(np.float32) / 255.0
    return digits.astype(np.float32)


def draw_placements(
    rng: np.random.Generator,
    n: int,
    canvas_size: int,
    scale: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` sides and top-left corners, uniformly over the places where a digit fits.

    Args:
        rng: the generator to draw from (sides first, then ``x``, then ``y``).
        n: number of placements.
        canvas_size: side of the square canvas, in pixels.
        scale: ``(min, max)`` side in pixels, drawn uniformly; ``None`` keeps 28 (no draw).

    Returns:
        ``size, x, y``: three ``(n,) float64`` arrays, in pixels; ``x`` and ``y`` are whole
        numbers from 0 to ``floor(canvas_size - size)``, so ``x + size <= canvas_size``.
    """
    if scale is None:
        size = np.full(n, float(DIGIT_SIZE))
    else:
        size = rng.uniform(scale[0], scale[1], n)
    # floor() first: with a fractional side, canvas_size - size + 1 would allow one
    # position too many, and that digit would run up to 1 px past the edge.
    positions = np.floor(canvas_size - size) + 1
    x = np.floor(rng.uniform(0, 1, n) * positions)
    y = np.floor(rng.uniform(0, 1, n) * positions)
    return size, x, y


def placement_matrices(
    start: np.ndarray, size: np.ndarray, canvas_size: int, source_size: int
) -> np.ndarray:
    """Matrices that resample ``source_size`` pixels onto ``[start, start + size)``.

    Args:
        start: ``(N,)`` first canvas pixel covered (float allowed), in pixels.
        size: ``(N,)`` length covered on the canvas, in pixels (> 0).
        canvas_size: canvas side, in pixels.
        source_size: side of the pasted image, in pixels.

    Returns:
        ``(N, canvas_size, source_size) float32``: entry ``[n, t, k]`` is the share of
        canvas pixel ``t`` covered by source pixel ``k`` (area weights; exactly 0/1
        when ``size == source_size`` and ``start`` is a whole number).
    """
    start = np.asarray(start, dtype=np.float64)[:, None, None]
    scale = source_size / np.asarray(size, dtype=np.float64)[:, None, None]
    target = np.arange(canvas_size, dtype=np.float64)[None, :, None]
    source = np.arange(source_size, dtype=np.float64)[None, None, :]
    lo = (target - start) * scale  # canvas pixel t, seen in source coordinates
    overlap = np.minimum(lo + scale, source + 1) - np.maximum(lo, source)
    return (np.clip(overlap, 0, None) / scale).astype(np.float32)


def paste(patches: np.ndarray, x: np.ndarray, y: np.ndarray, canvas_size: int) -> np.ndarray:
    """Paste ``(N, S, S)`` float patches unscaled at whole-pixel offsets, all at once.

    Fancy indexing writes every patch into its own canvas in one assignment: canvas
    ``n`` gets rows ``y[n] .. y[n] + S`` and columns ``x[n] .. x[n] + S``.

    Returns ``(N, canvas_size, canvas_size, 1) float32``.
    """
    n, side = len(patches), patches.shape[-1]
    images = np.zeros((n, canvas_size, canvas_size, 1), dtype=np.float32)
    offsets = np.arange(side)
    rows = (y[:, None] + offsets)[:, :, None]  # (N, S, 1)
    cols = (x[:, None] + offsets)[:, None, :]  # (N, 1, S)
    images[np.arange(n)[:, None, None], rows, cols, 0] = patches
    return images


def render(
    patches: np.ndarray, x: np.ndarray, y: np.ndarray, size: np.ndarray, canvas_size: int
) -> np.ndarray:
    """Paste ``(N, S, S)`` float patches at pixel ``(x, y)`` with side ``size`` each.

    Returns ``(N, canvas_size, canvas_size) float32``; pixels outside the patch are 0.
    """
    source_size = patches.shape[-1]
    rows = placement_matrices(y, size, canvas_size, source_size)
    cols = placement_matrices(x, size, canvas_size, source_size)
    return rows @ patches.astype(np.float32) @ cols.transpose(0, 2, 1)


def render_in_chunks(
    digits: np.ndarray, x: np.ndarray, y: np.ndarray, size: np.ndarray, canvas_size: int
) -> np.ndarray:
    """:func:`render` for any number of uint8 or float digits, :data:`CHUNK` at a time.

    Returns ``(N, canvas_size, canvas_size) float32`` in [0, 1].
    """
    out = np.empty((len(digits), canvas_size, canvas_size), dtype=np.float32)
    for lo in range(0, len(digits), CHUNK):
        part = slice(lo, lo + CHUNK)
        out[part] = render(to_unit(digits[part]), x[part], y[part], size[part], canvas_size)
    return out
