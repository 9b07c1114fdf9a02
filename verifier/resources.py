"""The files that ship with the tool: the rulebooks and the demo data, read through importlib.resources.

Installed (a wheel, or the editable install of `make`), `rules/` is the package data of ``verifier.rulebooks``
and `data/demo/` that of ``demo.data`` (pyproject's package-dir maps them), so nothing generic such as a
top-level ``rules`` lands in site-packages. A plain checkout on PYTHONPATH has no such packages: there the
files are read where they sit in the repository.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent       # the repository, when the code runs from one


def bundled(package: str, checkout_dir: str) -> Path:
    """The folder of a package of bundled files: `package` when it is importable, else `checkout_dir` of the
    repository. A folder on disk: the demo server and the crawl read these files by path."""
    try:
        found = files(package)
    except ModuleNotFoundError:                 # a plain checkout: no package-dir mapping in force
        return CHECKOUT / checkout_dir
    if not isinstance(found, Path):             # e.g. a zipped install: the files are not on disk
        raise RuntimeError(f"{package}: the bundled files must be installed as plain files, not in {found}")
    return found
