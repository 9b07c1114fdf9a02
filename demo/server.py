"""Loopback server for the bundled demo portals.

One threaded HTTP server on 127.0.0.1 hosts many fake agency portals on one
port, so registries keep real-looking host names (``sotuphap.caobang.gov.vn``)
and nothing ever leaves the machine:

* As an HTTP forward proxy: a request in absolute form
  (``GET http://sotuphap.caobang.gov.vn/node/12?page=1 HTTP/1.1``, what httpx
  and Scrapy send when ``http_proxy=http://127.0.0.1:PORT``) is answered from
  that host's content. A host that is not in the portal set gets ``502 Bad
  Gateway`` with a proxy-style error page, the way a real proxy reports a name
  it cannot resolve: that is how a dead agency host looks. ``CONNECT`` (https
  through the proxy) gets ``501``: the demo is plain http only.
* As an origin server: an origin-form request is answered by its ``Host:``
  header; ``Host: 127.0.0.1``/``localhost`` serves ``default_host`` when one
  was given, else 404.

The ``www.`` twin of every host serves the same site.

Content lives in ``<root>/portals/<host>/site.yaml`` plus the files it names
(see ``data/demo/README.md`` for the format). Routes match the path and the
query string exactly, with query parameter order ignored, blank parameters
and tracking parameters (``utm_*``, ``fbclid``...) dropped, like a real
application server does. Per route the content may ask for a status code,
a redirect, a delay, "fail N times then answer", a content type with or
without charset, bytes stored in a legacy encoding, an oversized body
generated on the fly, endless pagination generated on the fly, and an
ASP.NET ``__doPostBack`` form post.

Run standalone::

    python -m demo.server [--port N] [--root DIR] [--latency S]

Stdlib only, plus PyYAML.
"""

from __future__ import annotations

import argparse
import html
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

try:  # the C loader is much faster; fall back to the pure-Python one
    _YamlLoader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader  # type: ignore[misc]

__all__ = [
    "DEFAULT_ROOT",
    "PortalServer",
    "RequestLog",
    "Route",
    "Site",
    "SiteConfigError",
    "load_sites",
    "main",
]

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "data" / "demo"

#: Query parameters a real application ignores (campaign tracking, share links).
TRACKING_PARAMS = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|zarsrc|zalo_.*|_ga|mc_[a-z]+)$", re.I)

#: Host names that mean "the proxy itself" when seen in a Host header.
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0"}

DEFAULT_CONTENT_TYPE = "text/html; charset=utf-8"

_REASONS = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone",
    429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


class SiteConfigError(ValueError):
    """A site.yaml that cannot be served (names the file and the route)."""


@dataclass(frozen=True)
class RequestLog:
    """One request received by the server.

    ``host`` is the requested host name (lower-case, no port; the default host
    for direct access); ``target`` is the path and query as requested (origin
    form, tracking parameters included); ``status`` what was (or is being)
    answered; ``at`` the ``time.time()`` the request line was read.
    """

    host: str
    method: str
    target: str
    status: int
    at: float


# --------------------------------------------------------------------------
# Site configuration
# --------------------------------------------------------------------------


def _norm_path(path: str, case_insensitive: bool) -> str:
    path = unquote(path or "/") or "/"
    if not path.startswith("/"):
        path = "/" + path
    return path.lower() if case_insensitive else path


def _norm_query(pairs: Iterable[tuple[str, str]], case_insensitive: bool) -> tuple[tuple[str, str], ...]:
    out = []
    for k, v in pairs:
        if v == "" or TRACKING_PARAMS.match(k):
            continue
        out.append((k.lower() if case_insensitive else k, v))
    return tuple(sorted(out))


def split_target(target: str) -> tuple[str, list[tuple[str, str]]]:
    """``/a/b?x=1&y=`` -> ``("/a/b", [("x", "1"), ("y", "")])`` (fragment dropped)."""
    parts = urlsplit(target)
    return parts.path or "/", parse_qsl(parts.query, keep_blank_values=True)


