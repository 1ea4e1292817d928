"""Exercises of notebook 04 (IoU and evaluation): IoU for two batches, a per-class break-down,
and a prediction about harder canvases.

Each exercise follows the contract of :mod:`helpers.exercises`: ``make_cases`` draws unseen
inputs, ``collect`` only calls the student's function, ``judge`` computes the course's
reference (``helpers.boxes.iou``, :func:`per_class_scores`) and names what is wrong.
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

NOTEBOOK = "04_iou_evaluation"
#: Canvas side of the pixel cases: IoU must not care whether boxes are in pixels.
CANVAS = 75
#: Library functions that compute an IoU; an ``iou_batch`` that calls one is refused.
IOU_FUNCTIONS = {"iou", "compute_iou", "pairwise_iou", "compute_ciou", "box_iou"}
#: The choices of the prediction "which condition gains least from harder training canvases".
CONDITIONS = {
    "a": "clean (like training)",
    "b": "scale 20-40 px",
    "c": "noise 0.2",
    "d": "clutter 8",
    "e": "font digits",
}
TOLERANCE = 1e-4


# --- Exercise: iou_batch ----------------------------------------------------------------

#: The order of the IoU cases; ``judge_iou_batch`` reads them by position.
IOU_CASES = ("ordinary", "awkward", "pixels", "swapped")
#: The rows of the "awkward" case, in order.
AWKWARD = (
    "identical",
    "disjoint (apart in x and in y)",
    "disjoint (apart in x only)",
    "touching edges",
    "one inside the other",
    "zero-width box",
    "zero-height box",
    "two empty boxes",
)


def _ordinary_boxes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of boxes inside the canvas that mostly overlap, corners in order, not squares."""
    size_a = rng.uniform(0.1, 0.5, (n, 2))
    size_b = np.clip(size_a * rng.uniform(0.6, 1.6, (n, 2)), 0.05, 0.6)  # x and y differ
    start_a = rng.uniform(0, 0.5, (n, 2))
    start_b = np.clip(start_a + rng.uniform(-0.6, 0.6, (n, 2)) * size_a, 0, 1 - size_b)
    return (
        np.concatenate([start_a, start_a + size_a], axis=1),
        np.concatenate([start_b, start_b + size_b], axis=1),
    )


def _awkward_boxes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One pair per :data:`AWKWARD` case, on a grid of 1/64 so that touching is exact."""
    x0, y0 = rng.integers(2, 20, 2) / 64
    w, h = rng.integers(8, 20, 2) / 64
    a = np.array([x0, y0, x0 + w, y0 + h])
    gap = rng.integers(1, 6) / 64
    pairs = [
        (a, a),
        (a, a + [w + gap, h + gap, w + gap, h + gap]),
        (a, a + [w + gap, 0, w + gap, 0]),
        (a, a + [w, 0, w, 0]),
        (a, [x0 + w / 4, y0 + h / 4, x0 + w / 2, y0 + h / 2]),
        (a, [x0 + w / 2, y0, x0 + w / 2, y0 + h]),
        (a, [x0, y0 + h / 2, x0 + w, y0 + h / 2]),
        ([x0, y0, x0, y0], [x0, y0, x0, y0]),
    ]
    return np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], float)


def make_iou_cases(rng: np.random.Generator) -> list[dict]:
    """Four calls (see :data:`IOU_CASES`): ordinary pairs, the awkward pairs, the ordinary
    pairs in pixels, and the ordinary pairs with the arguments swapped."""
    a, b = _ordinary_boxes(rng, int(rng.integers(40, 60)))
    odd_a, odd_b = _awkward_boxes(rng)
    return [
        {"boxes_a": a, "boxes_b": b},
        {"boxes_a": odd_a, "boxes_b": odd_b},
        {"boxes_a": a * CANVAS, "boxes_b": b * CANVAS},
        {"boxes_a": b, "boxes_b": a},
    ]


def _iou_from_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The IoU a student gets who reads the corners as ``(x, y, width, height)``."""
    return reference_iou(
        np.concatenate([a[:, :2], a[:, :2] + np.abs(a[:, 2:])], 1),
        np.concatenate([b[:, :2], b[:, :2] + np.abs(b[:, 2:])], 1),
    )


