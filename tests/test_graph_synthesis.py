"""The graph synthesis (TensorFlow ops) against the NumPy reference, offset for offset."""

import numpy as np
import pytest
import tensorflow as tf

from helpers import graph_synthesis
from helpers.canvas import draw_placements
from helpers.errors import InputError
from helpers.pipeline import training_dataset
from helpers.synthesis import ink_extents, place_digits


@pytest.mark.parametrize("box", ["frame", "tight"])
def test_graph_and_numpy_give_identical_canvases_and_boxes_at_scale_one(digits, box):
    patches = digits[0][:64]
    size, x, y = draw_placements(np.random.default_rng(4), 64, 75)
    want_images, want_boxes = place_digits(patches, x, y, canvas_size=75, box_kind=box)
    images, boxes = graph_synthesis.place_digits(
        tf.constant(patches), tf.constant(x), tf.constant(y), tf.constant(size),
        canvas_size=75, box_kind=box,
    )  # fmt: skip
    np.testing.assert_array_equal(images.numpy(), want_images)
    np.testing.assert_array_equal(boxes.numpy(), want_boxes)


@pytest.mark.parametrize("box", ["frame", "tight"])
def test_graph_and_numpy_agree_on_resized_digits(digits, box):
    patches = digits[0][:64]
    size, x, y = draw_placements(np.random.default_rng(5), 64, 75, scale=(16, 40.5))
    want_images, want_boxes = place_digits(patches, x, y, size, canvas_size=75, box_kind=box)
    images, boxes = graph_synthesis.place_digits(
        tf.constant(patches), tf.constant(x), tf.constant(y), tf.constant(size),
        canvas_size=75, box_kind=box,
    )  # fmt: skip
    np.testing.assert_array_equal(boxes.numpy(), want_boxes)
    # Same float32 weights; only the order of the matrix products' sums may differ.
    np.testing.assert_allclose(images.numpy(), want_images, atol=1e-6)


def test_graph_ink_extents_match_numpy_including_an_empty_digit(digits):
    patches = np.concatenate([digits[0][:20], np.zeros((1, 28, 28), np.uint8)])
    got = graph_synthesis.ink_extents(tf.constant(patches)).numpy()
    np.testing.assert_array_equal(got, ink_extents(patches))


def test_graph_placements_keep_every_digit_inside_the_canvas():
    seed = tf.constant([0, 1], tf.int64)
    size, x, y = graph_synthesis.draw_placements(seed, 5000, 75, (16, 40.5))
    size, x, y = size.numpy(), x.numpy(), y.numpy()
    assert x.min() == 0 and (x + size).max() <= 75 and (y + size).max() <= 75
    assert np.array_equal(x, np.floor(x)) and np.array_equal(y, np.floor(y))


def test_training_pipeline_makes_noisy_cluttered_batches_in_numpy(digits):
    dataset, _ = training_dataset(*digits, batch_size=50, noise=0.1, clutter=4)
    images, targets = next(dataset.as_numpy_iterator())
    assert images.shape == (50, 75, 75, 1) and targets["bounding_box"].shape == (50, 4)
    assert (images > 0).mean() > 0.4  # noise lights up most of the background


def test_training_pipeline_refuses_a_scale_that_does_not_fit(digits):
    with pytest.raises(InputError, match=r"scale: .* got \(30, 90\)"):
        training_dataset(*digits, batch_size=50, scale=(30, 90))


def test_training_pipeline_with_resized_digits_keeps_boxes_inside(digits):
    dataset, _ = training_dataset(*digits, batch_size=50, scale=(16, 40), box_kind="tight")
    images, targets = next(dataset.as_numpy_iterator())
    boxes = targets["bounding_box"]
    assert images.shape == (50, 75, 75, 1) and boxes.min() >= 0 and boxes.max() <= 1
    widths = (boxes[:, 2] - boxes[:, 0]) * 75
    assert widths.min() < 10 and widths.max() > 20
