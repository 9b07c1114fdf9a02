"""The hostile-portal suite's harness: a loopback attack server acting as an HTTP forward proxy, and runners
that put the product's two fetch paths (the `check` spot-check and the `crawl`) on the same attack portals.

The product runs with `http_proxy=http://127.0.0.1:PORT`, so every request it makes, whatever host it names
(`hoa-an.caobang.gov.vn`, `0x7f.1`, `evil.example`), reaches the attack server, which logs it and answers from
the attack portal registered for that host and port (unknown host or path: 404). A test then asserts the
verdict of both paths and, from the log, that no request left the registered portals.

    server.portal("a.hostile.gov.vn", {"/cddh": listing_page(), "/robots.txt": redirect("http://0x7f.1/")})
    case = Case("a", "http://a.hostile.gov.vn", "http://a.hostile.gov.vn/cddh")
    result = run_both(server, [case])[case.agency_id]          # one crawl, one check per case
    assert result.same_verdict == ("pass", "ok")
    assert not result.outside()                                # every request inside the case's scope

A route is a `Reply` (status, headers, body), or a callable taking the `Exchange` and returning a `Reply`,
or writing the raw response itself through `exchange.wfile` and returning None (slow bodies, endless headers).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from bench.procs import high_water_kib

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules" / "caobang-2018.yaml"
CRITERION = "chi-dao-dieu-hanh"
GROUP = "so"
# Short bounds so that a hostile portal costs the suite seconds, not minutes.
TIMEOUT = 2.0


# -- the attack server


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    body: bytes | str = b""


@dataclass(frozen=True)
class Logged:
    """One request the attack server received. `target` is the path and query as sent."""

    method: str
    host: str          # lower-case, as named in the absolute URI (or Host header); no port
    port: int
    target: str
    at: float
    raw_line: str      # the request line as received

    @property
    def url(self) -> str:
        netloc = self.host if self.port == 80 else f"{self.host}:{self.port}"
        if ":" in self.host and not self.host.startswith("["):
            netloc = f"[{self.host}]" if self.port == 80 else f"[{self.host}]:{self.port}"
        return f"http://{netloc}{self.target}"

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass
class Exchange:
    """What a route callable sees: the request, and the raw output for writing a response by hand."""

    method: str
    host: str
    port: int
    target: str
    headers: dict[str, str]
    body: bytes
    wfile: object
    stopping: threading.Event

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""


Route = Reply | Callable[[Exchange], Reply | None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        self.server.attack.log_request(Logged("CONNECT", host.strip("[]").lower(), int(port or 443), "",
                                              time.time(), self.requestline))
        self._send(Reply(501, (("Content-Type", "text/plain"),), b"https through this proxy is not served"))

    def _handle(self):
        target = self.path
        if target.startswith("/"):        # origin form: the Host header names the host
            name = self.headers.get("Host", "")
            host, port = _split_hostport(name, 80)
        else:                             # absolute form, as a client of a proxy sends it
            parts = urlsplit(target)
            try:
                port = parts.port or 80
            except ValueError:
                port = -1
            host = _host_of_netloc(parts.netloc)
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        attack = self.server.attack
        attack.log_request(Logged(self.command, host, port, target, time.time(), self.requestline))
        route = attack.route(host, port, target)
        if route is None:
            reply = Reply(404, (("Content-Type", "text/html; charset=utf-8"),), b"<h1>404 Not Found</h1>")
        elif isinstance(route, Reply):
            reply = route
        else:
            exchange = Exchange(self.command, host, port, target, {k.lower(): v for k, v in self.headers.items()},
                                body, self.wfile, attack.stopping)
            try:
                reply = route(exchange)
            except (BrokenPipeError, ConnectionResetError):
                return
            if reply is None:          # the callable wrote the response itself
                self.close_connection = True
                return
        self._send(reply, head=self.command == "HEAD")

    def _send(self, reply: Reply, head: bool = False):
        body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        try:
            self.send_response_only(reply.status)
            names = {k.lower() for k, _ in reply.headers}
            for k, v in reply.headers:
                self._raw_header(k, v)
            if "content-length" not in names:
                self._raw_header("Content-Length", str(len(body)))
            self._raw_header("Connection", "close")
            self.end_headers()
            if not head:
                self.wfile.write(body)
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _raw_header(self, name: str, value: str):
        # written as given (a tab or a control character in a Location is what the attack is about)
        self._headers_buffer.append(f"{name}: {value}\r\n".encode("latin-1", "replace"))


def _split_hostport(text: str, default: int) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    try:
        return host.lower(), int(port) if port else default
    except ValueError:
        return host.lower(), -1


def _host_of_netloc(netloc: str) -> str:
    hostport = netloc.rpartition("@")[2]
    return _split_hostport(hostport, 80)[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    attack: AttackServer

    def handle_error(self, request, client_address):   # client hang-ups are part of the game
        pass


class AttackServer:
    """A loopback HTTP forward proxy serving attack portals; logs every request it receives."""

    def __init__(self):
        self._portals: dict[tuple[str, int], dict[str, Route]] = {}
        self._log: list[Logged] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # set-up

    def portal(self, host: str, routes: dict[str, Route], *, port: int = 80) -> AttackServer:
        """Serve `routes` (target "/path" or "/path?query" -> Route) for host:port (also its www. twin).
        A target without a query also answers that path with any query; an exact target wins."""
        for name in (host.lower(), "www." + host.lower()):
            self._portals.setdefault((name, port), {}).update(routes)
        return self

    def route(self, host: str, port: int, target: str) -> Route | None:
        routes = self._portals.get((host, port))
        if routes is None:
            return None
        if target in routes:
            return routes[target]
        return routes.get(target.split("?", 1)[0]) if "?" in target else None

    @property
    def hosts(self) -> set[tuple[str, int]]:
        return set(self._portals)

    # the log

    def log_request(self, entry: Logged) -> None:
        with self._lock:
            self._log.append(entry)

    @property
    def log(self) -> list[Logged]:
        with self._lock:
            return list(self._log)

    def mark(self) -> int:
        with self._lock:
            return len(self._log)

    def since(self, mark: int) -> list[Logged]:
        with self._lock:
            return list(self._log[mark:])

    # running

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        """The product's environment: every request through this proxy, nothing bypassing it."""
        return {"http_proxy": self.proxy_url, "HTTP_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
                "HTTPS_PROXY": self.proxy_url, "no_proxy": "", "NO_PROXY": "", "all_proxy": "", "ALL_PROXY": ""}

    def start(self) -> AttackServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.attack = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# -- attack-portal building blocks