@dataclass
class Route:
    """One entry of a site's ``routes:`` list (see data/demo/README.md)."""

    site: "Site"
    index: int
    path: str  # as written in site.yaml (path + optional query)
    method: str = "GET"
    status: int = 200
    file: Path | None = None
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    location: str | None = None
    delay: float = 0.0
    fail_times: int = 0
    fail_status: int = 503
    fail_headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    generate: dict | None = None
    endless: dict | None = None
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.site.host} {self.method} {self.path}"

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        if self.file is not None:
            return self.site.read(self.file)
        if self.status in (301, 302, 303, 307, 308):
            href = html.escape(self.location or "/", quote=True)
            return (f'<html><head><title>Object moved</title></head><body><h2>Object moved to '
                    f'<a href="{href}">here</a>.</h2></body></html>\n').encode()
        return _plain_error_page(self.status)


@dataclass
class Site:
    """A portal: one host name (and its ``www.`` twin) and its routes."""

    host: str
    directory: Path
    platform: str = ""
    agencies: list[str] = field(default_factory=list)
    server_header: str = "Apache"
    robots: str | None = None
    not_found_file: Path | None = None
    not_found_status: int = 404
    case_insensitive: bool = False
    content_type: str = DEFAULT_CONTENT_TYPE
    routes: list[Route] = field(default_factory=list)
    _exact: dict[tuple, Route] = field(default_factory=dict, repr=False)
    _posts: dict[tuple, list[Route]] = field(default_factory=dict, repr=False)
    _endless: dict[str, Route] = field(default_factory=dict, repr=False)
    _cache: dict[Path, bytes] = field(default_factory=dict, repr=False)

    # -- loading ---------------------------------------------------------
    @classmethod
    def load(cls, directory: Path) -> "Site":
        cfg_path = directory / "site.yaml"
        try:
            cfg = yaml.load(cfg_path.read_text(encoding="utf-8"), Loader=_YamlLoader) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SiteConfigError(f"{cfg_path}: cannot read: {exc}") from exc
        host = str(cfg.get("host") or directory.name).lower()
        if host != directory.name.lower():
            raise SiteConfigError(f"{cfg_path}: host {host!r} differs from the directory name")
        site = cls(
            host=host,
            directory=directory,
            platform=str(cfg.get("platform", "")),
            agencies=list(cfg.get("agencies") or []),
            server_header=str(cfg.get("server", "Apache")),
            robots=cfg.get("robots"),
            not_found_status=int(cfg.get("not_found_status", 404)),
            case_insensitive=bool(cfg.get("case_insensitive", False)),
            content_type=str(cfg.get("content_type", DEFAULT_CONTENT_TYPE)),
        )
        if cfg.get("not_found"):
            site.not_found_file = site._file(cfg["not_found"], "not_found")
        for i, raw in enumerate(cfg.get("routes") or []):
            site._add_route(i, raw, cfg_path)
        return site

    def _file(self, rel: str, where: str) -> Path:
        path = (self.directory / rel).resolve()
        if self.directory.resolve() not in path.parents:
            raise SiteConfigError(f"{self.directory}/site.yaml: {where}: file {rel!r} escapes the site directory")
        if not path.is_file():
            raise SiteConfigError(f"{self.directory}/site.yaml: {where}: file {rel!r} does not exist")
        return path

    def _add_route(self, index: int, raw: dict, cfg_path: Path) -> None:
        if not isinstance(raw, dict) or "path" not in raw:
            raise SiteConfigError(f"{cfg_path}: route #{index}: a mapping with a 'path' is required")
        where = f"route #{index} ({raw['path']})"
        known = {"path", "aliases", "method", "status", "file", "body", "content_type", "headers",
                 "location", "delay", "fail_times", "fail_status", "fail_headers", "form",
                 "generate", "endless", "note"}
        unknown = set(raw) - known
        if unknown:
            raise SiteConfigError(f"{cfg_path}: {where}: unknown keys {sorted(unknown)}")
        route = Route(
            site=self,
            index=index,
            path=str(raw["path"]),
            method=str(raw.get("method", "GET")).upper(),
            status=int(raw.get("status", 200)),
            file=self._file(raw["file"], where) if raw.get("file") else None,
            body=raw["body"].encode("utf-8") if isinstance(raw.get("body"), str) else None,
            content_type=raw.get("content_type"),
            headers={str(k): str(v) for k, v in (raw.get("headers") or {}).items()},
            location=raw.get("location"),
            delay=float(raw.get("delay", 0)),
            fail_times=int(raw.get("fail_times", 0)),
            fail_status=int(raw.get("fail_status", 503)),
            fail_headers={str(k): str(v) for k, v in (raw.get("fail_headers") or {}).items()},
            form={str(k): str(v) for k, v in (raw.get("form") or {}).items()},
            generate=raw.get("generate"),
            endless=raw.get("endless"),
            note=str(raw.get("note", "")),
        )
        if route.status in (301, 302, 303, 307, 308) and not route.location:
            raise SiteConfigError(f"{cfg_path}: {where}: a redirect needs 'location'")
        if route.generate is not None:
            if route.generate.get("kind") != "oversized" or int(route.generate.get("size", 0)) <= 0:
                raise SiteConfigError(f"{cfg_path}: {where}: generate needs kind: oversized and a size")
        if route.endless is not None:
            for key in ("param", "template", "item", "next"):
                if key not in route.endless:
                    raise SiteConfigError(f"{cfg_path}: {where}: endless needs {key!r}")
            route.endless = dict(route.endless)
            route.endless["template"] = self._file(route.endless["template"], where)
            path, pairs = split_target(route.path)
            if pairs:
                raise SiteConfigError(f"{cfg_path}: {where}: an endless route's path takes no query")
            self._endless[_norm_path(path, self.case_insensitive)] = route
        self.routes.append(route)
        if route.endless is not None:
            return
        for spelled in [route.path, *(raw.get("aliases") or [])]:
            key = self.key(*split_target(str(spelled)))
            if route.method == "POST":
                self._posts.setdefault(key, []).append(route)
                continue
            if key in self._exact:
                raise SiteConfigError(f"{cfg_path}: {where}: duplicate of {self._exact[key].path!r}")
            self._exact[key] = route

    # -- lookup ----------------------------------------------------------
    def key(self, path: str, pairs: Iterable[tuple[str, str]]) -> tuple:
        return (_norm_path(path, self.case_insensitive), _norm_query(pairs, self.case_insensitive))

    def read(self, path: Path) -> bytes:
        data = self._cache.get(path)
        if data is None:
            data = path.read_bytes()
            self._cache[path] = data
        return data

    def find(self, method: str, target: str, form: dict[str, str] | None = None) -> tuple[Route | None, dict]:
        """The route answering ``method target`` and extra info (endless page, slash redirect)."""
        path, pairs = split_target(target)
        key = self.key(path, pairs)
        if method == "POST":
            for route in self._posts.get(key, []):
                if all((form or {}).get(k) == v for k, v in route.form.items()):
                    return route, {}
        route = self._exact.get(key)
        if route is not None:
            return route, {}
        endless = self._endless.get(key[0])
        if endless is not None:
            param = endless.endless["param"]
            rest = [kv for kv in key[1] if kv[0] != param]
            values = [v for k, v in key[1] if k == param]
            if not rest and len(values) == 1 and values[0].isdigit() \
                    and int(values[0]) >= int(endless.endless.get("start", 1)):
                return endless, {"page": int(values[0])}
        # Apache DirectorySlash / WordPress canonical redirect: toggle the trailing slash.
        if path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if (self.key(other, pairs)) in self._exact:
                query = urlsplit(target).query
                return None, {"slash": other + ("?" + query if query else "")}
        return None, {}

    def not_found_body(self) -> bytes:
        if self.not_found_file is not None:
            return self.read(self.not_found_file)
        return _plain_error_page(404)


