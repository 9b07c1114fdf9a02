"""The transport policy itself (crawler/transport.py), and the httpx path on real loopback servers."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

import brotli
import pytest
from backports import zstd

from crawler import transport as T
from crawler.fetch import Fetcher
from crawler.records import (
    ERR_BAD_RESPONSE,
    ERR_CONNECT,
    ERR_PRIVATE,
    ERR_ROBOTS,
    ERR_ROBOTS_UNAVAILABLE,
    ERR_TIMEOUT,
    ERR_TOO_LARGE,
    Fetch,
)
from crawler.settings import RETRY_AFTER_CAP, ROBOTS_MAX_BYTES, Limits, RunOptions
from tests.crawler.rawserver import RawServer, answer, refused, response, trickle

ROOT = Path(__file__).resolve().parents[2]
PERIOD = (dt.date(2018, 1, 1), dt.date(2018, 12, 31))
PAGE = "<html><head><title>Tin tức</title></head><body><h1>Tin tức</h1><p>xin chào</p></body></html>".encode()


def options(**limits) -> RunOptions:
    return RunOptions(period=PERIOD, allow_private=limits.pop("allow_private", True),
                      limits=Limits(**{"retry_backoff": 0.01, **limits}))


# -- decoding

ENCODERS = {
    "gzip": lambda data: gzip.compress(data, compresslevel=6),
    "deflate": zlib.compress,
    "br": lambda data: brotli.compress(data, quality=5),
    "zstd": zstd.compress,
}


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_every_offered_coding_is_decoded(coding):
    assert coding in T.ACCEPT_ENCODING
    body = PAGE * 50
    assert T.decode_body(ENCODERS[coding](body), coding, 1 << 20) == body


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_a_decompression_bomb_stops_at_the_bound_while_decoding(coding):
    bomb = ENCODERS[coding](b"\0" * (64 << 20))           # 64 MiB of zeros, a few KB on the wire
    assert len(bomb) < 100_000
    started = time.monotonic()
    with pytest.raises(T.BodyTooLarge):
        T.decode_body(bomb, coding, 1 << 20)
    assert time.monotonic() - started < 2          # stopped early, not after decoding 64 MiB


def test_raw_deflate_gzip_members_and_layered_codings_are_read_as_browsers_do():
    assert T.decode_body(zlib.compress(PAGE)[2:-4], "deflate", 1 << 20) == PAGE          # raw deflate (IIS)
    assert T.decode_body(gzip.compress(b"one ") + gzip.compress(b"two"), "gzip", 1 << 20) == b"one two"
    assert T.decode_body(brotli.compress(gzip.compress(PAGE)), "gzip, br", 1 << 20) == PAGE
    big = b"".join(hashlib.sha256(str(i).encode()).hexdigest().encode() for i in range(5000))
    cut = T.decode_body(gzip.compress(big)[:2000], "x-gzip", 1 << 20)      # truncated: what it holds
    assert cut and big.startswith(cut) and len(cut) < len(big)


def test_a_corrupt_body_or_too_many_codings_is_a_bad_response_and_an_unknown_coding_is_left_alone():
    with pytest.raises(T.BadEncoding):
        T.decode_body(b"this is not gzip at all", "gzip", 1 << 20)
    with pytest.raises(T.BadEncoding):
        T.decode_body(PAGE, "gzip, gzip, gzip, gzip", 1 << 20)
    assert T.decode_body(PAGE, "utf-8", 1 << 20) == PAGE
    assert T.decode_body(PAGE, "identity", 1 << 20) == PAGE
    with pytest.raises(T.BodyTooLarge):
        T.decode_body(PAGE, None, 10)


# -- headers

def test_control_bytes_in_a_header_are_a_problem_and_ordinary_headers_are_not():
    assert T.header_problem([(b"Content-Type", b"text/html"), (b"X-Tab", b"a\tb")]) is None
    assert "X-Evil" in T.header_problem([(b"X-Evil", b"a\0b")])
    assert T.header_problem([(b"Bad\0Name", b"x")])
    assert T.headers_dict([(b"Set-Cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"X-Name", b"caf\xe9")]) == {
        "set-cookie": "a=1, b=2", "x-name": "café"}


def test_the_warc_request_record_has_the_headers_every_request_sends():
    opts = options()
    fetch = Fetch(url="http://a.gov.vn/x", final_url="http://a.gov.vn:8080/y", status=200, headers={}, body=b"",
                  fetched_at=dt.datetime(2018, 5, 1, tzinfo=dt.UTC),
                  content_type="application/x-www-form-urlencoded", method="POST")
    assert T.warc_request_headers(fetch, opts) == {
        "Host": "a.gov.vn:8080", **T.request_headers(opts, content_type="application/x-www-form-urlencoded")}
    assert T.request_headers(opts)["Accept-Encoding"] == "gzip, deflate, br, zstd"
    assert T.request_headers(opts)["User-Agent"] == opts.user_agent


# -- retries

def test_retry_after_in_seconds_or_as_an_http_date_is_waited_for_up_to_the_cap():
    limits = Limits(retry_backoff=0.5)
    now = dt.datetime(2018, 5, 1, 8, 0, tzinfo=dt.UTC)
    in_4s = email.utils.format_datetime(now + dt.timedelta(seconds=4), usegmt=True)
    assert T.retry_after_seconds("3", now) == 3
    assert T.retry_after_seconds(in_4s, now) == pytest.approx(4)
    assert T.retry_after_seconds("Tue, 01 May 2018 07:00:00 GMT", now) == 0      # in the past
    assert T.retry_after_seconds("soon", now) == 0
    assert T.retry_delay(0, None, limits, now) == 0.5
    assert T.retry_delay(2, None, limits, now) == 2.0                           # doubled each try
    assert T.retry_delay(0, in_4s.encode(), limits, now) == pytest.approx(4)
    assert T.retry_delay(0, "86400", limits, now) == RETRY_AFTER_CAP
    far = email.utils.format_datetime(now + dt.timedelta(days=2), usegmt=True)
    assert T.retry_delay(0, far, limits, now) == RETRY_AFTER_CAP


def test_only_transient_failures_and_retry_statuses_are_retried():
    limits = Limits(retries=2)
    assert T.retry_wanted(ERR_TIMEOUT, None, 0, limits)
    assert T.retry_wanted(ERR_CONNECT, None, 1, limits)
    assert not T.retry_wanted(ERR_CONNECT, None, 2, limits)          # the last try
    for final in (ERR_TOO_LARGE, ERR_BAD_RESPONSE, ERR_PRIVATE, ERR_ROBOTS):
        assert not T.retry_wanted(final, None, 0, limits)
    assert T.retry_wanted(None, 503, 0, limits) and T.retry_wanted(None, 429, 0, limits)
    assert not T.retry_wanted(None, 404, 0, limits) and not T.retry_wanted(None, 200, 0, limits)


# -- robots.txt

def test_robots_txt_is_read_as_rfc_9309_says():
    disallow = b"User-agent: *\nDisallow: /\n"
    assert T.robots_rules(404, disallow).refusal("http://a.gov.vn/x") is None       # 4xx: no restrictions
    assert T.robots_rules(403, disallow).refusal("http://a.gov.vn/x") is None
    code, detail = T.robots_rules(503, b"").refusal("http://a.gov.vn/x")            # 5xx: complete disallow
    assert code == ERR_ROBOTS_UNAVAILABLE and "503" in detail
    assert T.robots_rules(200, disallow).refusal("http://a.gov.vn/x") == (ERR_ROBOTS, "robots.txt disallows")
    assert T.robots_rules(None, b"") is None                                        # no answer at all


def test_robots_txt_is_parsed_on_its_first_500_kib():
    filler = b"# " + b"x" * 1000 + b"\n"
    head = b"User-agent: *\nDisallow: /early/\n"
    head += filler * ((ROBOTS_MAX_BYTES - len(head)) // len(filler) - 1)
    head += b"#" * (ROBOTS_MAX_BYTES - 5 - len(head) - 1) + b"\n"        # the next line starts 5 bytes before 500 KiB
    body = head + b"Disallow: /late/\n" + filler * 100
    assert len(body) > 600_000
    rules = T.robots_rules(200, body)
    assert not rules.allowed("http://a.gov.vn/early/x")
    assert rules.allowed("http://a.gov.vn/late/x")                  # across and beyond 500 KiB: not read
    assert rules.allowed("http://a.gov.vn/la")                      # nor read as a shorter rule "/la"


# -- addresses

def test_every_answer_of_a_name_is_checked():
    T.check_addresses("a.gov.vn", [(socket.AF_INET, "203.113.131.2")], allow_private=False)
    for bad in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1", "0.0.0.0"):
        with pytest.raises(T.AddressRefused, match="private"):
            T.check_addresses("a.gov.vn", [(socket.AF_INET, "203.113.131.2"), (socket.AF_INET, bad)],
                              allow_private=False)
        T.check_addresses("a.gov.vn", [(socket.AF_INET, bad)], allow_private=True)


def test_a_name_that_does_not_resolve_is_a_resolve_failure():
    with pytest.raises(T.ResolveFailed):
        T.resolve("no-such-host.invalid", 80)


# -- the httpx path on loopback

class Rebinding:
    """getaddrinfo for one name: a public address first, 127.0.0.1 after (a DNS-rebinding portal)."""

    def __init__(self, name: str, public: str):
        self.name, self.public, self.calls = name, public, 0
        self._real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        if host != self.name:
            return self._real(host, port, *args, **kwargs)
        self.calls += 1
        addr = self.public if self.calls == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addr, port or 0))]


PUBLIC = "93.184.216.34"


def test_a_rebinding_name_never_reaches_loopback_on_the_httpx_path(monkeypatch):
    with RawServer({"/robots.txt": answer(200, b""), "/tin-tuc": answer(200, PAGE)}) as srv:
        if not refused(PUBLIC, srv.port):
            pytest.skip(f"{PUBLIC}:{srv.port} does not refuse connections here")
        name = "rebind.caobang.gov.vn"
        rebinding = Rebinding(name, PUBLIC)
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        with Fetcher(options(allow_private=False, retries=1, connect_timeout=1.0)) as fetcher:
            fetch = fetcher.fetch(f"http://{name}:{srv.port}/tin-tuc")
        assert rebinding.calls >= 2                           # the name was asked again ...
        assert srv.log == []                                  # ... and 127.0.0.1 never got a request
        assert fetch.error == ERR_PRIVATE and "127.0.0.1" in fetch.error_detail


def test_a_body_at_one_byte_a_second_ends_at_the_exchange_deadline():
    head = response(200, b"", [("Content-Type", "text/html"), ("Content-Length", "5000")], length=False)
    with RawServer({"/robots.txt": answer(404), "/slow": trickle(b"x" * 5000, every=0.2, head=head),
                    "/endless-head": trickle(b"X-A: b\r\n" * 1000, every=0.1, head=b"HTTP/1.1 200 OK\r\n")}) as srv:
        with Fetcher(options(read_timeout=1.0, connect_timeout=0.5, retries=0)) as fetcher:
            for path in ("/slow", "/endless-head"):
                started = time.monotonic()
                fetch = fetcher.fetch(srv.url(path))
                took = time.monotonic() - started
                assert fetch.error == ERR_TIMEOUT, (path, fetch)
                assert 1.4 < took < 5.0, (path, took)          # 1.5 s for the whole exchange, not per read


def test_an_oversized_body_is_fetched_once_and_is_final():
    big = b"x" * 300_000
    with RawServer({"/robots.txt": answer(404), "/big": answer(200, big, length=False),
                    "/bomb": answer(200, ENCODERS["br"](b"\0" * (32 << 20)), [("Content-Encoding", "br")])}) as srv:
        with Fetcher(options(max_bytes=100_000, retries=2)) as fetcher:
            for path in ("/big", "/bomb"):
                fetch = fetcher.fetch(srv.url(path))
                assert fetch.error == ERR_TOO_LARGE, fetch
                assert srv.hits(path) == 1


def test_a_nul_byte_in_a_header_is_a_bad_response_not_a_traceback():
    with RawServer({"/robots.txt": answer(404),
                    "/nul": answer(200, PAGE, [("Content-Type", "text/html")], raw_headers=b"X-Evil: a\0b\r\n")}) as srv:
        with Fetcher(options()) as fetcher:
            fetch = fetcher.fetch(srv.url("/nul"))
        assert fetch.error == ERR_BAD_RESPONSE and srv.hits("/nul") == 1


def test_503_is_retried_after_its_retry_after_and_the_decoded_body_is_the_evidence():
    tries = []

    def flaky(request):
        tries.append(time.monotonic())
        if len(tries) == 1:
            yield response(503, b"busy", [("Retry-After", "1")]), 0
        else:
            yield response(200, gzip.compress(PAGE), [("Content-Encoding", "gzip"),
                                                      ("Content-Type", "text/html")]), 0

    with RawServer({"/robots.txt": answer(404), "/p": flaky}) as srv:
        with Fetcher(options(retries=2)) as fetcher:
            fetch = fetcher.fetch(srv.url("/p"))
        assert fetch.status == 200 and fetch.body == PAGE and "content-encoding" not in fetch.headers
        assert 0.9 < tries[1] - tries[0] < 4.0
        assert fetch.digest == T.response_fetch("u", "u", 200, {}, PAGE, fetched_at=fetch.fetched_at).digest
        sent = {k.lower() for k, _ in srv.log[-1].headers}
        assert {k.lower() for k in T.request_headers(options())} <= sent


def test_the_whole_check_ends_within_its_deadline_with_a_timeout_verdict(matcher):
    from crawler.spotcheck import spot_check
    from verifier.verdict import make_verdict

    head = response(200, b"", [("Content-Type", "text/html"), ("Content-Length", "9000")], length=False)
    with RawServer({"/robots.txt": trickle(b"x" * 100, every=0.3), "/tin-tuc": trickle(b"x" * 9000, every=0.3,
                                                                                     head=head)}) as srv:
        opts = options(read_timeout=1.0, connect_timeout=0.5, retries=2, check_seconds=3.0)
        started = time.monotonic()
        inv, checked_at = spot_check(srv.url("/tin-tuc"), "tin-tuc-su-kien", matcher=matcher, options=opts)
        took = time.monotonic() - started
    verdict = make_verdict("-", inv.outcome, PERIOD, reported_url=srv.url("/tin-tuc"), checked_at=checked_at)
    assert took < 6.0, took               # 3 s; unbounded, robots.txt alone would take 30 s and the page 45 min
    assert (verdict.status, verdict.reason) == ("fail", "unreachable")
    assert "timeout" in verdict.detail


def test_the_crawl_imports_no_httpx():
    code = ("import sys, verifier.crawl, crawler.spider; "
            "print(sorted(m for m in ('httpx', 'httpcore', 'crawler.fetch', 'crawler.spotcheck') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
