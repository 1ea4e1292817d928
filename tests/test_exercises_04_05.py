"""The exercises of notebooks 04 and 05, judged as the grader judges them.

Every check runs ``make_cases`` -> ``collect`` -> ``judge`` with the source of the answer,
as ``python -m helpers grade`` does: it fails on the empty stub and on answers students
really write (each with the hint it must give), and passes on the solution.
"""

import numpy as np
import pytest

from helpers import boxes, course, exercises


def judge(key, answer, seed=0):
    """The hint for ``answer`` (``None`` when it is right), as the grader computes it."""
    return course.judge_answer(key, answer, np.random.default_rng(seed))


def stub(*args, **kwargs):
    pass


# --- 04.iou_batch -------------------------------------------------------------------------


def iou_batch(boxes_a, boxes_b):
    a, b = np.asarray(boxes_a, float), np.asarray(boxes_b, float)
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    intersection = width * height
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = union - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def iou_no_guard(boxes_a, boxes_b):  # 0/0 = NaN for two empty boxes
    a, b = np.asarray(boxes_a, float), np.asarray(boxes_b, float)
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    intersection = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    with np.errstate(invalid="ignore"):
        return intersection / (area_a + area_b - intersection)


def iou_unclipped(boxes_a, boxes_b):  # the overlap's width and height never clipped at 0
    a, b = np.asarray(boxes_a, float), np.asarray(boxes_b, float)
    width = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    height = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    intersection = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return intersection / (area_a + area_b - intersection + 1e-12)


def iou_product_clipped(boxes_a, boxes_b):  # clips the product: negative x negative passes
    a, b = np.asarray(boxes_a, float), np.asarray(boxes_b, float)
    width = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    height = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    intersection = np.clip(width * height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return intersection / (area_a + area_b - intersection + 1e-12)


def iou_xywh(boxes_a, boxes_b):  # reads the corners as (x, y, width, height)
    a, b = np.asarray(boxes_a, float), np.asarray(boxes_b, float)
    right = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    bottom = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    width = np.clip(right - np.maximum(a[:, 0], b[:, 0]), 0, None)
    height = np.clip(bottom - np.maximum(a[:, 1], b[:, 1]), 0, None)
    intersection = width * height
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - intersection
    return intersection / np.maximum(union, 1e-12)


def iou_plus_one(boxes_a, boxes_b):  # the "+ 1" of pixel-counting conventions
    a, b = np.asarray(boxes_a, float), np.asarray(boxes_b, float)
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]) + 1, 0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]) + 1, 0, None)
    intersection = width * height
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    return intersection / (area_a + area_b - intersection)


def iou_x_with_y(boxes_a, boxes_b):  # the overlap's height runs from a y max to an x min
    a, b = np.asarray(boxes_a, float), np.asarray(boxes_b, float)
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    intersection = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return intersection / np.maximum(area_a + area_b - intersection, 1e-12)


def iou_clipped_to_unit(boxes_a, boxes_b):  # assumes normalised units
    return iou_batch(np.clip(boxes_a, 0, 1), np.clip(boxes_b, 0, 1))


def iou_library(boxes_a, boxes_b):
    return boxes.iou(boxes_a, boxes_b)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iou_batch_passes_the_solution(seed):
    assert judge("04.iou_batch", iou_batch, seed) is None


