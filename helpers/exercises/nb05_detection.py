"""Exercises of notebook 05 (multi-digit detection): the owner cell of one digit, the grid
target of a canvas, non-maximum suppression, AP on paper, and a prediction about the NMS
threshold.

Each exercise follows the contract of :mod:`helpers.exercises`; the references are the
library's (``detection.encode_targets``, ``detection.non_max_suppression``, which runs
``tf.image.non_max_suppression``, and ``detection.average_precision``), computed in ``judge``.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, register
from helpers.exercises.student_code import (
    as_array,
    choice_judge,
    collect_calls,
    collect_value,
    raised,
    reference_iou,
    refusal,
)

NOTEBOOK = "05_multi_digit_detection"
CHANNELS = 15  # objectness, 10 classes, cx, cy, w, h (as helpers.detection.CHANNELS)
GRID_SIZE = 12  # cells per side of the notebook's canvases (as helpers.detection.GRID_SIZE)
TOLERANCE = 1e-4


def _detection():
    # helpers.detection pulls in Keras; only a judge needs it, not the kernel's collect
    from helpers import detection

    return detection


# --- Exercise: the owner cell of one digit (worked on paper) ------------------------------

#: The digit of the owner-cell exercise: a pixel box on the 96x96 canvas of 8-pixel cells.
OWNER_BOX_PX = (61, 12, 76, 34)
CANVAS_PX, CELL_PX = 96, 8


def judge_owner_cell(data, cases: list[dict], source: str | None) -> str | None:
    """``data`` is ``[row, col, cx, cy]``; compared with ``detection.encode_targets``."""
    values = as_array(data)
    if values is None or values.shape != (4,):
        return "give four numbers: (row, col, cx, cy)"
    box = np.float32([[OWNER_BOX_PX]]) / CANVAS_PX
    target = _detection().encode_targets(box, np.array([[0]]))[0]
    (row,), (col,) = np.nonzero(target[..., 0])
    cx, cy = target[row, col, 11:13]
    got_row, got_col, got_cx, got_cy = values
    if (got_row, got_col) == (col, row):
        return "row and column are swapped: the row counts cells down (y), the column across (x)"
    if (got_row, got_col) == (row + 1, col + 1):
        return "off by one: count the cells from 0"
    if (got_row, got_col) != (row, col):
        return "not the cell that holds the box's centre: count whole 8-pixel cells before it"
    if max(abs(got_cx), abs(got_cy)) > 1:
        return "cx and cy are fractions of a cell (0 to 1), not pixels"
    if np.allclose([got_cx, got_cy], [cy, cx], atol=TOLERANCE):
        return "cx and cy are swapped: cx is the horizontal offset"
    if not np.allclose([got_cx, got_cy], [cx, cy], atol=TOLERANCE):
        return "the right cell; cx, cy are what is left of the centre after the whole cells"
    return None


register(
    Exercise(
        key="05.owner_cell",
        notebook=NOTEBOOK,
        answer="owner",
        kind="value",
        make_cases=lambda rng: [],
        collect=collect_value,
        judge=judge_owner_cell,
    )
)


# --- Exercise: encode one canvas's digits onto the grid -----------------------------------

#: Library functions that do the encoding; an ``encode_grid`` that calls one is refused.
ENCODERS = {"encode_targets", "owner_cells"}
#: The order of the encoding cases; ``judge_encode_grid`` reads them by position.
ENCODE_CASES = ("12x12 grid", "8x8 grid", "two centres in one cell", "no digit")


def _random_boxes(rng: np.random.Generator, n: int, grid_size: int) -> np.ndarray:
    """``n`` boxes (normalised xyxy) whose centres fall in ``n`` different cells, away from
    the cell centres and not on the diagonal (so that a swapped x and y shows)."""
    cells = rng.choice(grid_size * grid_size, n, replace=False)
    rows, cols = np.divmod(cells, grid_size)
    cols = np.where(rows == cols, (cols + 1) % grid_size, cols)
    offsets = rng.uniform(0.1, 0.9, (n, 2))
    centres = (np.stack([cols, rows], axis=1) + offsets) / grid_size
    sizes = rng.uniform(0.08, 0.3, (n, 2))
    return np.clip(np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1), 0, 1)


def _centred_box(cx: float, cy: float, w: float, h: float) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def make_encode_cases(rng: np.random.Generator) -> list[dict]:
    """Four canvases (see :data:`ENCODE_CASES`); the 8x8 one has a centre exactly on a cell
    edge (it belongs to the cell on its right), the third two centres in one cell."""
    first = _random_boxes(rng, int(rng.integers(3, 6)), 12)
    edge = [_centred_box(0.5, rng.uniform(0.1, 0.3), 0.2, 0.15)]  # x = 0.5: cell 4 of 8
    second = np.concatenate([_random_boxes(rng, int(rng.integers(1, 3)), 8), edge])
    second = second[np.abs((second[:, 1] + second[:, 3]) / 2 - 0.5) > 0.15]
    shared = _random_boxes(rng, 2, 12)
    nudge = rng.uniform(0.01, 0.03, 2) / 12
    twin = _centred_box(*((shared[0, :2] + shared[0, 2:]) / 2 + nudge), 0.1, 0.2)
    third = np.concatenate([shared[:1], [twin], shared[1:]])
    return [
        {"boxes": first, "classes": rng.integers(0, 10, len(first)), "grid_size": 12},
        {"boxes": second, "classes": rng.integers(0, 10, len(second)), "grid_size": 8},
        {"boxes": third, "classes": rng.integers(0, 10, len(third)), "grid_size": 12},
        {"boxes": np.zeros((0, 4)), "classes": np.zeros(0, np.int64), "grid_size": 12},
    ]


def reference_grid(
    boxes: np.ndarray, classes: np.ndarray, grid_size: int = GRID_SIZE
) -> np.ndarray:
    """``detection.encode_targets`` for one canvas: the judge's reference and the notebook's
    stand-in for ``encode_grid`` (same arguments).

    Args:
        boxes: ``(K, 4)`` normalised ``(xmin, ymin, xmax, ymax)``; ``classes``: ``(K,)`` ints.
        grid_size: cells per side.

    Returns:
        The ``(grid_size, grid_size, 15) float32`` target, indexed ``[row, col]``.
    """
    boxes = np.asarray(boxes)
    if not len(boxes):
        return np.zeros((grid_size, grid_size, CHANNELS), np.float32)
    return _detection().encode_targets(boxes[None], np.asarray(classes)[None], grid_size)[0]


def _encode_hint(got: np.ndarray, boxes: np.ndarray, classes: np.ndarray, grid: int) -> str:
    """What is wrong with ``got``, which differs from the reference target."""
    expected = reference_grid(boxes, classes, grid)
    owners, found = expected[..., 0] == 1, got[..., 0] == 1
    if not np.array_equal(found, owners):
        if np.array_equal(found, owners.T):
            return (
                "x and y are swapped: the row comes from the centre's y, the column from its x "
                "(index the target as [row, col])"
            )
        shifted = np.roll(np.roll(owners, 1, axis=0), 1, axis=1)
        if np.array_equal(found, shifted) or np.array_equal(found, owners[::-1, ::-1]):
            return "off by one cell: the owner is floor(centre x grid_size), counting from 0"
        return "objectness should be 1 in the cells that hold a box's centre and 0 elsewhere"
    rows, cols = np.nonzero(owners)
    got_cells, cells = got[rows, cols], expected[rows, cols]
    if not np.allclose(got_cells[:, 1:11], cells[:, 1:11], atol=TOLERANCE):
        return "the class goes one-hot into channels 1..10 (channel 1 + class), 0 elsewhere"
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    if not np.allclose(got_cells[:, 11:13], cells[:, 11:13], atol=TOLERANCE):
        canvas = [centres[np.argmin(np.abs(centres - c).sum(1))] for c in got_cells[:, 11:13]]
        if np.allclose(got_cells[:, 11:13], canvas, atol=TOLERANCE):
            return (
                "cx, cy are the centre's offset inside its cell (cell units, 0 to 1), not its "
                "position on the canvas"
            )
        if np.allclose(got_cells[:, 11:13], cells[:, 12:10:-1], atol=TOLERANCE):
            return "cx and cy are swapped: channel 11 is the horizontal offset"
        return "channels 11, 12: the centre's offset inside its cell, in cell units (0 to 1)"
    if np.allclose(got_cells[:, 13:], cells[:, 13:] * grid, atol=TOLERANCE):
        return "w, h are fractions of the canvas, not of a cell"
    return "channels 13, 14: the box's width and height as fractions of the canvas"


def judge_encode_grid(data: list, cases: list[dict], source: str | None) -> str | None:
    """``None`` when ``encode_grid`` matches ``detection.encode_targets`` on every canvas."""
    refused = refusal(source, ENCODERS, "write the encoding")
    if refused:
        return refused
    for name, value, case in zip(ENCODE_CASES, data, cases, strict=True):
        crash = raised(value, "encode_grid", f"a canvas with {name}")
        if crash:
            return crash
        grid = case["grid_size"]
        got = as_array(value)
        if got is None or got.shape != (grid, grid, CHANNELS):
            shape = None if got is None else got.shape
            return (
                f"expected a target of shape (grid_size, grid_size, 15) = {(grid, grid, 15)}"
                f" for grid_size={grid}; got {shape}"
            )
        boxes, classes = np.asarray(case["boxes"]), np.asarray(case["classes"])
        expected = reference_grid(boxes, classes, grid)
        if np.allclose(got, expected, atol=TOLERANCE):
            continue
        if name == "8x8 grid" and _only_edge_cell_differs(got, expected):
            return (
                "a centre exactly on a cell edge belongs to the cell on its right "
                "(floor, not round)"
            )
        if name == "two centres in one cell" and _only_cell_differs(got, expected, boxes[0], grid):
            return "two centres in one cell: the first digit in the list keeps the cell"
        return f"on a canvas with {name}: " + _encode_hint(got, boxes, classes, grid)
    return None


def _only_edge_cell_differs(got: np.ndarray, expected: np.ndarray) -> bool:
    """True when the two targets differ in exactly two cells that sit side by side."""
    differs = np.argwhere(~np.isclose(got, expected, atol=TOLERANCE).all(axis=-1))
    return len(differs) == 2 and abs(differs[0] - differs[1]).sum() == 1


def _only_cell_differs(got: np.ndarray, expected: np.ndarray, box: np.ndarray, grid: int) -> bool:
    """True when the targets differ only in the cell that holds ``box``'s centre."""
    cx, cy = (box[:2] + box[2:]) / 2
    row, col = int(cy * grid), int(cx * grid)
    same = np.isclose(got, expected, atol=TOLERANCE).all(axis=-1)
    return not same[row, col] and same.sum() == same.size - 1


