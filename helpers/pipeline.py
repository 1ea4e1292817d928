"""``tf.data`` input pipelines: fresh offsets every epoch, whole batches at a time.

The training pipeline shuffles the 28x28 digits, batches them, and only then pastes
the whole batch onto canvases with :mod:`helpers.graph_synthesis` (TensorFlow ops, the
same canvases as :mod:`helpers.synthesis` for the same offsets): one batched step per
batch instead of one small op per image, and new random offsets every time a digit
comes round again (free augmentation). Batch ``k`` of the stream draws its offsets
from the stateless seed ``(seed, k)``, so the data are reproducible however many
threads the map runs on. The test set, by contrast, is synthesised once with a fixed
seed (:func:`make_test_set`), so every model is scored on the same canvases.

Taught in notebook 03 (the tf.data pipeline).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from helpers import graph_synthesis, validation
from helpers.canvas import as_rng
from helpers.constants import CANVAS_SIZE, DEFAULT_SEED, NUM_CLASSES, TEST_SEED
from helpers.synthesis import SynthesisOptions, synthesize_checked

#: Batches synthesised at once, and batches kept ready ahead of the training step.
MAP_THREADS = 2
PREFETCH_BATCHES = 2


def targets(labels: np.ndarray, boxes: np.ndarray) -> dict[str, np.ndarray]:
    """Keras targets for the two heads: one-hot ``(N, 10)`` classes and ``(N, 4)`` boxes.

    Args:
        labels: ``(N,)`` classes 0..9; boxes: ``(N, 4)`` normalised xyxy, finite.
    """
    labels = validation.check_labels(labels)
    boxes = validation.check_boxes(boxes, "boxes", length=len(labels))
    one_hot = np.eye(NUM_CLASSES, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]
    return {"classification": one_hot, "bounding_box": np.asarray(boxes, dtype=np.float32)}


def make_test_set(
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    seed: int = TEST_SEED,
    canvas_size: int = CANVAS_SIZE,
    box_kind: str = "frame",
    **options: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthesise a fixed evaluation set once. Taught in notebook 03.

    Returns ``images (N, S, S, 1) float32``, ``labels (N,) uint8`` and ``boxes (N, 4)``
    normalised xyxy. ``options`` are the other fields of
    :class:`helpers.synthesis.SynthesisOptions` (``scale``, ``noise``, ``clutter``).
    Digits and labels are checked as in :func:`helpers.validation.check_digits` and
    :func:`helpers.validation.check_labels`.
    """
    checked = SynthesisOptions.of(canvas_size=canvas_size, box_kind=box_kind, **options)
    digits = validation.check_digits(digits)
    labels = validation.check_labels(labels, len(digits))
    rng = as_rng(validation.check_seed(seed))
    images, boxes = synthesize_checked(digits, rng, checked)
    return images, np.asarray(labels, dtype=np.uint8), boxes


def training_dataset(
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    seed: int = DEFAULT_SEED,
    canvas_size: int = CANVAS_SIZE,
    box_kind: str = "frame",
    epochs: int | None = None,
    **options: Any,
) -> tuple[tf.data.Dataset, int]:
    """A shuffled, prefetched stream of freshly synthesised batches. Taught in notebook 03.

    Args:
        digits: ``(N, 28, 28) uint8`` training digits; labels: ``(N,)`` classes 0..9.
        batch_size: global batch size (drop the remainder: every step sees a full batch).
        seed: seeds both the shuffle and the offsets.
        canvas_size, box_kind: as in :class:`helpers.synthesis.SynthesisOptions`.
        epochs: end the stream after this many passes over the digits; ``None`` for an
            endless stream. A stream that ends with training leaves no batch in
            flight when ``model.fit`` returns.
        options: the other synthesis options (``scale``, ``noise``, ``clutter``).

    Returns:
        ``(dataset, steps_per_epoch)``; the dataset yields ``(images, targets)`` with
        ``images (B, S, S, 1) float32`` and targets as in :func:`targets`. Pass
        ``steps_per_epoch`` to ``model.fit``: every epoch draws new offsets, so the
        stream does not restart at each epoch.

    With ``noise`` or ``clutter``, which only the NumPy version has, batches are made by
    :func:`helpers.synthesis.synthesize_checked` in a ``tf.numpy_function`` callback
    instead (batch ``k`` from ``numpy.random.default_rng([seed, k])``).

    Raises:
        InputError: for a bad option (a ``scale`` that does not fit the canvas...).
    """
    # Checked here, not inside the map: an error raised there reaches the user wrapped
    # in a long TensorFlow traceback, and only once ``fit`` has started.
    checked = SynthesisOptions.of(canvas_size=canvas_size, box_kind=box_kind, **options)
    digits = validation.check_digits(digits)
    labels = validation.check_labels(labels, len(digits))
    seed = validation.check_int(seed, "seed", minimum=0)  # a Generator cannot seed tf.data
    batch_size = validation.check_int(batch_size, "batch_size", minimum=1, maximum=len(digits))
    if epochs is not None:
        epochs = validation.check_int(epochs, "epochs", minimum=1)
    return batches_of_checked(digits, labels, batch_size, seed, epochs, checked)


