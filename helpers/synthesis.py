"""Synthesis of the localization dataset: digits pasted on a larger black canvas.

Each 28x28 digit lands at a uniformly random offset on a ``canvas_size`` square
(75x75 by default, so offsets 0..47 on each axis, as in the original lab). The label
is the class and the box, in the course convention ``(N, 4) float32`` normalised
``(xmin, ymin, xmax, ymax)``.

Two kinds of box:

``"frame"``
    the whole 28x28 frame the digit came in (the original lab's label);
``"tight"``
    the extent of the digit's ink, a few pixels narrower (an upright "1" is ~4 px wide).

The pixels get there through :mod:`helpers.canvas` (a fancy-indexing paste, or two
small matrix products for a resized digit), which the multi-digit scenes share.
:func:`place_digits` is the deterministic half: given the offsets, it makes the
canvases and boxes; :func:`synthesize` draws the offsets and calls it.
:mod:`helpers.graph_synthesis` does the same inside a TensorFlow graph.
"""

from __future__ import annotations

import numpy as np

from helpers import validation
from helpers.canvas import as_rng, draw_placements, paste, render_in_chunks, to_unit
from helpers.constants import CANVAS_SIZE, DEFAULT_SEED, DIGIT_SIZE
from helpers.errors import InputError

BOX_KINDS = ("frame", "tight")


def ink_extents(digits: np.ndarray, threshold: float = 0) -> np.ndarray:
    """Pixel boxes of the ink inside each digit's own frame.

    Args:
        digits: ``(N, H, W)`` images (uint8 or float), background 0.
        threshold: a pixel counts as ink when its value is above this.

    Returns:
        ``(N, 4) float32`` pixel ``(xmin, ymin, xmax, ymax)`` with edges on pixel
        boundaries (``xmax`` is the last inked column + 1). A digit with no ink gets
        its whole frame, so that its box is never empty.
    """
    digits = np.asarray(digits)
    if digits.ndim != 3:
        raise InputError(f"digits: expected shape (N, H, W), got {digits.shape}")
    n, height, width = digits.shape
    ink = digits > threshold
    cols, rows = ink.any(axis=1), ink.any(axis=2)  # (N, W), (N, H)
    has_ink = cols.any(axis=1)
    xmin = np.where(has_ink, cols.argmax(axis=1), 0)
    xmax = np.where(has_ink, width - cols[:, ::-1].argmax(axis=1), width)
    ymin = np.where(has_ink, rows.argmax(axis=1), 0)
    ymax = np.where(has_ink, height - rows[:, ::-1].argmax(axis=1), height)
    return np.stack([xmin, ymin, xmax, ymax], axis=1).astype(np.float32).reshape(n, 4)


