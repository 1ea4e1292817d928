import dataclasses
import inspect

import numpy as np
import pytest

from helpers.canvas import placement_matrices
from helpers.errors import InputError
from helpers.pipeline import make_test_set, training_dataset
from helpers.synthesis import SynthesisOptions, ink_extents, synthesize


def test_shapes_dtypes_and_range(digits):
    images, boxes = synthesize(digits[0][:32], seed=1)
    assert images.shape == (32, 75, 75, 1) and images.dtype == np.float32
    assert boxes.shape == (32, 4) and boxes.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert boxes.min() >= 0.0 and boxes.max() <= 1.0


def test_same_seed_same_data_and_different_seed_different_data(digits):
    a = synthesize(digits[0][:16], seed=7)
    b = synthesize(digits[0][:16], seed=7)
    c = synthesize(digits[0][:16], seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_frame_box_contains_exactly_the_pasted_digit(digits):
    x = digits[0][:64]
    images, boxes = synthesize(x, seed=3)
    pixels = np.rint(boxes * 75).astype(int)
    assert np.all(pixels[:, 2] - pixels[:, 0] == 28) and np.all(pixels[:, 3] - pixels[:, 1] == 28)
    assert pixels[:, :2].min() >= 0 and pixels[:, :2].max() <= 47
    for image, (x0, y0, x1, y1), digit in zip(images[..., 0], pixels, x, strict=True):
        np.testing.assert_allclose(image[y0:y1, x0:x1], digit / 255.0, atol=1e-6)
        assert image.sum() == pytest.approx(image[y0:y1, x0:x1].sum(), rel=1e-6)


def test_tight_box_is_where_the_ink_is(digits):
    images, boxes = synthesize(digits[0][:64], seed=4, box_kind="tight")
    for image, box in zip(images[..., 0], boxes, strict=True):
        x0, y0, x1, y1 = np.rint(box * 75).astype(int)
        rows, cols = np.nonzero(image > 0)
        assert (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1) == (x0, y0, x1, y1)


def test_ink_extents_known_cases():
    digit = np.zeros((2, 28, 28), np.uint8)
    digit[0, 5:9, 10:12] = 200
    np.testing.assert_array_equal(ink_extents(digit), [[10, 5, 12, 9], [0, 0, 28, 28]])


def test_offsets_cover_the_whole_range(digits):
    many = np.repeat(digits[0][:1], 3000, axis=0)
    _, boxes = synthesize(many, seed=0)
    corners = np.rint(boxes[:, :2] * 75).astype(int)
    assert set(np.unique(corners)) == set(range(48))


def test_canvas_size_is_a_parameter(digits):
    images, boxes = synthesize(digits[0][:4], seed=0, canvas_size=100)
    assert images.shape == (4, 100, 100, 1)
    np.testing.assert_allclose(boxes[:, 2] - boxes[:, 0], 0.28, atol=1e-6)


def test_scaled_digits_keep_their_ink_inside_the_box(digits):
    images, boxes = synthesize(digits[0][:32], seed=5, scale=(20, 40), box_kind="tight")
    widths = (boxes[:, 2] - boxes[:, 0]) * 75
    assert widths.min() > 2 and widths.max() <= 40
    for image, box in zip(images[..., 0], boxes, strict=True):
        x0, y0, x1, y1 = box * 75
        rows, cols = np.nonzero(image > 1e-3)
        assert cols.min() >= np.floor(x0) - 1e-6 and cols.max() + 1 <= np.ceil(x1) + 1e-6
        assert rows.min() >= np.floor(y0) - 1e-6 and rows.max() + 1 <= np.ceil(y1) + 1e-6


def test_placement_matrix_is_an_exact_shift_at_scale_one():
    m = placement_matrices(np.array([3.0]), np.array([28.0]), 75, 28)[0]
    assert m.sum() == 28 and np.array_equal(np.nonzero(m)[0], np.arange(3, 31))


def test_noise_and_clutter_change_the_background_only_so_much(digits):
    clean, boxes = synthesize(digits[0][:16], seed=2)
    noisy, noisy_boxes = synthesize(digits[0][:16], seed=2, noise=0.1, clutter=4)
    np.testing.assert_array_equal(boxes, noisy_boxes)
    assert noisy.mean() > clean.mean() and 0 <= noisy.min() and noisy.max() <= 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"box_kind": "loose"}, "box_kind: expected one of frame, tight, got 'loose'"),
        ({"canvas_size": 20}, "canvas_size: expected a whole number >= 28"),
        ({"scale": (30, 90)}, "scale"),
        # refused before NumPy tries to allocate terabytes
        ({"canvas_size": 2_000_000}, "canvas_size: expected a whole number <= 1200"),
    ],
)
def test_bad_options_are_clear_errors(digits, kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthesize(digits[0][:2], **kwargs)


def test_synthesize_and_its_options_object_share_one_signature():
    """The keywords of ``synthesize`` (but its seed) are the fields of ``SynthesisOptions``,
    with the same defaults, so the two cannot drift apart."""
    keywords = {
        name: parameter.default
        for name, parameter in inspect.signature(synthesize).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name != "seed"
    }
    fields = {field.name: field.default for field in dataclasses.fields(SynthesisOptions)}
    assert keywords == fields


def test_options_are_checked_once_and_frozen():
    options = SynthesisOptions.of(canvas_size=np.int64(80), scale=(20, 30))
    assert options.canvas_size == 80 and type(options.canvas_size) is int
    assert options.scale == (20.0, 30.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.noise = 1.0
    with pytest.raises(InputError, match="unknown synthesis option.*'blur'"):
        SynthesisOptions.of(blur=1)


def test_wrong_digit_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"expected shape \(N, 28, 28\)"):
        synthesize(np.zeros((2, 32, 32), np.uint8))


def test_training_pipeline_batches_are_reproducible_and_fresh_each_epoch(digits):
    x, y = digits
    dataset, steps = training_dataset(x, y, batch_size=50, seed=3)
    assert steps == 4
    first = [b for b in dataset.take(2 * steps).as_numpy_iterator()]
    again = [
        b for b in training_dataset(x, y, batch_size=50, seed=3)[0].take(2).as_numpy_iterator()
    ]
    images, targets = first[0]
    assert images.shape == (50, 75, 75, 1)
    assert targets["classification"].shape == (50, 10) and targets["bounding_box"].shape == (50, 4)
    np.testing.assert_array_equal(images, again[0][0])
    # every digit comes round once per epoch, each time at a new place
    epoch1 = np.concatenate([b[1]["bounding_box"] for b in first[:steps]])
    epoch2 = np.concatenate([b[1]["bounding_box"] for b in first[steps:]])
    assert not np.array_equal(np.sort(epoch1, axis=0), np.sort(epoch2, axis=0))
    labels1 = np.concatenate([b[1]["classification"].argmax(1) for b in first[:steps]])
    assert np.array_equal(np.bincount(labels1, minlength=10), np.bincount(y, minlength=10))


def test_pipeline_labels_match_the_pasted_digits(digits):
    x, y = digits
    dataset, _ = training_dataset(x, y, batch_size=20, seed=0)
    images, targets = next(dataset.as_numpy_iterator())
    lookup = {d.tobytes(): label for d, label in zip(x, y, strict=True)}
    for image, box, one_hot in zip(
        images, targets["bounding_box"], targets["classification"], strict=True
    ):
        x0, y0 = np.rint(box[:2] * 75).astype(int)
        crop = np.rint(image[y0 : y0 + 28, x0 : x0 + 28, 0] * 255).astype(np.uint8)
        assert lookup[crop.tobytes()] == one_hot.argmax()


def test_test_set_is_fixed(digits):
    a = make_test_set(*digits)
    b = make_test_set(*digits)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[2], b[2])


