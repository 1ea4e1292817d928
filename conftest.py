"""Settings for the whole test suite, notebooks included (nbval kernels inherit them).

* ``LOCALIZER_QUICK=1``: notebooks shrink their data and epochs (quick mode).
* ``LOCALIZER_DATA=sample``: no test ever downloads MNIST; the offline sample is used.
"""

import os

os.environ.setdefault("LOCALIZER_QUICK", "1")
os.environ.setdefault("LOCALIZER_DATA", "sample")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