def load_sites(root: Path = DEFAULT_ROOT) -> dict[str, Site]:
    """Every site under ``root/portals`` (or ``root`` itself), by host name."""
    root = Path(root)
    portals = root / "portals" if (root / "portals").is_dir() else root
    sites: dict[str, Site] = {}
    for cfg in sorted(portals.glob("*/site.yaml")):
        site = Site.load(cfg.parent)
        sites[site.host] = site
    if not sites:
        raise SiteConfigError(f"{portals}: no */site.yaml found")
    return sites


def _plain_error_page(status: int) -> bytes:
    reason = _REASONS.get(status, "Error")
    return (f"<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>"
            f"<body><h1>{status} {reason}</h1></body></html>\n").encode()


def _proxy_error_page(host: str) -> bytes:
    h = html.escape(host)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>ERROR: The requested URL could not be retrieved</title></head><body>\n"
        "<h1>ERROR</h1>\n<h2>The requested URL could not be retrieved</h2>\n"
        f"<p>Unable to determine IP address from host name <b>{h}</b></p>\n"
        "<p>The DNS server returned: <tt>Name Error: The domain name does not exist.</tt></p>\n"
        "<p>This means that the cache was not able to resolve the hostname presented in the URL.</p>\n"
        "<hr><p>Generated by portal-evidence demo proxy (demo_server)</p>\n</body></html>\n"
    ).encode()


