"""The live demo: course models exported to ONNX and run in the browser.

* :mod:`helpers.demo.export` - check that a model is a course model, export it to ONNX
* :mod:`helpers.demo.build` - the static demo folder (page, onnxruntime-web, models, digits)

Build it with ``python -m helpers export-demo [MODEL.keras] --out demo/`` (the ``demo``
extra: ``pip install "mnist-localization-course[demo]"``, and npm to fetch
onnxruntime-web once), then serve the folder: ``python -m http.server -d demo``.
"""
