"""What a WARC response record says of an answer: as received on the httpx path, as Scrapy gives it on the crawl.

A loopback server answers with exact bytes: an unusual reason phrase, header names in odd case, a
repeated Set-Cookie around another header, a gzip body sent chunked. The spot-check's record keeps the
status line and the headers as they came; the crawl's says what Scrapy changed. Both hold the decoded
body, say which codings were removed, and keep the digest of the body as received.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.fetch import Fetcher
from crawler.settings import Limits, RunOptions
from crawler.warc import WarcLog
from tests.crawler.rawserver import RawServer, answer

ROOT = Path(__file__).resolve().parents[2]
PAGE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Tin tức</title></head><body><h1>Tin tức</h1>"
        "<ul><li><a href='/a/1'>Bài một</a> 05/03/2018</li></ul></body></html>").encode()
GZIPPED = gzip.compress(PAGE, mtime=0)
RAW_DIGEST = "sha256:" + hashlib.sha256(GZIPPED).hexdigest()
HEAD = (b"HTTP/1.1 200 Fine By Me\r\nX-Odd-CASE: 1\r\nSet-Cookie: a=1\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Set-Cookie: b=2\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")


def chunked(data: bytes, size: int = 50) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size))
    return out + b"0\r\n\r\n"


def route(request):
    return [(HEAD + chunked(GZIPPED), 0.0)]


def response_record(path: Path, url: str):
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == url:
                return record.rec_headers, record.http_headers, record.content_stream().read()
    raise AssertionError(f"no response record for {url}")


def warcio_check(path: Path) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_spot_check_records_the_answer_as_received(tmp_path):
    options = RunOptions(period=(dt.date(2018, 1, 1), dt.date(2018, 12, 31)), allow_private=True,
                         limits=Limits(read_timeout=5, connect_timeout=2, retries=0))
    with RawServer({"/robots.txt": answer(404), "/tin-tuc": route}) as srv:
        with Fetcher(options) as fetcher:
            fetch = fetcher.fetch(srv.url("/tin-tuc"))
    assert fetch.ok and fetch.body == PAGE
    path = tmp_path / "check.warc.gz"
    log = WarcLog(path)
    log.log(fetch)
    log.close()
    warcio_check(path)
    headers, http, body = response_record(path, srv.url("/tin-tuc"))
    assert (http.protocol, http.statusline) == ("HTTP/1.1", "200 Fine By Me")
    assert http.headers == [("X-Odd-CASE", "1"), ("Set-Cookie", "a=1"), ("Content-Type", "text/html; charset=utf-8"),
                            ("Set-Cookie", "b=2"), ("Connection", "close"), ("Content-Length", str(len(PAGE)))]
    assert body == PAGE
    note = headers.get_header("WARC-Payload-Note")
    assert "Content-Encoding: gzip removed" in note and "Transfer-Encoding: chunked removed" in note
    assert RAW_DIGEST in note
    assert headers.get_header("WARC-IP-Address") == "127.0.0.1"


def test_the_crawl_records_what_scrapy_gives_and_says_so(tmp_path):
    with RawServer({"/robots.txt": answer(404), "/tin-tuc": route}) as srv:
        agencies, reports = tmp_path / "agencies.csv", tmp_path / "reports.csv"
        agencies.write_text(f"agency_id,agency_name,group,portal\nskhdt,Sở Kế hoạch và Đầu tư,so,{srv.origin}\n",
                            encoding="utf-8")
        reports.write_text("agency_id,criterion,url,value,not_applicable,note,submitted_at\n"
                           f"skhdt,tin-tuc-su-kien,{srv.url('/tin-tuc')},,,,23/11/2018\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
        crawl = subprocess.run([sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(agencies),
                                "--reports", str(reports), "--db", str(tmp_path / "ev.db"), "--allow-private",
                                "--timeout", "5"], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert crawl.returncode in (0, 1), crawl.stderr[-3000:]
    (path,) = (tmp_path / "ev-warc").glob("*.warc.gz")
    warcio_check(path)
    headers, http, body = response_record(path, srv.url("/tin-tuc"))
    assert http.statusline == "200 OK"               # Scrapy keeps no reason phrase: Python's, and said so
    names = [name for name, _ in http.headers]
    assert names.count("Set-Cookie") == 2 and names.index("Set-Cookie") + 1 == names.index("Set-Cookie", 2)
    assert "Content-Encoding" not in names and body == PAGE
    note = headers.get_header("WARC-Payload-Note")
    assert "names normalised" in note and "http.HTTPStatus" in note
    assert "Content-Encoding: gzip removed" in note and RAW_DIGEST in note
    assert headers.get_header("WARC-IP-Address") == "127.0.0.1"