# --------------------------------------------------------------------------
# Generated bodies
# --------------------------------------------------------------------------

_FILLER = (b"%PDF-1.4 demo filler: bao cao tong hop so lieu nam 2018 - "
           b"noi dung tao tu dong de thu gioi han dung luong tai ve.\n") * 512


def _oversized(size: int, stop: threading.Event) -> Iterator[bytes]:
    sent = 0
    while sent < size and not stop.is_set():
        chunk = _FILLER[: min(len(_FILLER), size - sent)]
        sent += len(chunk)
        yield chunk


def _endless_page(route: Route, page: int) -> bytes:
    """A listing page ``page`` of an endless pagination (all posts old, dates going back)."""
    spec = route.endless or {}
    per_page = int(spec.get("per_page", 10))
    start = int(spec.get("start", 1))
    first = date.fromisoformat(str(spec.get("first_date", "2017-12-15")))
    step = int(spec.get("step_days", 7))
    fmt = str(spec.get("date_format", "%d/%m/%Y"))
    id_base = int(spec.get("id_base", 900000))
    items = []
    for i in range(per_page):
        n = (page - start) * per_page + i
        try:
            day = first - timedelta(days=n * step)
        except OverflowError:
            day = date(1990, 1, 1)
        if day < date(1990, 1, 1):
            day = date(1990, 1, 1)
        item = (spec["item"].replace("{{ID}}", str(id_base + n)).replace("{{N}}", str(n + 1))
                .replace("{{DATE}}", day.strftime(fmt)).replace("{{ISO}}", day.isoformat())
                .replace("{{ROW}}", str(i + 1)))
        items.append(item)
    display = page + int(spec.get("display_offset", 0))
    text = route.site.read(spec["template"]).decode("utf-8")
    text = (text.replace("{{ITEMS}}", "\n".join(items))
            .replace("{{NEXT}}", spec["next"].replace("{{NEXT_PAGE}}", str(page + 1)))
            .replace("{{PREV}}", spec.get("prev", spec["next"]).replace("{{PREV_PAGE}}", str(page - 1)))
            .replace("{{PAGE}}", str(page)).replace("{{DISPLAY}}", str(display)))
    return text.encode("utf-8")


