"""The rulebooks. Installed, this folder is the package ``verifier.rulebooks`` (pyproject's package-dir), read
through importlib.resources by verifier.resources; nothing imports it as ``rules``."""
