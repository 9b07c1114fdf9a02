"""The standard proxy environment variables, read the way both fetch paths read them."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit


def proxy_for(url: str) -> str | None:
    """The proxy URL that `http_proxy`/`https_proxy`/`no_proxy` give for this URL, or None."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    if urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxy
