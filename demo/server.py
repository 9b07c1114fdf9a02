"""The loopback server: portals on 127.0.0.1 for the demo, the tests and the benchmark.

One threaded HTTP server on 127.0.0.1 hosts many portals on one port, so
registries keep real-looking host names (``sotuphap.caobang.gov.vn``) and
nothing ever leaves the machine:

* As an HTTP forward proxy: a request in absolute form
  (``GET http://sotuphap.caobang.gov.vn/node/12?page=1 HTTP/1.1``, what httpx
  and Scrapy send when ``http_proxy=http://127.0.0.1:PORT``) is answered from
  that host's content. A host the content does not serve gets ``502 Bad
  Gateway`` with a proxy-style error page, the way a real proxy reports a name
  it cannot resolve: that is how a dead agency host looks. ``CONNECT`` (https
  through the proxy) gets ``501``: the server is plain http only.
* As an origin server: an origin-form request is answered by its ``Host:``
  header; ``Host: 127.0.0.1``/``localhost`` serves ``default_host`` when one
  was given, else 404.

What a host answers is the *content*'s (see ``Content``); the server does the
rest, the same for every content: it parses the request, waits ``latency``
seconds before every answer (a slow portal) plus the reply's own delay, writes
the reply (bytes, or a stream with or without a length), logs every request
(``requests``: host, target, status, what kind of page, when it came and when
its answer was written) and keeps the most requests each site had in flight at
once (``max_overlap``). It never refuses or queues a request itself: a client
that is impolite shows up in ``max_overlap``, it is not hidden by the server.

Two contents:

* ``Portals``: folders ``<root>/portals/<host>/site.yaml`` plus the files it
  names (see ``data/demo/README.md`` for the format): the bundled demo
  portals (``data/demo``), the lab's recorded CMS installs (``tests/lab``) and
  the saved gov.vn pages (``tests/realpages``). Routes match the path and the
  query string exactly, with query parameter order ignored, blank parameters
  and tracking parameters (``utm_*``, ``fbclid``...) dropped, like a real
  application server does. Per route the content may ask for a status code,
  a redirect, a delay, "fail N times then answer", a content type with or
  without charset, bytes stored in a legacy encoding, an oversized body
  generated on the fly, endless pagination generated on the fly, and an
  ASP.NET ``__doPostBack`` form post. The ``www.`` twin of every host serves
  the same site; ``/robots.txt`` is the site's ``robots:``.
* the benchmark's farm (``bench/run.py``, ``FarmContent``): pages rendered
  from the URL.

Run standalone (the demo portals, or any folder of portals)::

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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from verifier.resources import bundled

try:  # the C loader is much faster; fall back to the pure-Python one
    _YamlLoader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader  # type: ignore[misc]

__all__ = [
    "DEFAULT_ROOT",
    "Content",
    "LoopbackServer",
    "PortalServer",
    "Portals",
    "Reply",
    "Request",
    "RequestLog",
    "Route",
    "Site",
    "SiteConfigError",
    "load_sites",
    "main",
]

# The bundled demo portals: data/demo of the repository, installed as the package data of demo.data.
DEFAULT_ROOT = bundled("demo.data", "data/demo")

#: Query parameters a real application ignores (campaign tracking, share links).
TRACKING_PARAMS = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|zarsrc|zalo_.*|_ga|mc_[a-z]+)$", re.I)

#: Host names that mean "the proxy itself" when seen in a Host header.
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0"}

DEFAULT_CONTENT_TYPE = "text/html; charset=utf-8"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)

_REASONS = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone",
    429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


class SiteConfigError(ValueError):
    """A site.yaml that cannot be served (names the file and the route)."""


@dataclass
class RequestLog:
    """One request received by the server.

    ``host`` is the requested host name (lower-case, no port; the default host
    for direct access); ``site`` the content's name for it (the ``www.`` twin
    folded; the host itself when the content does not serve it); ``target`` the
    path and query as requested (origin form, tracking parameters included);
    ``status`` what was (or is being) answered; ``kind`` what the content says
    the page is (``robots``, ``listing``, ``not_found``, ``unknown_host``...);
    ``at`` the ``time.time()`` the request line was read; ``started`` and
    ``finished`` the ``time.monotonic()`` the request was read and its answer
    written (``finished`` is None while it is being answered).
    """

    host: str
    method: str
    target: str
    status: int
    at: float
    site: str = ""
    kind: str = ""
    started: float = 0.0
    finished: float | None = None


@dataclass(frozen=True)
class Request:
    """What a content is asked: the host as requested, its site, the method, the target and a posted form."""

    host: str
    site: str
    method: str
    target: str
    form: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    """A content's answer. ``body`` is bytes or an iterable of byte chunks (streamed, sent with
    ``length`` as its Content-Length when given, else until the connection closes); ``delay``
    is waited on top of the server's latency; ``server`` is the Server header."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | Iterable[bytes]
    kind: str = ""
    delay: float = 0.0
    length: int | None = None
    server: str = "Apache"


