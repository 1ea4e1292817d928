"""Load a saved course model: :func:`load_model`.

Taught in notebook 03 (saving and loading); notebooks 04 and 05 load 03's models with it.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers.errors import InputError


def load_model(path: str | os.PathLike, *, compile: bool = False):
    """Load a model saved with ``model.save("m.keras")``: a localizer or a detector.

    Imports the modules that define the course's custom Keras objects (the localizer's
    ``BoxDecoder`` and ``BoxLoss``, the detector's ``DetectionHead`` and
    ``DetectionLoss``), so that Keras knows them, then calls
    ``keras.saving.load_model``. Nothing else needs importing first.

    Args:
        path: a ``.keras`` file, as a ``str`` or a path.
        compile: also restore the optimiser and losses (to train on); ``False`` (the
            default) gives a model for ``predict``.

    Returns:
        The ``keras.Model``. A localizer takes ``float32 (N, side, side, 1)`` in [0, 1]
        and returns ``{"classification": (N, 10), "bounding_box": (N, 4)}`` with boxes
        normalised ``(xmin, ymin, xmax, ymax)``; a detector returns its grid
        ``(N, 12, 12, 15)`` (see :mod:`helpers.detection`).

    Raises:
        InputError: ``path`` is not a file, or not a model Keras can read.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"path: expected a str or a path to a .keras file, got {path!r}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    import keras  # here, not at the top: ``import helpers`` must not start TensorFlow

    import helpers.detection.model  # noqa: F401 - registers DetectionHead, DetectionLoss
    import helpers.models  # noqa: F401 - registers BoxDecoder, BoxLoss

    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as error:  # noqa: BLE001 - Keras raises many kinds for a bad file
        reason = " ".join(str(error).split())[:200]
        raise InputError(f"could not load {path} as a Keras model: {reason}") from error
