"""The farm on loopback: one threaded HTTP forward proxy serving every farm host.

Set ``http_proxy=server.proxy_url`` and the crawl's requests for
``http://sotuphap0.caobang.gov.vn/...`` arrive here in absolute form; an
origin-form request is answered by its ``Host:`` header. Every response waits
``latency`` seconds first (a slow portal). Per host the server counts the
requests it answered and the most requests it had in flight at once
(``max_overlap``), from reading the request line to the end of writing the
response, so the benchmark can show the crawl stayed within its per-host
concurrency. It never refuses or queues a request itself: a crawl that is
impolite shows up in ``max_overlap``, it is not hidden by the server.

Stdlib only; a thread per connection (keep-alive honoured).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from bench.farm import Farm

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256          # a crawl opens many connections at once: never refuse one


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    timeout = 60

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass

    def do_GET(self):
        self._answer(head=False)

    def do_HEAD(self):
        self._answer(head=True)

    def do_CONNECT(self):
        self.send_error(501, "CONNECT not supported (the farm is plain http)")

    def _answer(self, head: bool) -> None:
        farm_server: FarmServer = self.server.farm_server
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            host = (parts.hostname or "").lower()
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        else:
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            target = self.path
        if host in LOOPBACK_NAMES and farm_server.default_host:
            host = farm_server.default_host
        host = host.removeprefix("www.")
        farm_server._enter(host)
        try:
            if farm_server.latency > 0:
                time.sleep(farm_server.latency)
            status, ctype, body, kind = farm_server.farm.respond(host, target)
            farm_server._served(host, status, kind)
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
                self.close_connection = True
        finally:
            farm_server._leave(host)


class FarmServer:
    """Serve a Farm on 127.0.0.1 (any free port unless given); use as a context manager."""

    def __init__(self, farm: Farm, *, latency: float = 0.0, port: int = 0, default_host: str | None = None):
        self.farm = farm
        self.latency = float(latency)
        self.port = port
        self.default_host = default_host
        self.requests: Counter = Counter()          # host -> requests answered
        self.statuses: Counter = Counter()          # status -> requests
        self.kinds: Counter = Counter()             # robots / home / listing / article / other
        self.max_overlap: dict[str, int] = {}
        self.first_at: float | None = None          # time.monotonic() of the first request
        self.last_at: float | None = None           # ... and of the end of the last response
        self._inflight: Counter = Counter()
        self.host_span: dict[str, list[float]] = {}  # host -> [first request received, last response written]
        self.timeline: list[tuple[float, int]] = []  # (time.monotonic(), requests in flight on all hosts) at each change
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FarmServer":
        httpd = _HTTPServer(("127.0.0.1", self.port), _Handler)
        httpd.farm_server = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"bench-farm:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def reset(self) -> None:
        """Forget the counts (between two runs on the same farm)."""
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.kinds.clear()
            self.max_overlap.clear()
            self.timeline.clear()
            self.host_span.clear()
            self.first_at = self.last_at = None

    def __enter__(self) -> "FarmServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def busiest(self) -> tuple[str | None, int]:
        """(host, requests) of the host that answered most requests."""
        return max(self.requests.items(), key=lambda kv: kv[1]) if self.requests else (None, 0)

    @property
    def window(self) -> float:
        """Seconds from the first request received to the last response written."""
        if self.first_at is None or self.last_at is None:
            return 0.0
        return self.last_at - self.first_at

    def concurrency_profile(self, buckets: int = 10) -> list[float]:
        """Mean requests in flight (all hosts) in each of `buckets` equal parts of the window."""
        if len(self.timeline) < 2:
            return []
        t0, t1 = self.timeline[0][0], self.timeline[-1][0]
        width = (t1 - t0) / buckets or 1.0
        area = [0.0] * buckets
        for (ta, n), (tb, _) in zip(self.timeline, self.timeline[1:]):
            while ta < tb:
                k = min(buckets - 1, int((ta - t0) / width))
                end = min(tb, t0 + (k + 1) * width)
                if end <= ta:           # float edge at the last bucket
                    end = tb
                area[k] += n * (end - ta)
                ta = end
        return [round(a / width, 2) for a in area]

    # -- bookkeeping, from handler threads

    def _enter(self, host: str) -> None:
        with self._lock:
            if self.first_at is None:
                self.first_at = time.monotonic()
            self._inflight[host] += 1
            if self._inflight[host] > self.max_overlap.get(host, 0):
                self.max_overlap[host] = self._inflight[host]
            now = time.monotonic()
            self.host_span.setdefault(host, [now, now])
            self.timeline.append((now, sum(self._inflight.values())))

    def _served(self, host: str, status: int, kind: str) -> None:
        with self._lock:
            self.requests[host] += 1
            self.statuses[status] += 1
            self.kinds[kind] += 1

    def _leave(self, host: str) -> None:
        with self._lock:
            self._inflight[host] -= 1
            self.last_at = time.monotonic()
            if host in self.host_span:
                self.host_span[host][1] = self.last_at
            self.timeline.append((self.last_at, sum(self._inflight.values())))