register(
    Exercise(
        key="05.encode_grid",
        notebook=NOTEBOOK,
        answer="encode_grid",
        kind="function",
        make_cases=make_encode_cases,
        collect=collect_calls,
        judge=judge_encode_grid,
        points=2,
    )
)


# --- Exercise: non-maximum suppression ----------------------------------------------------

#: Library functions that do NMS; an ``nms`` that calls one is refused.
NMS_FUNCTIONS = {
    "non_max_suppression",
    "non_max_suppression_v2",
    "non_max_suppression_padded",
    "non_max_suppression_with_scores",
    "combined_non_max_suppression",
    "postprocess",
    "detect",
}


def _cluster_boxes(rng: np.random.Generator, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Boxes as a detector gives them: a few per digit, jittered, with random scores."""
    centres = rng.uniform(0.15, 0.85, (digits, 2))
    found = []
    for centre in centres:
        for _ in range(int(rng.integers(1, 6))):
            size = rng.uniform(0.12, 0.25, 2)
            middle = centre + rng.normal(0, 0.04, 2)
            found.append(np.concatenate([middle - size / 2, middle + size / 2]))
    boxes = np.clip(np.array(found), 0, 1)
    return boxes, rng.uniform(0.05, 1.0, len(boxes))


def _chain(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Three boxes in a row, A-B-C, scores A > B > C: A overlaps B and B overlaps C above
    0.5, A and C do not; greedy NMS keeps A and C. Listed in shuffled order."""
    x, y, side = rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.6), rng.uniform(0.2, 0.3)
    step = side * rng.uniform(0.2, 0.3)
    boxes = np.array([[x + k * step, y, x + k * step + side, y + side] for k in range(3)])
    scores = np.sort(rng.uniform(0.3, 1.0, 3))[::-1]
    order = rng.permutation(3)
    return boxes[order], scores[order]


