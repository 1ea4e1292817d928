import keras
import numpy as np
import pytest

from helpers.boxes import area, convert, iou, order_corners, to_normalized, to_pixels


def one(a, b):
    return float(iou(np.array([a], np.float32), np.array([b], np.float32))[0])


def test_identical_boxes_have_iou_one():
    assert one([0.1, 0.2, 0.5, 0.6], [0.1, 0.2, 0.5, 0.6]) == pytest.approx(1.0, abs=1e-5)


def test_disjoint_boxes_have_iou_zero():
    assert one([0.0, 0.0, 0.2, 0.2], [0.5, 0.5, 0.9, 0.9]) == 0.0


def test_touching_edges_have_iou_zero():
    assert one([0.0, 0.0, 0.5, 0.5], [0.5, 0.0, 1.0, 0.5]) == 0.0


def test_contained_box_iou_is_area_ratio():
    assert one([0.0, 0.0, 1.0, 1.0], [0.25, 0.25, 0.75, 0.75]) == pytest.approx(0.25, abs=1e-5)


def test_half_overlap_known_value():
    # two unit squares shifted by half a side: overlap 0.5, union 1.5
    assert one([0, 0, 1, 1], [0.5, 0, 1.5, 1]) == pytest.approx(1 / 3, abs=1e-5)


def test_flipped_corners_are_scored_as_the_same_rectangle():
    assert one([0.5, 0.6, 0.1, 0.2], [0.1, 0.2, 0.5, 0.6]) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(order_corners([[0.5, 0.6, 0.1, 0.2]]), [[0.1, 0.2, 0.5, 0.6]])


def test_two_empty_boxes_give_zero_not_one():
    assert one([0.3, 0.3, 0.3, 0.3], [0.3, 0.3, 0.3, 0.3]) == 0.0
    assert one([0.3, 0.3, 0.3, 0.8], [0.3, 0.3, 0.3, 0.8]) == 0.0


def test_iou_always_within_unit_interval(rng):
    a = rng.uniform(-0.5, 1.5, (2000, 4)).astype(np.float32)
    b = rng.uniform(-0.5, 1.5, (2000, 4)).astype(np.float32)
    values = iou(a, b)
    assert values.shape == (2000,) and values.dtype == np.float32
    assert values.min() >= 0.0 and values.max() <= 1.0


def test_iou_matches_keras_compute_iou(rng):
    corners = rng.uniform(0, 1, (500, 2, 2)).astype(np.float32)
    a = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)
    b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1).astype(np.float32)
    b = np.concatenate([np.minimum(b[:, :2], b[:, 2:]), np.maximum(b[:, :2], b[:, 2:])], axis=1)
    ours = iou(a, b)
    theirs = np.diag(
        keras.ops.convert_to_numpy(keras.utils.bounding_boxes.compute_iou(a, b, "xyxy"))
    )
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (np.zeros((3, 3)), np.zeros((3, 3)), r"expected shape \(N, 4\)"),
        (np.zeros((3, 4)), np.zeros((2, 4)), "same shape"),
        (np.array([[0, 0, np.nan, 1]]), np.zeros((1, 4)), "NaN"),
    ],
)
def test_iou_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        iou(a, b)


def test_area_of_ordered_and_flipped_boxes():
    np.testing.assert_allclose(area([[0, 0, 0.5, 0.2], [0.5, 0.2, 0, 0]]), [0.1, 0.1], atol=1e-7)


def test_pixel_round_trip_and_known_value():
    box = np.array([[10, 5, 38, 33]], np.float32) / 75
    np.testing.assert_allclose(to_pixels(box), [[10, 5, 38, 33]], atol=1e-4)
    np.testing.assert_allclose(to_normalized(to_pixels(box)), box, atol=1e-6)


def test_yxyx_and_centre_conversions():
    box = np.array([[0.1, 0.2, 0.5, 0.8]], np.float32)
    np.testing.assert_allclose(convert(box, "xyxy", "yxyx"), [[0.2, 0.1, 0.8, 0.5]], atol=1e-6)
    np.testing.assert_allclose(convert(box, "xyxy", "center"), [[0.3, 0.5, 0.4, 0.6]], atol=1e-6)
    np.testing.assert_allclose(
        convert(convert(box, "xyxy", "center"), "center", "xyxy"), box, atol=1e-6
    )


def test_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match="target: expected one of xyxy, .* got .xywz."):
        convert(np.zeros((1, 4)), "xyxy", "xywz")


def test_iou_has_no_epsilon_so_thresholds_need_no_slack():
    # a box and its top half (binary fractions, exact in float32): IoU exactly one half,
    # which an epsilon in the denominator used to turn into 0.4999999
    half = iou([[0.25, 0.25, 0.75, 0.75]], [[0.25, 0.25, 0.75, 0.5]])
    assert half[0] == np.float32(0.5)
    box = np.float32([[0.06538662, 0.0, 0.56538665, 0.5]])  # hypothesis found 1.0000001 here
    assert iou(box, box)[0] == 1.0
    assert iou([[0.1, 0.1, 0.1, 0.1]], [[0.1, 0.1, 0.1, 0.1]])[0] == 0.0  # empty: no union
