"""The single-link fetcher (httpx), used by the spot-check.

Every rule the crawl obeys is obeyed here too, from the same settings:
the agency's portal only (checked on every redirect hop), private addresses
refused unless the run allows them, robots.txt, bounded size, redirects and
retries, the proxy environment variables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from protego import Protego

from crawler.proxy import proxy_for
from crawler.records import (
    ERR_CONNECT, ERR_DNS, ERR_OFF_SITE, ERR_PRIVATE, ERR_REDIRECT_LOOP, ERR_ROBOTS, ERR_TIMEOUT,
    ERR_TOO_LARGE, ERR_TOO_MANY_REDIRECTS, Fetch,
)
from crawler.settings import META_REFRESH_MAX_DELAY, RETRY_AFTER_CAP, RETRY_STATUSES, ROBOTS_USER_AGENT, RunOptions
from crawler.urls import BadURL, Scope, literal_private_ip, next_hop, robots_hop, wire_url

ROBOTS_MAX_BYTES = 512 * 1024
TRANSIENT_ERRORS = frozenset({ERR_TIMEOUT, ERR_CONNECT, ERR_DNS})


@dataclass(frozen=True)
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Failure:
    error: str
    detail: str

    @property
    def transient(self) -> bool:
        return self.error in TRANSIENT_ERRORS


class _Client(httpx.Client):
    """httpx's client, minus its reading of a Location it does not follow: it builds the next request even with
    follow_redirects off, and raised on `javascript:`, `data:`, a tab or an octal IP in a Location. Redirects are read
    by crawler.urls.next_hop, as on the crawl."""

    def _build_redirect_request(self, request, response):
        try:
            return super()._build_redirect_request(request, response)
        except (httpx.InvalidURL, httpx.RemoteProtocolError):     # "Invalid URL in location header"
            return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Fetcher:
    """Fetches one URL at a time under the run's rules. Use as a context manager."""

    def __init__(self, options: RunOptions, *, clock: Callable[[], dt.datetime] = _now,
                 sleep: Callable[[float], None] = time.sleep):
        self.options = options
        self.clock = clock
        self.sleep = sleep
        limits = options.limits
        self.client = _Client(
            headers={"User-Agent": options.user_agent, "Accept-Language": "vi,en;q=0.5"},
            timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
            follow_redirects=False,
            trust_env=True,
        )
        self._robots: dict[str, Protego | None] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()

    # -- public

    def fetch(self, url: str, scope: Scope | None = None, *, method: str = "GET", body: bytes = b"",
              content_type: str | None = None) -> Fetch:
        """The final response for url after redirects, or a Fetch whose `error` says why there is none.
        A POST (WebForms paging) becomes a GET when redirected, as browsers do."""
        started = time.monotonic()
        fetched_at = self.clock()
        hops: list[str] = []
        current = url
        for _ in range(self.options.limits.max_redirects + 1):
            try:
                current = wire_url(current)       # what is checked is exactly what is sent
            except BadURL as exc:
                return self._failed(url, current, fetched_at, started, hops, ERR_OFF_SITE, str(exc))
            refusal = self._refusal(current, scope)
            if refusal:
                return self._failed(url, current, fetched_at, started, hops, *refusal)
            if not self.options.ignore_robots and not self._robots_allow(current):
                return self._failed(url, current, fetched_at, started, hops, ERR_ROBOTS, "robots.txt disallows")
            result = self._get_with_retries(current, method=method, body=body, content_type=content_type)
            if isinstance(result, _Failure):
                return self._failed(url, current, fetched_at, started, hops, result.error, result.detail)
            status, headers, content = result.status, result.headers, result.body
            # the crawl's HopMiddleware reads redirects and meta refreshes by the same function
            hop = next_hop(current, method, status, headers.get("location"), headers.get("content-type"), content,
                           refresh_max_delay=META_REFRESH_MAX_DELAY, refresh=headers.get("refresh"))
            if hop is not None:
                if hop.refused:
                    return self._failed(url, current, fetched_at, started, hops, ERR_OFF_SITE, hop.refused)
                hops.append(current)
                if hop.url in hops:
                    return self._failed(url, hop.url, fetched_at, started, hops, ERR_REDIRECT_LOOP,
                                        f"redirect loop at {hop.url}")
                current = hop.url
                if hop.method != method:
                    method, body, content_type = hop.method, b"", None
                continue
            return Fetch(url=url, final_url=current, status=status, headers=headers, body=content,
                         fetched_at=fetched_at, redirects=tuple(hops), elapsed=time.monotonic() - started,
                         digest="sha256:" + hashlib.sha256(content).hexdigest())
        return self._failed(url, current, fetched_at, started, hops, ERR_TOO_MANY_REDIRECTS,
                            f"more than {self.options.limits.max_redirects} redirects")

    # -- rules

    def _refusal(self, url: str, scope: Scope | None) -> tuple[str, str] | None:
        if scope is not None and not scope.owns(url):
            return ERR_OFF_SITE, f"{url} is outside the agency's registered portal"
        if self.options.allow_private:
            return None
        host = urlsplit(url).hostname or ""
        if literal_private_ip(host):
            return ERR_PRIVATE, f"{host} is a private or loopback address"
        if proxy_for(url):
            return None        # the proxy resolves the name; we never see its address
        try:
            infos = socket.getaddrinfo(host, None)
        except socket.gaierror as exc:
            return ERR_DNS, f"cannot resolve {host}: {exc.strerror}"
        for info in infos:
            addr = ipaddress.ip_address(info[4][0].split("%")[0])
            if not addr.is_global:
                return ERR_PRIVATE, f"{host} resolves to the private address {addr}"
        return None

    def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin + "/robots.txt")
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(url, ROBOTS_USER_AGENT)

    def _load_robots(self, url: str) -> Protego | None:
        """robots.txt rules, or None (allow all) when there is no readable robots.txt. Its redirects are
        followed as on the crawl, but only to the robots.txt of the same host and port."""
        current = url
        for _ in range(self.options.limits.max_redirects + 1):
            result = self._get_with_retries(current, max_bytes=ROBOTS_MAX_BYTES, retries=0)
            if isinstance(result, _Failure):
                return None
            hop = next_hop(current, "GET", result.status, result.headers.get("location"),
                           result.headers.get("content-type"), result.body, refresh_max_delay=META_REFRESH_MAX_DELAY,
                           refresh=result.headers.get("refresh"))
            if hop is None:
                break
            if hop.refused or not robots_hop(url, hop.url) or self._refusal(hop.url, None) or hop.url == current:
                return None
            current = hop.url
        else:
            return None
        if result.status != 200:
            return None
        return Protego.parse(result.body.decode("utf-8", "replace"))

    # -- transport

    def _get_with_retries(self, url: str, *, max_bytes: int | None = None, retries: int | None = None,
                          method: str = "GET", body: bytes = b"",
                          content_type: str | None = None) -> _Response | _Failure:
        """The response, or why there is none, after the allowed retries."""
        limits = self.options.limits
        retries = limits.retries if retries is None else retries
        for attempt in range(retries + 1):
            result = self._get_once(url, max_bytes or limits.max_bytes, method, body, content_type)
            if isinstance(result, _Failure):
                transient, wait = result.transient, 0.0
            else:
                transient = result.status in RETRY_STATUSES
                wait = _retry_after(result.headers.get("retry-after"))
            if not transient or attempt == retries:
                return result
            self.sleep(min(max(limits.retry_backoff * (2 ** attempt), wait), RETRY_AFTER_CAP))
        return result

    def _get_once(self, url: str, max_bytes: int, method: str = "GET", body: bytes = b"",
                  content_type: str | None = None) -> _Response | _Failure:
        headers = {"Content-Type": content_type} if content_type else None
        try:
            with self.client.stream(method, url, content=body or None, headers=headers) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        return _Failure(ERR_TOO_LARGE, f"response larger than {max_bytes} bytes")
                    chunks.append(chunk)
                headers = {k.lower(): v for k, v in response.headers.items()}
                return _Response(response.status_code, headers, b"".join(chunks))
        except httpx.TimeoutException as exc:
            return _Failure(ERR_TIMEOUT, f"timed out ({type(exc).__name__})")
        except httpx.ConnectError as exc:
            text = str(exc)
            kind = ERR_DNS if ("Name or service" in text or "nodename" in text or "getaddrinfo" in text) else ERR_CONNECT
            return _Failure(kind, text or type(exc).__name__)
        except (httpx.TransportError, httpx.DecodingError) as exc:
            return _Failure(ERR_CONNECT, f"{type(exc).__name__}: {exc}")

    def _failed(self, url, final, fetched_at, started, hops, error, detail) -> Fetch:
        return Fetch(url=url, final_url=final, status=None, headers={}, body=b"", fetched_at=fetched_at,
                     error=error, error_detail=detail, redirects=tuple(hops), elapsed=time.monotonic() - started)


def _retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return float(value)
    except ValueError:
        return 0.0