class Content(Protocol):
    """What the server serves: which hosts, and the answer to each request."""

    def site_for(self, host: str) -> str | None:
        """The content's name of the site a host names (lower-case, no port), or None: not served (502)."""

    def answer(self, request: Request) -> Reply:
        """The reply to a request for a served site."""

    def reset(self) -> None:
        """Forget any state kept between requests (fail-N-times counters)."""


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

    site: Site
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

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        if self.file is not None:
            return self.site.read(self.file)
        if self.status in REDIRECT_STATUSES:
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
    def load(cls, directory: Path) -> Site:
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
        if route.status in REDIRECT_STATUSES and not route.location:
            raise SiteConfigError(f"{cfg_path}: {where}: a redirect needs 'location'")
        if route.generate is not None and (route.generate.get("kind") != "oversized"
                                           or int(route.generate.get("size", 0)) <= 0):
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
        "<hr><p>Generated by portal-evidence demo proxy (demo.server)</p>\n</body></html>\n"
    ).encode()


# --------------------------------------------------------------------------
# Generated bodies
# --------------------------------------------------------------------------

_FILLER = (b"%PDF-1.4 demo filler: bao cao tong hop so lieu nam 2018 - "
           b"noi dung tao tu dong de thu gioi han dung luong tai ve.\n") * 512


def _oversized(size: int) -> Iterator[bytes]:
    """``size`` bytes of filler, a chunk at a time (the server stops writing when it stops)."""
    sent = 0
    while sent < size:
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
# Portals: site.yaml folders as content
# --------------------------------------------------------------------------


class Portals:
    """Content: portals, each a folder holding a site.yaml (see data/demo/README.md), by host name."""

    def __init__(self, sites: dict[str, Site]) -> None:
        self.sites = sites
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, root: Path = DEFAULT_ROOT) -> Portals:
        return cls(load_sites(root))

    def site_for(self, host: str) -> str | None:
        """The portal a host names: its own folder, or its twin's for ``www.<host>``."""
        host = host.lower().rstrip(".")
        if host in self.sites:
            return host
        if host.startswith("www.") and host[4:] in self.sites:
            return host[4:]
        return None

    def reset(self) -> None:
        """Re-arm every fail-N-times route."""
        with self._lock:
            self._counts.clear()

    def _count(self, route: Route) -> int:
        """How many times the route was asked for, this one included."""
        key = (route.site.host, route.index)
        with self._lock:
            n = self._counts.get(key, 0) + 1
            self._counts[key] = n
            return n

    def answer(self, request: Request) -> Reply:
        """robots.txt, a route of site.yaml (its status, redirect, delay, failures, generated body), the trailing
        slash redirect of a route spelled the other way, or the site's not-found page."""
        site = self.sites[request.site]
        method, target = request.method, request.target

        def reply(status, headers, body, kind, **kw) -> Reply:
            return Reply(status, headers, body, kind, server=site.server_header, **kw)

        path, _ = split_target(target)
        if path == "/robots.txt" and method in ("GET", "HEAD"):
            if site.robots is None:
                return reply(404, [("Content-Type", DEFAULT_CONTENT_TYPE)], _plain_error_page(404), "robots")
            return reply(200, [("Content-Type", "text/plain; charset=utf-8")], site.robots.encode("utf-8"), "robots")
        if method not in ("GET", "HEAD", "POST"):
            return reply(405, [("Allow", "GET, HEAD, POST"), ("Content-Type", "text/html")],
                         _plain_error_page(405), "method_not_allowed")
        route, extra = site.find("GET" if method == "HEAD" else method, target, request.form)
        if route is None:
            if "slash" in extra:
                return reply(301, [("Location", f"http://{request.host}{extra['slash']}"),
                                   ("Content-Type", DEFAULT_CONTENT_TYPE)], _plain_error_page(301), "slash")
            return reply(site.not_found_status, [("Content-Type", site.content_type)], site.not_found_body(),
                         "not_found")
        if route.fail_times and self._count(route) <= route.fail_times:     # fail N times, then answer
            return reply(route.fail_status, [("Content-Type", DEFAULT_CONTENT_TYPE), *route.fail_headers.items()],
                         _plain_error_page(route.fail_status), "failing")
        headers = [("Content-Type", route.content_type or site.content_type)]
        if route.location:
            loc = route.location
            if loc.startswith("/"):
                loc = f"http://{request.host}{loc}"
            headers.append(("Location", loc))
        headers.extend(route.headers.items())
        if route.generate is not None:
            size = int(route.generate["size"])
            length = size if route.generate.get("content_length", True) else None
            return reply(route.status, headers, _oversized(size), "oversized", delay=route.delay, length=length)
        if route.endless is not None:
            return reply(route.status, headers, _endless_page(route, extra["page"]), "endless", delay=route.delay)
        return reply(route.status, headers, route.payload(), "route", delay=route.delay)