def batches_of_checked(
    digits: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int,
    epochs: int | None,
    options: SynthesisOptions,
) -> tuple[tf.data.Dataset, int]:
    """:func:`training_dataset` once its arguments are checked (:func:`helpers.training.train`
    checks them itself, once); the same dataset and steps per epoch."""
    canvas_size, box_kind, scale = options.canvas_size, options.box_kind, options.scale
    in_graph = not (options.noise or options.clutter)

    def numpy_batch(step: np.ndarray, batch_digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return synthesize_checked(batch_digits, np.random.default_rng([seed, int(step)]), options)

    def synthesise_batch(step, batch_digits, batch_labels):
        one_hot = tf.one_hot(tf.cast(batch_labels, tf.int32), NUM_CLASSES)
        if not in_graph:  # noise and clutter exist in NumPy only: a Python callback
            images, boxes = tf.numpy_function(
                numpy_batch, [step, batch_digits], [tf.float32, tf.float32], stateful=False
            )
            images = tf.ensure_shape(images, [batch_size, canvas_size, canvas_size, 1])
            boxes = tf.ensure_shape(boxes, [batch_size, 4])
            return images, {"classification": one_hot, "bounding_box": boxes}
        size, x, y = graph_synthesis.draw_placements(
            tf.stack([tf.constant(seed, tf.int64), step]),
            batch_size,  # static, so that the dataset's element_spec says (batch_size, ...)
            canvas_size,
            scale,
        )
        images, boxes = graph_synthesis.place_digits(
            batch_digits, x, y, size, canvas_size=canvas_size, box_kind=box_kind
        )
        return images, {"classification": one_hot, "bounding_box": boxes}

    steps = len(digits) // batch_size
    dataset = (
        tf.data.Dataset.from_tensor_slices((digits, np.asarray(labels, dtype=np.uint8)))
        .shuffle(len(digits), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .enumerate()
    )
    if epochs is not None:
        dataset = dataset.take(steps * epochs)  # before the map: nothing left in flight
    dataset = dataset.map(
        lambda step, batch: synthesise_batch(step, *batch),
        num_parallel_calls=MAP_THREADS,
        deterministic=True,
    ).prefetch(PREFETCH_BATCHES)
    return dataset.with_options(fixed_plan()), steps


def fixed_plan() -> tf.data.Options:
    """``tf.data.Options`` that switch autotuning off; set the threads and buffers by hand.

    The autotuner runs a background thread that wakes up to re-plan the pipeline, at
    intervals that double as training goes on. When ``fit`` drops the iterator, its
    destructor waits for that thread: on a busy 2-core CPU, seconds after the last epoch
    (``benchmarks/fit_pause.py``). A fixed plan (:data:`MAP_THREADS`,
    :data:`PREFETCH_BATCHES`) needs no such thread, and synthesis is far faster than
    training on a CPU anyway (``benchmarks/compare_recipes.py``).
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return options
