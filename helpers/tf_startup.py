"""Start TensorFlow without its known start-up lines, keeping every other message.

TensorFlow's Linux wheels probe for CUDA when they load and print what they find straight to
the process's standard error (file descriptor 2), before ``TF_CPP_MIN_LOG_LEVEL`` is read:
"Could not find cuda drivers on your machine", "failed call to cuInit" and a warning about
``absl::InitializeLog``. On a machine without a GPU, a notebook shows them as red text that
reads like an error. :func:`start_tensorflow` imports TensorFlow and probes its devices once
with descriptor 2 written to a file, then writes back every line that is *not* one of
:data:`START_UP_NOISE`, so a genuine error still shows. Notebooks call it through
:func:`helpers.course.setup`; the command line calls it before a command that trains.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

#: Lines TensorFlow prints at every start on a machine without a GPU; nothing else is dropped.
START_UP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|cudart_stub\.cc:\d+\] Could not find cuda drivers"
    r"|cuda_platform\.cc:\d+\] failed call to cuInit"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|oneDNN custom operations are on"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|To enable the following instructions: .* rebuild TensorFlow"
)


def start_tensorflow() -> None:
    """Import TensorFlow and list its devices, dropping only :data:`START_UP_NOISE` lines.

    Does nothing more once TensorFlow has started; what TensorFlow prints later (a real
    error during training, say) is never touched.
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe prints here, not at import
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not START_UP_NOISE.search(line))
            if kept:
                sys.stderr.write(kept)
