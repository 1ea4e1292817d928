"""Helpers for the course *Object localization and classification with one network*.

Modules, one job each:

* :mod:`helpers.data` - load MNIST (download, ``.npz`` file, or the offline sample)
* :mod:`helpers.synthesis` - paste digits on a canvas, with frame or tight boxes
* :mod:`helpers.boxes` - the box convention, IoU by hand, format conversions
* :mod:`helpers.pipeline` - ``tf.data`` pipelines that synthesise whole batches
* :mod:`helpers.models` - the baseline and improved two-headed networks
* :mod:`helpers.training` - recipes, distribution strategy and the training loop
* :mod:`helpers.evaluation` - accuracy, IoU and their break-downs
* :mod:`helpers.viz` - matplotlib figures
* :mod:`helpers.fonts` - digits rendered from fonts (an out-of-distribution test)
* :mod:`helpers.detection` - multi-digit scenes, a grid detector, NMS and mAP
* :mod:`helpers.course` - what every notebook needs: quick mode, seeds, data, checks
* :mod:`helpers.notebooks` - student versions of notebooks, re-pointing a fork
* :mod:`helpers.cli` - ``python -m helpers train|evaluate|detect-train|student|fork``

Importing :mod:`helpers` registers the custom layers and losses (of the localizer and
of the detector), so saved models load with ``keras.saving.load_model(path, compile=False)``.
"""

import contextlib
import logging
import os


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for the duration of the block.

    Since TF 2.20, TensorFlow's C++ start-up messages (oneDNN, CUDA probing on a
    machine without a GPU) go straight to the process's stderr before logging is set
    up, so TF_CPP_MIN_LOG_LEVEL cannot hide them, and Jupyter shows them as red text.
    Python-level warnings and errors raised inside the block still propagate.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") in ("0", "1"):
        yield  # the user asked for TensorFlow's logs
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
with _native_stderr_silenced():
    import tensorflow as _tf

    _tf.config.list_physical_devices()  # device probing happens here, silently


class _NoRetracingWarnings(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning.

    Each new Keras model traces its own predict function, so a notebook that compares
    several models triggers it by design; the advice in it does not apply here.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


_tf.get_logger().addFilter(_NoRetracingWarnings())

from helpers import (  # noqa: E402
    boxes,
    data,
    detection,
    evaluation,
    models,
    pipeline,
    synthesis,
    training,
)

__all__ = [
    "boxes",
    "data",
    "detection",
    "evaluation",
    "models",
    "pipeline",
    "synthesis",
    "training",
]
__version__ = "0.1.0"
