"""Mean average precision at IoU 0.5, computed by hand (taught in notebook 05)."""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np

from helpers import validation
from helpers.boxes import check_boxes, iou
from helpers.constants import NUM_CLASSES
from helpers.detection.inference import Detections, detect
from helpers.detection.scenes import unpad
from helpers.errors import InputError


def pairwise_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """``(A, B)`` IoU of every box in ``boxes_a (A, 4)`` with every box in ``boxes_b (B, 4)``."""
    a = check_boxes(boxes_a, "boxes_a").reshape(-1, 4)
    b = check_boxes(boxes_b, "boxes_b").reshape(-1, 4)
    shape = (len(a), len(b), 4)
    return iou(np.broadcast_to(a[:, None], shape), np.broadcast_to(b[None], shape))


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the interpolated precision-recall curve (all points, VOC 2010+).

    The curve is first made monotone: the precision at recall ``r`` becomes the best
    precision reached at any recall ``>= r``. The area is then a sum of rectangles,
    one per step in recall. No points (no detection) gives 0.
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if not len(recall):
        return 0.0
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # the envelope, from the right
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


@dataclass
class ClassCurve:
    """One class's matching result: every detection in score order, TP or FP."""

    scores: np.ndarray  # (D,) sorted, best first
    true_positive: np.ndarray  # (D,) bool
    n_true: int  # ground-truth digits of this class

    @property
    def recall(self) -> np.ndarray:
        return np.cumsum(self.true_positive) / max(self.n_true, 1)

    @property
    def precision(self) -> np.ndarray:
        tp = np.cumsum(self.true_positive)
        return tp / np.arange(1, len(tp) + 1)

    @property
    def ap(self) -> float:
        return average_precision(self.recall, self.precision) if self.n_true else float("nan")


@dataclass
class MeanAP:
    """mAP and its parts: per-class AP and precision-recall curves."""

    iou_threshold: float
    curves: dict[int, ClassCurve] = field(default_factory=dict)

    @property
    def per_class(self) -> np.ndarray:
        """``(10,)`` AP per class (NaN for a class without ground truth)."""
        return np.array([self.curves[c].ap for c in sorted(self.curves)])

    @property
    def map(self) -> float:
        """Mean AP over the classes that have ground truth (NaN if none has)."""
        values = self.per_class[~np.isnan(self.per_class)]
        return float(values.mean()) if len(values) else float("nan")


def match_image(
    detections: Detections | tuple,
    truth: tuple[np.ndarray, np.ndarray],
    iou_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Match one image's detections to its ground truth with the rules of mAP.

    The one matching rule of the course (taught in notebook 05): detections, best score
    first (ties keep their order), each take the *unmatched* true digit of their class
    with the highest IoU, if that IoU is ``>= iou_threshold``: a true positive.
    Otherwise it is a false positive: a wrong place, or a duplicate of a digit that a
    better-scored detection already claimed.

    Returns:
        ``true_positive (K,)`` bool per detection and ``found (T,)`` bool per true digit.
    """
    boxes, classes, scores = (np.asarray(a) for a in detections)
    true_boxes, true_classes = (np.asarray(a) for a in truth)
    true_positive = np.zeros(len(scores), dtype=bool)
    found = np.zeros(len(true_classes), dtype=bool)
    if not len(scores) or not len(true_classes):
        return true_positive, found
    overlaps = pairwise_iou(boxes, true_boxes)  # (K, T)
    overlaps[classes[:, None] != true_classes[None, :]] = -1.0
    for k in np.argsort(-scores, kind="stable"):
        candidates = np.where(found, -1.0, overlaps[k])
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold:
            true_positive[k], found[best] = True, True
    return true_positive, found


def match_class(
    detections: list[Detections],
    truths: list[tuple[np.ndarray, np.ndarray]],
    cls: int,
    iou_threshold: float = 0.5,
) -> ClassCurve:
    """One class's detections over all images, best score first, each a TP or an FP.

    Matching happens image by image (:func:`match_image`: a detection can only claim a
    digit of its own image and class); this gathers class ``cls``'s detections from every
    image and sorts them by score (ties keep image order), the order in which a
    precision-recall curve reads them.
    """
    scores, hits = [], []
    n_true = 0
    for det, truth in zip(detections, truths, strict=True):
        true_positive, _ = match_image(det, truth, iou_threshold)
        mine = np.asarray(det.classes) == cls
        scores.append(np.asarray(det.scores, dtype=np.float64)[mine])
        hits.append(true_positive[mine])
        n_true += int(np.sum(np.asarray(truth[1]) == cls))
    scores = np.concatenate(scores) if scores else np.zeros(0)
    hits = np.concatenate(hits) if hits else np.zeros(0, dtype=bool)
    order = np.argsort(-scores, kind="stable")
    return ClassCurve(scores[order], hits[order], n_true)


def count_outcomes(
    detections: list[Detections],
    truths: list[tuple[np.ndarray, np.ndarray]],
    iou_threshold: float = 0.5,
) -> dict[str, int]:
    """Totals over images: true positives, false positives and missed digits."""
    tp = fp = missed = 0
    for det, truth in zip(detections, truths, strict=True):
        hits, found = match_image(det, truth, iou_threshold)
        tp, fp, missed = tp + hits.sum(), fp + (~hits).sum(), missed + (~found).sum()
    return {"true_positives": int(tp), "false_positives": int(fp), "missed": int(missed)}


def mean_average_precision(
    detections: list[Detections] | list[tuple],
    truths: list[tuple[np.ndarray, np.ndarray]],
    iou_threshold: float = 0.5,
    num_classes: int = NUM_CLASSES,
) -> MeanAP:
    """mAP at ``iou_threshold``: average precision per class, then the mean.

    Args:
        detections: per image, ``(boxes (K, 4), classes (K,), scores (K,))``.
        truths: per image, ``(boxes (T, 4), classes (T,))`` (see :func:`unpad`).
    """
    if len(detections) != len(truths):
        raise InputError(
            f"detections: expected one list per image ({len(truths)}), got {len(detections)}"
        )
    iou_threshold = validation.check_number(iou_threshold, "iou_threshold", minimum=0, maximum=1)
    detections = [
        Detections(
            check_boxes(d[0], "detection boxes").reshape(-1, 4),
            np.asarray(d[1]).reshape(-1),
            validation.check_finite(d[2], "detection scores").astype(np.float64).reshape(-1),
        )
        for d in detections
    ]
    truths = [(check_boxes(b).reshape(-1, 4), np.asarray(c).reshape(-1)) for b, c in truths]
    result = MeanAP(iou_threshold)
    for cls in range(num_classes):
        result.curves[cls] = match_class(detections, truths, cls, iou_threshold)
    return result


def evaluate_detector(
    model: keras.Model,
    images: np.ndarray,
    boxes: np.ndarray,
    classes: np.ndarray,
    *,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    nms_iou: float = 0.5,
    class_agnostic: bool = True,
) -> MeanAP:
    """mAP of ``model`` on canvases with padded ground truth (as :func:`synthesize_scenes`).

    A low score threshold (0.05) is the custom for mAP: the precision-recall curve
    should reach as far into recall as the detector can go.
    """
    boxes, classes = validation.check_padded_labels(boxes, classes, length=len(images))
    found = detect(model, images, score_threshold, nms_iou, class_agnostic=class_agnostic)
    return mean_average_precision(found, unpad(boxes, classes), iou_threshold)