@pytest.mark.parametrize(
    "answer, words",
    [
        (stub, "shape"),
        (iou_no_guard, "NaN for two empty boxes"),
        (iou_unclipped, "do not overlap must give 0"),
        (iou_product_clipped, "clip the overlap's width and its height at 0 separately"),
        (iou_xywh, "not (x, y, width, height)"),
        (iou_plus_one, "off by one"),
        (iou_x_with_y, "which column is which"),
        (iou_clipped_to_unit, "in pixels"),
        (iou_library, "write the IoU yourself"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_iou_batch_names_the_mistake(answer, words):
    hint = judge("04.iou_batch", answer)
    assert hint is not None and words in hint, hint


def test_iou_batch_reports_a_crash_with_its_inputs():
    def crashes_on_empty(boxes_a, boxes_b):
        result = iou_batch(boxes_a, boxes_b)
        if np.any((boxes_a[:, 2] == boxes_a[:, 0]) & (boxes_a[:, 3] == boxes_a[:, 1])):
            raise ZeroDivisionError("division by zero")
        return result

    hint = judge("04.iou_batch", crashes_on_empty)
    assert "ZeroDivisionError" in hint and "empty boxes" in hint


# --- 04.per_class_scores ------------------------------------------------------------------


def per_class_scores(labels, predicted, ious, threshold=0.6):
    scores = np.full((10, 3), np.nan)
    for digit in range(10):
        mine = labels == digit
        if mine.any():
            right = predicted[mine] == digit
            good = right & (ious[mine] >= threshold)
            scores[digit] = [right.mean(), ious[mine].mean(), good.mean()]
    return scores


def by_predicted_class(labels, predicted, ious, threshold=0.6):
    return per_class_scores(predicted, labels, ious, threshold)


def strictly_above(labels, predicted, ious, threshold=0.6):
    return per_class_scores(labels, predicted, ious - 1e-9, threshold)


def fixed_threshold(labels, predicted, ious, threshold=0.6):
    return per_class_scores(labels, predicted, ious, 0.6)


def zero_for_absent(labels, predicted, ious, threshold=0.6):
    return np.nan_to_num(per_class_scores(labels, predicted, ious, threshold))


def class_or_box(labels, predicted, ious, threshold=0.6):
    scores = per_class_scores(labels, predicted, ious, threshold)
    for digit in range(10):
        mine = labels == digit
        if mine.any():
            scores[digit, 2] = np.mean((predicted[mine] == digit) | (ious[mine] >= threshold))
    return scores


def transposed(labels, predicted, ious, threshold=0.6):
    return per_class_scores(labels, predicted, ious, threshold).T


@pytest.mark.parametrize("seed", [0, 1])
def test_per_class_scores_passes_the_solution(seed):
    assert judge("04.per_class_scores", per_class_scores, seed) is None


@pytest.mark.parametrize(
    "answer, words",
    [
        (stub, "shape (10, 3)"),
        (transposed, "shape (10, 3)"),
        (by_predicted_class, "true class"),
        (strictly_above, ">="),
        (fixed_threshold, "`threshold` argument"),
        (zero_for_absent, "must be NaN"),
        (class_or_box, "*and*"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_per_class_scores_names_the_mistake(answer, words):
    hint = judge("04.per_class_scores", answer)
    assert hint is not None and words in hint, hint


def test_the_reference_per_class_scores_agrees_with_the_evaluation_class():
    from helpers.evaluation import Evaluation
    from helpers.exercises import nb04_evaluation

    case = nb04_evaluation.make_per_class_cases(np.random.default_rng(3))[0]
    n = len(case["labels"])
    scores = nb04_evaluation.per_class_scores(**case)
    evaluation = Evaluation(
        case["labels"],
        case["predicted"],
        np.zeros((n, 10)),
        np.zeros((n, 4)),
        np.zeros((n, 4)),
        case["ious"],
        0.0,
    )
    np.testing.assert_allclose(scores[:, 0], evaluation.per_class_accuracy)


# --- predictions: any listed choice is accepted, anything else is not ---------------------


@pytest.mark.parametrize("key", ["04.predict_harder_canvases", "05.predict_nms_threshold"])
def test_a_prediction_is_one_of_the_listed_letters(key):
    assert judge(key, "b") is None
    assert exercises.get(key).points == 0
    for wrong in (None, "z", 2, ["b"]):
        assert "one of the letters" in judge(key, wrong)


# --- 05.owner_cell and 05.ap_on_paper (worked on paper: one fixed question each) -----------


def test_owner_cell_passes_the_answer_and_names_the_mistakes():
    # the box (61, 12, 76, 34): centre (68.5, 23) px, in cell row 2, column 8
    assert judge("05.owner_cell", [2, 8, 0.5625, 0.875]) is None
    assert "swapped" in judge("05.owner_cell", [8, 2, 0.5625, 0.875])
    assert "swapped: cx" in judge("05.owner_cell", [2, 8, 0.875, 0.5625])
    assert "from 0" in judge("05.owner_cell", [3, 9, 0.5625, 0.875])
    assert "not pixels" in judge("05.owner_cell", [2, 8, 4.0, 7.0])
    assert "four numbers" in judge("05.owner_cell", None)


def test_ap_on_paper_passes_the_answer_and_names_the_mistakes():
    assert judge("05.ap_on_paper", 0.55) is None
    assert "divide by them" in judge("05.ap_on_paper", (1 + 1 + 0.75) / 3)  # mean over hits
    assert "one number" in judge("05.ap_on_paper", None)
    assert "interpolated" in judge("05.ap_on_paper", 0.6)


# --- 05.encode_grid -----------------------------------------------------------------------


def encode_grid(boxes, classes, grid_size=12):
    target = np.zeros((grid_size, grid_size, 15), np.float32)
    for (x0, y0, x1, y1), cls in zip(boxes, classes, strict=True):
        cx, cy = (x0 + x1) / 2 * grid_size, (y0 + y1) / 2 * grid_size
        row, col = min(int(cy), grid_size - 1), min(int(cx), grid_size - 1)
        if target[row, col, 0]:  # the first digit keeps its cell
            continue
        target[row, col, 0] = 1
        target[row, col, 1 + cls] = 1
        target[row, col, 11:] = [cx - col, cy - row, x1 - x0, y1 - y0]
    return target


def encode_swapped(boxes, classes, grid_size=12):
    return encode_grid(boxes, classes, grid_size).transpose(1, 0, 2)


def encode_canvas_centre(boxes, classes, grid_size=12):
    target = encode_grid(boxes, classes, grid_size)
    for x0, y0, x1, y1 in boxes:
        row, col = int((y0 + y1) / 2 * grid_size), int((x0 + x1) / 2 * grid_size)
        target[row, col, 11:13] = [(x0 + x1) / 2, (y0 + y1) / 2]
    return target


def encode_last_wins(boxes, classes, grid_size=12):
    order = np.arange(len(classes))[::-1]
    return encode_grid(np.asarray(boxes)[order], np.asarray(classes)[order], grid_size)


def encode_fixed_grid(boxes, classes, grid_size=12):
    return encode_grid(boxes, classes, 12)


def encode_class_at_channel_class(boxes, classes, grid_size=12):  # one-hot one channel early
    target = encode_grid(boxes, classes, grid_size)
    target[..., 1:11] = np.roll(target[..., 1:11], -1, axis=-1)
    return target


def encode_with_library(boxes, classes, grid_size=12):
    from helpers import detection

    return detection.encode_targets(boxes[None], classes[None], grid_size)[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_encode_grid_passes_the_solution(seed):
    assert judge("05.encode_grid", encode_grid, seed) is None


@pytest.mark.parametrize(
    "answer, words",
    [
        (stub, "expected a target of shape"),
        (encode_swapped, "x and y are swapped"),
        (encode_canvas_centre, "not its position on the canvas"),
        (encode_last_wins, "the first digit in the list keeps the cell"),
        (encode_fixed_grid, "grid_size=8"),
        (encode_class_at_channel_class, "channel 1 + class"),
        (encode_with_library, "write the encoding yourself"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_encode_grid_names_the_mistake(answer, words):
    hint = judge("05.encode_grid", answer)
    assert hint is not None and words in hint, hint


# --- 05.nms -------------------------------------------------------------------------------


def nms(boxes, scores, iou_threshold=0.5):
    order = np.argsort(-scores)
    keep = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(best)
        x0 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        ious = inter / (areas[best] + areas[rest] - inter)
        order = rest[ious <= iou_threshold]
    return np.array(keep, dtype=int)


def nms_input_order(boxes, scores, iou_threshold=0.5):  # never sorts by score
    keep = nms(boxes, np.linspace(1, 0, len(scores)), iou_threshold)
    return keep[np.argsort(-scores[keep])] if len(keep) else keep


def nms_removed_remove_others(boxes, scores, iou_threshold=0.5):
    from helpers.exercises.nb05_detection import greedy_nms

    return greedy_nms(boxes, scores, iou_threshold, "removed boxes remove others")


def nms_fixed_threshold(boxes, scores, iou_threshold=0.5):
    return nms(boxes, scores, 0.5)


def nms_returns_boxes(boxes, scores, iou_threshold=0.5):
    return boxes[nms(boxes, scores, iou_threshold)]


def nms_crashes_on_empty(boxes, scores, iou_threshold=0.5):
    return np.stack(nms(boxes, scores, iou_threshold))


def nms_with_tensorflow(boxes, scores, iou_threshold=0.5):
    import tensorflow as tf

    return tf.image.non_max_suppression(boxes[:, [1, 0, 3, 2]], scores, 100, iou_threshold)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nms_passes_the_solution(seed):
    assert judge("05.nms", nms, seed) is None


@pytest.mark.parametrize(
    "answer, words",
    [
        (stub, "1-D array of ints"),
        (nms_input_order, "by score, best first"),
        (nms_removed_remove_others, "removes nothing"),
        (nms_fixed_threshold, "`iou_threshold` argument"),
        (nms_returns_boxes, "1-D array of ints"),
        (nms_crashes_on_empty, "on an empty list of boxes"),
        (nms_with_tensorflow, "write NMS yourself"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_nms_names_the_mistake(answer, words):
    hint = judge("05.nms", answer)
    assert hint is not None and words in hint, hint


@pytest.mark.parametrize("seed", range(4))
def test_nms_written_out_agrees_with_tensorflow_on_every_case(seed):
    from helpers.exercises import nb05_detection

    for case in nb05_detection.make_nms_cases(np.random.default_rng(seed)):
        np.testing.assert_array_equal(
            nb05_detection.greedy_nms(**case), nb05_detection.reference_nms(**case)
        )


def test_the_chain_case_tells_greedy_from_removed_boxes_removing_others():
    from helpers.exercises import nb05_detection

    case = nb05_detection.make_nms_cases(np.random.default_rng(0))[3]
    mistaken = nb05_detection.greedy_nms(**case, mistake="removed boxes remove others")
    assert len(mistaken) < len(nb05_detection.reference_nms(**case))
