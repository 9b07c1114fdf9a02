"""The one transport policy both fetch paths follow: the crawl (Scrapy) and the spot-check (httpx).

Each path keeps only what its library needs (sockets, Twisted callbacks); every
decision about what a fetch sends, accepts, retries and records is made here:

- what a request sends (`request_headers`): the same header set on both paths,
  and the same set written to the WARC request record;
- which addresses a host name may be connected to (`check_addresses`): one
  lookup, checked, and the connection made to that checked address (both paths
  resolve through `resolve`, so a name that answers a public address to the
  check and 127.0.0.1 to the connection cannot slip through);
- how a body is decoded (`decode_body`): gzip, deflate, br and zstd, every one
  the paths offer in `Accept-Encoding`, bounded by the DECODED size while decoding;
- which response headers are malformed (`header_problem`);
- which failures are transient and how long to wait before a retry
  (`retry_delay`, with `Retry-After` in seconds or as an HTTP-date, capped);
- what robots.txt means for each answer (`robots_rules`, RFC 9309);
- the `Fetch` record and its digest (`response_fetch`, `failed_fetch`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import ipaddress
import re
import socket
import time
import zlib
from collections.abc import Iterable
from urllib.parse import urlsplit

from protego import Protego

from crawler.records import ERR_CONNECT, ERR_DNS, ERR_ROBOTS, ERR_ROBOTS_UNAVAILABLE, ERR_TIMEOUT, Fetch, Hop
from crawler.settings import (
    RETRY_AFTER_CAP,
    RETRY_STATUSES,
    ROBOTS_MAX_BYTES,
    ROBOTS_USER_AGENT,
    Limits,
    RunOptions,
)

# -- what a request sends

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "vi,en;q=0.5"
# Only what decode_body decodes (and bounds): a portal may still send something else.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def request_headers(options: RunOptions, *, content_type: str | None = None) -> dict[str, str]:
    """The headers every request of a run carries (a form post adds its Content-Type)."""
    headers = {"User-Agent": options.user_agent, "Accept": ACCEPT, "Accept-Language": ACCEPT_LANGUAGE,
               "Accept-Encoding": ACCEPT_ENCODING}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def warc_request_headers(fetch: Fetch, options: RunOptions) -> dict[str, str]:
    """The headers of the WARC request record of a fetch: the Host of its final URL and the run's headers."""
    return exchange_request_headers(fetch.final_url, fetch.content_type, options)


def exchange_request_headers(url: str, content_type: str | None, options: RunOptions) -> dict[str, str]:
    """The headers of the WARC request record of one exchange (a redirect hop or the final request)."""
    return {"Host": urlsplit(url).netloc, **request_headers(options, content_type=content_type)}


# -- where a connection may go

class AddressRefused(Exception):
    """The host name resolves to a private, loopback or link-local address"""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class ResolveFailed(Exception):
    """The host name cannot be resolved"""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def resolve(host: str, port: int) -> list[tuple[int, str]]:
    """(address family, address) of every answer for host, in the resolver's order; raises ResolveFailed.
    The one resolution point of both paths: the address checked is the address connected to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolveFailed(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
    out: list[tuple[int, str]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        item = (family, str(sockaddr[0]).split("%")[0])
        if item not in out:
            out.append(item)
    if not out:
        raise ResolveFailed(f"cannot resolve {host}: no address")
    return out


def check_addresses(host: str, addresses: Iterable[tuple[int, str]], *, allow_private: bool) -> None:
    """Raise AddressRefused when any answer for host is not a global address (unless the run allows them).
    One bad answer refuses the name: a portal has no reason to answer a private address."""
    if allow_private:
        return
    for _family, text in addresses:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            raise AddressRefused(f"{host} resolves to {text!r}, which is not an address") from None
        if not addr.is_global:
            raise AddressRefused(f"{host} resolves to the private address {addr}")


def checked_addresses(host: str, port: int, *, allow_private: bool) -> list[tuple[int, str]]:
    """One lookup of host, checked: the addresses a connection may use. Raises ResolveFailed or AddressRefused."""
    addresses = resolve(host, port)
    check_addresses(host, addresses, allow_private=allow_private)
    return addresses


# -- what a response may be

class BodyTooLarge(Exception):
    """The body is larger than the download bound"""


class BadEncoding(Exception):
    """The body cannot be decoded as its Content-Encoding says"""


_CHUNK = 64 * 1024          # decoded bytes produced per step, so a bomb is stopped at the bound
_MAX_CODINGS = 3            # "gzip, gzip, gzip, ..." is no real portal's answer


def decode_body(body: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """The body with its content codings undone, never holding more than max_bytes (+64 KiB) decoded.
    Raises BodyTooLarge past max_bytes and BadEncoding for a corrupt body or too many codings.
    An unknown coding is left as it is (as both libraries do); a truncated body gives what it holds."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > _MAX_CODINGS:
        raise BadEncoding(f"{len(codings)} content codings ({content_encoding})")
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            break                       # undecodable: keep this and the outer codings' bytes as they are
        try:
            body = decoder(body, max_bytes)
        except BodyTooLarge:
            raise
        except Exception as exc:        # zlib.error, brotli.error, ZstdError: the library's own word
            raise BadEncoding(f"cannot decode the {coding} body: {exc}") from None
    if len(body) > max_bytes:
        raise BodyTooLarge(f"response larger than {max_bytes} bytes")
    return body


