"""Hostile portals against the one transport policy: both paths (the `check` spot-check and the crawl) read
the same bytes the same way, give the same verdict, stay bounded in time and memory, and never crash.

All attack portals of this module are run at once: each case's `check` is a child process (so its peak
RSS is its own) and one crawl child takes every case, all in parallel, so the slow cases cost the suite
their own duration once.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brotli
import pytest
from backports import zstd
from warcio.archiveiterator import ArchiveIterator

from crawler import transport as T
from crawler.settings import RunOptions
from tests.crawler.rawserver import RawServer, answer, refused
from tests.hostile.harness import (
    CRITERION,
    ROOT,
    TIMEOUT,
    Case,
    Reply,
    listing_page,
    robots,
    run_check,
    run_crawl,
)

LISTING = listing_page()
LISTING_BODY = LISTING.body.encode() if isinstance(LISTING.body, str) else LISTING.body
HTML = (("Content-Type", "text/html; charset=utf-8"),)
MAX_RSS_KB = 300 * 1024


def brotli_bomb(decoded: int = 1 << 30) -> bytes:
    """A brotli body of about 1.6 KB that decodes to `decoded` bytes of zeros (made without holding them)."""
    compressor = brotli.Compressor(quality=5)
    chunk = b"\0" * (1 << 20)
    parts = [compressor.process(chunk) for _ in range(decoded // len(chunk))]
    return b"".join(parts) + compressor.finish()


def slow_body(exchange):
    """Headers at once, then the body at a byte a second."""
    exchange.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    exchange.wfile.flush()
    for _ in range(100_000):
        if exchange.stopping.wait(1.0):
            return None
        try:
            exchange.wfile.write(b"x")
            exchange.wfile.flush()
        except OSError:
            return None
    return None


def slow_robots(exchange):
    """robots.txt that never finishes: headers, then a byte a second."""
    exchange.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n")
    exchange.wfile.flush()
    for _ in range(5000):
        if exchange.stopping.wait(1.0):
            return None
        try:
            exchange.wfile.write(b"#")
            exchange.wfile.flush()
        except OSError:
            return None
    return None


def streamed_oversize(exchange):
    """9 MiB with no Content-Length (the size is known only once the bound is passed), then close."""
    exchange.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
    block = b"x" * (1 << 20)
    for _ in range(9):
        try:
            exchange.wfile.write(block)
        except OSError:
            return None
    return None


def long_robots() -> Reply:
    """600 KB of robots.txt whose rule past the first 500 KiB forbids the link."""
    filler = "# " + "x" * 1000 + "\n"
    text = "User-agent: *\nDisallow: /admin/\n" + filler * 600 + f"Disallow: /{CRITERION}\n"
    return Reply(200, (("Content-Type", "text/plain"),), text)


DISALLOW_ALL = "User-agent: *\nDisallow: /\n"

# name -> (routes, expected verdict of both paths)
ATTACKS = {
    "robots-404": ({"/robots.txt": Reply(404, HTML, DISALLOW_ALL)}, ("pass", "ok")),
    "robots-500": ({"/robots.txt": Reply(500, HTML, DISALLOW_ALL)}, ("fail", "unreachable")),
    "robots-600k": ({"/robots.txt": long_robots()}, ("pass", "ok")),
    "robots-slow": ({"/robots.txt": slow_robots}, ("pass", "ok")),
    "zstd": ({f"/{CRITERION}": Reply(200, HTML + (("Content-Encoding", "zstd"),), zstd.compress(LISTING_BODY))},
             ("pass", "ok")),
    "gzip": ({f"/{CRITERION}": Reply(200, HTML + (("Content-Encoding", "gzip"),), gzip.compress(LISTING_BODY))},
             ("pass", "ok")),
    "nul-header": ({f"/{CRITERION}": Reply(200, HTML + (("X-Evil", "a\0b"),), LISTING_BODY)},
                   ("fail", "unreachable")),
    "brotli-bomb": ({f"/{CRITERION}": Reply(200, HTML + (("Content-Encoding", "br"),), brotli_bomb())},
                    ("fail", "unreachable")),
    "oversized": ({f"/{CRITERION}": Reply(200, HTML, b"<p>" + b"x" * (9 << 20))}, ("fail", "unreachable")),
    "oversized-stream": ({f"/{CRITERION}": streamed_oversize}, ("fail", "unreachable")),
    "slow-body": ({f"/{CRITERION}": slow_body}, ("fail", "unreachable")),
}


def host_of(name: str, path: str = "check") -> str:
    """Each attack portal is served under one host per path, so the log tells the two paths' requests apart."""
    return f"{name}.{path}.transport.hostile.gov.vn"


