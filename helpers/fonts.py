"""Digits rendered from fonts: an out-of-distribution test set that looks like MNIST.

MNIST digits are handwritten; these are typeset, from the DejaVu fonts that ship
inside matplotlib (so nothing is downloaded). Each glyph goes through the steps that
made MNIST: it is scaled to fit a 20x20 box (keeping its aspect ratio, with
anti-aliasing), then placed in a 28x28 frame so that its centre of mass lands on the
frame's centre. The seed drives the font, a small rotation and the stroke weight, so
a model trained on handwriting meets digits it has never seen in that style.

The result has MNIST's layout, ``(N, 28, 28) uint8`` white ink on black, so it goes
straight into :func:`helpers.synthesis.synthesize`::

    digits, labels = render_font_digits(per_class=20, seed=0)
    images, boxes = synthesize(digits, seed=1)

Taught in notebook 04 (robustness: font digits).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from helpers import validation
from helpers.constants import DEFAULT_SEED, DIGIT_SIZE
from helpers.synthesis import as_rng

#: The matplotlib fonts used, by file name (four styles of three families).
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
)
#: Side of the box the glyph is scaled to fit, as in MNIST.
FIT_SIZE = 20
#: Where MNIST puts a digit's centre of mass: (row, column) in pixel indices.
#: (Measured on MNIST itself: 14.0 on both axes, with a spread of 0.3 px.)
CENTRE = 14.0
#: Glyphs are drawn this large before being scaled down to 20 px.
RENDER_SIZE = 96
#: Extra stroke width in pixels at ``RENDER_SIZE``, one drawn per digit (0 = the font's own).
STROKE_WIDTHS = (0, 1, 3)


def font_paths() -> list[Path]:
    """Paths of the :data:`FONT_FILES` inside matplotlib's ``mpl-data/fonts/ttf``.

    Raises:
        FileNotFoundError: none of them is there (an unusual matplotlib install).
    """
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    paths = [folder / name for name in FONT_FILES if (folder / name).is_file()]
    if not paths:
        raise FileNotFoundError(f"no DejaVu fonts found in matplotlib's data folder {folder}")
    return paths


@functools.lru_cache(maxsize=len(FONT_FILES))
def _font(path: str):
    from PIL import ImageFont

    return ImageFont.truetype(path, RENDER_SIZE)


def render_glyph(digit: int, font_path: str | Path, angle: float = 0.0, stroke: int = 0):
    """One digit, large, as a cropped ``(H, W) uint8`` array (white ink on black).

    Args:
        digit: 0..9.
        font_path: a TrueType file.
        angle: rotation in degrees, counter-clockwise.
        stroke: extra stroke width in pixels at :data:`RENDER_SIZE` (thicker ink).
    """
    from PIL import Image, ImageDraw

    side = 2 * RENDER_SIZE
    image = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(image)
    draw.text(
        (side / 2, side / 2),
        str(digit),
        fill=255,
        font=_font(str(font_path)),
        anchor="mm",
        stroke_width=stroke,
        stroke_fill=255,
    )
    if angle:
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    return np.asarray(image.crop(image.getbbox()))


def mnist_frame(glyph: np.ndarray) -> np.ndarray:
    """Scale a cropped glyph to fit 20x20 and centre it by mass in a 28x28 frame.

    Args:
        glyph: ``(H, W)`` uint8, the ink's bounding box (no empty border).

    Returns:
        ``(28, 28) uint8``. The shift is rounded to whole pixels and kept small
        enough that no ink leaves the frame.
    """
    from PIL import Image

    height, width = glyph.shape
    factor = FIT_SIZE / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = np.asarray(Image.fromarray(glyph).resize(size, Image.Resampling.LANCZOS))
    small = small.astype(np.float64)
    mass = small.sum()
    rows, cols = np.indices(small.shape)
    centre_row = (rows * small).sum() / mass
    centre_col = (cols * small).sum() / mass
    top = int(np.clip(round(CENTRE - centre_row), 0, DIGIT_SIZE - small.shape[0]))
    left = int(np.clip(round(CENTRE - centre_col), 0, DIGIT_SIZE - small.shape[1]))
    frame = np.zeros((DIGIT_SIZE, DIGIT_SIZE), dtype=np.float64)
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.rint(frame).clip(0, 255).astype(np.uint8)


def render_font_digits(
    per_class: int = 20,
    *,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
    max_rotation: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Typeset digits in MNIST's format, as an out-of-distribution test set.

    Each digit gets a random DejaVu font (Sans, Serif or Mono; regular, bold, oblique
    or bold oblique), a random rotation in ``[-max_rotation, +max_rotation]`` degrees
    and a random extra stroke weight, all drawn from ``seed``.

    Args:
        per_class: digits per class (>= 1); ``N = 10 * per_class``.
        seed: an int seed or a ``numpy.random.Generator``; the same seed gives the
            same digits.
        max_rotation: largest rotation in degrees, 0..45 (0 for upright digits).

    Returns:
        ``digits``: ``(N, 28, 28) uint8``, 0 = black background, 255 = full ink, each
        glyph fitted to 20x20 and centred by its centre of mass;
        ``labels``: ``(N,) uint8``, class ``i % 10`` at index ``i`` (the classes
        take turns, so any first ``10 * k`` digits hold ``k`` of each).

    Raises:
        InputError: ``per_class`` is not a whole number >= 1, or ``max_rotation`` is
            not a number in [0, 45].
    """
    per_class = validation.check_int(per_class, "per_class", minimum=1)
    max_rotation = validation.check_number(max_rotation, "max_rotation", minimum=0, maximum=45)
    rng = as_rng(seed)
    paths = font_paths()
    n = 10 * int(per_class)
    labels = np.tile(np.arange(10, dtype=np.uint8), int(per_class))
    # All random draws first, in one go, so that each digit's style is fixed by the seed.
    fonts = rng.integers(0, len(paths), n)
    angles = rng.uniform(-max_rotation, max_rotation, n)
    strokes = rng.choice(STROKE_WIDTHS, n)
    digits = np.empty((n, DIGIT_SIZE, DIGIT_SIZE), dtype=np.uint8)
    for i in range(n):
        glyph = render_glyph(int(labels[i]), paths[fonts[i]], float(angles[i]), int(strokes[i]))
        digits[i] = mnist_frame(glyph)
    return digits, labels
