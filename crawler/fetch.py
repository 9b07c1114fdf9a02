"""The single-link fetcher (httpx), used by the spot-check.

Every rule the crawl obeys is obeyed here too, from the one transport policy
(crawler.transport) and the same settings: the agency's portal only (checked on
every redirect hop), private addresses refused unless the run allows them,
robots.txt, bounded size (decoded size included), redirects, retries and time,
the proxy environment variables.

httpx is used for HTTP only; the connections are this module's own:
- a direct connection resolves the host once, checks every answer and connects
  to a checked address (the TLS name and the Host header stay the host's), so a
  second, different answer to the same name is never used;
- every read and write is bounded by the exchange's deadline, so a body or
  headers that trickle in a byte at a time end at the deadline, not per read;
- the proxy for a URL is the one crawler.proxy names (`http_proxy`,
  `https_proxy`, `no_proxy`, as Scrapy reads them); a proxied name is resolved
  by the proxy, never by us;
- the body is read as it came (`iter_raw`) and decoded by the policy, bounded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

import httpcore
import httpx

from crawler import tls as TLS
from crawler import transport as T
from crawler.proxy import proxy_for
from crawler.records import (
    ERR_BAD_RESPONSE,
    ERR_CONNECT,
    ERR_DNS,
    ERR_OFF_SITE,
    ERR_PRIVATE,
    ERR_REDIRECT_LOOP,
    ERR_TIMEOUT,
    ERR_TOO_LARGE,
    ERR_TOO_MANY_REDIRECTS,
    Fetch,
    Hop,
)
from crawler.settings import META_REFRESH_MAX_DELAY, ROBOTS_USER_AGENT, RunOptions
from crawler.urls import BadURL, Scope, literal_private_ip, next_hop, robots_hop, wire_url


class _Response:
    """One answer as it was received: the normalised headers the policy reads, and what the WARC records."""

    __slots__ = ("status", "headers", "body", "at", "http_version", "reason", "raw_headers", "raw_digest",
                 "ip_address")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, *, at: dt.datetime,
                 http_version: str = "HTTP/1.1", reason: str = "", raw_headers: tuple = (),
                 raw_digest: str | None = None, ip_address: str | None = None):
        self.status, self.headers, self.body, self.at = status, headers, body, at
        self.http_version, self.reason, self.raw_headers = http_version, reason, raw_headers
        self.raw_digest, self.ip_address = raw_digest, ip_address

    def received(self) -> dict:
        """The Fetch fields of the final response as received."""
        return {"http_version": self.http_version, "reason": self.reason, "raw_headers": self.raw_headers,
                "raw_digest": self.raw_digest, "ip_address": self.ip_address, "final_fetched_at": self.at}

    def hop(self, url: str, method: str, body: bytes, content_type: str | None) -> Hop:
        return Hop(url=url, status=self.status, fetched_at=self.at, http_version=self.http_version,
                   reason=self.reason, raw_headers=self.raw_headers, body=self.body, raw_digest=self.raw_digest,
                   ip_address=self.ip_address, method=method, request_body=body, content_type=content_type)


class _Failure:
    __slots__ = ("error", "detail")

    def __init__(self, error: str, detail: str):
        self.error, self.detail = error, detail


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
    return dt.datetime.now(dt.UTC)


def _server_address(response: httpx.Response) -> str | None:
    """The address the connection went to (the checked address the backend connected to)."""
    stream = response.extensions.get("network_stream")
    try:
        addr = stream.get_extra_info("server_addr") if stream is not None else None
    except Exception:          # a stream that cannot say
        return None
    return str(addr[0]) if addr else None


def _server_certificate(response: httpx.Response) -> str | None:
    """The SHA-256 (hex) of the certificate the connection was made with."""
    stream = response.extensions.get("network_stream")
    try:
        tls = stream.get_extra_info("ssl_object") if stream is not None else None
        der = tls.getpeercert(True) if tls is not None else None     # an SSLObject takes no keyword
    except Exception:          # a stream that cannot say
        return None
    return hashlib.sha256(der).hexdigest() if der else None


# -- connections

class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the current exchange's deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: T.Deadline):
        self._stream = stream
        self._deadline = deadline

    def _bound(self, timeout, error):
        if self._deadline.passed:
            raise error("the exchange's deadline has passed")
        return self._deadline.bound(timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(ssl_context, server_hostname, self._bound(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Opens connections under the deadline; for direct connections, to a checked address only."""

    def __init__(self, deadline: T.Deadline, *, allow_private: bool | None):
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline
        self._allow_private = allow_private      # None: a proxy's own address, not checked

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        if self._deadline.passed:
            raise httpcore.ConnectTimeout("the exchange's deadline has passed")
        if self._allow_private is None:
            targets = [host]
        else:
            targets = [addr for _family, addr in
                       T.checked_addresses(host, port, allow_private=self._allow_private)]
        error: Exception | None = None
        for addr in targets:            # the checked answers, in the resolver's order
            try:
                stream = self._inner.connect_tcp(addr, port, timeout=self._deadline.bound(timeout),
                                                 local_address=local_address, socket_options=socket_options)
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        raise error or httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(self, *args, **kwargs):
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _transport(backend: _Backend, proxy: str | None = None, verify: ssl.SSLContext | bool = True
               ) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(proxy=proxy, trust_env=True, verify=verify)
    # httpx has no argument for httpcore's network backend; the pool reads it when it opens a connection
    # (httpx and httpcore are pinned in pyproject.toml).
    transport._pool._network_backend = backend
    return transport


