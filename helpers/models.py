"""The two-headed networks: the original lab's baseline and the course's improved recipe.

The model contract, which tests, benchmarks and notebooks rely on:

* input ``float32 (N, 75, 75, 1)`` with values in [0, 1];
* a dict of two outputs: ``"classification"`` ``(N, 10)`` class probabilities and
  ``"bounding_box"`` ``(N, 4)`` normalised ``(xmin, ymin, xmax, ymax)``;
* ``model.save("m.keras")`` and ``helpers.load_model("m.keras")`` gives the same
  predictions.

Taught in notebook 02 (the functional API, baseline against improved).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from helpers.constants import INPUT_SHAPE, NUM_CLASSES
from helpers.validation import check_choice


@keras.saving.register_keras_serializable(package="helpers")
class BoxDecoder(layers.Layer):
    """Turn 4 raw numbers into an ordered box inside the canvas.

    ``(N, 4)`` raw outputs -> centre ``(cx, cy)`` and size ``(w, h)`` through a sigmoid,
    then corners ``(cx - w/2, cy - h/2, cx + w/2, cy + h/2)`` clipped to [0, 1].
    By construction ``xmin <= xmax`` and ``ymin <= ymax``: the head cannot output a
    box that is not a box.
    """

    def call(self, raw):
        centre = ops.sigmoid(raw[:, :2])
        size = ops.sigmoid(raw[:, 2:])
        corners = ops.concatenate([centre - size / 2, centre + size / 2], axis=-1)
        return ops.clip(corners, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="helpers")
class BoxLoss(keras.losses.Loss):
    """Mean squared error on the corners plus ``ciou_weight * (1 - CIoU)``.

    Boxes are normalised ``(xmin, ymin, xmax, ymax)``. The CIoU term (Keras'
    ``compute_ciou``) rewards overlap directly and keeps a gradient when boxes do not
    overlap yet; the MSE term keeps early training stable.
    """

    def __init__(self, ciou_weight: float = 1.0, name: str = "box_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.ciou_weight = ciou_weight

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        if not self.ciou_weight:
            return mse
        ciou = keras.utils.bounding_boxes.compute_ciou(y_true, y_pred, "xyxy")
        return mse + self.ciou_weight * (1.0 - ciou)

    def get_config(self):
        return {**super().get_config(), "ciou_weight": self.ciou_weight}


def _heads(class_features, box_features, box_decoder: bool) -> dict:
    """The two heads: 10 class probabilities and 4 box numbers."""
    classification = layers.Dense(NUM_CLASSES, activation="softmax", name="classification")(
        class_features
    )
    features = box_features
    if box_decoder:
        raw = layers.Dense(4, name="box_raw")(features)
        bounding_box = BoxDecoder(name="bounding_box")(raw)
    else:
        bounding_box = layers.Dense(4, name="bounding_box")(features)
    return {"classification": classification, "bounding_box": bounding_box}


def build_baseline_model(input_shape: tuple[int, int, int] = INPUT_SHAPE) -> keras.Model:
    """The original lab's network, layer for layer (uncompiled).

    Conv2D 16, 32, 64 (3x3, relu), each followed by 2x2 average pooling; Flatten;
    Dense 128 relu; heads ``Dense(10, softmax)`` and a linear ``Dense(4)``.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for stage, filters in enumerate((16, 32, 64), start=1):
        x = layers.Conv2D(filters, 3, activation="relu", name=f"stage{stage}_conv")(x)
        x = layers.AveragePooling2D(2, name=f"stage{stage}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="shared_dense")(x)
    return keras.Model(inputs, _heads(x, x, box_decoder=False), name="baseline")


def build_model(
    input_shape: tuple[int, int, int] = INPUT_SHAPE,
    *,
    batch_norm: bool = False,
    max_pooling: bool = True,
    box_decoder: bool = True,
    split_heads: bool = True,
    strided_stem: bool = False,
    box_pool: str = "max",
    channels: tuple[int, ...] = (8, 16, 64),
    class_norm: bool = True,
) -> keras.Model:
    """The improved default network (uncompiled).

    Three convolution stages like the baseline's (3x3), with 2x2 *max* pooling, but with
    8, 16 and 64 filters instead of 16, 32 and 64: the first two stages run on the large
    maps, where every filter costs the most, and halving them leaves the network 40% of
    the baseline's multiply-adds per canvas (:func:`multiply_adds`). Then the two tasks
    part ways: the class branch takes each filter's strongest answer anywhere (global
    max pooling: a digit is the same digit wherever it sits) and rescales those 64
    numbers to zero mean and unit spread per canvas (``class_norm``, a
    LayerNormalization: the class layer learns much faster from them), while the box
    branch pools 2x2 cells and flattens the map (where the ink is, is the whole
    question). The box head decodes an ordered box inside the canvas (:class:`BoxDecoder`).

    The keyword switches exist for the ablation study and the benchmarks; the defaults
    are the recipe. ``strided_stem=True`` makes the first convolution read 4x4 windows
    2 pixels apart (every pixel is read, but the map has a quarter of the positions);
    with ``channels=(32, 48)`` and ``box_pool="average"`` that is a network with less
    than half the baseline's multiply-adds per canvas, tried and left out as less
    robust (see the README).
    ``box_pool`` is ``"max"`` or ``"average"``.
    """
    check_choice(box_pool, "box_pool", ("max", "average"))
    inputs = keras.Input(shape=input_shape, name="image")
    pool = layers.MaxPooling2D if max_pooling else layers.AveragePooling2D
    x = inputs
    if strided_stem:
        # Pad odd sides by one row/column so that the 4x4 windows, 2 pixels apart,
        # reach the last row and column of the canvas (75 + 1 = 76 = 2 * 36 + 4).
        x = layers.ZeroPadding2D(
            ((0, input_shape[0] % 2), (0, input_shape[1] % 2)), name="stem_pad"
        )(x)
    for stage, filters in enumerate(channels, start=1):
        strided = stage == 1 and strided_stem
        x = layers.Conv2D(
            filters,
            4 if strided else 3,
            strides=2 if strided else 1,
            use_bias=not batch_norm,
            name=f"stage{stage}_conv",
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"stage{stage}_norm")(x)
        x = layers.Activation("relu", name=f"stage{stage}_relu")(x)
        if stage < len(channels):  # the last map is pooled by each branch its own way
            x = pool(2, name=f"stage{stage}_pool")(x)
    box_pooling = layers.AveragePooling2D if box_pool == "average" else layers.MaxPooling2D
    where = layers.Flatten(name="box_flatten")(box_pooling(2, name="box_pool")(x))
    if not split_heads:
        shared = layers.Dense(128, activation="relu", name="shared_dense")(where)
        return keras.Model(inputs, _heads(shared, shared, box_decoder), name="improved")
    what = layers.GlobalMaxPooling2D(name="class_pool")(x)
    if class_norm:
        what = layers.LayerNormalization(name="class_norm")(what)
    what = layers.Dense(128, activation="relu", name="class_dense")(what)
    where = layers.Dense(128, activation="relu", name="box_dense")(where)
    return keras.Model(inputs, _heads(what, where, box_decoder), name="improved")


def layer_multiply_adds(layer: layers.Layer) -> int:
    """Multiply-adds one canvas costs in ``layer``'s forward pass (0 for other layers).

    A Conv2D does ``kernel height * kernel width * input channels`` multiply-adds for each
    of its output values (``height * width * filters`` of them); a Dense layer one per
    weight. Biases, activations, normalisation and pooling count 0: they cost little next
    to these.
    """
    if isinstance(layer, layers.Conv2D):
        _, height, width, filters = layer.output.shape
        kernel_height, kernel_width, channels, _ = layer.kernel.shape
        return int(height * width * filters * kernel_height * kernel_width * channels)
    if isinstance(layer, layers.Dense):
        return int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
    return 0


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds one canvas costs in ``model``'s forward pass (:func:`layer_multiply_adds`).

    A training step costs about three times the forward pass (forward, then gradients for
    the inputs and for the weights).
    """
    return sum(layer_multiply_adds(layer) for layer in model.layers)
