"""Course models to ONNX, for the browser demo: check what a file holds, then export it.

The export is Keras' own ``model.export(path, format="onnx")``, which converts the
model's forward pass with ``tf2onnx`` (the ``demo`` extra: ``pip install
"mnist-localization-course[demo]"``). The ONNX file has one input, ``image``:
``float32 (N, S, S, 1)`` in [0, 1] (``S`` = 75 for a localizer, 96 for the detector), and
the model's outputs under their Keras names: ``classification (N, 10)`` and
``bounding_box (N, 4)`` (normalised xyxy) for a localizer, one ``(N, 12, 12, 15)`` grid
for the detector (see :mod:`helpers.detection`).
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import keras

from helpers.detection.inference import check_detector
from helpers.errors import InputError
from helpers.evaluation import check_localizer

#: The browser downloads each model: larger files make the first prediction wait.
MAX_MODEL_BYTES = 2 * 1024 * 1024
#: What the demo can run: a one-digit localizer (box + class) or the multi-digit detector.
KINDS = ("localizer", "detector")
INPUT_NAME = "image"
#: Python packages ``model.export(..., format="onnx")`` needs (the ``demo`` extra).
EXPORT_PACKAGES = ("tf2onnx", "onnx")


def load_course_model(path: str | Path) -> keras.Model:
    """Load a ``.keras`` file saved by the course with :func:`helpers.load_model`.

    Raises:
        InputError: ``path`` is not a ``.keras`` file this environment can load.
    """
    from helpers.saving import load_model

    if Path(path).suffix != ".keras":
        raise InputError(f"{path}: expected a model saved with model.save(...) as a .keras file")
    return load_model(path)


def model_kind(model: keras.Model, name: str = "model") -> str:
    """``"localizer"`` or ``"detector"`` from the model's structure, else :class:`InputError`.

    A localizer has the two heads of :func:`helpers.evaluation.check_localizer`, the
    detector the grid output of :func:`helpers.detection.check_detector`; the demo draws
    only these two, so any other model is refused with both contracts in the message.
    """
    for kind, check in (("localizer", check_localizer), ("detector", check_detector)):
        try:
            check(model, name)
        except InputError:
            continue
        shape = model.input_shape
        if not (isinstance(shape, tuple) and len(shape) == 4 and shape[1] == shape[2]):
            break
        return kind
    label = getattr(model, "name", type(model).__name__)
    raise InputError(
        f"{name} {label!r} is not a course model: expected a localizer (input (N, 75, 75, 1), "
        "outputs classification (N, 10) and bounding_box (N, 4)) or the grid detector "
        "(input (N, 96, 96, 1), output (N, 12, 12, 15))"
    )


def check_export_packages() -> None:
    """:class:`InputError` naming the install command when ``tf2onnx`` or ``onnx`` is missing."""
    missing = [name for name in EXPORT_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise InputError(
            f"exporting to ONNX needs {' and '.join(missing)}: "
            'pip install "mnist-localization-course[demo]" (or pip install tf2onnx onnx)'
        )


def _with_activation(detector: keras.Model) -> keras.Model:
    """The detector followed by :func:`helpers.detection.activate`: the grid in the targets'
    layout (probabilities, box in cell units), which the page decodes as the library does."""
    from helpers.detection import activate

    inputs = keras.Input(detector.input_shape[1:], name=INPUT_NAME)
    return keras.Model(inputs, keras.layers.Lambda(activate, name="activate")(detector(inputs)))


def export_onnx(model: keras.Model, out: str | Path, name: str = "model") -> dict:
    """Write ``model`` to ``out`` (an ``.onnx`` file) with Keras' ``model.export``.

    The batch axis stays open (``None``), the input is named :data:`INPUT_NAME`.

    Returns:
        ``{"file", "kind", "input_side", "bytes"}`` for the demo's manifest.

    Raises:
        InputError: not a course model (:func:`model_kind`), the export packages are
            missing, or the file is larger than :data:`MAX_MODEL_BYTES`.
    """
    import tensorflow as tf

    kind = model_kind(model, name)
    check_export_packages()
    if kind == "detector":  # it outputs logits; the page reads the grid as probabilities
        model = _with_activation(model)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    side = int(model.input_shape[1])
    spec = tf.TensorSpec((None, side, side, 1), tf.float32, name=INPUT_NAME)
    with warnings.catch_warnings():
        # Keras' tf2onnx patch probes np.object, which NumPy 2 answers with a FutureWarning.
        warnings.filterwarnings("ignore", category=FutureWarning, module="keras")
        model.export(str(out), format="onnx", verbose=False, input_signature=[spec])
    size = out.stat().st_size
    if size > MAX_MODEL_BYTES:
        out.unlink()
        raise InputError(
            f"{name}: the exported model has {size / 2**20:.1f} MB, more than the demo's "
            f"{MAX_MODEL_BYTES / 2**20:.0f} MB: use a smaller network"
        )
    return {"file": out.name, "kind": kind, "input_side": side, "bytes": size}
