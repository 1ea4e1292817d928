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
canvases and boxes; :func:`synthesize` checks its arguments once (a frozen
:class:`SynthesisOptions`), draws the offsets and calls it. Taught in notebook 01.
:mod:`helpers.graph_synthesis` does the same inside a TensorFlow graph.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers import validation
from helpers.canvas import as_rng, draw_placements, paste, render_in_chunks, to_unit
from helpers.constants import CANVAS_SIZE, DEFAULT_SEED, DIGIT_SIZE, MAX_CANVAS_SIZE
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


@dataclass(frozen=True)
class SynthesisOptions:
    """How canvases are made, checked once when the object is created (then frozen).

    Attributes:
        canvas_size: side of the square canvas in pixels, 28 to
            :data:`~helpers.constants.MAX_CANVAS_SIZE` (75 in the original lab).
        box_kind: ``"frame"`` (the 28x28 frame) or ``"tight"`` (the ink extent).
        scale: ``(min, max)`` side in pixels to resize each digit to, drawn uniformly
            (for example ``(20, 40)``); ``None`` keeps 28.
        noise: standard deviation of Gaussian background noise added to the whole
            canvas (clipped to [0, 1]); 0 for none.
        clutter: number of 8x8 fragments of other digits scattered over each canvas,
            as in cluttered MNIST; 0 for none.

    Raises:
        InputError: a value outside those ranges.
    """

    canvas_size: int = CANVAS_SIZE
    box_kind: str = "frame"
    scale: tuple[float, float] | None = None
    noise: float = 0.0
    clutter: int = 0

    def __post_init__(self) -> None:
        size = validation.check_int(
            self.canvas_size, "canvas_size", minimum=DIGIT_SIZE, maximum=MAX_CANVAS_SIZE
        )
        checked = {
            "canvas_size": size,
            "box_kind": validation.check_choice(self.box_kind, "box_kind", BOX_KINDS),
            "scale": validation.check_scale(self.scale, size),
            "noise": validation.check_number(self.noise, "noise", minimum=0),
            "clutter": validation.check_int(self.clutter, "clutter", minimum=0),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)  # frozen: set once, here

    @classmethod
    def of(cls, **options: Any) -> SynthesisOptions:
        """The options from keyword arguments; an unknown name is an :class:`InputError`."""
        known = [field.name for field in dataclasses.fields(cls)]
        unknown = [name for name in options if name not in known]
        if unknown:
            raise InputError(
                f"unknown synthesis option(s) {', '.join(map(repr, unknown))}: "
                f"expected {', '.join(known)}"
            )
        return cls(**options)


def synthesize(
    digits: np.ndarray,
    *,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
    canvas_size: int = CANVAS_SIZE,
    box_kind: str = "frame",
    scale: tuple[float, float] | None = None,
    noise: float = 0.0,
    clutter: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Place each digit at a random spot on a black canvas and return images and boxes.

    Taught in notebook 01 (by hand first, then with this function).

    Args:
        digits: ``(N, 28, 28) uint8`` MNIST digits (0..255) or floats in [0, 1]; other
            integer dtypes in 0..255 are converted to uint8, float digits above 1 are
            refused (see :func:`helpers.validation.check_digits`).
        seed: an int seed or a ``numpy.random.Generator``; the same seed gives the same data.
        canvas_size, box_kind, scale, noise, clutter: see :class:`SynthesisOptions`.

    Returns:
        ``images``: ``(N, canvas_size, canvas_size, 1) float32`` in [0, 1];
        ``boxes``: ``(N, 4) float32`` normalised ``(xmin, ymin, xmax, ymax)``.

    Raises:
        InputError: an argument outside the ranges above (NaN or negative ``noise``,
            negative ``clutter``, ``canvas_size`` below 28, an unknown ``box_kind``...).
    """
    options = SynthesisOptions(canvas_size, box_kind, scale, noise, clutter)
    rng = as_rng(validation.check_seed(seed))
    return synthesize_checked(validation.check_digits(digits), rng, options)


def synthesize_checked(
    digits: np.ndarray, rng: np.random.Generator, options: SynthesisOptions
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`synthesize` once its arguments are checked (the pipelines check them once).

    ``digits`` as :func:`helpers.validation.check_digits` returns them; same results.
    """
    # Random draws come first and all at once, so the result does not depend on chunking.
    size, x, y = draw_placements(rng, len(digits), options.canvas_size, options.scale)
    images, boxes = place_digits(
        digits,
        x,
        y,
        None if options.scale is None else size,
        canvas_size=options.canvas_size,
        box_kind=options.box_kind,
    )
    if options.clutter:
        clutter = _clutter(digits, options.clutter, rng, options.canvas_size)
        images[..., 0] = np.maximum(images[..., 0], clutter)
    if options.noise:
        images = np.clip(images + rng.normal(0, options.noise, images.shape), 0, 1)
        images = images.astype(np.float32)
    return images, boxes


def place_digits(
    digits: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    size: np.ndarray | None = None,
    *,
    canvas_size: int = CANVAS_SIZE,
    box_kind: str = "frame",
) -> tuple[np.ndarray, np.ndarray]:
    """Canvases and boxes for digits at given places: the deterministic half of synthesis.

    Args:
        digits: ``(N, 28, 28) uint8`` (0..255) or float (0..1) digits.
        x, y: ``(N,)`` top-left corners in whole pixels (as :func:`helpers.canvas.draw_placements`
            draws them).
        size: ``(N,)`` side of each digit on the canvas in pixels; ``None`` pastes at 28.
        canvas_size: side of the square canvas in pixels.
        box_kind: ``"frame"`` or ``"tight"``.

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
        if box_kind == "tight"
        else np.tile(np.float32([0, 0, DIGIT_SIZE, DIGIT_SIZE]), (n, 1))
    )
    factor = (size / DIGIT_SIZE)[:, None]
    pixel_boxes = local * factor + np.stack([x, y, x, y], axis=1)
    return images, (pixel_boxes / canvas_size).astype(np.float32)


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
