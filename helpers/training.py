"""The training loop around a recipe: strategy, optimiser, losses, ``fit``.

The recipes themselves (what decides how a model learns) live in :mod:`helpers.recipes`;
their names are imported here too, so ``training.IMPROVED`` and ``training.train`` sit
side by side as notebook 03 uses them. Taught in notebook 03.
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from helpers.constants import DEFAULT_SEED
from helpers.models import BoxLoss
from helpers.pipeline import batches_of_checked
from helpers.progress import fit_progress
from helpers.recipes import (  # noqa: F401 - the recipes, where notebook 03 reaches them
    BASELINE,
    EARLIER_NETWORK,
    IMPROVED,
    RECIPES,
    STRIDED_NETWORK,
    Recipe,
    ablation_recipes,
    get_recipe,
)
from helpers.synthesis import SynthesisOptions
from helpers.validation import check_digits, check_int, check_labelled_images, check_labels


def get_strategy() -> tf.distribute.Strategy:
    """A TPU strategy on a TPU host, mirrored over several GPUs, else TensorFlow's default.

    On one device the default strategy is kept rather than a ``OneDeviceStrategy``. Under
    an explicit strategy Keras creates the optimiser's and the metrics' variables before
    it traces the training step (:func:`compile_model` does that itself); but it also
    feeds ``fit`` through a distributed input iterator, and destroying that iterator at
    the end of ``fit`` can wait for one of its background threads: 6 of 12 one-epoch
    calls paused for 0.9 to 1.2 s (``benchmarks/fit_pause.py``), and the wait grows
    with the length of the run.

    TPUs are only looked for where there are signs of one (Colab's variables or a
    ``/dev/accel*`` device), because probing for a TPU elsewhere can wait on a network
    metadata server.
    """
    if os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME") or glob.glob("/dev/accel*"):
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
                tpu=os.environ.get("TPU_NAME", "local")
            )
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            return tf.distribute.TPUStrategy(resolver)
        except (ValueError, RuntimeError, tf.errors.OpError):
            pass
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def adam(
    learning_rate: float, decay_steps: int | None = None, final_fraction: float = 0.01
) -> keras.optimizers.Adam:
    """Adam at ``learning_rate``, cosine-decayed to ``final_fraction`` of it over
    ``decay_steps`` optimiser steps (a constant rate when ``decay_steps`` is ``None``)."""
    rate = learning_rate
    if decay_steps:
        rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=max(1, decay_steps), alpha=final_fraction
        )
    return keras.optimizers.Adam(rate)


def compile_model(
    model: keras.Model,
    recipe: Recipe,
    steps_per_epoch: int,
    epochs: int,
    *,
    create_state: bool = True,
) -> keras.Model:
    """Compile ``model`` with the recipe's two losses, loss weights and optimiser.

    With ``create_state`` (the default) the optimiser's, the losses' and the metrics'
    variables are created at once (:func:`create_training_state`), so that ``fit``
    traces its training step once; ``False`` leaves that to ``fit`` (for
    ``benchmarks/first_step.py``).
    """
    decay_steps = steps_per_epoch * epochs if recipe.cosine_schedule else None
    box_loss = BoxLoss(ciou_weight=recipe.ciou_weight) if recipe.ciou_weight else "mse"
    model.compile(
        optimizer=adam(recipe.learning_rate, decay_steps),
        loss={"classification": "categorical_crossentropy", "bounding_box": box_loss},
        loss_weights={"classification": 1.0, "bounding_box": recipe.box_loss_weight},
        metrics={"classification": "accuracy", "bounding_box": "mse"},
        steps_per_execution=recipe.steps_per_execution,
        jit_compile=recipe.jit_compile,
    )
    if create_state:
        create_training_state(model)
    return model


def create_training_state(model: keras.Model) -> None:
    """Create a compiled model's optimiser, loss and metric variables before ``fit``.

    Under TensorFlow's default strategy Keras creates them while it traces the training
    step, and a ``tf.function`` that creates variables is traced a second time: about
    0.9 s more before the first step on a 2-core CPU (``benchmarks/first_step.py``).
    One eager pass on a single blank canvas creates them now; the model's own
    predictions serve as targets, since only their shapes matter. The metrics are reset
    afterwards, and no weight changes. Under an explicit strategy Keras does this
    itself, so nothing is done.
    """
    if tf.distribute.has_strategy():
        return
    images = np.zeros((1, *model.input_shape[1:]), dtype=np.float32)
    predictions = model(images, training=False)
    model.compute_loss(x=images, y=predictions, y_pred=predictions)
    model.compute_metrics(images, predictions, predictions, sample_weight=None)
    model.reset_metrics()
    model.optimizer.build(model.trainable_variables)


@dataclass
class TrainingRun:
    """What :func:`train` returns: the model, its history and how long it took."""

    model: keras.Model
    history: keras.callbacks.History
    seconds: float
    images_seen: int

    @property
    def images_per_second(self) -> float:
        return self.images_seen / self.seconds if self.seconds else float("nan")


def train(
    recipe: Recipe | str,
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 10,
    batch_size: int | None = None,
    seed: int = DEFAULT_SEED,
    box_kind: str = "frame",
    validation: tuple[np.ndarray, dict] | None = None,
    verbose: int | str = "auto",
    callbacks: list[keras.callbacks.Callback] | None = None,
    **synthesis_options,
) -> TrainingRun:
    """Build, compile and train a recipe on freshly synthesised canvases.

    Taught in notebook 03. Every argument is checked here, once, before anything is
    built.

    Args:
        recipe: a :class:`Recipe` or its name.
        digits: ``(N, 28, 28) uint8`` training digits; labels ``(N,)`` classes.
        epochs: passes over the digits (each pass with new random offsets); >= 1.
        batch_size: per-replica batch (the recipe's own when ``None``); the global batch
            is this times the number of replicas of the distribution strategy.
        seed: seeds Keras (weights, dropout) and the data.
        box_kind: ``"frame"`` or ``"tight"`` boxes.
        validation: optional ``(images, targets)`` scored after every epoch.
        verbose: Keras' ``verbose``; ``"auto"`` shows the live bar in a terminal or a
            notebook and one line per epoch elsewhere (see :mod:`helpers.progress`).
        callbacks: Keras callbacks for ``fit`` (for example to score or time each epoch).
        synthesis_options: ``canvas_size`` (75 by default; the network is built for it),
            and ``scale``, ``noise``, ``clutter`` for harder canvases
            (:class:`helpers.synthesis.SynthesisOptions`).

    Raises:
        InputError: a bad argument (``batch_size=0``, labels that do not match the
            digits, an unknown box kind...), before anything is built or trained.
    """
    recipe = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    epochs = check_int(epochs, "epochs", minimum=1)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1)
    options = SynthesisOptions.of(box_kind=box_kind, **synthesis_options)
    side = options.canvas_size
    digits = check_digits(digits)
    labels = check_labels(labels, len(digits))
    seed = check_int(seed, "seed", minimum=0)
    if validation is not None:  # checked now: a bad one would only fail after an epoch
        validation = check_labelled_images(validation, "validation", side)
    keras.utils.set_random_seed(seed)
    strategy = get_strategy()
    global_batch = (batch_size or recipe.batch_size) * strategy.num_replicas_in_sync
    global_batch = check_int(global_batch, "batch_size", minimum=1, maximum=len(digits))
    dataset, steps = batches_of_checked(digits, labels, global_batch, seed, epochs, options)
    with strategy.scope():
        model = compile_model(recipe.build((side, side, 1)), recipe, steps, epochs)
    verbose, progress = fit_progress(verbose)
    start = time.perf_counter()
    history = model.fit(
        dataset,
        epochs=epochs,
        steps_per_epoch=steps,
        validation_data=validation,
        shuffle=False,  # the dataset shuffles the digits itself, with its own seed
        verbose=verbose,
        callbacks=[*progress, *(callbacks or [])],
    )
    seconds = time.perf_counter() - start
    return TrainingRun(model, history, seconds, images_seen=steps * global_batch * epochs)
