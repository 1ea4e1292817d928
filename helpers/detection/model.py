"""The grid detector (a small fully convolutional network), its loss, and its training.

Taught in notebook 05 (the detector and its loss).
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from helpers import validation
from helpers.constants import (
    DEFAULT_SEED,
    DETECTOR_BATCH_SIZE,
    DETECTOR_EPOCHS,
    DETECTOR_IMAGES_PER_EPOCH,
)
from helpers.detection.grid import encode_targets, grid_to_boxes
from helpers.detection.scenes import (
    BOX,
    CANVAS_SIZE,
    CHANNELS,
    CLASSES,
    GRID_SIZE,
    MAX_DIGITS,
    NUM_CLASSES,
    OBJECTNESS,
    synthesize_scenes,
)
from helpers.errors import InputError
from helpers.pipeline import MAP_THREADS, PREFETCH_BATCHES, fixed_plan
from helpers.training import TrainingRun, adam


def build_detector(
    canvas_size: int = CANVAS_SIZE,
    grid_size: int = GRID_SIZE,
    filters: tuple[int, ...] = (16, 32, 64),
    head_filters: int = 96,
    object_prior: float = 0.02,
) -> keras.Model:
    """The single-shot grid detector (uncompiled), Keras functional API.

    One conv (3x3, ReLU) + 2x2 max-pool stage per entry of ``filters``: with the
    defaults 96 -> 48 -> 24 -> 12 cells of 8 pixels. Then two 3x3 convolutions at the
    grid's resolution (each cell now sees ~54 pixels, enough for its digit and the
    neighbours) and three 1x1 heads: objectness (1), class (10) and box (4) per cell.
    The objectness bias starts at ``log(p / (1 - p))`` for ``p = object_prior``
    (about 3 digits in 144 cells), so training does not start by predicting a digit
    everywhere.

    Input ``float32 (N, S, S, 1)`` in [0, 1]; output ``(N, G, G, 15)`` **logits**, in the
    channel layout of the targets (see the module docstring): the loss reads them
    directly, as Keras' ``from_logits`` losses do, and :func:`helpers.detection.activate`
    turns them into probabilities and cell boxes.
    """
    canvas_size = validation.check_int(canvas_size, "canvas_size", minimum=1)
    grid_size = validation.check_int(grid_size, "grid_size", minimum=1)
    stride = canvas_size // grid_size
    if canvas_size % grid_size or stride != 2 ** len(filters):
        raise InputError(
            f"canvas_size {canvas_size} / grid_size {grid_size} must equal 2 ** len(filters) "
            f"= {2 ** len(filters)}"
        )
    inputs = keras.Input(shape=(canvas_size, canvas_size, 1), name="image")
    x = inputs
    for i, width in enumerate(filters, start=1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    for i in (1, 2):
        x = layers.Conv2D(head_filters, 3, padding="same", activation="relu", name=f"grid{i}")(x)
    prior = math.log(object_prior / (1 - object_prior))
    objectness = layers.Conv2D(
        1, 1, bias_initializer=keras.initializers.Constant(prior), name="objectness_logit"
    )(x)
    classes = layers.Conv2D(NUM_CLASSES, 1, name="class_logits")(x)
    box = layers.Conv2D(4, 1, name="box_raw")(x)
    logits = layers.Concatenate(name="grid")([objectness, classes, box])
    return keras.Model(inputs, logits, name="grid_detector")


_SAFE_BOX = (0.25, 0.25, 0.75, 0.75)


@keras.saving.register_keras_serializable(package="helpers")
class DetectionLoss(keras.losses.Loss):
    """The detector's loss, per image, summed over the grid cells.

    ``y_true`` is the target grid (:func:`encode_targets`), ``y_pred`` the model's
    logits, both ``(N, G, G, 15)``:

    * objectness: binary cross-entropy from logits in **every** cell (Keras'
      ``binary_crossentropy(..., from_logits=True)``; ``focal_gamma > 0`` turns it into
      the focal loss, ``binary_focal_crossentropy``, which down-weights the many easy
      empty cells);
    * class: categorical cross-entropy from logits, only in cells that own a digit;
    * box: ``1 - CIoU`` between the decoded boxes plus the L1 distance of the four
      cell-relative numbers (the box logits through a sigmoid), only in cells that own
      a digit.

    Empty cells have no box to learn, so their boxes are swapped for a dummy before
    the CIoU (a zero-size box would make its aspect-ratio term divide by zero).
    """

    def __init__(
        self,
        grid_size: int = GRID_SIZE,
        object_weight: float = 1.0,
        class_weight: float = 1.0,
        box_weight: float = 2.0,
        l1_weight: float = 1.0,
        focal_gamma: float = 0.0,
        name: str = "detection_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.grid_size = grid_size
        self.object_weight = object_weight
        self.class_weight = class_weight
        self.box_weight = box_weight
        self.l1_weight = l1_weight
        self.focal_gamma = focal_gamma

    def components(self, y_true, y_pred) -> dict:
        """The three terms, each ``(N,)``, before weighting."""
        y_true = ops.convert_to_tensor(y_true, dtype="float32")
        y_pred = ops.convert_to_tensor(y_pred, dtype="float32")
        positive = y_true[..., 0]  # (N, G, G) 1 where a digit is centred
        # Keras' losses average over the last axis: a size-1 axis leaves one value per cell.
        if self.focal_gamma:
            bce = keras.losses.binary_focal_crossentropy(
                y_true[..., OBJECTNESS],
                y_pred[..., OBJECTNESS],
                gamma=self.focal_gamma,
                from_logits=True,
            )
        else:
            bce = keras.losses.binary_crossentropy(
                y_true[..., OBJECTNESS], y_pred[..., OBJECTNESS], from_logits=True
            )
        objectness = ops.sum(bce, axis=(1, 2))

        cross_entropy = keras.losses.categorical_crossentropy(
            y_true[..., CLASSES], y_pred[..., CLASSES], from_logits=True
        )
        classification = ops.sum(positive * cross_entropy, axis=(1, 2))

        pred_box = ops.sigmoid(y_pred[..., BOX])
        mask = positive[..., None] > 0.5
        safe = ops.convert_to_tensor(np.float32(_SAFE_BOX))
        true_boxes = ops.where(mask, grid_to_boxes(y_true[..., BOX], self.grid_size), safe)
        pred_boxes = ops.where(mask, grid_to_boxes(pred_box, self.grid_size), safe)
        ciou = keras.utils.bounding_boxes.compute_ciou(true_boxes, pred_boxes, "xyxy")
        l1 = ops.sum(ops.abs(y_true[..., BOX] - pred_box), axis=-1)
        box = ops.sum(positive * ((1.0 - ciou) + self.l1_weight * l1), axis=(1, 2))
        return {"objectness": objectness, "classification": classification, "box": box}

    def call(self, y_true, y_pred):
        parts = self.components(y_true, y_pred)
        return (
            self.object_weight * parts["objectness"]
            + self.class_weight * parts["classification"]
            + self.box_weight * parts["box"]
        )

    def get_config(self):
        return {
            **super().get_config(),
            "grid_size": self.grid_size,
            "object_weight": self.object_weight,
            "class_weight": self.class_weight,
            "box_weight": self.box_weight,
            "l1_weight": self.l1_weight,
            "focal_gamma": self.focal_gamma,
        }


def detection_dataset(
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    seed: int = DEFAULT_SEED,
    canvas_size: int = CANVAS_SIZE,
    grid_size: int = GRID_SIZE,
    batches: int | None = None,
    **options: Any,
):
    """A ``tf.data`` stream of fresh ``(images, targets)`` batches.

    ``batches`` ends the stream after that many batches (``None``: endless). A stream
    that ends with training lets ``model.fit`` return at once; see
    :func:`helpers.pipeline.training_dataset`.

    Batch ``k`` is synthesised from ``numpy.random.default_rng([seed, k])``: new
    canvases (new digits drawn at random, new counts and places) every step,
    reproducible whatever the number of threads. ``options`` go to
    :func:`synthesize_scenes`.
    """
    import tensorflow as tf

    batch_size = validation.check_int(batch_size, "batch_size", minimum=1)
    seed = validation.check_int(seed, "seed", minimum=0)  # a Generator cannot seed tf.data
    # A dry run on no canvases checks digits, labels and options here, not inside ``fit``.
    synthesize_scenes(digits, labels, 0, canvas_size=canvas_size, **options)
    digits, labels = validation.check_digits(digits), validation.check_labels(labels)

    slots = batch_size * options.get("max_digits", MAX_DIGITS)

    def make(step):
        rng = np.random.default_rng([seed, int(step)])
        # Draw the batch's digits first, so that the cost per batch does not grow with the
        # size of the training set (full MNIST has 60,000 digits).
        pick = rng.integers(0, len(digits), slots)
        images, boxes, classes = synthesize_scenes(
            digits[pick], labels[pick], batch_size, seed=rng, canvas_size=canvas_size, **options
        )
        return images, encode_targets(boxes, classes, grid_size)

    def batch(step):
        images, target = tf.numpy_function(make, [step], [tf.float32, tf.float32], stateful=False)
        images = tf.ensure_shape(images, [batch_size, canvas_size, canvas_size, 1])
        target = tf.ensure_shape(target, [batch_size, grid_size, grid_size, CHANNELS])
        return images, target

    counter = tf.data.Dataset.counter()
    if batches is not None:
        counter = counter.take(batches)
    # A fixed plan, no autotuning thread for fit to wait on at the end (helpers.pipeline).
    dataset = counter.map(batch, num_parallel_calls=MAP_THREADS, deterministic=True)
    return dataset.prefetch(PREFETCH_BATCHES).with_options(fixed_plan())


def compile_detector(
    model: keras.Model, *, learning_rate: float = 2e-3, decay_steps: int | None = None, **loss
) -> keras.Model:
    """Adam with cosine decay over ``decay_steps`` (constant rate when ``None``)."""
    optimizer = adam(learning_rate, decay_steps, final_fraction=0.02)
    model.compile(optimizer=optimizer, loss=DetectionLoss(**loss))
    return model


def train_detector(
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = DETECTOR_EPOCHS,
    images_per_epoch: int = DETECTOR_IMAGES_PER_EPOCH,
    batch_size: int = DETECTOR_BATCH_SIZE,
    learning_rate: float = 2e-3,
    seed: int = DEFAULT_SEED,
    verbose: int | str = 2,
    model: keras.Model | None = None,
    callbacks: list | None = None,
    **options: Any,
) -> TrainingRun:
    """Build, compile and train the detector on fresh canvases of ``digits``.

    Args:
        digits: ``(M, 28, 28)`` training digits; labels ``(M,)``.
        epochs: passes of ``images_per_epoch`` canvases each (all new canvases).
        batch_size: canvases per step.
        learning_rate: peak Adam rate, decayed with a cosine over the whole run.
        seed: seeds Keras (weights) and the data.
        model: an uncompiled detector to train (:func:`build_detector` when ``None``).
        options: synthesis options for :func:`synthesize_scenes` (``scale``, ...).
    """
    epochs = validation.check_int(epochs, "epochs", minimum=1)
    images_per_epoch = validation.check_int(images_per_epoch, "images_per_epoch", minimum=1)
    batch_size = validation.check_int(batch_size, "batch_size", minimum=1, maximum=images_per_epoch)
    learning_rate = validation.check_number(learning_rate, "learning_rate", minimum=0)
    keras.utils.set_random_seed(seed)
    steps = images_per_epoch // batch_size
    dataset = detection_dataset(
        digits, labels, batch_size=batch_size, seed=seed, batches=steps * epochs, **options
    )
    model = model if model is not None else build_detector()
    compile_detector(model, learning_rate=learning_rate, decay_steps=steps * epochs)
    start = time.perf_counter()
    history = model.fit(
        dataset,
        epochs=epochs,
        steps_per_epoch=steps,
        shuffle=False,  # every batch is new anyway
        verbose=verbose,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - start
    return TrainingRun(model, history, seconds, images_seen=steps * batch_size * epochs)