# --------------------------------------------------------------------------
# HTTP machinery
# --------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # PortalServer.stop() closes the connections and joins itself
    allow_reuse_address = True
    request_queue_size = 128
    portal: "PortalServer"

    def handle_error(self, request, client_address):  # noqa: D401 - quiet on client hang-ups
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is closed after this
    server: _HTTPServer

    # -- connection bookkeeping -----------------------------------------
    def setup(self) -> None:
        super().setup()
        self.server.portal._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.portal._unregister(self.connection)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        if self.server.portal.verbose:
            sys.stderr.write("demo_server: %s - %s\n" % (self.address_string(), format % args))

    def version_string(self) -> str:
        return getattr(self, "_server_header", self.server_version)

    # -- methods -----------------------------------------------------------
    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def do_CONNECT(self) -> None:
        portal = self.server.portal
        received = time.time()
        host = self.path.rsplit(":", 1)[0].strip("[]").lower()
        portal._log(RequestLog(host, "CONNECT", self.path, 501, received))
        body = b"CONNECT (https through the proxy) is not supported by the demo proxy: use http://\n"
        self.close_connection = True
        self._write(501, [("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")], body, "CONNECT")

    # -- the request --------------------------------------------------------
    def _handle(self, method: str) -> None:
        portal = self.server.portal
        received = time.time()
        raw = self.path
        if raw.lower().startswith(("http://", "https://")):
            parts = urlsplit(raw)
            host = (parts.hostname or "").lower()
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
        elif raw.startswith("/"):
            host = (self.headers.get("Host") or "").lower().strip()
            if host.startswith("["):
                host = host[1: host.find("]")] if "]" in host else host
            else:
                host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
            target = raw
        else:
            self._read_body()
            portal._log(RequestLog("", method, raw, 400, received))
            self._write(400, [("Content-Type", "text/plain")], b"bad request target\n", method)
            return
        host = host.rstrip(".")
        if host in LOOPBACK_NAMES or host == portal.host:
            if portal.default_host:
                host = portal.default_host
            else:
                self._read_body()
                portal._log(RequestLog(host, method, target, 404, received))
                self._write(404, [("Content-Type", "text/plain; charset=utf-8")],
                            b"demo proxy: no default host; send absolute-form requests or a portal Host header\n",
                            method)
                return
        form = self._read_body()
        portal._enter(host)
        try:
            self._serve(portal, host, method, target, form, received)
        finally:
            portal._leave(host)

    def _read_body(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return {}
        data = self.rfile.read(length)
        ctype = self.headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" in ctype:
            return dict(parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True))
        return {}

    def _serve(self, portal: "PortalServer", host: str, method: str, target: str,
               form: dict[str, str], received: float) -> None:
        site = portal.site_for(host)
        if site is None:
            portal._log(RequestLog(host, method, target, 502, received))
            self._wait(portal.latency)
            self._write(502, [("Content-Type", "text/html; charset=utf-8"),
                              ("X-Squid-Error", "ERR_DNS_FAIL 0")], _proxy_error_page(host), method)
            return
        self._server_header = site.server_header
        path, _ = split_target(target)
        if path == "/robots.txt" and method in ("GET", "HEAD"):
            status = 200 if site.robots is not None else 404
            portal._log(RequestLog(host, method, target, status, received))
            self._wait(portal.latency)
            body = site.robots.encode("utf-8") if site.robots is not None else _plain_error_page(404)
            ctype = "text/plain; charset=utf-8" if site.robots is not None else "text/html; charset=utf-8"
            self._write(status, [("Content-Type", ctype)], body, method)
            return
        if method not in ("GET", "HEAD", "POST"):
            portal._log(RequestLog(host, method, target, 405, received))
            self._write(405, [("Allow", "GET, HEAD, POST"), ("Content-Type", "text/html")],
                        _plain_error_page(405), method)
            return
        route, extra = site.find("GET" if method == "HEAD" else method, target, form)
        if route is None:
            if "slash" in extra:
                portal._log(RequestLog(host, method, target, 301, received))
                self._wait(portal.latency)
                self._write(301, [("Location", f"http://{host}{extra['slash']}"),
                                  ("Content-Type", "text/html; charset=utf-8")],
                            _plain_error_page(301), method)
                return
            status = site.not_found_status
            portal._log(RequestLog(host, method, target, status, received))
            self._wait(portal.latency)
            self._write(status, [("Content-Type", site.content_type)], site.not_found_body(), method)
            return

        # fail N times, then answer
        if route.fail_times and portal._count(route) <= route.fail_times:
            status = route.fail_status
            portal._log(RequestLog(host, method, target, status, received))
            self._wait(portal.latency)
            headers = [("Content-Type", "text/html; charset=utf-8"), *route.fail_headers.items()]
            self._write(status, headers, _plain_error_page(status), method)
            return

        status = route.status
        portal._log(RequestLog(host, method, target, status, received))
        if not self._wait(portal.latency + route.delay):
            self.close_connection = True
            return
        ctype = route.content_type or site.content_type
        headers = [("Content-Type", ctype)]
        if route.location:
            loc = route.location
            if loc.startswith("/"):
                loc = f"http://{host}{loc}"
            headers.append(("Location", loc))
        headers.extend(route.headers.items())
        if route.generate is not None:
            size = int(route.generate["size"])
            send_length = bool(route.generate.get("content_length", True))
            self._write(status, headers, _oversized(size, portal._stop), method,
                        length=size if send_length else None)
            return
        if route.endless is not None:
            body = _endless_page(route, extra["page"])
        else:
            body = route.payload()
        self._write(status, headers, body, method)

    # -- output ----------------------------------------------------------------
    def _wait(self, seconds: float) -> bool:
        """Sleep, waking up early when the server stops; False if it stopped."""
        if seconds > 0:
            return not self.server.portal._stop.wait(seconds)
        return not self.server.portal._stop.is_set()

    def _write(self, status: int, headers: list[tuple[str, str]], body, method: str,
               length: int | None = -1) -> None:
        try:
            self.send_response(status, _REASONS.get(status))
            for name, value in headers:
                self.send_header(name, value)
            if isinstance(body, (bytes, bytearray)):
                self.send_header("Content-Length", str(len(body)))
            elif length is not None and length >= 0:
                self.send_header("Content-Length", str(length))
            else:
                self.close_connection = True
                self.send_header("Connection", "close")
            self.end_headers()
            if method == "HEAD":
                return
            if isinstance(body, (bytes, bytearray)):
                self.wfile.write(body)
            else:
                for chunk in body:
                    self.wfile.write(chunk)
                if self.server.portal._stop.is_set():
                    self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout, OSError):
            self.close_connection = True


