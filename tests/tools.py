"""The outside programs some tests drive (Chromium, LibreOffice, poppler), found or missing in one way.

A missing program skips its tests with the package to install, unless PORTAL_EVIDENCE_REQUIRE_BROWSER
is set (CI sets it after installing them): then a missing program fails them."""

from __future__ import annotations

import os
import shutil

import pytest

PACKAGES = {"chromium": "chromium", "soffice": "libreoffice-calc libreoffice-writer", "pdftotext": "poppler-utils",
            "pdftoppm": "poppler-utils", "pdfinfo": "poppler-utils"}


def required_tool(name: str) -> str:
    """The path of the program, else a skip (or, where CI requires it, a failure) naming its package."""
    found = shutil.which(name)
    if found is None:
        package = PACKAGES.get(name, name)
        if os.environ.get("PORTAL_EVIDENCE_REQUIRE_BROWSER"):
            pytest.fail(f"{name} is not installed but PORTAL_EVIDENCE_REQUIRE_BROWSER is set "
                        f"(install: apt-get install {package})")
        pytest.skip(f"{name} is not installed (apt-get install {package}); set PORTAL_EVIDENCE_REQUIRE_BROWSER "
                    "to make this a failure")
    return found

