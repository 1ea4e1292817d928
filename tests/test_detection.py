"""The multi-digit detector: synthesis, grid targets, NMS, mAP by hand, save/load, CLI."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from clitools import cli

import helpers
from helpers import detection
from helpers.detection import (
    DetectionLoss,
    Detections,
    activate,
    average_precision,
    build_detector,
    count_collisions,
    decode_grid,
    detect,
    encode_targets,
    grid_to_boxes,
    logits_from_grid,
    mean_average_precision,
    non_max_suppression,
    owner_cells,
    pairwise_iou,
    postprocess,
    synthesize_scenes,
    unpad,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenes(sample):
    (x_train, y_train), _ = sample
    return synthesize_scenes(x_train[:300], y_train[:300], 64, seed=3)


# --------------------------------------------------------------------------- synthesis


def test_scene_shapes_dtypes_ranges_and_counts(scenes, sample):
    images, boxes, classes = scenes
    assert images.shape == (64, 96, 96, 1) and images.dtype == np.float32
    assert boxes.shape == (64, 5, 4) and boxes.dtype == np.float32
    assert classes.shape == (64, 5) and np.issubdtype(classes.dtype, np.integer)
    assert 0 <= images.min() and images.max() <= 1
    filled = classes >= 0
    counts = filled.sum(axis=1)
    assert counts.min() >= 1 and counts.max() <= 5 and len(np.unique(counts)) >= 4
    # filled slots first, padding after, padded boxes are zeros
    assert np.all(np.sort(~filled, axis=1) == ~filled)
    assert np.all(boxes[~filled] == 0)
    assert boxes[filled].min() >= 0 and boxes[filled].max() <= 1
    assert np.all(boxes[filled][:, 2:] > boxes[filled][:, :2])
    assert set(np.unique(classes[filled])) <= set(range(10))


def test_same_seed_same_scenes_other_seed_other_scenes(sample):
    (x, y), _ = sample
    a = synthesize_scenes(x[:100], y[:100], 8, seed=11)
    b = synthesize_scenes(x[:100], y[:100], 8, seed=np.random.default_rng(11))
    c = synthesize_scenes(x[:100], y[:100], 8, seed=12)
    for first, second in zip(a, b, strict=True):
        np.testing.assert_array_equal(first, second)
    assert not np.array_equal(a[1], c[1])


def test_one_digit_scenes_have_the_ink_extent_as_box(sample):
    (x, y), _ = sample
    images, boxes, classes = synthesize_scenes(x, y, 40, seed=1, min_digits=1, max_digits=1)
    assert np.all(classes[:, 0] >= 0)
    for image, box in zip(images[..., 0], boxes[:, 0], strict=True):
        rows, cols = np.nonzero(image > 0)
        x0, y0, x1, y1 = np.rint(box * 96).astype(int)
        assert (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1) == (x0, y0, x1, y1)


def test_every_box_is_tight_and_all_ink_is_inside_some_box(scenes):
    images, boxes, classes = scenes
    for image, (true_boxes, _) in zip(images[..., 0], unpad(boxes, classes), strict=True):
        covered = np.zeros_like(image, dtype=bool)
        for box in true_boxes:
            x0, y0, x1, y1 = np.rint(box * 96).astype(int)
            np.testing.assert_allclose(box * 96, [x0, y0, x1, y1], atol=1e-4)  # on pixel edges
            patch = image[y0:y1, x0:x1] > 0
            # a digit's ink touches all four sides of its own tight box
            assert patch[0].any() and patch[-1].any() and patch[:, 0].any() and patch[:, -1].any()
            covered[y0:y1, x0:x1] = True
        assert not np.any((image > 0) & ~covered)


def test_classes_are_the_labels_of_the_pasted_digits(sample):
    (x, y), _ = sample
    # one digit per class, each alone on its canvas: the class must match the ink
    picks = np.array([np.flatnonzero(y == c)[0] for c in range(10)])
    images, boxes, classes = synthesize_scenes(
        x[picks], y[picks], 10, seed=0, min_digits=1, max_digits=1
    )
    for image, box, cls in zip(images[..., 0], boxes[:, 0], classes[:, 0], strict=True):
        x0, y0, x1, y1 = np.rint(box * 96).astype(int)
        crop = image[y0:y1, x0:x1]
        ink = x[picks[cls]] / 255.0
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        np.testing.assert_allclose(crop, ink, atol=1e-6)


@pytest.mark.parametrize("limit", [0.0, 0.1])
def test_no_two_digits_overlap_more_than_the_limit(sample, limit):
    (x, y), _ = sample
    images, boxes, classes = synthesize_scenes(x, y, 100, seed=5, max_overlap=limit)
    for true_boxes, _ in unpad(boxes, classes):
        overlaps = pairwise_iou(true_boxes, true_boxes)
        np.fill_diagonal(overlaps, 0)
        assert overlaps.max(initial=0) <= limit + 1e-6


def test_scaled_digits_and_other_canvas_size(sample):
    (x, y), _ = sample
    images, boxes, classes = synthesize_scenes(x, y, 30, seed=2, canvas_size=100, scale=(16, 40))
    assert images.shape == (30, 100, 100, 1)
    heights = (boxes[..., 3] - boxes[..., 1])[classes >= 0] * 100
    assert heights.min() < 18 and heights.max() > 26 and heights.max() <= 40 + 1e-4


def test_bad_synthesis_arguments_raise(sample):
    (x, y), _ = sample
    with pytest.raises(ValueError, match="28, 28"):
        synthesize_scenes(x[:, :20], y, 2)
    with pytest.raises(ValueError, match="labels"):
        synthesize_scenes(x, y[:5], 2)
    with pytest.raises(ValueError, match="max_digits"):
        synthesize_scenes(x, y, 2, min_digits=3, max_digits=2)


# --------------------------------------------------------------------------- the grid


def test_owner_cell_of_known_boxes():
    boxes = np.array([[0.45, 0.45, 0.55, 0.55], [0.0, 0.85, 0.1, 0.95], [0.9, 0.9, 1.0, 1.0]])
    row, col = owner_cells(boxes, 12)
    np.testing.assert_array_equal(row, [6, 10, 11])
    np.testing.assert_array_equal(col, [6, 0, 11])


def test_grid_to_boxes_places_a_cell_box_on_the_canvas():
    params = np.zeros((12, 12, 4), np.float32)
    params[2, 5] = [0.5, 0.25, 0.2, 0.1]  # row 2, column 5
    boxes = np.asarray(grid_to_boxes(params, 12))
    cx, cy = (5 + 0.5) / 12, (2 + 0.25) / 12
    np.testing.assert_allclose(boxes[2, 5], [cx - 0.1, cy - 0.05, cx + 0.1, cy + 0.05], atol=1e-6)


def test_encode_then_decode_recovers_the_ground_truth(scenes):
    _, boxes, classes = scenes
    target = encode_targets(boxes, classes)
    assert target.shape == (64, 12, 12, 15)
    assert target[..., 0].sum() == (classes >= 0).sum()  # one owner cell per digit
    decoded = decode_grid(target)
    for i, (true_boxes, true_classes) in enumerate(unpad(boxes, classes)):
        cells = np.flatnonzero(decoded.scores[i] > 0)
        assert len(cells) == len(true_boxes)
        np.testing.assert_array_equal(decoded.scores[i, cells], 1.0)
        # match by position: decode order is the grid's, not the slots'
        found = decoded.boxes[i, cells]
        order = np.lexsort(found.T[::-1])
        expected = np.lexsort(true_boxes.T[::-1])
        np.testing.assert_allclose(found[order], true_boxes[expected], atol=1e-6)
        np.testing.assert_array_equal(decoded.classes[i, cells][order], true_classes[expected])
    # and through thresholding + NMS, as the detector's predictions go
    found = postprocess(target, score_threshold=0.5)
    result = mean_average_precision(found, unpad(boxes, classes))
    assert result.map == pytest.approx(1.0)


def test_two_centres_in_one_cell_keep_the_first_digit():
    boxes = np.array([[[0.40, 0.40, 0.44, 0.60], [0.42, 0.41, 0.45, 0.59]]], np.float32)
    classes = np.array([[1, 7]])
    assert count_collisions(boxes, classes) == 1
    target = encode_targets(boxes, classes)
    assert target[..., 0].sum() == 1 and target[0, 6, 5, 1 + 1] == 1.0


def test_activate_gives_probabilities_and_bounded_boxes_and_inverts_logits_from_grid(rng):
    raw = rng.normal(0, 4, (2, 12, 12, 15)).astype(np.float32)
    out = keras.ops.convert_to_numpy(activate(raw))
    assert 0 <= out.min() and out.max() <= 1
    np.testing.assert_allclose(out[..., 1:11].sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(activate(logits_from_grid(out))), out, atol=1e-5
    )


@pytest.mark.parametrize("class_agnostic", [True, False])
def test_batched_nms_in_one_graph_agrees_with_nms_image_by_image(rng, class_agnostic):
    """postprocess (combined NMS over the batch) keeps what non_max_suppression keeps."""
    grid = keras.ops.convert_to_numpy(activate(rng.normal(0, 3, (16, 12, 12, 15))))
    found = postprocess(grid, score_threshold=0.1, class_agnostic=class_agnostic)
    decoded = decode_grid(grid)
    kept_total = 0
    for i, detections in enumerate(found):
        scores = decoded.scores[i]
        candidates = np.flatnonzero(scores >= 0.1)
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
        keep = candidates[
            non_max_suppression(
                decoded.boxes[i][candidates],
                scores[candidates],
                decoded.classes[i][candidates],
                class_agnostic=class_agnostic,
            )
        ]
        np.testing.assert_array_equal(detections.classes, decoded.classes[i][keep])
        np.testing.assert_allclose(detections.boxes, decoded.boxes[i][keep], atol=1e-6)
        np.testing.assert_allclose(detections.scores, scores[keep], rtol=1e-5)
        kept_total += len(keep)
    assert kept_total > 2 * len(found)  # the comparison is not between empty lists


def test_model_output_shape_and_parameter_count():
    model = build_detector()
    assert model.output_shape == (None, 12, 12, 15)
    assert model.count_params() < 250_000
    with pytest.raises(ValueError, match="2 \\*\\* len"):
        build_detector(canvas_size=96, grid_size=6)


def test_loss_is_small_for_the_target_and_finite_with_gradients(scenes, rng):
    _, boxes, classes = scenes
    target = encode_targets(boxes[:8], classes[:8])
    loss = DetectionLoss()
    assert float(keras.ops.mean(loss(target, logits_from_grid(target)))) < 1e-3
    model = build_detector()
    import tensorflow as tf

    images = rng.uniform(0, 1, (8, 96, 96, 1)).astype(np.float32)
    with tf.GradientTape() as tape:
        value = keras.ops.mean(loss(target, model(images)))
    grads = tape.gradient(value, model.trainable_variables)
    assert np.isfinite(float(value)) and float(value) > 1
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)
    parts = loss.components(target, model(images))
    assert set(parts) == {"objectness", "classification", "box"}
    # a worse box costs more
    worse = target.copy()
    worse[..., 13:15] *= 1.5
    assert float(keras.ops.mean(loss(target, logits_from_grid(worse)))) > 0.05


# --------------------------------------------------------------------------- NMS


def _brute_force_nms(boxes, scores, threshold):
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    while order:
        best = order.pop(0)
        keep.append(best)
        order = [i for i in order if _iou(boxes[best], boxes[i]) <= threshold]
    return keep


def test_nms_removes_duplicates_and_keeps_distinct_boxes():
    boxes = np.array(
        [
            [0.10, 0.10, 0.30, 0.40],  # digit A
            [0.11, 0.10, 0.31, 0.41],  # duplicate of A, lower score
            [0.60, 0.50, 0.80, 0.80],  # digit B
            [0.10, 0.45, 0.30, 0.75],  # digit C, below A, tall: yxyx mix-ups would merge
        ],
        np.float32,
    )
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    keep = non_max_suppression(boxes, scores, iou_threshold=0.5)
    np.testing.assert_array_equal(keep, [0, 2, 3])
    assert len(non_max_suppression(boxes[:0], scores[:0])) == 0


def test_nms_agrees_with_a_brute_force_version(rng):
    centres = rng.uniform(0.1, 0.9, (60, 2))
    sizes = rng.uniform(0.05, 0.3, (60, 2))
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1).astype(np.float32)
    scores = rng.permutation(60).astype(np.float32) / 60
    for threshold in (0.3, 0.5):
        keep = non_max_suppression(boxes, scores, iou_threshold=threshold, max_detections=100)
        assert list(keep) == _brute_force_nms(boxes, scores, threshold)


def test_class_agnostic_versus_per_class_nms():
    boxes = np.array([[0.1, 0.1, 0.3, 0.4], [0.1, 0.11, 0.3, 0.41]], np.float32)
    scores = np.array([0.9, 0.6], np.float32)
    classes = np.array([3, 8])
    assert list(non_max_suppression(boxes, scores, classes)) == [0]
    assert list(non_max_suppression(boxes, scores, classes, class_agnostic=False)) == [0, 1]


# --------------------------------------------------------------------------- mAP


def _iou(a, b):
    """IoU of two xyxy boxes, written out (independent of helpers.boxes)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _reference_map(detections, truths, threshold=0.5, num_classes=10):
    """A second mAP, written differently: plain loops, interpolation by recall levels."""
    aps = []
    for cls in range(num_classes):
        n_true = sum(int(np.sum(np.asarray(c) == cls)) for _, c in truths)
        if n_true == 0:
            continue
        found = [
            (float(s), img, tuple(map(float, b)))
            for img, (bs, cs, ss) in enumerate(detections)
            for b, c, s in zip(bs, cs, ss, strict=True)
            if c == cls
        ]
        found.sort(key=lambda item: -item[0])
        used = set()
        hits = []
        for _, img, box in found:
            best, best_iou = None, threshold
            for j, (tb, tc) in enumerate(zip(*truths[img], strict=True)):
                if tc != cls or (img, j) in used:
                    continue
                value = _iou(box, tb)
                if value >= best_iou:
                    best, best_iou = j, value
            hits.append(best is not None)
            if best is not None:
                used.add((img, best))
        points = []  # (recall, precision) after each detection
        tp = 0
        for k, hit in enumerate(hits, start=1):
            tp += hit
            points.append((tp / n_true, tp / k))
        # AP = sum over the recall levels reached of (gain in recall) x (best precision
        # at that recall or beyond)
        ap, previous = 0.0, 0.0
        for level in sorted({r for r, _ in points}):
            if level > previous:
                ap += (level - previous) * max(p for r, p in points if r >= level)
                previous = level
        aps.append(ap)
    return float(np.mean(aps))