@pytest.fixture(scope="module")
def results(attack, tmp_path_factory):
    """Every attack portal through both paths, at once: {name: (check Run, crawl Run, case)}."""
    cases = {}
    for name, (routes, _expected) in ATTACKS.items():
        for path in ("check", "crawl"):
            host = host_of(name, path)
            attack.portal(host, {"/robots.txt": robots(), f"/{CRITERION}": LISTING, **routes})
            cases[name, path] = Case(name, f"http://{host}", f"http://{host}/{CRITERION}")
    workdir = tmp_path_factory.mktemp("transport-crawl")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(ATTACKS) + 1) as pool:
        crawl = pool.submit(run_crawl, attack, [cases[name, "crawl"] for name in ATTACKS], workdir)
        checks = {name: pool.submit(run_check, attack, cases[name, "check"], in_process=False) for name in ATTACKS}
        crawls = crawl.result()
        runs = {name: (checks[name].result(), crawls[name], cases[name, "check"], cases[name, "crawl"])
                for name in ATTACKS}
    print(f"\nall transport attacks, both paths: {time.monotonic() - started:.1f} s")
    for name, (check, crawl_run, _case, _crawl_case) in runs.items():
        print(f"  {name:16} check {check.verdict} {check.wall:5.1f} s {check.peak_rss_kb // 1024:4d} MB | "
              f"crawl {crawl_run.verdict} (crawl: {crawl_run.wall:.1f} s {crawl_run.peak_rss_kb // 1024} MB)")
    return runs


def _paths(results, name: str) -> tuple[list[str], list[str]]:
    """The paths each path asked the attack portal for: (check's, crawl's)."""
    check, crawl, check_case, crawl_case = results[name]
    return ([r.path for r in check.requests if r.host in check_case.own_hosts],
            [r.path for r in crawl.requests if r.host in crawl_case.own_hosts])


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_both_paths_give_the_same_verdict_without_a_traceback(results, name):
    check, crawl, _case, _crawl_case = results[name]
    expected = ATTACKS[name][1]
    detail = f"check: {check.output[-1500:]}\ncrawl: {crawl.output[-1500:]}"
    assert not check.traceback and not crawl.traceback, detail
    assert check.verdict == crawl.verdict == expected, detail


def test_a_decompression_bomb_keeps_both_paths_small(results):
    check, crawl, _case, _crawl_case = results["brotli-bomb"]
    assert 0 < check.peak_rss_kb < MAX_RSS_KB, check.peak_rss_kb
    assert 0 < crawl.peak_rss_kb < MAX_RSS_KB, crawl.peak_rss_kb          # the whole crawl, every case


def test_an_oversized_or_exploding_body_is_fetched_once_on_both_paths(results):
    for name in ("oversized", "oversized-stream", "brotli-bomb"):
        for paths in _paths(results, name):
            assert paths.count(f"/{CRITERION}") == 1, (name, paths)


def test_a_slow_body_ends_at_the_fetch_deadline_on_both_paths(results):
    check, crawl, check_case, crawl_case = results["slow-body"]
    exchange = 2 * TIMEOUT                              # --timeout T: read T + connect min(T, 5)
    for run, case in ((check, check_case), (crawl, crawl_case)):
        tries = [r.at for r in run.requests if r.host in case.own_hosts and r.path == f"/{CRITERION}"]
        assert len(tries) == 3, tries                   # RETRIES = 2 after the first
        # from the first try to the last: two whole exchanges cut at their deadline and the backoff (0.5 + 1 s),
        # not two bodies of 100 000 s; the server's clock, so a loaded machine's start-up does not count
        span = tries[-1] - tries[0]
        assert 2 * exchange < span < 2 * exchange + 1.5 + 4, span
        assert run.wall < 60, run.wall


def test_robots_txt_is_read_the_same_way_on_both_paths(results):
    for name in ("robots-404", "robots-600k", "robots-slow"):
        for paths in _paths(results, name):
            assert paths == ["/robots.txt", f"/{CRITERION}"], (name, paths)
    for paths in _paths(results, "robots-500"):       # 5xx: complete disallow, the page is never asked for
        assert paths == ["/robots.txt"], paths