def _iou_plus_one(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The IoU with the "+ 1 pixel" of integer-pixel conventions in every width and height."""
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]) + 1, 0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]) + 1, 0, None)
    inter = width * height
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    return inter / (area_a + area_b - inter)


def _close(values: np.ndarray, expected: np.ndarray) -> bool:
    return values.shape == expected.shape and bool(
        np.all(np.abs(np.nan_to_num(values, nan=9.0) - expected) < TOLERANCE)
    )


def judge_iou_batch(data: list, cases: list[dict], source: str | None) -> str | None:
    """``None`` when ``iou_batch`` matches ``helpers.boxes.iou`` on every case, else a hint."""
    refused = refusal(source, IOU_FUNCTIONS, "write the IoU")
    if refused:
        return refused
    results = {}
    for name, value, case in zip(IOU_CASES, data, cases, strict=True):
        where = (
            "the awkward pairs (no overlap, touching or empty boxes)"
            if name == "awkward"
            else f"{name} boxes"
        )
        crash = raised(value, "iou_batch", where)
        if crash:
            return crash
        array = as_array(value)
        expected_shape = (len(case["boxes_a"]),)
        if array is None or array.shape != expected_shape:
            got = None if array is None else array.shape
            return f"expected one IoU per row, an array of shape {expected_shape}; got {got}"
        results[name] = array
    a, b = cases[0]["boxes_a"], cases[0]["boxes_b"]
    ordinary = results["ordinary"]
    if np.isnan(ordinary).any():
        return "NaN on ordinary overlapping boxes: check the division"
    if _close(ordinary, _iou_from_xywh(a, b)):
        return "the boxes are corners (xmin, ymin, xmax, ymax), not (x, y, width, height)"
    if _close(ordinary, _iou_plus_one(a, b)):
        return (
            "off by one: the boxes are continuous coordinates, so a width is xmax - xmin "
            "(no + 1 as when counting pixels)"
        )
    if not _close(ordinary, reference_iou(a, b)):
        return (
            "wrong on ordinary overlapping boxes (not squares): check which column is which "
            "(x first: xmin, ymin, xmax, ymax) and that each side of the overlap runs from the "
            "larger min to the smaller max of the same axis"
        )
    awkward = results["awkward"]
    expected = reference_iou(cases[1]["boxes_a"], cases[1]["boxes_b"])
    for index, case_name in enumerate(AWKWARD):
        value = awkward[index]
        if np.isnan(value):
            return (
                f"NaN for {case_name}: when the union is 0 (two boxes without area) "
                "return 0, not 0/0"
            )
        if abs(value - expected[index]) >= TOLERANCE:
            if case_name.startswith("disjoint"):
                return (
                    f"{case_name}: boxes that do not overlap must give 0; clip the overlap's "
                    "width and its height at 0 separately, before multiplying"
                )
            if case_name == "touching edges":
                return "touching edges share no area: their IoU is 0"
            if case_name == "two empty boxes":
                return "two empty boxes: the union is 0, return 0 there"
            return f"wrong for {case_name} (IoU should lie in [0, 1] and follow the formula)"
    if not _close(results["pixels"], reference_iou(cases[2]["boxes_a"], cases[2]["boxes_b"])):
        return (
            "IoU has no unit, but your function gives other values for the same boxes in "
            "pixels: do not clip coordinates to [0, 1] or assume normalised units"
        )
    if not _close(results["swapped"], ordinary):
        return "iou_batch(a, b) and iou_batch(b, a) differ: IoU is symmetric"
    return None


register(
    Exercise(
        key="04.iou_batch",
        notebook=NOTEBOOK,
        answer="iou_batch",
        kind="function",
        make_cases=make_iou_cases,
        collect=collect_calls,
        judge=judge_iou_batch,
        points=2,
    )
)


# --- Exercise: per_class_scores ---------------------------------------------------------


def per_class_scores(
    labels: np.ndarray, predicted: np.ndarray, ious: np.ndarray, threshold: float = 0.6
) -> np.ndarray:
    """The course's per-class break-down: the judge's reference, and the notebook's stand-in.

    Args:
        labels, predicted: ``(N,)`` int true and predicted classes, 0..9.
        ious: ``(N,)`` float IoU of each predicted box with its true box.
        threshold: IoU at which a box counts as good (included).

    Returns:
        ``(10, 3)`` float64: for each *true* class, the share classified right, the mean IoU,
        and the share both classified right and boxed at IoU >= ``threshold``. A class
        absent from ``labels`` has a row of NaN.
    """
    labels, predicted, ious = np.asarray(labels), np.asarray(predicted), np.asarray(ious)
    scores = np.full((10, 3), np.nan)
    right = predicted == labels
    for digit in range(10):
        mine = labels == digit
        if mine.any():
            good = right[mine] & (ious[mine] >= threshold)
            scores[digit] = [right[mine].mean(), ious[mine].mean(), good.mean()]
    return scores


def make_per_class_cases(rng: np.random.Generator) -> list[dict]:
    """Three test sets of 150-250 digits, each with one class absent, IoUs that sit exactly on
    the threshold now and then, and a different threshold each."""
    cases = []
    for threshold in (0.6, 0.75, 0.5):
        n = int(rng.integers(150, 250))
        absent = int(rng.integers(10))
        labels = rng.choice([d for d in range(10) if d != absent], n)
        wrong = rng.random(n) < 0.25
        predicted = np.where(wrong, rng.integers(0, 10, n), labels)
        ious = np.round(rng.uniform(0.2, 1.0, n), 2)
        ious[rng.random(n) < 0.15] = threshold
        cases.append(
            {"labels": labels, "predicted": predicted, "ious": ious, "threshold": threshold}
        )
    return cases


def judge_per_class(data: list, cases: list[dict], source: str | None) -> str | None:
    """``None`` when ``per_class_scores`` matches the reference on every case, else a hint."""
    for value, case in zip(data, cases, strict=True):
        crash = raised(value, "per_class_scores")
        if crash:
            return crash
        array = as_array(value)
        if array is None or array.shape != (10, 3):
            got = None if array is None else array.shape
            return (
                "expected an array of shape (10, 3): one row per class 0..9, columns accuracy, "
                f"mean IoU, share right and boxed; got {got}"
            )
        labels, predicted, ious = case["labels"], case["predicted"], case["ious"]
        threshold = case["threshold"]
        expected = per_class_scores(labels, predicted, ious, threshold)
        if np.allclose(array, expected, atol=TOLERANCE, equal_nan=True):
            continue
        by_predicted = per_class_scores(predicted, labels, ious, threshold)
        if np.allclose(array, by_predicted, atol=TOLERANCE, equal_nan=True):
            return "group the digits by their true class (`labels`), not the predicted one"
        absent = [d for d in range(10) if not np.any(labels == d)]
        present = [d for d in range(10) if d not in absent]
        if not np.isnan(array[absent]).all():
            return (
                f"class {absent[0]} never appears in `labels`: its row has no digit to average "
                "and must be NaN, not a number"
            )
        if np.isnan(array[present]).any():
            return "NaN in the row of a class that does appear in `labels`"
        ok = np.abs(array - expected) < TOLERANCE
        if not ok[present, 0].all():
            return "the accuracy column is off: share of the class's digits predicted right"
        if not ok[present, 1].all():
            return "the mean IoU column is off: average the IoUs of the class's digits"
        strict = per_class_scores(labels, predicted, ious - 1e-9, threshold)
        if np.allclose(array[present, 2], strict[present, 2], atol=TOLERANCE):
            return "an IoU exactly at the threshold counts as good (>=, not >)"
        fixed = per_class_scores(labels, predicted, ious, 0.6)
        if threshold != 0.6 and np.allclose(array[present, 2], fixed[present, 2], atol=TOLERANCE):
            return "use the `threshold` argument instead of a fixed 0.6"
        return (
            "the third column is off: a digit counts when its class is right *and* its IoU "
            "reaches the threshold, as a share of the class's digits"
        )
    return None


register(
    Exercise(
        key="04.per_class_scores",
        notebook=NOTEBOOK,
        answer="per_class_scores",
        kind="function",
        make_cases=make_per_class_cases,
        collect=collect_calls,
        judge=judge_per_class,
        points=2,
    )
)


# --- Prediction: which condition gains least from training on harder canvases -------------


register(
    Exercise(
        key="04.predict_harder_canvases",
        notebook=NOTEBOOK,
        answer="my_prediction",
        kind="value",
        make_cases=lambda rng: [],
        collect=collect_value,
        judge=choice_judge(CONDITIONS),
        points=0,
    )
)