def synthesize(
    digits: np.ndarray,
    *,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
    canvas_size: int = CANVAS_SIZE,
    box: str = "frame",
    scale: tuple[int, int] | None = None,
    noise: float = 0.0,
    clutter: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Place each digit at a random spot on a black canvas and return images and boxes.

    Args:
        digits: ``(N, 28, 28) uint8`` MNIST digits (0..255) or floats in [0, 1]; other
            integer dtypes in 0..255 are converted to uint8, float digits above 1 are
            refused (see :func:`helpers.validation.check_digits`).
        seed: an int seed or a ``numpy.random.Generator``; the same seed gives the same data.
        canvas_size: side of the square canvas in pixels (75 in the original lab).
        box: ``"frame"`` (the 28x28 frame) or ``"tight"`` (the ink extent).
        scale: ``(min, max)`` side in pixels to resize each digit to, drawn uniformly
            (for example ``(20, 40)``); ``None`` keeps 28.
        noise: standard deviation of Gaussian background noise added to the whole
            canvas (clipped to [0, 1]); 0 for none.
        clutter: number of 8x8 fragments of other digits scattered over each canvas,
            as in cluttered MNIST; 0 for none.

    Returns:
        ``images``: ``(N, canvas_size, canvas_size, 1) float32`` in [0, 1];
        ``boxes``: ``(N, 4) float32`` normalised ``(xmin, ymin, xmax, ymax)``.

    Raises:
        InputError: an argument outside the ranges above (NaN or negative ``noise``,
            negative ``clutter``, ``canvas_size`` below 28, an unknown ``box``...).
    """
    checked = check_synthesis_options(
        digits,
        seed=seed,
        canvas_size=canvas_size,
        box=box,
        scale=scale,
        noise=noise,
        clutter=clutter,
    )
    digits, seed, canvas_size, box = (checked[k] for k in ("digits", "seed", "canvas_size", "box"))
    rng = as_rng(seed)
    # Random draws come first and all at once, so the result does not depend on chunking.
    size, x, y = draw_placements(rng, len(digits), canvas_size, scale)
    images, boxes = place_digits(
        digits, x, y, None if scale is None else size, canvas_size=canvas_size, box=box
    )
    if clutter:
        images[..., 0] = np.maximum(images[..., 0], _clutter(digits, clutter, rng, canvas_size))
    if noise:
        images = np.clip(images + rng.normal(0, noise, images.shape), 0, 1).astype(np.float32)
    return images, boxes


def place_digits(
    digits: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    size: np.ndarray | None = None,
    *,
    canvas_size: int = CANVAS_SIZE,
    box: str = "frame",
) -> tuple[np.ndarray, np.ndarray]:
    """Canvases and boxes for digits at given places: the deterministic half of synthesis.

    Args:
        digits: ``(N, 28, 28) uint8`` (0..255) or float (0..1) digits.
        x, y: ``(N,)`` top-left corners in whole pixels (as :func:`helpers.canvas.draw_placements`
            draws them).
        size: ``(N,)`` side of each digit on the canvas in pixels; ``None`` pastes at 28.
        canvas_size: side of the square canvas in pixels.
        box: ``"frame"`` or ``"tight"``.

    Returns:
        ``images (N, canvas_size, canvas_size, 1) float32`` in [0, 1] and
        ``boxes (N, 4) float32`` normalised ``(xmin, ymin, xmax, ymax)``.
    """
    n = len(digits)
    if size is None:
        images = paste(to_unit(digits), x.astype(np.int64), y.astype(np.int64), canvas_size)
        size = np.full(n, float(DIGIT_SIZE))
    else:
        images = render_in_chunks(digits, x, y, size, canvas_size)[..., None]
    local = (
        ink_extents(digits)
        if box == "tight"
        else np.tile(np.float32([0, 0, DIGIT_SIZE, DIGIT_SIZE]), (n, 1))
    )
    factor = (size / DIGIT_SIZE)[:, None]
    pixel_boxes = local * factor + np.stack([x, y, x, y], axis=1)
    return images, (pixel_boxes / canvas_size).astype(np.float32)


def check_synthesis_options(
    digits: np.ndarray,
    *,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
    canvas_size: int = CANVAS_SIZE,
    box: str = "frame",
    scale: tuple[float, float] | None = None,
    noise: float = 0.0,
    clutter: int = 0,
    **unknown: object,
) -> dict:
    """The arguments of :func:`synthesize`, checked, as a dict of the same names.

    Shared with the pipelines, so that a bad option is refused when a dataset is built
    rather than deep inside ``fit``. Raises :class:`InputError` for any bad value and
    for an option :func:`synthesize` does not have.
    """
    if unknown:
        raise InputError(
            f"unknown synthesis option(s) {', '.join(map(repr, unknown))}: "
            "expected scale, noise or clutter"
        )
    canvas_size = validation.check_int(canvas_size, "canvas_size", minimum=DIGIT_SIZE)
    return {
        "digits": validation.check_digits(digits),
        "seed": validation.check_seed(seed),
        "canvas_size": canvas_size,
        "box": validation.check_choice(box, "box", BOX_KINDS),
        "scale": validation.check_scale(scale, canvas_size),
        "noise": validation.check_number(noise, "noise", minimum=0),
        "clutter": validation.check_int(clutter, "clutter", minimum=0),
    }


def _clutter(
    digits: np.ndarray, count: int, rng: np.random.Generator, canvas_size: int, piece: int = 8
) -> np.ndarray:
    """``(N, canvas, canvas)`` float32: the max of ``count`` random 8x8 crops of random digits."""
    n = len(digits)
    offsets = np.arange(piece)
    out = np.zeros((n, canvas_size, canvas_size), dtype=np.float32)
    for _ in range(count):
        source = rng.integers(0, n, n)
        # Crops from the middle of the frame, where the ink is, so fragments are not blank.
        top = rng.integers(4, DIGIT_SIZE - piece - 4, n)[:, None, None]
        left = rng.integers(4, DIGIT_SIZE - piece - 4, n)[:, None, None]
        pieces = digits[source[:, None, None], top + offsets[None, :, None], left + offsets]
        x = rng.integers(0, canvas_size - piece + 1, n)
        y = rng.integers(0, canvas_size - piece + 1, n)
        layer = render_in_chunks(pieces, x, y, np.full(n, float(piece)), canvas_size)
        np.maximum(out, layer, out=out)
    return out
