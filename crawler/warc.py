"""Evidence as WARC (gzip, WARC 1.1): a response record and its request record per exchange.

Each exchange of a fetch is archived in the order it happened: every redirect hop (the 30x answer with
its Location, then the next request) and the final answer, as a `response` record followed by its
`request` record, which names the response in `WARC-Concurrent-To` (so `cdxj-indexer -p` joins them and
tells form posts apart). The response record holds the status line and the headers as the fetch path
received them: the spot-check (httpx) gives the protocol, the reason phrase and the header names in their
case and order; the crawl (Scrapy) gives normalised names and no reason phrase, and the record says so
in `WARC-Payload-Note`. Both paths decode bodies before storing them, so a record of a content-encoded
answer holds the body as the tool read it, not the bytes on the wire: the note names the coding removed
and the digest of the body as received; `Content-Encoding`/`Transfer-Encoding` are dropped from the
stored headers and `Content-Length` is set to the stored body. `WARC-IP-Address` is the server's
address connected to, when the path knows it (not through a proxy).
A fetch that got no response gets an `application/warc-fields` metadata record saying why (beside its
request record when a request went out; off-site, robots.txt and address refusals send none).
The file opens with a `warcinfo` record carrying the run's provenance.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import __version__
from crawler.records import (
    ERR_BAD_URL,
    ERR_OFF_SITE,
    ERR_PRIVATE,
    ERR_REDIRECT_LOOP,
    ERR_ROBOTS,
    ERR_ROBOTS_UNAVAILABLE,
    ERR_TOO_MANY_REDIRECTS,
    Fetch,
    Hop,
)

DROPPED_HEADERS = frozenset({"content-encoding", "transfer-encoding"})
# Failures decided before anything was sent: their metadata record has no request record beside it.
NOT_SENT = frozenset({ERR_OFF_SITE, ERR_ROBOTS, ERR_ROBOTS_UNAVAILABLE, ERR_PRIVATE, ERR_BAD_URL, ERR_REDIRECT_LOOP,
                      ERR_TOO_MANY_REDIRECTS})
RequestHeaders = Callable[[str, str | None], dict[str, str]]   # (url, content type) -> headers sent


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warcinfo_fields(provenance: dict | None, *, part_of: str | None = None) -> dict[str, str]:
    """The warcinfo fields of a file: software, format, isPartOf and each provenance key (nested keys
    joined by '-', lists by ' ', None left out), one line each."""
    fields = {"software": f"portal-evidence/{__version__}", "format": "WARC File Format 1.1",
              "description": "evidence of the e-government website verification"}
    if part_of:
        fields["isPartOf"] = part_of
    for key, value in _flat(provenance or {}):
        fields.setdefault(key, value)
    return {k: _field_text(v) for k, v in fields.items()}


def _flat(data: dict, prefix: str = ""):
    for key, value in data.items():
        name = f"{prefix}{key}".replace("_", "-")
        if isinstance(value, dict):
            yield from _flat(value, name + "-")
        elif value is None:
            continue
        elif isinstance(value, list | tuple):
            yield name, " ".join(str(v) for v in value)
        elif isinstance(value, bool):
            yield name, "yes" if value else "no"
        else:
            yield name, str(value)


def _field_text(value: str) -> str:
    """A warc-fields value on one line (a command line or a crawled text may hold a line break)."""
    return " ".join(str(value).split())


class WarcLog:
    """Appends fetches to one gzip WARC file; returns 'name#offset+length' of each final response record."""

    def __init__(self, path: Path, *, record_id: Callable[[], str] = _record_id, provenance: dict | None = None,
                 part_of: str | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("ab")
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        self._record_id = record_id
        self._lock = threading.Lock()
        if self._fh.tell() == 0:
            info = self._writer.create_warcinfo_record(self.path.name, warcinfo_fields(provenance, part_of=part_of))
            info.rec_headers.replace_header("WARC-Record-ID", self._record_id())
            self._write(info)

    def close(self) -> None:
        self._fh.close()

    def _write(self, record) -> tuple[int, int]:
        start = self._fh.tell()
        self._writer.write_record(record)
        self._fh.flush()
        return start, self._fh.tell() - start

    def log(self, fetch: Fetch, *, request_headers: dict[str, str] | RequestHeaders | None = None) -> str:
        """Write every exchange of the fetch: each redirect hop, then the final response (or a metadata
        record for a failure), each response followed by its request. `request_headers` gives the headers
        of a request (both paths take them from crawler.transport): a function of (url, content type),
        or one dict for every request of the fetch. Returns the final record's 'name#offset+length'."""
        if not callable(request_headers):
            fixed = dict(request_headers or {})

            def request_headers(_url, _content_type, fixed=fixed):
                return fixed
        with self._lock:
            last_response = None
            for hop in fetch.hops:
                response_id = last_response = self._record_id()
                self._response(hop.url, hop, hop.fetched_at, response_id)
                self._request(hop.url, hop.method, hop.request_body, hop.content_type, hop.fetched_at,
                              response_id, request_headers(hop.url, hop.content_type))
            target = fetch.final_url
            at = fetch.final_fetched_at or fetch.fetched_at
            record_id = self._record_id()
            if fetch.status is None:
                offset, length = self._failure(fetch, at, record_id, refers_to=last_response)
                if fetch.error not in NOT_SENT:      # a request that went out and got no usable answer
                    self._request(target, fetch.method, fetch.request_body, fetch.content_type, at, record_id,
                                  request_headers(target, fetch.content_type))
                return f"{self.path.name}#{offset}+{length}"
            offset, length = self._response(target, fetch, at, record_id)
            self._request(target, fetch.method, fetch.request_body, fetch.content_type, at, record_id,
                          request_headers(target, fetch.content_type))
            return f"{self.path.name}#{offset}+{length}"

    def _response(self, target: str, got: Fetch | Hop, at: dt.datetime, record_id: str) -> tuple[int, int]:
        received = got.raw_headers or tuple(getattr(got, "headers", {}).items())   # a Fetch built by hand
        headers, changed = stored_headers(received, len(got.body))
        notes = [got.header_note] if got.header_note else []
        if any(not value.isascii() for _name, value in headers):
            notes.append("header values that are not ASCII are %-encoded (RFC 8187), as warcio writes them")
        if changed or got.raw_digest:
            what = "; ".join(changed)
            notes.append(f"body as read by portal-evidence: {what}" +
                         (f"; the body as received had digest {got.raw_digest}" if got.raw_digest else ""))
        status = StatusAndHeaders(f"{got.status} {got.reason}".rstrip(), headers, protocol=got.http_version)
        extra = {"WARC-Date": _warc_date(at), "WARC-Record-ID": record_id}
        if got.ip_address:
            extra["WARC-IP-Address"] = got.ip_address
        if notes:
            extra["WARC-Payload-Note"] = _field_text(". ".join(notes))
        record = self._writer.create_warc_record(target, "response", payload=io.BytesIO(got.body),
                                                 length=len(got.body), http_headers=status,
                                                 warc_headers_dict=extra)
        return self._write(record)

    def _request(self, target: str, method: str, body: bytes, content_type: str | None, at: dt.datetime,
                 response_id: str, headers: dict[str, str]) -> None:
        path = target.split("://", 1)[-1]
        path = "/" + path.split("/", 1)[1] if "/" in path else "/"
        pairs = list(headers.items())
        if body:
            pairs.append(("Content-Length", str(len(body))))
        http = StatusAndHeaders(f"{method} {path} HTTP/1.1", pairs, is_http_request=True)
        record = self._writer.create_warc_record(target, "request", payload=io.BytesIO(body or b""),
                                                 http_headers=http, warc_headers_dict={
                                                     "WARC-Date": _warc_date(at), "WARC-Record-ID": self._record_id(),
                                                     "WARC-Concurrent-To": response_id})
        self._write(record)

    def _failure(self, fetch: Fetch, at: dt.datetime, record_id: str, *, refers_to: str | None) -> tuple[int, int]:
        fields = {"error": fetch.error or "", "detail": fetch.error_detail, "requested": fetch.url}
        text = "".join(f"{k}: {_field_text(v)}\r\n" for k, v in fields.items())
        extra = {"WARC-Date": _warc_date(at), "WARC-Record-ID": record_id}
        if refers_to:                      # the redirect that led here
            extra["WARC-Refers-To"] = refers_to
        record = self._writer.create_warc_record(fetch.final_url, "metadata", payload=io.BytesIO(text.encode()),
                                                 warc_content_type="application/warc-fields",
                                                 warc_headers_dict=extra)
        return self._write(record)


def stored_headers(received: tuple[tuple[str, str], ...], body_length: int) -> tuple[list, list[str]]:
    """The headers of a stored (decoded, de-chunked) body, in the order received, and what was changed:
    Content-Encoding and Transfer-Encoding dropped, Content-Length set to the stored body (where it was)."""
    out, changed, length_seen = [], [], False
    for name, value in received:
        lower = name.lower()
        if lower in DROPPED_HEADERS:
            changed.append(f"{name}: {value} removed")
        elif lower == "content-length":
            if not length_seen and value.strip() != str(body_length):
                changed.append(f"Content-Length {value.strip()} set to {body_length}")
            if not length_seen:
                out.append((name, str(body_length)))
            length_seen = True
        else:
            out.append((name, value))
    if not length_seen:
        out.append(("Content-Length", str(body_length)))
        changed.append(f"Content-Length {body_length} added")
    return out, changed


def _warc_date(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