# --------------------------------------------------------------------------
# HTTP machinery
# --------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # LoopbackServer.stop() closes the connections and joins itself
    allow_reuse_address = True
    request_queue_size = 256  # a crawl opens many connections at once: never refuse one
    loopback: LoopbackServer

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):  # quiet on client hang-ups
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
        self.server.loopback._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.loopback._unregister(self.connection)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        if self.server.loopback.verbose:
            sys.stderr.write(f"demo.server: {self.address_string()} - {format % args}\n")

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
        loopback = self.server.loopback
        host = self.path.rsplit(":", 1)[0].strip("[]").lower()
        entry = loopback._log(host, host, "CONNECT", self.path, 501, "connect")
        body = b"CONNECT (https through the proxy) is not supported by the loopback server: use http://\n"
        self.close_connection = True
        self._write(Reply(501, [("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")], body),
                    "CONNECT")
        entry.finished = time.monotonic()

    # -- the request --------------------------------------------------------
    def _handle(self, method: str) -> None:
        loopback = self.server.loopback
        raw = self.path
        if raw.lower().startswith(("http://", "https://")):
            parts = urlsplit(raw)
            host = (parts.hostname or "").lower()
            target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        elif raw.startswith("/"):
            host = (self.headers.get("Host") or "").lower().strip()
            if host.startswith("["):
                host = host[1: host.find("]")] if "]" in host else host
            else:
                host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
            target = raw
        else:
            self._read_body()
            self._answer_now(loopback._log("", "", method, raw, 400, "bad_request"),
                             Reply(400, [("Content-Type", "text/plain")], b"bad request target\n"), method)
            return
        host = host.rstrip(".")
        if host in LOOPBACK_NAMES or host == loopback.host:
            if not loopback.default_host:
                self._read_body()
                body = b"loopback server: no default host; send absolute-form requests or a portal Host header\n"
                self._answer_now(loopback._log(host, host, method, target, 404, "no_default_host"),
                                 Reply(404, [("Content-Type", "text/plain; charset=utf-8")], body), method)
                return
            host = loopback.default_host
        form = self._read_body()
        site = loopback.content.site_for(host)
        loopback._enter(site or host)
        try:
            if site is None:
                reply = Reply(502, [("Content-Type", DEFAULT_CONTENT_TYPE), ("X-Squid-Error", "ERR_DNS_FAIL 0")],
                              _proxy_error_page(host), "unknown_host")
            else:
                reply = loopback.content.answer(Request(host, site, method, target, form))
            entry = loopback._log(host, site or host, method, target, reply.status, reply.kind)
            if not self._wait(loopback.latency + reply.delay):
                self.close_connection = True           # the server stops: no answer
            else:
                self._write(reply, method)
            entry.finished = time.monotonic()
        finally:
            loopback._leave(site or host)

    def _answer_now(self, entry: RequestLog, reply: Reply, method: str) -> None:
        self._write(reply, method)
        entry.finished = time.monotonic()

    def _read_body(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return {}
        data = self.rfile.read(length)
        if "application/x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
            return dict(parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True))
        return {}

    # -- output ----------------------------------------------------------------
    def _wait(self, seconds: float) -> bool:
        """Sleep, waking up early when the server stops; False if it stopped."""
        stop = self.server.loopback._stop
        return not (stop.wait(seconds) if seconds > 0 else stop.is_set())

    def _write(self, reply: Reply, method: str) -> None:
        stop = self.server.loopback._stop
        self._server_header = reply.server
        body = reply.body
        try:
            self.send_response(reply.status, _REASONS.get(reply.status))
            for name, value in reply.headers:
                self.send_header(name, value)
            if isinstance(body, (bytes, bytearray)):
                self.send_header("Content-Length", str(len(body)))
            elif reply.length is not None:
                self.send_header("Content-Length", str(reply.length))
            else:
                self.close_connection = True
                self.send_header("Connection", "close")
            self.end_headers()
            if method == "HEAD":
                return
            if isinstance(body, (bytes, bytearray)):
                self.wfile.write(body)
                return
            for chunk in body:
                if stop.is_set():
                    self.close_connection = True
                    break
                self.wfile.write(chunk)
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True