def test_scaled_digits_always_fit_inside_the_canvas(digits):
    many = np.repeat(digits[0][:50], 40, axis=0)
    _, boxes = synthesize(many, seed=6, scale=(20, 40.5))
    assert boxes.min() >= 0.0 and boxes.max() <= 1.0


def test_plain_paste_matches_the_resampling_path_at_scale_one(digits):
    from helpers.canvas import paste, render

    patches = digits[0][:8].astype(np.float32) / 255
    x, y = np.arange(8) * 5, 47 - np.arange(8) * 6
    fast = paste(patches, x, y, 75)[..., 0]
    slow = render(patches, x.astype(float), y.astype(float), np.full(8, 28.0), 75)
    np.testing.assert_allclose(fast, slow, atol=1e-6)


def test_training_stream_ends_with_training_when_given_epochs(digits):
    x, y = digits
    dataset, steps = training_dataset(x, y, batch_size=64, seed=0, epochs=2)
    assert sum(1 for _ in dataset) == 2 * steps == 6


def test_drawn_placements_fit_the_canvas_with_fractional_sides():
    from helpers.canvas import draw_placements

    size, x, y = draw_placements(np.random.default_rng(0), 20_000, 100, scale=(16, 40))
    assert (x + size).max() <= 100 and (y + size).max() <= 100 and x.min() == 0
