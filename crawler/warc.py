"""Evidence as WARC (gzip, WARC 1.1): a request record and a response record per fetch.

Both fetch paths decompress bodies before storing them, so a response record
holds the body as the tool read it, not the bytes on the wire: the record says
so in `WARC-Payload-Note`, `Content-Encoding`/`Transfer-Encoding` are dropped
from the stored headers and `Content-Length` is set to the stored body.
A fetch that got no response gets a `metadata` record saying why.
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
from crawler.records import Fetch

PAYLOAD_NOTE = "body as read by portal-evidence after HTTP decompression; Content-Encoding removed"
DROPPED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
           307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 410: "Gone", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


class WarcLog:
    """Appends fetches to one gzip WARC file; returns 'name#offset+length' of each response record."""

    def __init__(self, path: Path, *, record_id: Callable[[], str] = _record_id):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("ab")
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        self._record_id = record_id
        self._lock = threading.Lock()
        if self._fh.tell() == 0:
            info = self._writer.create_warcinfo_record(self.path.name, {
                "software": f"portal-evidence/{__version__}", "format": "WARC File Format 1.1",
                "description": "evidence of the e-government website verification",
            })
            self._write(info)

    def close(self) -> None:
        self._fh.close()

    def _write(self, record) -> tuple[int, int]:
        start = self._fh.tell()
        self._writer.write_record(record)
        self._fh.flush()
        return start, self._fh.tell() - start

    def _warc_headers(self, fetch: Fetch, extra: dict | None = None) -> dict:
        headers = {"WARC-Date": _warc_date(fetch.fetched_at), "WARC-Record-ID": self._record_id()}
        headers.update(extra or {})
        return headers

    def log(self, fetch: Fetch, *, request_headers: dict[str, str] | None = None) -> str:
        """Write the request and the response (or a metadata record for a failure).
        The request record is the fetch's final request (method and body from the Fetch) with
        request_headers, which both paths take from crawler.transport.warc_request_headers."""
        method, request_body = fetch.method, fetch.request_body
        with self._lock:
            target = fetch.final_url
            path = target.split("://", 1)[-1]
            path = "/" + path.split("/", 1)[1] if "/" in path else "/"
            req_headers = StatusAndHeaders(f"{method} {path} HTTP/1.1",
                                           list((request_headers or {}).items()), is_http_request=True)
            request = self._writer.create_warc_record(target, "request", payload=io.BytesIO(request_body or b""),
                                                      http_headers=req_headers,
                                                      warc_headers_dict=self._warc_headers(fetch))
            self._write(request)
            if fetch.status is None:
                text = f"error: {fetch.error}\ndetail: {fetch.error_detail}\nrequested: {fetch.url}\n"
                meta = self._writer.create_warc_record(target, "metadata", payload=io.BytesIO(text.encode()),
                                                       warc_content_type="text/plain",
                                                       warc_headers_dict=self._warc_headers(fetch))
                offset, length = self._write(meta)
                return f"{self.path.name}#{offset}+{length}"
            headers = [(k, v) for k, v in fetch.headers.items() if k.lower() not in DROPPED_HEADERS]
            headers.append(("Content-Length", str(len(fetch.body))))
            status = StatusAndHeaders(f"{fetch.status} {REASONS.get(fetch.status, 'Unknown')}", headers,
                                      protocol="HTTP/1.1")
            extra = {"WARC-Payload-Note": PAYLOAD_NOTE}
            if fetch.redirects:
                extra["WARC-Redirected-From"] = " ".join(fetch.redirects)
            response = self._writer.create_warc_record(target, "response", payload=io.BytesIO(fetch.body),
                                                       length=len(fetch.body), http_headers=status,
                                                       warc_headers_dict=self._warc_headers(fetch, extra))
            offset, length = self._write(response)
            return f"{self.path.name}#{offset}+{length}"


def _warc_date(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
