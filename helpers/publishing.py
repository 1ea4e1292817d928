"""Commands that take the course to its readers: ``export-demo``, ``site``, ``sync-notebooks``.

Registered by :func:`helpers.cli.build_parser` through :func:`register`, so that the
command line module only names them. Importing this module is light (no TensorFlow);
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from helpers.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def register(commands) -> None:
    """Add this module's commands to the subcommands of ``python -m helpers``."""
    demo = commands.add_parser(
        "export-demo",
        help="export course models to ONNX and write the browser demo (a static folder)",
    )
    demo.add_argument(
        "model",
        nargs="?",
        default=None,
        help="a saved localizer or detector (.keras), for example the one notebook 03 saves",
    )
    demo.add_argument("--out", required=True, help="the demo folder to write, for example demo/")
    demo.add_argument("--tight", default=None, help="a tight-box localizer (.keras) for drawings")
    demo.add_argument("--detector", default=None, help="a multi-digit detector (.keras)")
    demo.add_argument(
        "--data",
        default="sample",
        help="data for the page's digits and for models trained by the build (default sample)",
    )
    demo.add_argument(
        "--npm-cache", default="build/npm", help="where npm installs onnxruntime-web (build/npm)"
    )
    demo.set_defaults(run=run_export_demo)

    site = commands.add_parser("site", help="build the course website (Jupyter Book 1) offline")
    site.add_argument("--out", default="_build/site", help="the folder to write (_build/site)")
    site.add_argument(
        "--demo", default=None, help="a demo folder built before (default: build one)"
    )
    site.set_defaults(run=run_site)

    sync = commands.add_parser(
        "sync-notebooks", help="rewrite every notebook's badges and setup cell from the library"
    )
    sync.add_argument(
        "--check", action="store_true", help="change nothing; exit 2 if a notebook differs"
    )
    sync.set_defaults(run=run_sync_notebooks)


def run_export_demo(args: argparse.Namespace) -> dict:
    from helpers.demo.build import build_demo
    from helpers.demo.export import load_course_model, model_kind

    models = {"tight": args.tight, "detector": args.detector}
    if args.model is not None:  # the positional model goes to the slot of its kind
        kind = model_kind(load_course_model(args.model), args.model)
        if kind == "detector" and args.detector is not None:
            raise InputError(f"{args.model} is a detector and --detector names another one")
        models["localizer" if kind == "localizer" else "detector"] = args.model
    manifest = build_demo(Path(args.out), models, data=args.data, npm_cache=args.npm_cache)
    return {"command": "export-demo", "out": args.out, **manifest}


def run_site(args: argparse.Namespace) -> dict:
    from helpers.site import build_site

    return {"command": "site", **build_site(args.out, args.demo)}


def run_sync_notebooks(args: argparse.Namespace) -> dict:
    from helpers.setup_cell import sync_first_cells

    changed = sync_first_cells(ROOT, write=not args.check)
    if args.check and changed:
        raise InputError(
            f"{', '.join(changed)}: first cells differ from helpers/setup_cell.py; "
            "run python -m helpers sync-notebooks"
        )
    return {"command": "sync-notebooks", "changed": changed}