def page(html: str, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    return Reply(status, (("Content-Type", "text/html; charset=utf-8"), *headers), html)


def redirect(location: str, status: int = 302) -> Reply:
    """A redirect whose Location header is sent exactly as given."""
    return Reply(status, (("Location", location), ("Content-Type", "text/html; charset=utf-8")), b"")


def robots(text: str = "User-agent: *\nDisallow: /admin/\n") -> Reply:
    return Reply(200, (("Content-Type", "text/plain"),), text)


def listing_page(title: str = "Chỉ đạo điều hành", posts: int = 3, *, year: int = 2018, base: str = "/node/",
                 head: str = "", site: str = "Sở Thử nghiệm tỉnh Cao Bằng", next_page: str | None = None,
                 first: int = 0) -> Reply:
    """A category listing (Drupal-like) with `posts` posts dated in `year`: `pass` for chi-dao-dieu-hanh.
    With `next_page`, a pager links page 2 there (href as given); `first` numbers the posts of a later page."""
    pager = (f'<div class="item-list pager"><span class="current">1</span> <a href="{next_page}">2</a> '
             f'<a href="{next_page}">Trang sau ›</a></div>') if next_page else ""
    rows = "\n".join(
        f'<div class="views-row"><span class="views-field-title"><a href="{base}{100 + i}">'
        f"Thông báo số {i + 1}/TB-UBND về lịch công tác tuần {i + 1}</a></span>"
        f'<span class="views-field-created"><span class="date-display-single">'
        f"{10 + i:02d}/0{1 + i % 9}/{year}</span></span></div>"
        for i in range(first, first + posts))
    html = f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">{head}
<title>{title} | {site}</title></head>
<body class="page-taxonomy"><div id="header"><span class="site-name">{site}</span></div>
<div id="main-content"><div class="breadcrumb"><a href="/">Trang chủ</a> » <span>{title}</span></div>
<h1 class="page-title">{title}</h1><div class="view"><div class="view-content">
{rows}
</div>{pager}</div></div><div id="footer">© {site}</div></body></html>"""
    return page(html)


def article_page(title: str = "Tin hoạt động của Sở", day: str = "12/05/2018") -> Reply:
    """A single article: `wrong_category` when reported as a category."""
    html = f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="article"><meta property="article:published_time" content="2018-05-12T08:00:00+07:00">
</head><body class="node-type-article"><div class="breadcrumb"><a href="/">Trang chủ</a> » <span>Tin tức</span></div>
<article class="node node-article"><h1 class="page-title">{title}</h1>
<div class="submitted">Ngày đăng: {day}</div><div class="content"><p>Nội dung bài viết. </p><p>
{"Nội dung chi tiết của bài viết. " * 40}</p></div></article></body></html>"""
    return page(html)


# -- running the product


@dataclass(frozen=True)
class Case:
    """One attack: an agency whose registered portal is `portal`, reporting `url` for `criterion`.
    `hosts` are the host names this case owns in the server log (its portal's and its bait hosts), so
    requests of cases run in one crawl can be told apart; default: the portal's and the link's hosts."""

    agency_id: str
    portal: str
    url: str
    criterion: str = CRITERION
    hosts: tuple[str, ...] = ()

    @property
    def own_hosts(self) -> set[str]:
        names = set(self.hosts) | {_bare(_loose_host(self.portal)), _bare(_loose_host(self.url))}
        return {h for n in names if n for h in (n, "www." + n)}


@dataclass(frozen=True)
class Run:
    """One run of one path: the verdict, how the process ended, what it cost, what it asked for."""

    status: str | None
    reason: str | None
    posts: int | None
    exit_code: int
    traceback: bool
    wall: float                     # seconds
    peak_rss_kb: int                # of the child process (0 when run in-process)
    requests: tuple[Logged, ...]
    output: str = ""

    @property
    def verdict(self) -> tuple[str | None, str | None]:
        return self.status, self.reason


@dataclass(frozen=True)
class Result:
    case: Case
    check: Run
    crawl: Run

    @property
    def same_verdict(self) -> tuple[str | None, str | None] | None:
        """The verdict both paths gave, or None when they disagree (or one crashed)."""
        if self.check.traceback or self.crawl.traceback or self.check.verdict != self.crawl.verdict:
            return None
        return self.check.verdict

    @property
    def requests(self) -> tuple[Logged, ...]:
        return self.check.requests + self.crawl.requests

    def outside(self, extra_portals: str = "") -> list[str]:
        """Requests of either path outside the case's registered portal (robots.txt of a portal host allowed)."""
        return outside_scope(self.requests, self.case.portal + " " + extra_portals)

    def explain(self) -> str:
        return (f"{self.case.agency_id}: check {self.check.verdict} exit {self.check.exit_code} "
                f"crawl {self.crawl.verdict} exit {self.crawl.exit_code}\n"
                f"requests: {[r.raw_line for r in self.requests]}\n"
                f"check output: {self.check.output[-1500:]}\ncrawl output: {self.crawl.output[-1500:]}")


def outside_scope(requests: Iterable[Logged], portals: str) -> list[str]:
    """The requests not on the registered portals (as the product's own Scope reads them), robots.txt of a
    registered host allowed. The log's host and path are what went on the wire, so this is the ground truth."""
    from crawler.urls import Scope

    scope = Scope.parse(portals)
    hosts = {(p.host, p.port or 80) for p in scope.portals}
    bad = []
    for r in requests:
        if r.method == "CONNECT":
            bad.append(r.raw_line)
            continue
        if r.path == "/robots.txt" and (_bare(r.host), r.port) in hosts:
            continue
        if not _wire_owned(scope, r):
            bad.append(r.url)
    return bad


def _wire_owned(scope, r: Logged) -> bool:
    """Is what went on the wire (host, port, raw path) inside the scope? The raw path is compared as sent:
    a server resolves dot segments itself, so `..` or `%2e%2e` in a sent path is never owned."""
    for p in scope.portals:
        if _bare(r.host) != p.host or r.port != (p.port or 80):
            continue
        raw = r.path
        segments = raw.split("/")
        if any(s.lower() in ("..", ".", "%2e%2e", "%2e.", ".%2e", "%2e") for s in segments) or "\\" in raw \
                or "%2f" in raw.lower() or "%5c" in raw.lower():
            return False
        if not p.prefix or raw == p.prefix or raw.startswith(p.prefix + "/"):
            return True
    return False


def _bare(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _loose_host(url: str) -> str:
    try:
        return (urlsplit(url if "://" in url else "http://" + url).hostname or "").lower()
    except ValueError:
        return ""


def _extra_args(allow_private: bool, ignore_robots: bool) -> list[str]:
    return ["--timeout", str(TIMEOUT)] + (["--allow-private"] if allow_private else []) \
        + (["--ignore-robots"] if ignore_robots else [])


def _spawn(cmd: list[str], env: dict[str, str], timeout: float, cwd: Path = ROOT):
    """Run cmd; (exit code, output, wall seconds, peak RSS in kB of that child alone)."""
    started = time.monotonic()
    out_path = Path(env.get("HOSTILE_TMP", "/tmp")) / f"hostile-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}.out"
    with out_path.open("w+b") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        deadline = started + timeout
        peak_kib = 0                    # the child's own (bench.procs.high_water_kib), not wait4's ru_maxrss
        while True:
            pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kib = max(peak_kib, high_water_kib(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, _usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    out_path.unlink(missing_ok=True)
    return proc.returncode, text, time.monotonic() - started, peak_kib


def run_check(server: AttackServer, case: Case, *, allow_private: bool = False, ignore_robots: bool = False,
              in_process: bool = True, timeout: float = 60) -> Run:
    """The spot-check of the case's link, as `portal-evidence check URL -c CRITERION --agency-portal PORTAL
    --json`. In-process through the CLI's own function (typer's runner); or as a child process, which also
    measures its peak RSS."""
    args = ["check", case.url, "-c", case.criterion, "--agency-portal", case.portal, "--json",
            *_extra_args(allow_private, ignore_robots)]
    mark = server.mark()
    if in_process:
        from typer.testing import CliRunner

        from verifier.cli import app

        started = time.monotonic()
        result = CliRunner().invoke(app, args, env=server.env())
        wall = time.monotonic() - started
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        output = result.output
        if crashed:
            import traceback

            output += "".join(traceback.format_exception(result.exception))
        code, rss = (result.exit_code if not crashed else -1), 0
    else:
        env = {**os.environ, **server.env()}
        code, output, wall, rss = _spawn([sys.executable, str(ROOT / "cli.py"), *args], env, timeout)
        crashed = "Traceback (most recent call last)" in output
    status = reason = posts = None
    if code in (0, 1) and not crashed:
        import json

        data = json.loads(output[output.index("{"):])
        status, reason, posts = data["status"], data["reason"], data.get("posts_in_year")
    return Run(status, reason, posts, code, crashed or "Traceback (most recent call last)" in output,
               wall, rss, tuple(r for r in server.since(mark)), output)


def run_crawl(server: AttackServer, cases: list[Case], workdir: Path, *, allow_private: bool = False,
              ignore_robots: bool = False, timeout: float = 120) -> dict[str, Run]:
    """One `portal-evidence crawl` (a child process) over every case, each its own agency reporting its one
    link (the other website criteria marked not applicable, so nothing else is fetched). Per case: its
    verdict, and the requests to its own hosts; the wall time and peak RSS are the whole crawl's."""
    workdir.mkdir(parents=True, exist_ok=True)
    agencies, reports, db = workdir / "agencies.csv", workdir / "reports.csv", workdir / "evidence.db"
    _write_inputs(cases, agencies, reports)
    env = {**os.environ, **server.env(), "HOSTILE_TMP": str(workdir)}
    cmd = [sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(agencies), "--reports", str(reports),
           "--rules", str(RULES), "--db", str(db), *_extra_args(allow_private, ignore_robots)]
    mark = server.mark()
    code, output, wall, rss = _spawn(cmd, env, timeout)
    requests = server.since(mark)
    verdicts = {}
    if db.exists():
        con = sqlite3.connect(db)
        try:
            verdicts = {(a, c): (s, r, p) for a, c, s, r, p in con.execute(
                "select agency_id, criterion, status, reason, posts_in_year from verdicts")}
        finally:
            con.close()
    crashed = "Traceback (most recent call last)" in output
    runs = {}
    for case in cases:
        status, reason, posts = verdicts.get((case.agency_id, case.criterion), (None, None, None))
        mine = tuple(r for r in requests if r.host.rstrip(".") in case.own_hosts or r.host in case.own_hosts)
        runs[case.agency_id] = Run(status, reason, posts, code, crashed, wall, rss, mine, output)
    return runs


def strays(server: AttackServer, cases: list[Case], since: int = 0) -> list[str]:
    """Requests since `since` to hosts no case owns: they can be told apart from no case's, so a test
    asserts there are none."""
    owned = set().union(*(c.own_hosts for c in cases)) if cases else set()
    return [r.raw_line for r in server.since(since) if r.host.rstrip(".") not in owned and r.host not in owned]


def run_both(server: AttackServer, cases: list[Case], workdir: Path | None = None, *,
             allow_private: bool = False, ignore_robots: bool = False) -> dict[str, Result]:
    """Each case's spot-check (in-process, one after the other) and one crawl over all of them."""
    import tempfile

    workdir = workdir or Path(tempfile.mkdtemp(prefix="hostile-"))
    checks = {c.agency_id: run_check(server, c, allow_private=allow_private, ignore_robots=ignore_robots)
              for c in cases}
    crawls = run_crawl(server, cases, workdir, allow_private=allow_private, ignore_robots=ignore_robots)
    return {c.agency_id: Result(c, checks[c.agency_id], crawls[c.agency_id]) for c in cases}


def _write_inputs(cases: list[Case], agencies: Path, reports: Path) -> None:
    from verifier.rulebook import load_rulebook

    rulebook = load_rulebook(RULES)
    submitted = (rulebook.deadline - dt.timedelta(days=5)).strftime("%d/%m/%Y")
    website = [c.id for c in rulebook.criteria_for(GROUP) if c.kind == "website"]
    with agencies.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["agency_id", "agency_name", "group", "portal"])
        for case in cases:
            w.writerow([case.agency_id, f"Cơ quan {case.agency_id}", GROUP, case.portal])
    with reports.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["agency_id", "criterion", "url", "value", "not_applicable", "note", "submitted_at"])
        for case in cases:
            w.writerow([case.agency_id, case.criterion, case.url, "", "", "", submitted])
            for other in website:
                if other != case.criterion:
                    w.writerow([case.agency_id, other, "", "", "x", "hostile suite: one link per agency",
                                submitted])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_both(server: AttackServer, case: Case, expected: tuple[str, str], workdir: Path | None = None,
                **options) -> Result:
    """The one-line test of an attack portal: both paths give `expected` (status, reason), neither crashes,
    and no request of either left the case's registered portal. Returns the Result for further checks."""
    result = run_both(server, [case], workdir, **options)[case.agency_id]
    assert result.same_verdict == expected, result.explain()
    assert not result.outside(), result.explain()
    return result
