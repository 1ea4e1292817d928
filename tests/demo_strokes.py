"""Synthesised pen strokes of digits, for the drawing tests of the browser demo.

A digit is a list of strokes; a stroke a list of ``(x, y)`` points in canvas pixels
(continuous, ``y`` downwards), as a reader's pointer would pass them. Templates are drawn
in a unit box and scaled to a digit of MNIST's ink size (about 12-16 x 17-21 pixels of a
28-pixel frame).
"""

from __future__ import annotations

import numpy as np

#: The page's brush reaches this far from the pen's path (its radius plus the
#: anti-aliased edge, helpers/demo/static/demo.js).
INK_REACH = 1.1 + 0.5


def _arc(cx, cy, rx, ry, start_deg, end_deg, points=16):
    t = np.radians(np.linspace(start_deg, end_deg, points))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t), strict=True))


#: Unit-box strokes per digit (x right, y down).
TEMPLATES = {
    0: [_arc(0.5, 0.5, 0.5, 0.5, -90, 270, 24)],
    2: [_arc(0.5, 0.3, 0.5, 0.3, 200, 380) + [(0.0, 1.0), (1.0, 1.0)]],
    3: [_arc(0.5, 0.25, 0.5, 0.25, -150, 90) + _arc(0.5, 0.75, 0.5, 0.25, -90, 150)],
    4: [[(0.7, 0.0), (0.0, 0.65), (1.0, 0.65)], [(0.75, 0.3), (0.75, 1.0)]],
    5: [[(0.9, 0.0), (0.15, 0.0), (0.1, 0.45)] + _arc(0.5, 0.7, 0.45, 0.3, -120, 150)],
    6: [[(0.75, 0.0), (0.15, 0.6)] + _arc(0.5, 0.72, 0.4, 0.28, 180, 540, 20)],
    7: [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
    8: [_arc(0.5, 0.25, 0.38, 0.25, 90, 450, 20), _arc(0.5, 0.72, 0.5, 0.28, -90, 270, 20)],
    9: [_arc(0.5, 0.3, 0.45, 0.3, 0, 360, 20), [(0.95, 0.3), (0.8, 1.0)]],
}


def digit_strokes(
    digit: int, rng: np.random.Generator, canvas_size: int = 75
) -> list[list[tuple[float, float]]]:
    """Strokes of ``digit`` at a random size and spot, fully inside the canvas."""
    width, height = rng.uniform(12, 16), rng.uniform(17, 21)
    margin = INK_REACH + 1
    left = rng.uniform(margin, canvas_size - width - margin)
    top = rng.uniform(margin, canvas_size - height - margin)
    return [
        [(left + x * width, top + y * height) for x, y in stroke] for stroke in TEMPLATES[digit]
    ]


def ink_box(strokes: list[list[tuple[float, float]]], canvas_size: int = 75) -> np.ndarray:
    """The strokes' own extent, widened by the brush: normalised ``(xmin, ymin, xmax, ymax)``."""
    points = np.array([point for stroke in strokes for point in stroke])
    low, high = points.min(axis=0) - INK_REACH, points.max(axis=0) + INK_REACH
    return np.clip(np.concatenate([low, high]) / canvas_size, 0, 1)
