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


def proxy_hosts() -> frozenset[str]:
    """The host names of the proxies the environment names: connections to them are the proxy's, not a portal's."""
    hosts = set()
    for scheme, value in urllib.request.getproxies_environment().items():
        if scheme == "no":            # no_proxy lists hosts, not proxies
            continue
        text = value if "://" in value else f"http://{value}"
        try:
            host = urlsplit(text).hostname
        except ValueError:
            continue
        if host:
            hosts.add(host.lower())
    return frozenset(hosts)
