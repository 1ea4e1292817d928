"""Property-based tests (Hypothesis): what must hold for every input, not just a few.

For valid inputs: IoU is in [0, 1], symmetric, 1 for identical boxes and 0 for disjoint
ones; canvases are in [0, 1] with the digit's ink inside its box; box conversions
round-trip. For invalid inputs (NaN, inf, wrong shapes, negative sizes): each public
function either returns a correct result or raises ``InputError``, never another error
and never a silent wrong value. Example counts stay small so the file runs in seconds.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from helpers import boxes, detection, pipeline, synthesis
from helpers.errors import InputError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

size = st.floats(0.0625, 0.5, width=32)  # boxes at least 1/16 of the canvas wide and high


@st.composite
def box_arrays(draw, n=None):
    """``(n, 4)`` float32 boxes with ordered corners inside the unit square."""
    n = draw(st.integers(1, 6)) if n is None else n
    corners = draw(arrays(np.float32, (n, 2), elements=st.floats(0, 0.5, width=32)))
    sizes = draw(arrays(np.float32, (n, 2), elements=size))
    return np.concatenate([corners, corners + sizes], axis=1)


@st.composite
def digit_batches(draw):
    """A few uint8 digits, each with a random rectangle of random ink (or none)."""
    n = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    digits = np.zeros((n, 28, 28), np.uint8)
    for digit in digits:
        top, left = rng.integers(0, 27, 2)
        bottom, right = rng.integers(top + 1, 29), rng.integers(left + 1, 29)
        digit[top:bottom, left:right] = rng.integers(0, 256, (bottom - top, right - left))
    return digits


# --- valid inputs -------------------------------------------------------------------


@FAST
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(box_arrays(n), box_arrays(n))))
def test_iou_is_in_unit_interval_and_symmetric(pair):
    a, b = pair
    forward, backward = boxes.iou(a, b), boxes.iou(b, a)
    assert np.all((forward >= 0) & (forward <= 1))
    np.testing.assert_allclose(forward, backward, atol=1e-6)


@FAST
@given(box_arrays())
def test_iou_of_a_box_with_itself_is_one(a):
    np.testing.assert_allclose(boxes.iou(a, a), 1.0, atol=1e-4)


@FAST
@given(box_arrays(), st.floats(0, 0.5, width=32))
def test_iou_of_disjoint_boxes_is_zero(a, gap):
    b = a.copy()
    b[:, [0, 2]] += (a[:, 2] - a[:, 0] + gap)[:, None]  # slid right past a's right edge
    np.testing.assert_array_equal(boxes.iou(a, b), 0.0)


@FAST
@given(box_arrays(), st.sampled_from(["yxyx", "center", "pixels"]), st.integers(1, 500))
def test_box_conversions_round_trip(a, fmt, canvas):
    there = boxes.convert(a, "xyxy", fmt, canvas)
    np.testing.assert_allclose(boxes.convert(there, fmt, "xyxy", canvas), a, atol=1e-5)
    np.testing.assert_allclose(
        boxes.to_normalized(boxes.to_pixels(a, canvas), canvas), a, atol=1e-5
    )


@FAST
@given(digit_batches(), st.integers(0, 1000), st.sampled_from(["frame", "tight"]))
def test_canvases_are_in_unit_range_with_all_ink_inside_the_box(digits, seed, kind):
    images, labels = synthesis.synthesize(digits, seed=seed, box_kind=kind)
    assert images.dtype == np.float32 and 0 <= images.min() and images.max() <= 1
    pixel_boxes = np.rint(labels * 75).astype(int)
    for image, (x0, y0, x1, y1), digit in zip(images[..., 0], pixel_boxes, digits, strict=True):
        inside = image[y0:y1, x0:x1]
        assert 0 <= x0 < x1 <= 75 and 0 <= y0 < y1 <= 75
        assert math.isclose(inside.sum(), image.sum(), rel_tol=1e-6)  # no ink outside
        assert math.isclose(image.sum(), digit.sum() / 255, rel_tol=1e-5)  # all ink pasted


# --- invalid inputs -------------------------------------------------------------------

#: Values that no size, count or threshold accepts, mixed with floats that some do.
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), -1),
    st.sampled_from([None, "1", True, (1,)]),
)
DIGITS = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype(np.uint8)


def _whole(value, minimum):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _real(value, minimum=-math.inf, maximum=math.inf):
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and minimum <= value <= maximum
    )


def _refused_or_right(call, valid, check=lambda result: True):
    """``call()`` raises ``InputError`` exactly when the input is not ``valid``; a result
    for a valid input passes ``check``."""
    if not valid:
        try:
            call()
        except InputError:
            return
        raise AssertionError("invalid input accepted silently")
    assert check(call())


def _canvases_ok(result):
    images, labels = result
    return np.all(np.isfinite(images)) and 0 <= images.min() and images.max() <= 1


@FAST
@given(st.one_of(numbers, st.floats(0, 2)))
def test_synthesis_noise(value):
    _refused_or_right(
        lambda: synthesis.synthesize(DIGITS, noise=value),
        _real(value, minimum=0),
        _canvases_ok,
    )


@FAST
@given(st.one_of(numbers, st.integers(0, 5)))
def test_synthesis_clutter(value):
    _refused_or_right(
        lambda: synthesis.synthesize(DIGITS, clutter=value),
        _whole(value, 0),
        _canvases_ok,
    )


@FAST
@given(st.one_of(numbers, st.integers(0, 90)))
def test_synthesis_canvas_size(value):
    _refused_or_right(
        lambda: synthesis.synthesize(DIGITS, canvas_size=value),
        _whole(value, 28),
        lambda r: _canvases_ok(r) and r[0].shape[1] == value,
    )


odd_floats = st.one_of(st.floats(-2, 300), st.sampled_from([math.nan, math.inf, -math.inf]))


@st.composite
def digit_like_arrays(draw):
    """Arrays of any small shape and of the dtypes digits come in, odd values included."""
    shape = draw(st.one_of(st.just((2, 28, 28)), array_shapes(min_dims=1, max_dims=4, max_side=30)))
    values = draw(arrays(np.float64, shape, elements=odd_floats))
    dtype = draw(st.sampled_from([np.uint8, np.int64, np.float32, np.float64]))
    if dtype == np.uint8:
        return np.nan_to_num(values).clip(0, 255).astype(np.uint8)
    if dtype == np.int64:
        return np.nan_to_num(values, posinf=300, neginf=-2).astype(np.int64)
    return (values / draw(st.sampled_from([1, 300]))).astype(dtype)  # 0..255 or about 0..1


@FAST
@given(digit_like_arrays())
def test_synthesis_digits_of_any_shape_and_dtype(digits):
    valid = digits.ndim == 3 and digits.shape[1:] == (28, 28)
    if digits.dtype != np.uint8:
        in_range = (digits >= 0) & (digits <= (1 if digits.dtype.kind == "f" else 255))
        valid = valid and bool(np.all(in_range))  # NaN and inf fail the range test too
    _refused_or_right(lambda: synthesis.synthesize(digits), valid, _canvases_ok)


@FAST
@given(st.one_of(numbers, st.integers(0, 10**6)))
def test_box_conversion_canvas_size(value):
    _refused_or_right(
        lambda: boxes.to_normalized(np.ones((2, 4), np.float32), canvas_size=value),
        _whole(value, 1),
        lambda r: np.allclose(r, 1 / value),
    )


@FAST
@given(
    arrays(
        np.float64,
        array_shapes(min_dims=0, max_dims=3, max_side=5),
        elements=st.floats(allow_nan=True, allow_infinity=True),
    )
)
def test_iou_of_any_array_with_itself(a):
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf: refused
        valid = a.ndim >= 1 and a.shape[-1] == 4 and bool(np.all(np.isfinite(a.astype(np.float32))))
    _refused_or_right(lambda: boxes.iou(a, a), valid, lambda r: np.all((r >= 0) & (r <= 1)))


@FAST
@given(
    arrays(np.float64, st.integers(0, 5), elements=st.one_of(st.floats(-3, 12), st.just(math.nan)))
)
def test_targets_labels(labels):
    valid = bool(np.all(np.isin(labels, np.arange(10))))
    _refused_or_right(
        lambda: pipeline.targets(labels, np.zeros((len(labels), 4))),
        valid,
        lambda r: (
            np.array_equal(r["classification"].argmax(axis=1), labels)
            and np.all(r["classification"].sum(axis=1) == 1)
        ),
    )


@FAST
@given(st.integers(0, 6))
def test_test_set_labels_must_match_digits(count):
    _refused_or_right(
        lambda: pipeline.make_test_set(DIGITS, np.ones(count, np.uint8)),
        count == len(DIGITS),
        lambda r: len(r[0]) == len(r[1]) == len(r[2]) == len(DIGITS),
    )


@FAST
@given(st.one_of(numbers, st.floats(0, 1)))
def test_nms_iou_threshold(value):
    _refused_or_right(
        lambda: detection.non_max_suppression(
            [[0, 0, 0.5, 0.5], [0, 0, 0.5, 0.5]], [0.9, 0.8], iou_threshold=value
        ),
        _real(value, 0, 1),
        lambda kept: kept[0] == 0 and 1 <= len(kept) <= 2,
    )


@FAST
@given(st.one_of(numbers, st.integers(0, 10)))
def test_scenes_n_images(value):
    _refused_or_right(
        lambda: detection.synthesize_scenes(DIGITS, np.arange(3), value),
        _whole(value, 0),
        lambda r: len(r[0]) == value,
    )


@st.composite
def odd_arrays(draw):
    """Float arrays of any small shape (or the shapes the functions below want), whose
    values are sometimes NaN or infinite."""
    shape = draw(
        st.one_of(
            array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
            st.sampled_from([(3, 4), (2, 5, 4), (1, 12, 12, 15)]),
        )
    )
    elements = st.one_of(st.floats(0, 1), st.sampled_from([math.nan, math.inf, -math.inf]))
    return draw(arrays(np.float64, shape, elements=elements))


def _finite(array):
    return bool(np.all(np.isfinite(array)))


ARRAY_CALLS = {
    "boxes.convert": (
        lambda a: boxes.convert(a, "xyxy", "center"),
        lambda a: a.ndim >= 1 and a.shape[-1] == 4,
        lambda r, a: r.shape == a.shape and _finite(r),
    ),
    "pipeline.targets": (
        lambda a: pipeline.targets(np.zeros(len(a) if a.ndim else 0, int), a),
        lambda a: a.ndim == 2 and a.shape[-1] == 4,
        lambda r, a: np.array_equal(r["bounding_box"], a.astype(np.float32)),
    ),
    "detection.encode_targets": (
        lambda a: detection.encode_targets(a, -np.ones(a.shape[:2], int)),
        lambda a: a.ndim == 3 and a.shape[-1] == 4,
        lambda r, a: r.shape == (len(a), 12, 12, 15) and not r.any(),  # all slots empty
    ),
    "detection.decode_grid": (
        detection.decode_grid,
        lambda a: a.ndim == 4 and a.shape[1] == a.shape[2] and a.shape[-1] == 15,
        lambda r, a: r.boxes.shape == (len(a), a.shape[1] ** 2, 4) and _finite(r.scores),
    ),
    "detection.non_max_suppression": (
        lambda a: detection.non_max_suppression(a, np.ones(a.size // 4)),
        lambda a: a.ndim >= 1 and a.shape[-1] == 4,
        lambda r, a: len(r) <= max(1, a.size // 4) and np.all(r < max(1, a.size // 4)),
    ),
}


@FAST
@given(st.sampled_from(sorted(ARRAY_CALLS)), odd_arrays())
def test_array_arguments_of_any_shape_with_nan_or_inf(name, array):
    call, right_shape, check = ARRAY_CALLS[name]
    _refused_or_right(
        lambda: call(array),
        right_shape(array) and _finite(array),
        lambda result: check(result, array),
    )
