"""The demo data. Installed, this folder is the package ``demo.data`` (pyproject's package-dir): the portals and
the CSVs are its package data, read through importlib.resources by verifier.resources. The generator modules
beside this file (build.py and its siblings) are run as a script from a checkout, never imported from here."""