def _grow(out: bytearray, chunk: bytes, limit: int) -> None:
    out += chunk
    if len(out) > limit:
        raise BodyTooLarge(f"response larger than {limit} bytes once decoded")


def _inflate_stream(decompressor, data: bytes, out: bytearray, limit: int) -> bytes:
    """Feed data through a zlib decompressor in bounded steps; the bytes after its stream."""
    pending = data
    while True:
        chunk = decompressor.decompress(pending, _CHUNK)
        _grow(out, chunk, limit)
        pending = decompressor.unconsumed_tail
        if decompressor.eof or (not pending and not chunk):
            return decompressor.unused_data


def _gunzip(data: bytes, limit: int) -> bytes:
    out = bytearray()
    rest = data
    while rest:           # a gzip body may hold several members, one after the other
        rest = _inflate_stream(zlib.decompressobj(16 + zlib.MAX_WBITS), rest, out, limit)
        if not rest.startswith(b"\x1f\x8b"):
            break
    return bytes(out)


def _inflate(data: bytes, limit: int) -> bytes:
    out = bytearray()
    try:
        _inflate_stream(zlib.decompressobj(), data, out, limit)
    except zlib.error:
        if out:
            raise
        _inflate_stream(zlib.decompressobj(-zlib.MAX_WBITS), data, out, limit)   # raw deflate (IIS)
    return bytes(out)


def _unbrotli(data: bytes, limit: int) -> bytes:
    import brotli

    out = bytearray()
    decompressor = brotli.Decompressor()
    _grow(out, decompressor.process(data, output_buffer_limit=_CHUNK), limit)
    while not decompressor.is_finished():
        chunk = decompressor.process(b"", output_buffer_limit=_CHUNK)
        if not chunk:
            break                   # truncated: what it held
        _grow(out, chunk, limit)
    return bytes(out)


def _unzstd(data: bytes, limit: int) -> bytes:
    import io

    from backports import zstd

    out = bytearray()
    reader = zstd.ZstdFile(io.BytesIO(data))       # reads frame after frame, a bounded read at a time
    while True:
        try:
            chunk = reader.read(_CHUNK)
        except EOFError:
            break                   # truncated: what it held
        if not chunk:
            break
        _grow(out, chunk, limit)
    return bytes(out)


_DECODERS = {"gzip": _gunzip, "x-gzip": _gunzip, "deflate": _inflate, "br": _unbrotli, "zstd": _unzstd}


_BAD_NAME = re.compile(rb"[\x00-\x20\x7f:]")        # a token has no control byte, space or colon
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # a value may hold a tab, no other control byte


