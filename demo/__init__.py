"""The demo and its loopback server: not part of the product.

``demo.server`` serves portals on 127.0.0.1 (the bundled demo portals of ``data/demo``, the
tests' recorded portals, the benchmark's farm); ``demo.pipeline`` runs ``portal-evidence demo``
on them. The product packages (``crawler``, ``verifier``) never import it.
"""
