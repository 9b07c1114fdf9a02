"""Record what a real CMS install answers, as fixtures the project's loopback server replays.

The lab's portals are real CMS installs (WordPress, NukeViet, Drupal) run on this
machine on loopback under a lab host name (``sotuphap-wp.lab.vn``). This records
them breadth-first from seed URLs: every exchange (status, content type,
redirect target, body) becomes a route of ``<out>/<host>/site.yaml``, the format
``demo/server.py`` serves, and the body a file beside it. Redirects are
recorded, not followed; their targets are queued like links. ``/robots.txt`` is
always recorded. Re-recording a host replaces the routes it records again and
keeps the others.

    python -m tests.lab.record --out tests/lab/portals \\
        --map sotuphap-wp.lab.vn=127.0.0.1:8081 --seed http://sotuphap-wp.lab.vn/ --depth 3

Only hosts given with ``--map`` are fetched, always from their mapped loopback
address with the lab host name in the ``Host`` header: nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import lxml.html
import yaml

from demo.server import Site, split_target

# Pages a reader never reaches from the portal's own links (admin, sign-in, comment forms, APIs).
DEFAULT_SKIP = (r"/wp-admin|/wp-login|/wp-json|xmlrpc\.php|/wp-includes|/wp-content/(plugins|themes|uploads)/"
                r"|[?&]replytocom=|/user/(login|register|password)|[?&]nv=users|/admin(/|\.php|$)|/comment/reply"
                r"|[?&]share=|/embed/?$|[?&](amp|print)=|/trackback/?$|[?&]rest_route=|/oembed|[?&]q=user"
                r"|[?&]destination=|/install\.php|/update\.php|/cron\.php")
# Files that are not pages: never fetched.
SKIP_EXT = re.compile(r"\.(jpe?g|png|gif|webp|svg|ico|css|js|woff2?|ttf|eot|pdf|docx?|xlsx?|pptx?|zip|rar|mp4|mp3)"
                      r"(\?.*)?$", re.I)
# Content types whose bodies are kept; others are recorded as a status with an empty body.
KEPT_TYPES = re.compile(r"text/html|xml|rss|atom|text/plain|json", re.I)
REDIRECTS = (301, 302, 303, 307, 308)
MAX_BODY = 3 * 1024 * 1024


@dataclass
class Exchange:
    url: str
    status: int
    content_type: str
    location: str | None
    body: bytes
    server: str


def _host_port(value: str) -> tuple[str, str]:
    host, _, addr = value.partition("=")
    if not host or not addr or not re.fullmatch(r"127\.\d+\.\d+\.\d+:\d+|localhost:\d+|\[::1\]:\d+", addr):
        raise argparse.ArgumentTypeError(f"--map wants HOST=127.0.0.1:PORT (loopback only), not {value!r}")
    return host.lower(), addr


def fetch(client: httpx.Client, url: str, mapping: dict[str, str]) -> Exchange:
    """One GET of a lab URL from its loopback address, redirects not followed."""
    parts = urlsplit(url)
    addr = mapping[parts.hostname]
    local = urlunsplit(("http", addr, parts.path or "/", parts.query, ""))
    response = client.get(local, headers={"Host": parts.netloc}, follow_redirects=False)
    ctype = response.headers.get("content-type", "")
    body = response.content if KEPT_TYPES.search(ctype) else b""
    location = response.headers.get("location")
    if location:
        location = urljoin(url, location)
        loc = urlsplit(location)
        if loc.netloc in mapping.values():      # a CMS that answered with its loopback address
            location = urlunsplit((loc.scheme, parts.netloc, loc.path, loc.query, ""))
    return Exchange(url, response.status_code, ctype, location, body[:MAX_BODY], response.headers.get("server", ""))


def links(exchange: Exchange) -> list[str]:
    """Absolute URLs an HTML page links to (anchors, alternate links, frames)."""
    if "html" not in exchange.content_type.lower() or not exchange.body.strip():
        return []
    try:
        doc = lxml.html.document_fromstring(exchange.body, base_url=exchange.url)
    except (ValueError, lxml.etree.ParserError):
        return []
    base = exchange.url
    base_el = doc.find(".//base[@href]")
    if base_el is not None:
        base = urljoin(exchange.url, base_el.get("href"))
    out = []
    for el in doc.xpath("//a[@href] | //link[@href][contains(@rel,'alternate') or contains(@rel,'next')"
                        " or contains(@rel,'prev')] | //iframe[@src] | //frame[@src]"):
        href = (el.get("href") or el.get("src") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        try:
            out.append(urljoin(base, href).split("#", 1)[0])
        except ValueError:
            continue
    return out


def _file_name(url: str, content_type: str) -> str:
    parts = urlsplit(url)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", (parts.path + ("-" + parts.query if parts.query else "")).strip("/"))
    slug = slug.strip("-")[:60] or "home"
    digest = hashlib.sha1(url.encode()).hexdigest()[:8]
    ext = ".xml" if re.search(r"xml|rss|atom", content_type, re.I) else ".txt" if "plain" in content_type \
        else ".json" if "json" in content_type else ".html"
    return f"files/{slug}-{digest}{ext}"


class HostRecording:
    """The site.yaml of one lab host, merged with what was recorded before."""

    def __init__(self, out: Path, host: str, platform: str):
        self.dir = out / host
        self.host = host
        self.cfg_path = self.dir / "site.yaml"
        cfg = yaml.safe_load(self.cfg_path.read_text(encoding="utf-8")) if self.cfg_path.is_file() else {}
        self.cfg = cfg or {}
        self.cfg.setdefault("host", host)
        if platform:
            self.cfg["platform"] = platform
        self.routes: dict[tuple, dict] = {}
        probe = Site(host=host, directory=self.dir)
        self._key = probe.key
        for route in self.cfg.get("routes") or []:
            self.routes[self._key(*split_target(route["path"]))] = route

    def add(self, ex: Exchange) -> None:
        parts = urlsplit(ex.url)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        if ex.server:
            self.cfg.setdefault("server", ex.server)
        if (parts.path or "/") == "/robots.txt":
            self.cfg["robots"] = ex.body.decode("utf-8", "replace") if ex.status == 200 else None
            return
        route: dict = {"path": target}
        if ex.status != 200:
            route["status"] = ex.status
        if ex.location:
            route["location"] = ex.location
        if ex.content_type:
            route["content_type"] = ex.content_type
        if ex.body:
            name = _file_name(ex.url, ex.content_type)
            (self.dir / name).parent.mkdir(parents=True, exist_ok=True)
            (self.dir / name).write_bytes(ex.body)
            route["file"] = name
        elif ex.status not in REDIRECTS:
            route["body"] = ""
        key = self._key(*split_target(target))
        previous = self.routes.get(key, {}).get("file")
        if previous and previous != route.get("file"):
            (self.dir / previous).unlink(missing_ok=True)      # re-recorded under another name
        self.routes[key] = route

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cfg["routes"] = sorted(self.routes.values(), key=lambda r: r["path"])
        header = "# Recorded by tests/lab/record.py from a real CMS install on loopback: re-record, do not edit.\n"
        self.cfg_path.write_text(header + yaml.safe_dump(self.cfg, allow_unicode=True, sort_keys=False, width=120),
                                 encoding="utf-8")


def record(seeds: list[str], urls: list[str], mapping: dict[str, str], out: Path, *, depth: int,
           max_pages: int, skip: re.Pattern, platform: str = "", log=print) -> dict[str, int]:
    """Record seeds breadth-first (and `urls` alone); return the number of exchanges per host."""
    recordings = {host: HostRecording(out, host, platform) for host in mapping}
    queue: deque[tuple[str, int]] = deque()
    seen: set[str] = set()

    def enqueue(url: str, level: int) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in mapping:
            return
        if not parts.path:
            url = urlunsplit((parts.scheme, parts.netloc, "/", parts.query, ""))   # http://host is http://host/
        if url in seen or SKIP_EXT.search(parts.path) or skip.search(url):
            return
        seen.add(url)
        queue.append((url, level))

    for host in mapping:
        enqueue(f"http://{host}/robots.txt", depth)
    for url in seeds:
        enqueue(url, 0)
    for url in urls:
        seen.discard(url)
        enqueue(url, depth)       # recorded, its links not followed
    counts = {host: 0 for host in mapping}
    with httpx.Client(timeout=30.0) as client:
        while queue and sum(counts.values()) < max_pages:
            url, level = queue.popleft()
            try:
                ex = fetch(client, url, mapping)
            except httpx.HTTPError as exc:
                log(f"  ! {url}: {exc}")
                continue
            host = urlsplit(url).hostname
            recordings[host].add(ex)
            counts[host] += 1
            log(f"{ex.status} {url}" + (f" -> {ex.location}" if ex.location else ""))
            if ex.location:
                enqueue(ex.location, level)
            if level < depth:
                for link in links(ex):
                    enqueue(link, level + 1)
    for rec in recordings.values():
        rec.save()
    if queue:
        log(f"stopped at --max-pages {max_pages}; {len(queue)} URLs not recorded")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.record", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "portals")
    parser.add_argument("--map", type=_host_port, action="append", required=True, metavar="HOST=127.0.0.1:PORT")
    parser.add_argument("--seed", action="append", default=[], help="start URL, links followed to --depth")
    parser.add_argument("--url", action="append", default=[], help="a URL recorded alone (its links not followed)")
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--max-pages", type=int, default=400)
    parser.add_argument("--skip", default=DEFAULT_SKIP, help="regex of URLs never fetched")
    parser.add_argument("--platform", default="", help="platform name written into site.yaml")
    args = parser.parse_args(argv)
    mapping = dict(args.map)
    if not args.seed and not args.url:
        parser.error("give at least one --seed or --url")
    counts = record(args.seed, args.url, mapping, args.out, depth=args.depth, max_pages=args.max_pages,
                    skip=re.compile(args.skip), platform=args.platform)
    for host, n in counts.items():
        print(f"{host}: {n} exchanges recorded in {args.out / host}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