class LoopbackServer:
    """A content served on loopback, as an HTTP proxy and an origin server; a context manager.

    >>> with LoopbackServer(Portals.load()) as server:                       # doctest: +SKIP
    ...     httpx.get("http://sotuphap.caobang.gov.vn/", proxy=server.proxy_url)
    """

    def __init__(self, content: Content, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0,
                 default_host: str | None = None, verbose: bool = False) -> None:
        self.content = content
        self.host = host
        self.port = port
        self.latency = float(latency)
        self.verbose = verbose
        self.default_host = default_host.lower() if default_host else None
        if self.default_host and content.site_for(self.default_host) is None:
            raise SiteConfigError(f"default_host {default_host!r} is not a served portal")
        self.requests: list[RequestLog] = []
        self.max_overlap: dict[str, int] = {}
        self._inflight: dict[str, int] = {}
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

    def start(self) -> LoopbackServer:
        if self._httpd is not None:
            return self
        self._stop.clear()
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.loopback = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"loopback:{self.port}", daemon=True)
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
        """Forget the request log, the overlap figures and the content's state (fail-N-times counters)."""
        with self._lock:
            self.requests.clear()
            self.max_overlap.clear()
        self.content.reset()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- figures from the request log ----------------------------------------
    def log(self) -> list[RequestLog]:
        """A copy of the request log (handler threads keep appending to it)."""
        with self._lock:
            return list(self.requests)

    def tally(self, attribute: str) -> Counter:
        """Requests by one attribute of their log entry: ``tally("site")``, ``tally("status")``, ``tally("kind")``."""
        return Counter(getattr(entry, attribute) for entry in self.log())

    @property
    def window(self) -> float:
        """Seconds from the first request received to the last answer written."""
        done = [e for e in self.log() if e.finished is not None]
        if not done:
            return 0.0
        return max(e.finished for e in done) - min(e.started for e in done)

    def concurrency_profile(self, buckets: int = 10) -> list[float]:
        """Mean requests in flight (all sites) in each of `buckets` equal parts of the window."""
        done = [e for e in self.log() if e.finished is not None]
        events = sorted([(e.started, 1) for e in done] + [(e.finished, -1) for e in done])
        if len(events) < 2:
            return []
        t0, t1 = events[0][0], events[-1][0]
        width = (t1 - t0) / buckets or 1.0
        area = [0.0] * buckets
        inflight = 0
        for (ta, change), (tb, _) in zip(events, events[1:]):
            inflight += change
            while ta < tb:
                k = min(buckets - 1, int((ta - t0) / width))
                end = min(tb, t0 + (k + 1) * width)
                if end <= ta:           # float edge at the last bucket
                    end = tb
                area[k] += inflight * (end - ta)
                ta = end
        return [round(a / width, 2) for a in area]

    # -- bookkeeping (called from handler threads) ---------------------------
    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)
            self._threads.add(threading.current_thread())

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)
            self._threads.discard(threading.current_thread())

    def _log(self, host: str, site: str, method: str, target: str, status: int, kind: str) -> RequestLog:
        entry = RequestLog(host, method, target, status, time.time(), site, kind, time.monotonic())
        with self._lock:
            self.requests.append(entry)
        return entry

    def _enter(self, site: str) -> None:
        with self._lock:
            n = self._inflight.get(site, 0) + 1
            self._inflight[site] = n
            if n > self.max_overlap.get(site, 0):
                self.max_overlap[site] = n

    def _leave(self, site: str) -> None:
        with self._lock:
            self._inflight[site] = self._inflight.get(site, 1) - 1


class PortalServer(LoopbackServer):
    """The portals under ``root`` (default: the bundled demo portals) on loopback."""

    def __init__(self, root: Path = DEFAULT_ROOT, **options) -> None:
        self.root = Path(root)
        super().__init__(Portals.load(self.root), **options)

    @property
    def sites(self) -> dict[str, Site]:
        return self.content.sites

    @property
    def hosts(self) -> list[str]:
        """The served host names (each also answers as ``www.<host>``)."""
        return sorted(self.content.sites)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.server",
                                     description="Serve portals on loopback (HTTP proxy + origin): by default "
                                                 "the bundled demo portals.")
    parser.add_argument("--port", type=int, default=8089, help="port to listen on (0: any free port; default 8089)")
    parser.add_argument("--bind", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="directory holding portals/ (or the portals)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--default-host", default=None, help="portal served to direct requests to 127.0.0.1")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    try:
        server = PortalServer(args.root, host=args.bind, port=args.port, latency=args.latency,
                              default_host=args.default_host, verbose=args.verbose)
        server.start()
    except (SiteConfigError, OSError) as exc:
        print(f"demo.server: {exc}", file=sys.stderr)
        return 2
    print(f"Portals served through the proxy {server.proxy_url}")
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