class PortalServer:
    """The demo portals on loopback, as an HTTP proxy and an origin server.

    >>> with PortalServer() as server:                       # doctest: +SKIP
    ...     httpx.get(server.url("sotuphap.caobang.gov.vn", "/"), proxy=server.proxy_url)
    """

    def __init__(self, root: Path = DEFAULT_ROOT, *, host: str = "127.0.0.1", port: int = 0,
                 latency: float = 0.0, default_host: str | None = None, verbose: bool = False) -> None:
        self.root = Path(root)
        self.host = host
        self.port = port
        self.latency = float(latency)
        self.verbose = verbose
        self.sites = load_sites(self.root)
        self.default_host = default_host.lower() if default_host else None
        if self.default_host and self.site_for(self.default_host) is None:
            raise SiteConfigError(f"default_host {default_host!r} is not a served portal")
        self.requests: list[RequestLog] = []
        self.max_overlap: dict[str, int] = {}
        self._inflight: dict[str, int] = {}
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- public API --------------------------------------------------------
    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def hosts(self) -> list[str]:
        """The served host names (each also answers as ``www.<host>``)."""
        return sorted(self.sites)

    def url(self, host: str, path: str = "/") -> str:
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{host}{path}"

    def site_for(self, host: str) -> Site | None:
        host = host.lower().rstrip(".")
        site = self.sites.get(host)
        if site is None and host.startswith("www."):
            site = self.sites.get(host[4:])
        return site

    def start(self) -> "PortalServer":
        if self._httpd is not None:
            return self
        self._stop.clear()
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.portal = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"demo-portals:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self._lock:
            threads = list(self._threads)
        deadline = time.monotonic() + 5
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        self._httpd = None
        self._thread = None

    def reset(self) -> None:
        """Forget the request log, the overlap figures and the fail-N-times counters."""
        with self._lock:
            self.requests.clear()
            self.max_overlap.clear()
            self._counts.clear()

    def __enter__(self) -> "PortalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- bookkeeping (called from handler threads) ---------------------------
    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)
            self._threads.add(threading.current_thread())

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)
            self._threads.discard(threading.current_thread())

    def _log(self, entry: RequestLog) -> None:
        with self._lock:
            self.requests.append(entry)

    def _enter(self, host: str) -> None:
        with self._lock:
            n = self._inflight.get(host, 0) + 1
            self._inflight[host] = n
            if n > self.max_overlap.get(host, 0):
                self.max_overlap[host] = n

    def _leave(self, host: str) -> None:
        with self._lock:
            self._inflight[host] = self._inflight.get(host, 1) - 1

    def _count(self, route: Route) -> int:
        key = (route.site.host, route.index)
        with self._lock:
            n = self._counts.get(key, 0) + 1
            self._counts[key] = n
            return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.server",
                                     description="Serve the bundled demo portals on loopback (HTTP proxy + origin).")
    parser.add_argument("--port", type=int, default=8089, help="port to listen on (0: any free port; default 8089)")
    parser.add_argument("--bind", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="demo data directory (holding portals/)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--default-host", default=None, help="portal served to direct requests to 127.0.0.1")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    try:
        server = PortalServer(args.root, host=args.bind, port=args.port, latency=args.latency,
                              default_host=args.default_host, verbose=args.verbose)
        server.start()
    except (SiteConfigError, OSError) as exc:
        print(f"demo_server: {exc}", file=sys.stderr)
        return 2
    print(f"Demo portals served through the proxy {server.proxy_url}")
    print(f"  export http_proxy={server.proxy_url}")
    for h in server.hosts:
        print(f"  http://{h}/")
    print("Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