class _Router(httpx.BaseTransport):
    """Sends each request directly or through the proxy crawler.proxy names for its URL (https by CONNECT),
    an https one with the TLS decision of its origin (crawler.tls)."""

    def __init__(self, deadline: T.Deadline, allow_private: bool, tls: TLS.Policy):
        self._deadline = deadline
        self._allow_private = allow_private
        self._tls = tls
        self._transports: dict[tuple, httpx.HTTPTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        proxy = proxy_for(url)
        origin = TLS.origin_of(url)
        decision = self._tls.known(*origin) if origin else None
        key = (proxy, decision.leaf_sha256 if decision else None, decision.verified if decision else None)
        if key not in self._transports:
            backend = _Backend(self._deadline, allow_private=None if proxy else self._allow_private)
            self._transports[key] = _transport(backend, proxy, decision.ssl_context() if decision else True)
        return self._transports[key].handle_request(request)

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()


# -- the fetcher

class Fetcher:
    """Fetches one URL at a time under the run's rules. Use as a context manager."""

    def __init__(self, options: RunOptions, *, clock: Callable[[], dt.datetime] = _now,
                 sleep: Callable[[float], None] = time.sleep):
        self.options = options
        self.clock = clock
        self.sleep = sleep
        limits = options.limits
        self._deadline = T.Deadline()
        self.tls = TLS.Policy(allow_private=options.allow_private, limits=limits)
        self.client = _Client(
            headers=T.request_headers(options),
            timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
            follow_redirects=False,
            transport=_Router(self._deadline, options.allow_private, self.tls),
        )
        self._robots: dict[str, T.RobotsRules | None] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()

    # -- public

    def fetch(self, url: str, scope: Scope | None = None, *, method: str = "GET", body: bytes = b"",
              content_type: str | None = None, until: T.Deadline | None = None) -> Fetch:
        """The final response for url after redirects, or a Fetch whose `error` says why there is none.
        A POST (WebForms paging) becomes a GET when redirected, as browsers do. `until` is the deadline
        of the whole check this fetch belongs to: no try starts after it, and none runs past it."""
        until = until or T.Deadline()
        started = time.monotonic()
        fetched_at = self.clock()
        hops: list[str] = []
        exchanges: list[Hop] = []       # each redirect as it was exchanged, for the WARC
        current = url

        def failed(final: str, error: str, detail: str) -> Fetch:
            return T.failed_fetch(url, final, error, detail, fetched_at=fetched_at, redirects=hops,
                                  elapsed=time.monotonic() - started, method=method, request_body=body,
                                  content_type=content_type, hops=exchanges,
                                  final_fetched_at=self.clock() if exchanges else None)

        for _ in range(self.options.limits.max_redirects + 1):
            try:
                current = wire_url(current)       # what is checked is exactly what is sent
            except BadURL as exc:
                return failed(current, ERR_OFF_SITE, str(exc))
            refusal = self._refusal(current, scope)
            if refusal:
                return failed(current, *refusal)
            refusal = None if self.options.ignore_robots else self._robots_refusal(current, until)
            if refusal:
                return failed(current, *refusal)
            result = self._get_with_retries(current, until, method=method, body=body, content_type=content_type)
            if isinstance(result, _Failure):
                return failed(current, result.error, result.detail)
            headers = result.headers
            # the crawl's HopMiddleware reads redirects and meta refreshes by the same function
            hop = next_hop(current, method, result.status, headers.get("location"), headers.get("content-type"),
                           result.body, refresh_max_delay=META_REFRESH_MAX_DELAY, refresh=headers.get("refresh"))
            if hop is not None:
                exchanges.append(result.hop(current, method, body, content_type))
                if hop.refused:     # the answer that leads off the portal is archived, as a hop
                    return failed(current, ERR_OFF_SITE, hop.refused)
                hops.append(current)
                if hop.url in hops:
                    return failed(hop.url, ERR_REDIRECT_LOOP, f"redirect loop at {hop.url}")
                current = hop.url
                if hop.method != method:
                    method, body, content_type = hop.method, b"", None
                continue
            return T.response_fetch(url, current, result.status, result.headers, result.body,
                                    fetched_at=fetched_at, redirects=hops, elapsed=time.monotonic() - started,
                                    method=method, request_body=body, content_type=content_type,
                                    hops=exchanges, tls=self.tls.note_for(current), **result.received())
        return failed(current, ERR_TOO_MANY_REDIRECTS, f"more than {self.options.limits.max_redirects} redirects")

    # -- rules

    def _refusal(self, url: str, scope: Scope | None) -> tuple[str, str] | None:
        if scope is not None and not scope.owns(url):
            return ERR_OFF_SITE, f"{url} is outside the agency's registered portal"
        if self.options.allow_private:
            return None
        host = urlsplit(url).hostname or ""
        if literal_private_ip(host):
            return ERR_PRIVATE, f"{host} is a private or loopback address"
        return None        # a name is checked when it is resolved, on the address connected to

    def _robots_refusal(self, url: str, until: T.Deadline) -> tuple[str, str] | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin + "/robots.txt", until)
        rules = self._robots[origin]
        return None if rules is None else rules.refusal(url, ROBOTS_USER_AGENT)

    def _load_robots(self, url: str, until: T.Deadline) -> T.RobotsRules | None:
        """robots.txt rules as the policy reads the answer, or None (allow all) when there was none.
        Its redirects are followed as on the crawl, but only to the robots.txt of the same host and port."""
        current = url
        for _ in range(self.options.limits.max_redirects + 1):
            if self._refusal(current, None):
                return None
            result = self._get_with_retries(current, until, retries=0)
            if isinstance(result, _Failure):
                return None
            hop = next_hop(current, "GET", result.status, result.headers.get("location"),
                           result.headers.get("content-type"), result.body, refresh_max_delay=META_REFRESH_MAX_DELAY,
                           refresh=result.headers.get("refresh"))
            if hop is None:
                return T.robots_rules(result.status, result.body)
            if hop.refused or not robots_hop(url, hop.url) or hop.url == current:
                return None
            current = hop.url
        return None

    # -- transport

    def _get_with_retries(self, url: str, until: T.Deadline, *, retries: int | None = None, method: str = "GET",
                          body: bytes = b"", content_type: str | None = None) -> _Response | _Failure:
        """The response, or why there is none, after the allowed retries (none starts past `until`)."""
        limits = self.options.limits
        if retries is not None:
            limits = replace(limits, retries=retries)
        attempt = 0
        while True:
            if until.passed:
                return _Failure(ERR_TIMEOUT, f"the check's deadline of {limits.check_seconds:.0f} s was reached")
            result = self._get_once(url, until, method, body, content_type)
            error = result.error if isinstance(result, _Failure) else None
            status = None if isinstance(result, _Failure) else result.status
            if not T.retry_wanted(error, status, attempt, limits):
                return result
            retry_after = None if isinstance(result, _Failure) else result.headers.get("retry-after")
            wait = T.retry_delay(attempt, retry_after, limits, self.clock())
            left = until.remaining()
            if left is not None and left <= wait:
                return result              # the retry could not finish before the check's deadline
            self.sleep(wait)
            attempt += 1

    def _get_once(self, url: str, until: T.Deadline, method: str = "GET", body: bytes = b"",
                  content_type: str | None = None) -> _Response | _Failure:
        limits = self.options.limits
        max_bytes = limits.max_bytes
        headers = {"Content-Type": content_type} if content_type else None
        self._deadline.at = T.Deadline.after(limits.exchange_seconds, within=until).at
        at = self.clock()
        try:
            decision = self.tls.decide(url, self._deadline)
        except TLS.ProbeFailed as exc:
            self._deadline.at = None
            return _Failure(exc.error, exc.detail)
        try:
            with self.client.stream(method, url, content=body or None, headers=headers) as response:
                # asked before the body is read: a connection the server closes after it can no longer say
                ip_address = None if proxy_for(url) else _server_address(response)
                if decision is not None and _server_certificate(response) != decision.leaf_sha256:
                    return _Failure(ERR_CONNECT, "the server's certificate is not the one its TLS probe saw")
                problem = T.header_problem(response.headers.raw)
                if problem:
                    return _Failure(ERR_BAD_RESPONSE, problem)
                chunks, size = [], 0
                for chunk in response.iter_raw():
                    size += len(chunk)
                    if size > max_bytes:
                        return _Failure(ERR_TOO_LARGE, f"response larger than {max_bytes} bytes")
                    chunks.append(chunk)
                found = T.headers_dict(response.headers.raw)
                raw = b"".join(chunks)
                data = T.decode_body(raw, found.get("content-encoding"), max_bytes)
                return _Response(response.status_code, T.decoded_headers(found), data, at=at,
                                 http_version=response.http_version, reason=response.reason_phrase,
                                 raw_headers=T.header_pairs(response.headers.raw),
                                 raw_digest=T.body_digest(raw) if data is not raw else None,
                                 ip_address=ip_address)
        except T.BodyTooLarge as exc:
            return _Failure(ERR_TOO_LARGE, str(exc))
        except T.BadEncoding as exc:
            return _Failure(ERR_BAD_RESPONSE, str(exc))
        except T.AddressRefused as exc:
            return _Failure(ERR_PRIVATE, exc.detail)
        except T.ResolveFailed as exc:
            return _Failure(ERR_DNS, exc.detail)
        except httpx.TimeoutException as exc:
            if self._deadline.passed:
                return _Failure(ERR_TIMEOUT, f"no complete response within {limits.exchange_seconds:.0f} s"
                                if not until.passed else
                                f"the check's deadline of {limits.check_seconds:.0f} s was reached")
            return _Failure(ERR_TIMEOUT, f"timed out ({type(exc).__name__})")
        except httpx.RemoteProtocolError as exc:
            text = str(exc) or type(exc).__name__
            if "header" in text.lower():         # h11 refuses a malformed header before we see it
                return _Failure(ERR_BAD_RESPONSE, f"malformed response header ({text.split(':', 1)[0]})")
            return _Failure(ERR_CONNECT, text)
        except httpx.ConnectError as exc:
            text = str(exc)
            dns = "Name or service" in text or "nodename" in text or "getaddrinfo" in text
            kind = ERR_DNS if dns else ERR_CONNECT
            return _Failure(kind, text or type(exc).__name__)
        except (httpx.TransportError, httpx.DecodingError) as exc:
            return _Failure(ERR_CONNECT, f"{type(exc).__name__}: {exc}")
        finally:
            self._deadline.at = None