def header_problem(raw_headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Why response headers are malformed (a NUL or other control byte in a name or value), or None."""
    for name, value in raw_headers:
        if not name or _BAD_NAME.search(name):
            return f"malformed header name {name[:40]!r}"
        if _BAD_VALUE.search(value):
            return f"control character in the {name[:40].decode('latin-1')} header"
    return None


def headers_dict(raw_headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers as both paths record them: names lower-cased, repeated headers joined by ', '."""
    out: dict[str, str] = {}
    for name, value in raw_headers:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def header_pairs(raw_headers: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    """Response headers as received, for the WARC: names in their case, in their order, repeats kept."""
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw_headers)


def decoded_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers of a decoded body: Content-Encoding is gone (the body no longer has it)."""
    return {k: v for k, v in headers.items() if k != "content-encoding"}


# -- retries

TRANSIENT_ERRORS = frozenset({ERR_TIMEOUT, ERR_CONNECT, ERR_DNS})
# Final on the first answer: too_large, bad_response, private_address, off_site, robots, redirects.


def retry_wanted(error: str | None, status: int | None, attempt: int, limits: Limits) -> bool:
    """Should this outcome of try number `attempt` (0 first) be tried again?"""
    if attempt >= limits.retries:
        return False
    if error is not None:
        return error in TRANSIENT_ERRORS
    return status in RETRY_STATUSES


def retry_after_seconds(value: str | bytes | None, now: dt.datetime | None = None) -> float:
    """Seconds a Retry-After header asks for: delay-seconds or an HTTP-date (RFC 9110 10.2.3); 0 when unreadable."""
    if value is None:
        return 0.0
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not text:
        return 0.0
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def retry_delay(attempt: int, retry_after: str | bytes | None, limits: Limits,
                now: dt.datetime | None = None) -> float:
    """Seconds to wait before try number attempt + 1: the backoff doubled per try, or longer when
    Retry-After asks, never more than RETRY_AFTER_CAP."""
    wait = limits.retry_backoff * (2 ** attempt)
    return min(max(wait, retry_after_seconds(retry_after, now)), RETRY_AFTER_CAP)


# -- robots.txt (RFC 9309)

class RobotsRules:
    """robots.txt rules of one origin, read the same way on both paths."""

    def __init__(self, text: str, *, status: int, closed: bool = False):
        self._rules = Protego.parse(text)
        self.status = status
        self.closed = closed      # a 5xx answer: complete disallow

    def refusal(self, url: str, user_agent: str = ROBOTS_USER_AGENT) -> tuple[str, str] | None:
        """(error code, detail) when robots.txt keeps url from being fetched, else None."""
        if self.closed:
            return ERR_ROBOTS_UNAVAILABLE, (f"robots.txt answered {self.status}, a server error: nothing is "
                                            "fetched from the portal (RFC 9309: assume complete disallow)")
        if not self._rules.can_fetch(url, user_agent):
            return ERR_ROBOTS, "robots.txt disallows"
        return None

    def allowed(self, url: str, user_agent: str = ROBOTS_USER_AGENT) -> bool:
        return self.refusal(url, user_agent) is None


def robots_rules(status: int | None, body: bytes) -> RobotsRules | None:
    """What a robots.txt answer means (RFC 9309 2.3.1): a 2xx body is parsed (its first 500 KiB,
    up to the last whole line);
    4xx is no restrictions (whatever its body says); 5xx is complete disallow, and the link is
    `unreachable`, as docs/verdicts.md says of a portal answering 5xx. None (no robots.txt to obey) when
    there was no answer at all: the page's own fetch then says whether the portal can be reached."""
    if status is None:
        return None
    if 200 <= status < 300:
        head = body[:ROBOTS_MAX_BYTES]
        if len(body) > ROBOTS_MAX_BYTES:
            head = head[:head.rfind(b"\n") + 1]     # a rule cut in two would be a shorter, wider rule
        return RobotsRules(head.decode("utf-8-sig", errors="ignore"), status=status)
    if 500 <= status < 600:
        return RobotsRules("", status=status, closed=True)
    return RobotsRules("", status=status)


# -- deadlines

class Deadline:
    """The time an exchange (or a whole check) must end by, on the monotonic clock."""

    def __init__(self, at: float | None = None):
        self.at = at

    @classmethod
    def after(cls, seconds: float, *, within: Deadline | None = None) -> Deadline:
        at = time.monotonic() + seconds
        if within is not None and within.at is not None:
            at = min(at, within.at)
        return cls(at)

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    @property
    def passed(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def bound(self, timeout: float | None) -> float | None:
        """timeout, shortened to what is left (at least a millisecond, so a socket call still times out)."""
        left = self.remaining()
        if left is None:
            return timeout
        left = max(left, 0.001)
        return left if timeout is None else min(timeout, left)


# -- the Fetch record

def body_digest(body: bytes) -> str:
    """The digest both paths record of a body: 'sha256:<hex>'."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def response_fetch(want_url: str, final_url: str, status: int, headers: dict[str, str], body: bytes, *,
                   fetched_at: dt.datetime, redirects: Iterable[str] = (), elapsed: float = 0.0,
                   method: str = "GET", request_body: bytes = b"", content_type: str | None = None,
                   hops: Iterable[Hop] = (), **received) -> Fetch:
    """The Fetch of a response, its digest computed over the body as stored (decoded). `received` holds
    what the path saw of the final response for the WARC (Fetch.http_version, reason, raw_headers, ...)."""
    return Fetch(url=want_url, final_url=final_url, status=status, headers=headers, body=body,
                 fetched_at=fetched_at, redirects=tuple(redirects), elapsed=elapsed, digest=body_digest(body),
                 method=method, request_body=request_body or b"", content_type=content_type, hops=tuple(hops),
                 **received)


def failed_fetch(want_url: str, final_url: str, error: str, detail: str, *, fetched_at: dt.datetime,
                 redirects: Iterable[str] = (), elapsed: float = 0.0, method: str = "GET",
                 request_body: bytes = b"", content_type: str | None = None, hops: Iterable[Hop] = (),
                 final_fetched_at: dt.datetime | None = None) -> Fetch:
    """The Fetch of a request that got no usable response, saying why (its redirects before, in `hops`)."""
    return Fetch(url=want_url, final_url=final_url, status=None, headers={}, body=b"", fetched_at=fetched_at,
                 error=error, error_detail=detail, redirects=tuple(redirects), elapsed=elapsed,
                 method=method, request_body=request_body or b"", content_type=content_type, hops=tuple(hops),
                 final_fetched_at=final_fetched_at)

