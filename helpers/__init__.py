"""Helpers for the course *Object localization and classification with one network*.

Modules, one job each (the notebook that teaches each one in brackets):

* :mod:`helpers.constants` - the numbers every module shares: class count, digit and
  canvas sizes, the default seed, the quick-mode switch
* :mod:`helpers.data` - load MNIST (download, ``.npz`` file, or the offline sample) [01]
* :mod:`helpers.canvas` - where a digit goes on a canvas and how its pixels get there [01]
* :mod:`helpers.synthesis` - paste digits on a canvas, with frame or tight boxes [01]
* :mod:`helpers.graph_synthesis` - the same canvases made with TensorFlow ops [03]
* :mod:`helpers.boxes` - the box convention, IoU by hand, format conversions [01, 04]
* :mod:`helpers.pipeline` - ``tf.data`` pipelines that synthesise whole batches [03]
* :mod:`helpers.models` - the baseline and improved two-headed networks [02]
* :mod:`helpers.recipes` - the recipes by name: improved, baseline, the ablation [02, 03]
* :mod:`helpers.training` - distribution strategy and the training loop [03]
* :mod:`helpers.saving` - :func:`load_model` for every saved course model [03]
* :mod:`helpers.progress` - Keras progress bars that suit a terminal, a notebook or a log [03]
* :mod:`helpers.evaluation` - accuracy, IoU and their break-downs [04]
* :mod:`helpers.fonts` - digits rendered from fonts (an out-of-distribution test) [04]
* :mod:`helpers.viz` - matplotlib figures [01-05]
* :mod:`helpers.detection` - multi-digit scenes, a grid detector, NMS and mAP [05]
* :mod:`helpers.figures` - the README's pictures, made offline
* :mod:`helpers.validation` - argument checks shared by the public functions
* :mod:`helpers.errors` - :class:`~helpers.errors.InputError`, raised for bad input
* :mod:`helpers.course` - what every notebook needs: quick mode, seeds, data, checks
* :mod:`helpers.exercises` - the notebooks' exercises, one module per notebook
* :mod:`helpers.notebooks` - student versions of notebooks, re-pointing a fork
* :mod:`helpers.grading` - grade a folder of submitted notebooks
* :mod:`helpers.tf_startup` - start TensorFlow without its CPU-only start-up lines
* :mod:`helpers.setup_cell` - the setup cell every notebook opens with, and its badges
* :mod:`helpers.site` - the course website, built with Jupyter Book from the stored notebooks
* :mod:`helpers.demo` - the live demo page: course models exported to ONNX, run in a browser
* :mod:`helpers.publishing` - the command-line verbs ``site``, ``export-demo``, ``sync-notebooks``
* :mod:`helpers.cli` - ``python -m helpers train|evaluate|detect-train|student|fork|grade|figures``

Every submodule can be reached as an attribute (``helpers.models``): it is imported on
first use. ``import helpers`` itself imports no TensorFlow, so ``python -m helpers
--help``, ``student`` and ``fork`` start in a fraction of a second. A saved model loads
with :func:`load_model`, which imports the course's custom Keras layers first.

TensorFlow's C++ start-up messages are turned down with ``TF_CPP_MIN_LOG_LEVEL=2``
(warnings and informational lines off, errors kept), set here unless you set it
yourself, before anything imports TensorFlow. The CUDA probe's lines, which TensorFlow
prints before it reads that setting, are left out by :func:`helpers.tf_startup.start_tensorflow`
(notebooks call it through ``course.setup()``), which drops those known lines only.
"""

import importlib
import os
import pkgutil
from types import ModuleType

# Before any TensorFlow import: TensorFlow reads it once, when it starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from helpers.saving import load_model  # noqa: E402 - light: imports Keras only when called

__all__ = ["load_model"]
__version__ = "0.2.0"


def _submodules() -> list[str]:
    """The names of this package's modules and subpackages, as found on disk."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def __getattr__(name: str) -> ModuleType:
    """Import a submodule on first use: ``helpers.models`` works without importing it."""
    if name in _submodules():
        return importlib.import_module(f"helpers.{name}")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_submodules()})