def make_nms_cases(rng: np.random.Generator) -> list[dict]:
    """Five calls: three canvases of clustered boxes at IoU thresholds 0.5, 0.3 and 0.7, a
    chain of three boxes (see :func:`_chain`) beside a cluster, and no box at all."""
    cases = []
    for threshold in (0.5, 0.3, 0.7):
        boxes, scores = _cluster_boxes(rng, int(rng.integers(3, 6)))
        cases.append({"boxes": boxes, "scores": scores, "iou_threshold": threshold})
    chain_boxes, chain_scores = _chain(rng)
    other_boxes, other_scores = _cluster_boxes(rng, 1)
    other_boxes = other_boxes * 0.25 + 0.72  # in the lower right corner, away from the chain
    cases.append(
        {
            "boxes": np.concatenate([chain_boxes, other_boxes]),
            "scores": np.concatenate([chain_scores, other_scores]),
            "iou_threshold": 0.5,
        }
    )
    cases.append({"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "iou_threshold": 0.5})
    return cases


def reference_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.5) -> np.ndarray:
    """The library's NMS (``tf.image.non_max_suppression``): the judge's reference and the
    notebook's stand-in for ``nms`` (same arguments).

    Args:
        boxes: ``(K, 4)`` normalised ``(xmin, ymin, xmax, ymax)``; ``scores``: ``(K,)``.
        iou_threshold: a box whose IoU with a kept, better box is above it is dropped.

    Returns:
        ``(M,) int64`` indices of every surviving box, best score first.
    """
    if not len(boxes):
        return np.zeros(0, np.int64)
    return _detection().non_max_suppression(
        np.float32(boxes),
        np.float32(scores),
        iou_threshold=iou_threshold,
        max_detections=len(boxes),
    )


def greedy_nms(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, mistake: str | None = None
) -> np.ndarray:
    """NMS written out, or with one of the :data:`NMS_MISTAKES` students make (for the hints).

    Without a mistake: visit the boxes best score first, keep the box, drop the remaining
    boxes whose IoU with it is above ``iou_threshold``, repeat.
    """
    if mistake == "removed boxes remove others":
        keep = []
        for i in np.argsort(-scores, kind="stable"):
            better = np.flatnonzero(scores > scores[i])
            overlaps = reference_iou(np.repeat(boxes[i : i + 1], len(better), 0), boxes[better])
            if not np.any(overlaps > iou_threshold):
                keep.append(int(i))
        return np.array(keep, np.int64)
    if mistake == "input order":
        order = np.arange(len(scores))
    else:
        order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(int(best))
        overlaps = reference_iou(np.repeat(boxes[best : best + 1], len(rest), 0), boxes[rest])
        order = (
            rest[overlaps > iou_threshold]
            if mistake == "inverted"
            else rest[overlaps <= iou_threshold]
        )
    return np.array(keep, np.int64)


#: Mistakes :func:`greedy_nms` can make, with the hint each one gets.
NMS_MISTAKES = {
    "input order": "visit the boxes by score, best first, not in the order they come",
    "removed boxes remove others": (
        "a box that was itself removed removes nothing: compare each box only with the boxes "
        "kept so far"
    ),
    "inverted": (
        "drop the boxes that overlap the kept one by more than the threshold, keep the others"
    ),
}


def judge_nms(data: list, cases: list[dict], source: str | None) -> str | None:
    """``None`` when ``nms`` keeps the boxes ``tf.image.non_max_suppression`` keeps, in its
    order (best first), on every case; else a hint."""
    refused = refusal(source, NMS_FUNCTIONS, "write NMS")
    if refused:
        return refused
    for value, case in zip(data, cases, strict=True):
        boxes, scores = np.asarray(case["boxes"]), np.asarray(case["scores"])
        threshold = case["iou_threshold"]
        where = "an empty list of boxes" if not len(boxes) else f"{len(boxes)} boxes"
        crash = raised(value, "nms", where)
        if crash:
            return crash
        got = as_array(value)
        if got is None or got.ndim != 1:
            shape = None if got is None else got.shape
            return f"return the indices of the kept boxes, a 1-D array of ints; got shape {shape}"
        expected = reference_nms(boxes, scores, threshold)
        if got.shape == expected.shape and np.array_equal(got, expected):
            continue
        if not len(boxes):
            return "no boxes in: return an empty array"
        if np.any(got != np.round(got)) or np.any((got < 0) | (got >= len(boxes))):
            return "return the indices (0 .. len(boxes) - 1) of the kept boxes"
        if sorted(got.tolist()) == sorted(expected.tolist()):
            return "the right boxes, in the wrong order: list them best score first"
        for mistake, hint in NMS_MISTAKES.items():
            if set(got.tolist()) == set(greedy_nms(boxes, scores, threshold, mistake).tolist()):
                return hint
        if threshold != 0.5 and np.array_equal(got, reference_nms(boxes, scores, 0.5)):
            return "use the `iou_threshold` argument instead of a fixed 0.5"
        return (
            f"on {where} at iou_threshold={threshold}, other boxes survive than should: take "
            "the best box, drop every box whose IoU with it is above the threshold, repeat"
        )
    return None


register(
    Exercise(
        key="05.nms",
        notebook=NOTEBOOK,
        answer="nms",
        kind="function",
        make_cases=make_nms_cases,
        collect=collect_calls,
        judge=judge_nms,
        points=2,
    )
)


# --- Exercise: average precision on paper --------------------------------------------------

#: The ranked detections of the AP exercise (True = a hit) and the number of true digits.
AP_HITS, AP_TRUE = (True, True, False, True, False, False), 5


def judge_ap_on_paper(data, cases: list[dict], source: str | None) -> str | None:
    """``data`` is the student's AP; compared with ``detection.average_precision``."""
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        return "store one number in `my_ap`"
    hits = np.array(AP_HITS)
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    expected = _detection().average_precision(tp / AP_TRUE, precision)
    if abs(data - expected) < TOLERANCE:
        return None
    if abs(data - precision[hits].mean()) < TOLERANCE:
        return "recall counts all the true digits, found or not: divide by them, not by the hits"
    if abs(data - precision.mean()) < TOLERANCE:
        return "AP adds precision only where recall grows (at the hits), times the recall step"
    return (
        "recall grows by one over the number of true digits at each hit; at each of those steps "
        "take the interpolated precision (the best at that recall or later), add step x precision"
    )


register(
    Exercise(
        key="05.ap_on_paper",
        notebook=NOTEBOOK,
        answer="my_ap",
        kind="value",
        make_cases=lambda rng: [],
        collect=collect_value,
        judge=judge_ap_on_paper,
    )
)


# --- Prediction: the NMS threshold ---------------------------------------------------------

#: The choices of the prediction "at which NMS IoU threshold is mAP@0.5 lowest".
NMS_THRESHOLDS = {"a": 0.1, "b": 0.3, "c": 0.5, "d": 0.7, "e": 0.9}


register(
    Exercise(
        key="05.predict_nms_threshold",
        notebook=NOTEBOOK,
        answer="my_prediction",
        kind="value",
        make_cases=lambda rng: [],
        collect=collect_value,
        judge=choice_judge(NMS_THRESHOLDS),
        points=0,
    )
)
