"""Notebook 01's exercises: paste a batch of digits, and find the ink's box.

Both are judged against :mod:`helpers.synthesis` (``place_digits``, ``ink_extents``) on
digits and offsets drawn here, never printed in the notebook.
"""

from __future__ import annotations

import numpy as np

from helpers import synthesis
from helpers.exercises import Exercise, Plain, register
from helpers.exercises.student_code import collect_calls, raised, refusal

NOTEBOOK = "01_dataset_synthesis"
DIGIT = synthesis.DIGIT_SIZE


def _digits(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 28, 28) uint8`` made-up digits: ink in a random rectangle of each frame, faint
    pixels (1..40) on its edges, so that a threshold above 0 or a box one pixel short shows."""
    digits = np.zeros((n, DIGIT, DIGIT), np.uint8)
    for digit in digits:
        x0, y0 = rng.integers(0, 12, size=2)
        x1, y1 = x0 + rng.integers(4, DIGIT - x0 + 1), y0 + rng.integers(4, DIGIT - y0 + 1)
        x1, y1 = min(x1, DIGIT), min(y1, DIGIT)
        patch = rng.integers(60, 256, size=(y1 - y0, x1 - x0))
        patch[rng.random(patch.shape) < 0.4] = 0
        patch[:, 0] = rng.integers(1, 41, size=y1 - y0)  # faint ink on the box's edges
        patch[-1, :] = rng.integers(1, 41, size=x1 - x0)
        digit[y0:y1, x0:x1] = patch
    return digits


# --- Exercise: paste a batch ---------------------------------------------------------------


def paste_batch_reference(
    digits: np.ndarray, offsets: np.ndarray, canvas_size: int = synthesis.CANVAS_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """What ``paste_batch`` must return, from :func:`helpers.synthesis.place_digits`.

    Args:
        digits: ``(N, 28, 28) uint8`` digits.
        offsets: ``(N, 2)`` whole-pixel top-left corners ``(x, y)``.
        canvas_size: side of the square canvas in pixels.

    Returns:
        ``images (N, canvas_size, canvas_size, 1) float32`` in [0, 1] and frame ``boxes
        (N, 4) float32``, normalised ``(xmin, ymin, xmax, ymax)``.
    """
    offsets = np.asarray(offsets)
    return synthesis.place_digits(
        np.asarray(digits), offsets[:, 0], offsets[:, 1], canvas_size=canvas_size
    )


def _paste_cases(rng: np.random.Generator) -> list[dict[str, Plain]]:
    cases = []
    for n, canvas_size in ((5, 75), (3, 60), (4, 75)):
        last = canvas_size - DIGIT
        offsets = rng.integers(0, last + 1, size=(n, 2))
        offsets[0] = (0, last)  # the corners: nothing may fall off the canvas
        offsets[1] = (last, int(rng.integers(1, last)))
        cases.append({"digits": _digits(rng, n), "offsets": offsets, "canvas_size": canvas_size})
    return cases


def _pair(result: Plain, what: str) -> str | None:
    if not isinstance(result, list) or len(result) != 2:
        return f"return two things, {what}; got {type(result).__name__}"
    return None


def _judge_paste(data: Plain, cases: list[dict[str, Plain]], source: str | None) -> str | None:
    refused = refusal(source, {"place_digits", "synthesize"}, "paste the digits")
    if refused:
        return refused
    for result, case in zip(data, cases, strict=True):
        problem = raised(result, "paste_batch") or _pair(result, "the images and the boxes")
        if problem:
            return problem
        images, found = (np.asarray(part, dtype=np.float64) for part in result)
        expected_images, expected = paste_batch_reference(**case)
        size, n = case["canvas_size"], len(case["digits"])
        hint = _image_hint(images, expected_images, n, size) or _box_hint(found, expected, size)
        if hint:
            return hint
    return None


def _image_hint(images: np.ndarray, expected: np.ndarray, n: int, size: int) -> str | None:
    if images.shape != expected.shape:
        if images.shape == (n, size, size):
            return "images: add the channel axis at the end, shape (N, canvas, canvas, 1)"
        return f"images: expected shape (N, canvas, canvas, 1), got {images.shape}"
    if np.isnan(images).any():
        return "images: some pixels are NaN"
    if images.max() > 1.5:
        return "images: pixels should lie in [0, 1]; the digits are uint8 (0..255)"
    if np.allclose(images, expected, atol=1e-5):
        return None
    if np.allclose(images, np.swapaxes(expected, 1, 2), atol=1e-5):
        return "images: x and y are swapped; NumPy indexes rows (y) first, canvas[y, x]"
    for axis in (1, 2):
        for step in (-1, 1):
            if np.allclose(images, np.roll(expected, step, axis=axis), atol=1e-5):
                return "images: the digits sit one pixel off the offsets you were given"
    return "images: the canvases differ from the course's; is each digit at its own offset?"


def _box_hint(found: np.ndarray, expected: np.ndarray, size: int) -> str | None:
    if found.shape != expected.shape:
        return f"boxes: expected shape (N, 4), got {found.shape}"
    if np.isnan(found).any():
        return "boxes: some numbers are NaN"
    if np.allclose(found, expected, atol=1e-5):
        return None
    if np.allclose(found, expected * size, atol=1e-3):
        return "boxes: these are pixels; the course's boxes are normalised to [0, 1]"
    if size != 75 and np.allclose(found, expected * size / 75, atol=1e-4):
        return "boxes: divide by the canvas side you were given, not by 75"
    if np.allclose(found[:, :2], expected[:, :2], atol=1e-5) and np.allclose(
        found[:, 2:], expected[:, 2:] - expected[:, :2], atol=1e-5
    ):
        return "boxes: these are (x, y, width, height); the course wants the corners"
    if np.allclose(found, expected[:, [1, 0, 3, 2]], atol=1e-5):
        return "boxes: x and y are swapped; the order is (xmin, ymin, xmax, ymax)"
    pixels_off = np.abs(found - expected) * size
    if np.allclose(pixels_off, np.rint(pixels_off), atol=1e-3) and pixels_off.max() < 1.5:
        return "boxes: off by one pixel; xmax and ymax are one past the last pixel"
    return "boxes: they differ from the frames of the pasted digits"


register(
    Exercise(
        key="01.paste_batch",
        notebook=NOTEBOOK,
        answer="paste_batch",
        kind="function",
        make_cases=_paste_cases,
        collect=collect_calls,
        judge=_judge_paste,
        points=2,
    )
)


# --- Exercise: tight boxes of a batch ------------------------------------------------------


def _tight_cases(rng: np.random.Generator) -> list[dict[str, Plain]]:
    return [{"digits": _digits(rng, n)} for n in (6, 3)]


def _judge_tight(data: Plain, cases: list[dict[str, Plain]], source: str | None) -> str | None:
    refused = refusal(source, {"ink_extents", "place_digits", "synthesize"}, "find the ink")
    if refused:
        return refused
    for result, case in zip(data, cases, strict=True):
        crash = raised(result, "tight_boxes")
        if crash:
            return crash
        found = np.asarray(result, dtype=np.float64)
        digits = case["digits"]
        expected = synthesis.ink_extents(digits).astype(np.float64)
        if found.shape != expected.shape:
            return f"expected an (N, 4) array, one pixel box per digit; got shape {found.shape}"
        if np.isnan(found).any():
            return "some numbers are NaN"
        if np.allclose(found, expected):
            continue
        if np.allclose(found * DIGIT, expected, atol=1e-3) or found.max() <= 1:
            return "these look normalised; the task asks for pixels inside the 28x28 frame"
        if np.allclose(found, expected[:, [1, 0, 3, 2]]):
            return "x and y are swapped: columns give x, rows give y"
        if np.allclose(found[:, :2], expected[:, :2]) and np.allclose(
            found[:, 2:], expected[:, 2:] - 1
        ):
            return "off by one pixel: xmax and ymax are one past the last inked column and row"
        if np.allclose(found[:, 2:], expected[:, 2:] - expected[:, :2]):
            return "these are (x, y, width, height); the task wants the corners"
        inside = np.all((found[:, :2] >= expected[:, :2]) & (found[:, 2:] <= expected[:, 2:]))
        if inside:
            return "your boxes miss some faint ink: a pixel is ink when its value is above 0"
        return "the boxes differ from the ink of the digits"
    return None


register(
    Exercise(
        key="01.tight_boxes",
        notebook=NOTEBOOK,
        answer="tight_boxes",
        kind="function",
        make_cases=_tight_cases,
        collect=collect_calls,
        judge=_judge_tight,
        points=2,
    )
)