# -- the WARC request record: one header set from the policy


def _request_records(path: Path, url: str) -> list[dict[str, str]]:
    out = []
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "request" and record.rec_headers.get_header("WARC-Target-URI") == url:
                out.append(dict(record.http_headers.headers))
    return out


def test_both_paths_write_the_same_warc_request_record(attack, tmp_path):
    from typer.testing import CliRunner

    from verifier.cli import app

    host = host_of("warc", "both")
    attack.portal(host, {"/robots.txt": robots(), f"/{CRITERION}": LISTING})
    case = Case("warc", f"http://{host}", f"http://{host}/{CRITERION}")
    warc = tmp_path / "check.warc.gz"
    result = CliRunner().invoke(app, ["check", case.url, "-c", CRITERION, "--agency-portal", case.portal, "--json",
                                      "--timeout", str(TIMEOUT), "--warc", str(warc)], env=attack.env())
    assert result.exit_code in (0, 1), result.output
    run_crawl(attack, [case], tmp_path / "crawl")
    crawl_warcs = list((tmp_path / "crawl").glob("evidence-warc/*.warc.gz"))
    assert crawl_warcs
    from_check = _request_records(warc, case.url)
    from_crawl = [h for w in crawl_warcs for h in _request_records(w, case.url)]
    assert len(from_check) == len(from_crawl) == 1
    assert from_check == from_crawl
    import datetime as dt

    options = RunOptions(period=(dt.date(2018, 1, 1), dt.date(2018, 12, 31)))
    assert from_check[0] == {"Host": host, **T.request_headers(options)}


# -- DNS rebinding, without a proxy: the product resolves the name itself

REBIND_NAME = "rebind.transport.hostile.gov.vn"
PUBLIC = "93.184.216.34"
# Run the CLI with the resolver answering PUBLIC to the first lookup of REBIND_NAME and 127.0.0.1 to later ones
# (getaddrinfo, and gethostbyname for resolvers that use it).
REBINDING_CLI = """
import runpy, socket, sys, threading
name, public = sys.argv[1], sys.argv[2]
real_gai, real_ghbn, lock, calls = socket.getaddrinfo, socket.gethostbyname, threading.Lock(), [0]
def answer():
    with lock:
        calls[0] += 1
        return public if calls[0] == 1 else "127.0.0.1"
def getaddrinfo(host, port, *args, **kwargs):
    if host != name:
        return real_gai(host, port, *args, **kwargs)
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer(), int(port or 0)))]
def gethostbyname(host):
    return answer() if host == name else real_ghbn(host)
socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
sys.argv = ["cli.py", *sys.argv[3:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_rebinding_name_never_reaches_loopback_on_either_path(tmp_path):
    from tests.hostile.harness import _write_inputs

    with RawServer({"/robots.txt": answer(200, b""), f"/{CRITERION}": answer(200, LISTING_BODY, HTML)}) as srv:
        if not refused(PUBLIC, srv.port):
            pytest.skip(f"{PUBLIC}:{srv.port} does not refuse connections here")
        portal = f"http://{REBIND_NAME}:{srv.port}"
        case = Case("rebind", portal, f"{portal}/{CRITERION}")
        _write_inputs([case], tmp_path / "agencies.csv", tmp_path / "reports.csv")
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        base = [sys.executable, "-c", REBINDING_CLI, REBIND_NAME, PUBLIC]
        check = base + ["check", case.url, "-c", CRITERION, "--agency-portal", portal, "--json",
                        "--timeout", "1"]
        crawl = base + ["crawl", "--agencies", str(tmp_path / "agencies.csv"), "--reports",
                        str(tmp_path / "reports.csv"), "--db", str(tmp_path / "evidence.db"), "--timeout", "1"]
        with ThreadPoolExecutor(2) as pool:
            done = [pool.submit(subprocess.run, cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=90)
                    for cmd in (check, crawl)]
            outs = [d.result() for d in done]
        for out in outs:
            assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr[-2000:]
        assert srv.log == [], [(r.method, r.path) for r in srv.log]    # 127.0.0.1 never got a request
        assert '"unreachable"' in outs[0].stdout
        import sqlite3

        con = sqlite3.connect(tmp_path / "evidence.db")
        try:
            assert con.execute("select status, reason from verdicts where agency_id = 'rebind' and criterion = ?",
                               [CRITERION]).fetchone() == ("fail", "unreachable")
        finally:
            con.close()