def _gt(*pairs):
    return (
        np.array([p[0] for p in pairs], np.float32).reshape(-1, 4),
        np.array([p[1] for p in pairs]),
    )


def _det(*triples):
    return Detections(
        np.array([t[0] for t in triples], np.float32).reshape(-1, 4),
        np.array([t[1] for t in triples], np.int64),
        np.array([t[2] for t in triples], np.float64),
    )


# Boxes on a 1/64 grid, exact in float32, so IoUs like 0.5 are exact too.
A = [8 / 64, 8 / 64, 24 / 64, 32 / 64]
B = [32 / 64, 32 / 64, 48 / 64, 56 / 64]
C = [40 / 64, 4 / 64, 56 / 64, 28 / 64]
FAR = [0.0, 52 / 64, 6 / 64, 62 / 64]


def test_average_precision_of_a_hand_worked_curve():
    # precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: 1/2 x 1 + 1/2 x 2/3 = 5/6
    assert average_precision([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3]) == pytest.approx(5 / 6)
    assert average_precision([], []) == 0.0
    # the envelope lifts a dip: precision 0.5 then 0.6 at higher recall counts as 0.6
    assert average_precision([0.25, 0.5], [0.5, 0.6]) == pytest.approx(0.5 * 0.6)


def test_perfect_detections_give_map_one_and_none_give_zero():
    truths = [_gt((A, 1), (B, 2)), _gt((C, 1))]
    perfect = [_det((A, 1, 0.9), (B, 2, 0.8)), _det((C, 1, 0.7))]
    assert mean_average_precision(perfect, truths).map == pytest.approx(1.0)
    nothing = [_det(), _det()]
    result = mean_average_precision(nothing, truths)
    assert result.map == 0.0
    assert np.isnan(result.per_class[0]) and result.per_class[1] == 0.0  # class 0 has no truth


