import numpy as np
import pytest

from helpers.fonts import FONT_FILES, font_paths, mnist_frame, render_font_digits, render_glyph
from helpers.synthesis import ink_extents, synthesize


@pytest.fixture(scope="module")
def rendered():
    return render_font_digits(per_class=6, seed=3)


def centres_of_mass(digits):
    ink = np.asarray(digits, dtype=np.float64)
    index = np.arange(ink.shape[-1])
    mass = ink.sum(axis=(1, 2))
    return ink.sum(axis=2) @ index / mass, ink.sum(axis=1) @ index / mass


def test_shapes_dtypes_and_range(rendered):
    digits, labels = rendered
    assert digits.shape == (60, 28, 28) and digits.dtype == np.uint8
    assert labels.shape == (60,) and labels.dtype == np.uint8
    assert digits.max() == 255 and digits.min() == 0


def test_every_class_present_and_in_turn(rendered):
    _, labels = rendered
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, 6))
    np.testing.assert_array_equal(labels[:10], np.arange(10))


def test_same_seed_same_digits_and_different_seed_different_digits():
    a = render_font_digits(2, seed=11)
    b = render_font_digits(2, seed=np.random.default_rng(11))
    c = render_font_digits(2, seed=12)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], c[1])
    assert not np.array_equal(a[0], c[0])


def test_glyph_fits_20_by_20_and_ink_is_centred_like_mnist(rendered):
    digits, _ = rendered
    extents = ink_extents(digits)
    sides = np.maximum(extents[:, 2] - extents[:, 0], extents[:, 3] - extents[:, 1])
    assert sides.max() <= 20 and sides.min() >= 17  # the longer side is scaled to 20 px
    rows, cols = centres_of_mass(digits)
    # MNIST's centre of mass sits at pixel index 14.0 (spread 0.3 px); a whole-pixel
    # shift leaves at most half a pixel of error.
    assert np.all(np.abs(rows - 14) <= 0.75) and np.all(np.abs(cols - 14) <= 0.75)
    assert extents[:, :2].min() >= 0 and extents[:, 2:].max() <= 28


def test_no_rotation_gives_upright_ones_narrower_than_wide_digits():
    digits, labels = render_font_digits(3, seed=0, max_rotation=0)
    widths = ink_extents(digits)[:, 2] - ink_extents(digits)[:, 0]
    assert widths[labels == 1].mean() < widths[labels == 0].mean()


def test_mnist_frame_centres_an_off_centre_blob():
    glyph = np.zeros((40, 10), dtype=np.uint8)
    glyph[:10] = 255  # most of the mass near the top...
    glyph[:, 4:6] = 255  # ...and a thin stem down to the bottom
    frame = mnist_frame(glyph)
    rows, cols = centres_of_mass(frame[None])
    assert frame.shape == (28, 28) and frame.dtype == np.uint8
    assert ink_extents(frame[None])[0, 3] - ink_extents(frame[None])[0, 1] == 20
    assert abs(cols[0] - 14) <= 0.5 and rows[0] < 14  # kept inside the frame, so not quite


def test_render_glyph_is_cropped_ink():
    glyph = render_glyph(7, font_paths()[0], angle=5, stroke=1)
    assert glyph.dtype == np.uint8 and glyph.ndim == 2
    assert glyph[0].any() and glyph[-1].any() and glyph[:, 0].any() and glyph[:, -1].any()


def test_fonts_come_from_matplotlib():
    paths = font_paths()
    assert [p.name for p in paths] == list(FONT_FILES)
    assert all(p.parent.name == "ttf" for p in paths)


def test_synthesize_accepts_font_digits(rendered):
    digits, _ = rendered
    images, boxes = synthesize(digits, seed=1, box_kind="tight")
    assert images.shape == (60, 75, 75, 1) and boxes.shape == (60, 4)
    assert 0 <= boxes.min() and boxes.max() <= 1


@pytest.mark.parametrize("per_class", [0, -3, 2.5, "10", True, None])
def test_bad_per_class_is_a_clear_error(per_class):
    with pytest.raises(ValueError, match="per_class"):
        render_font_digits(per_class)


@pytest.mark.parametrize("angle", [-1, 46, float("nan"), "5"])
def test_bad_rotation_is_a_clear_error(angle):
    with pytest.raises(ValueError, match="max_rotation"):
        render_font_digits(1, max_rotation=angle)
