import numpy as np
import pytest

from helpers.data import DATA_ENV, load_mnist, load_npz


def test_sample_split_shapes_dtypes_and_stratification(sample):
    (x_train, y_train), (x_test, y_test) = sample
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert x_train.max() == 255 and x_train.min() == 0


def test_sample_split_is_deterministic_and_disjoint(sample):
    (x_train, _), (x_test, y_test) = sample
    (_, _), (x_test2, y_test2) = load_mnist("sample")
    np.testing.assert_array_equal(x_test, x_test2)
    np.testing.assert_array_equal(y_test, y_test2)
    train_rows = {row.tobytes() for row in x_train}
    assert not any(row.tobytes() in train_rows for row in x_test)


def test_auto_falls_back_to_sample_with_one_warning(monkeypatch):
    import keras

    def offline():
        raise OSError("no network in this test")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.warns(RuntimeWarning, match="offline sample") as record:
        (_, _), used = load_mnist("auto", return_source=True)
    assert used == "sample" and len(record) == 1


def test_environment_variable_overrides_source(monkeypatch):
    monkeypatch.setenv(DATA_ENV, "sample")
    (_, _), used = load_mnist("keras", return_source=True)
    assert used == "sample"


def test_npz_round_trip(tmp_path, sample):
    (x_train, y_train), (x_test, y_test) = sample
    path = tmp_path / "mnist.npz"
    np.savez(
        path, x_train=x_train[:50], y_train=y_train[:50], x_test=x_test[:20], y_test=y_test[:20]
    )
    (a, b), (c, d) = load_mnist(path)
    np.testing.assert_array_equal(a, x_train[:50])
    assert d.shape == (20,)


def test_missing_npz_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="MNIST file not found"):
        load_mnist(tmp_path / "nope.npz")


def test_npz_with_missing_key_names_the_expected_keys(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="missing y_train, x_test, y_test"):
        load_npz(path)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 32, 32), np.uint8), r"expected shape \(N, 28, 28\)"),
        (np.zeros((2, 28, 28), np.float64), "expected dtype uint8"),
    ],
)
def test_npz_with_wrong_shape_or_dtype(tmp_path, images, message):
    path = tmp_path / "bad.npz"
    labels = np.zeros(2, np.uint8)
    np.savez(path, x_train=images, y_train=labels, x_test=images, y_test=labels)
    with pytest.raises(ValueError, match=message):
        load_npz(path)


def test_file_that_is_not_an_npz(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_npz(path)


def test_unknown_source_lists_the_choices():
    with pytest.raises(ValueError, match="expected one of auto, keras, sample"):
        load_mnist("mnist-online")


def test_every_prefix_of_the_sample_is_class_balanced(sample):
    (_, y_train), _ = sample
    counts = np.bincount(y_train[:600], minlength=10)
    assert counts.min() >= 35 and counts.max() <= 85