def test_hand_worked_example_five_ninths():
    # class 4: three digits in two images. Ranked detections: TP, FP (far away), TP,
    # FP (IoU < 0.5); one digit never found. Precision 1, 1/2, 2/3, 1/2 at recall
    # 1/3, 1/3, 2/3, 2/3 -> AP = 1/3 x 1 + 1/3 x 2/3 = 5/9.
    truths = [_gt((A, 4), (B, 4)), _gt((C, 4))]
    shifted = [C[0] + 8 / 64, C[1], C[2] + 8 / 64, C[3]]  # half the width: IoU 1/3 with C
    assert _iou(shifted, C) == pytest.approx(1 / 3)
    detections = [
        _det((A, 4, 0.9), (FAR, 4, 0.8)),
        _det((C, 4, 0.7), (shifted, 4, 0.6)),
    ]
    result = mean_average_precision(detections, truths)
    curve = result.curves[4]
    np.testing.assert_array_equal(curve.true_positive, [True, False, True, False])
    np.testing.assert_allclose(curve.recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(curve.precision, [1, 1 / 2, 2 / 3, 1 / 2])
    assert result.map == pytest.approx(5 / 9)
    assert result.map == pytest.approx(_reference_map(detections, truths))


def test_a_duplicate_detection_is_a_false_positive():
    truths = [_gt((A, 2)), _gt((B, 2))]
    detections = [_det((A, 2, 0.9), (A, 2, 0.8)), _det((B, 2, 0.7))]
    result = mean_average_precision(detections, truths)
    np.testing.assert_array_equal(result.curves[2].true_positive, [True, False, True])
    assert result.map == pytest.approx(1 / 2 * 1 + 1 / 2 * 2 / 3)  # 5/6, not 1


def test_wrong_class_and_iou_threshold_edges():
    truths = [_gt((A, 3))]
    wrong_class = [_det((A, 5, 0.9))]
    result = mean_average_precision(wrong_class, truths)
    assert result.per_class[3] == 0.0 and np.isnan(result.per_class[5]) and result.map == 0.0
    # a box with IoU exactly 0.5 counts, one just below does not
    exact = [A[0], A[1], A[2], 20 / 64]  # the top half of A: IoU 0.5
    low = [A[0], A[1], A[2], 19.9 / 64]
    assert _iou(A, exact) == 0.5 and _iou(A, low) < 0.5
    assert mean_average_precision([_det((exact, 3, 0.9))], truths, 0.5).map == pytest.approx(1.0)
    assert mean_average_precision([_det((low, 3, 0.9))], truths, 0.5).map == 0.0


def test_map_agrees_with_an_independent_implementation(rng):
    truths, detections = [], []
    for _ in range(25):
        k = rng.integers(1, 5)
        centres = rng.uniform(0.15, 0.85, (k, 2))
        size = rng.uniform(0.1, 0.25, (k, 2))
        boxes = np.concatenate([centres - size / 2, centres + size / 2], axis=1)
        classes = rng.integers(0, 4, k)
        truths.append((boxes.astype(np.float32), classes))
        # detections: jittered copies (some good, some poor), duplicates, random boxes,
        # some with the wrong class
        jitter = boxes + rng.normal(0, 0.03, boxes.shape)
        extra = rng.uniform(0, 0.8, (2, 2))
        extra = np.concatenate([extra, extra + 0.15], axis=1)
        det_boxes = np.concatenate([jitter, jitter[:1] + 0.01, extra]).astype(np.float32)
        det_classes = np.concatenate([classes, classes[:1], rng.integers(0, 4, 2)])
        flip = rng.uniform(size=len(det_classes)) < 0.15
        det_classes[flip] = rng.integers(0, 4, flip.sum())
        scores = rng.uniform(0, 1, len(det_boxes))
        detections.append(Detections(det_boxes, det_classes, scores))
    ours = mean_average_precision(detections, truths, num_classes=4)
    assert 0.2 < ours.map < 0.95  # a case with real work for the matching
    assert ours.map == pytest.approx(_reference_map(detections, truths, num_classes=4), abs=1e-9)
    strict = mean_average_precision(detections, truths, 0.75, num_classes=4).map
    assert strict == pytest.approx(_reference_map(detections, truths, 0.75, 4), abs=1e-9)
    assert strict < ours.map


# --------------------------------------------------------------------------- the model


def test_detect_returns_boxes_classes_scores_per_image(scenes):
    images = scenes[0][:3]
    model = build_detector()
    found = detect(model, images, score_threshold=0.0, iou_threshold=0.5)
    assert len(found) == 3
    for det in found:
        boxes, classes, scores = det  # a plain tuple too
        k = len(scores)
        assert 1 <= k <= 20
        assert boxes.shape == (k, 4) and boxes.dtype == np.float32
        assert classes.shape == (k,) and np.issubdtype(classes.dtype, np.integer)
        assert scores.shape == (k,) and np.all(np.diff(scores) <= 0)
        assert boxes.min() >= 0 and boxes.max() <= 1 and set(classes) <= set(range(10))
    assert detect(model, images, score_threshold=1.01)[0].boxes.shape == (0, 4)
    with pytest.raises(ValueError, match="expected shape"):
        detect(model, np.zeros((2, 75, 75, 1), np.float32))


def test_save_and_load_round_trip(tmp_path, scenes):
    model = detection.compile_detector(build_detector(), learning_rate=1e-3)
    path = tmp_path / "detector.keras"
    model.save(path)
    loaded = helpers.load_model(path)
    images = scenes[0][:4]
    np.testing.assert_array_equal(
        model.predict(images, verbose=0), loaded.predict(images, verbose=0)
    )
    loss = DetectionLoss(box_weight=3.0, focal_gamma=2.0)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(again, DetectionLoss) and again.get_config() == loss.get_config()


def test_training_pipeline_is_reproducible_and_shaped(sample):
    (x, y), _ = sample
    first = next(iter(detection.detection_dataset(x[:50], y[:50], batch_size=4, seed=1)))
    again = next(iter(detection.detection_dataset(x[:50], y[:50], batch_size=4, seed=1)))
    assert first[0].shape == (4, 96, 96, 1) and first[1].shape == (4, 12, 12, 15)
    np.testing.assert_array_equal(first[1].numpy(), again[1].numpy())
    with pytest.raises(ValueError, match="batch_size"):
        detection.train_detector(x[:50], y[:50], epochs=1, batch_size=64, images_per_epoch=32)


# --------------------------------------------------------------------------- CLI


def test_detect_train_cli_trains_saves_and_reports(tmp_path, sample):
    (x_train, y_train), (x_test, y_test) = sample
    data = tmp_path / "small.npz"
    np.savez(
        data, x_train=x_train[:200], y_train=y_train[:200], x_test=x_test[:60], y_test=y_test[:60]
    )
    out = tmp_path / "det.keras"
    result = cli(
        "detect-train",
        "--data",
        str(data),
        "--epochs",
        "1",
        "--images-per-epoch",
        "64",
        "--batch-size",
        "32",
        "--test-images",
        "20",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert out.is_file()
    assert metrics["command"] == "detect-train" and metrics["test_images"] == 20
    assert metrics["train_digits"] == 200 and metrics["train_images_seen"] == 64
    assert 0 <= metrics["map_50"] <= 1 and len(metrics["ap_50_per_class"]) == 10
    assert metrics["train_seconds"] > 0 and metrics["images_per_second"] > 0
    script = tmp_path / "load.py"
    script.write_text(
        textwrap.dedent(f"""
        import numpy as np
        import helpers
        model = helpers.load_model({str(out)!r})
        found = helpers.detection.detect(model, np.zeros((2, 96, 96, 1), np.float32))
        print("loaded", len(found))
        """)
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    loaded = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 2" in loaded.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "sample", "--epochs", "0"], "must be at least 1"),
        (["--data", "sample", "--out", "detector.h5"], "--out must end in .keras"),
        (["--data", "missing.npz"], "MNIST file not found"),
    ],
)
def test_detect_train_bad_input_exits_2_with_one_line(args, message):
    result = cli("detect-train", *args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_match_image_and_outcome_counts():
    truth = _gt((A, 1), (B, 2))
    det = _det((A, 1, 0.9), (A, 1, 0.8), (B, 3, 0.7), (C, 2, 0.6))
    hits, found = detection.match_image(det, truth)
    np.testing.assert_array_equal(hits, [True, False, False, False])
    np.testing.assert_array_equal(found, [True, False])
    counts = detection.count_outcomes([det, _det()], [truth, _gt((C, 4))])
    assert counts == {"true_positives": 1, "false_positives": 3, "missed": 2}


def test_scene_figure_draws_suppressed_boxes_dotted_and_names_them():
    from helpers.detection.inference import Detections

    image = np.zeros((1, 96, 96, 1), np.float32)
    box = np.float32([[0.1, 0.1, 0.4, 0.4]])
    kept = Detections(box, np.array([3]), np.float32([0.9]))
    gone = Detections(box + 0.05, np.array([3]), np.float32([0.6]))
    fig = detection.plot_scenes(image, [(box, np.array([3]))], [kept], suppressed=[gone], ncols=1)
    styles = [patch.get_linestyle() for patch in fig.axes[0].patches]
    assert styles == ["-", "--", ":"], "true solid, kept dashed, then the suppressed box dotted"
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "true box",
        "kept detection",
        "suppressed",
    ]


def test_pr_curves_zoom_to_where_the_curves_are():
    from helpers.detection.metrics import ClassCurve, MeanAP

    hits = np.array([True, True, True, False, True])
    curves = {c: ClassCurve(np.linspace(1, 0.5, 5), hits, n_true=5) for c in range(10)}
    fig = detection.plot_pr_curves(MeanAP(iou_threshold=0.5, curves=curves))
    bottom = fig.axes[0].get_ylim()[0]
    assert 0 < bottom < 0.8, "lowest precision 0.8: the axis starts a little below it"
    assert fig.axes[0].get_ylabel() == f"precision (from {bottom:g})"


def test_resized_digit_frames_never_run_past_the_canvas_edge():
    # Fully inked digits: the tight box is the whole frame, so it shows where the frame went.
    squares = np.full((50, 28, 28), 255, np.uint8)
    _, boxes, classes = synthesize_scenes(
        squares, np.zeros(50, np.int64), 400, seed=0, canvas_size=100, scale=(16, 40),
        max_overlap=1.0,
    )  # fmt: skip
    assert boxes[classes >= 0].max() <= 1.0
