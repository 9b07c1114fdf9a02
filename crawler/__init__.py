"""Fetching and page understanding: the extraction core, both fetch paths, the spiders."""

__version__ = "0.1.0"
