"""ASP.NET WebForms paging (__doPostBack form posts, not links), through both fetch paths."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from crawler.categories import CategoryMatcher
from crawler.settings import RunOptions
from crawler.spotcheck import spot_check
from verifier.verdict import make_verdict

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Kết luận thanh tra | Thanh tra tỉnh</title></head>
<body><div id="header"><span>Hôm nay, ngày 20 tháng 11 năm 2018</span></div>
<form method="post" action="./KetLuan.aspx" id="aspnetForm">
<input type="hidden" name="__VIEWSTATE" value="/wEPDwUKMTM2OTk4NzYzNw9kFgJmD2QWAgIDD2Q=" />
<input type="hidden" name="__EVENTVALIDATION" value="/wEWBgKf3Y" />
<input type="hidden" name="__EVENTTARGET" value="" /><input type="hidden" name="__EVENTARGUMENT" value="" />
<div class="breadcrumb"><a href="/">Trang chủ</a> » <span>Kết luận thanh tra</span></div>
<h1 class="title">Kết luận thanh tra</h1>
<table id="gvKetLuan" class="grid"><tr><th>Số</th><th>Trích yếu</th><th>Ngày</th></tr>
{rows}
<tr class="pager"><td colspan="3">{pager}</td></tr></table>
</form>
<div id="footer">© 2018 Thanh tra tỉnh. Lượt truy cập: 1.234.567</div></body></html>"""

ROW = '<tr><td>{n}</td><td><a href="/ChiTiet.aspx?id={n}">Kết luận thanh tra số {n}/KL-TTr về việc chấp hành pháp luật</a></td><td>{date}</td></tr>'


def page(number: int) -> bytes:
    dates = {1: ["20/11/2018", "05/10/2018", "12/08/2018"], 2: ["03/03/2018", "15/01/2018", "20/12/2017"],
             3: ["01/06/2017", "02/05/2017", "03/04/2017"]}[number]
    rows = "\n".join(ROW.format(n=number * 10 + i, date=d) for i, d in enumerate(dates))
    pager = " ".join(f"<span>{n}</span>" if n == number else
                     f"<a href=\"javascript:__doPostBack('ctl00$gvKetLuan','Page${n}')\">{n}</a>" for n in (1, 2, 3))
    return PAGE.format(rows=rows, pager=pager).encode()


class Handler(BaseHTTPRequestHandler):
    posts: list[str] = []

    def _send(self, body: bytes, status=200):
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.endswith("/KetLuan.aspx"):
            self._send(page(1))
        else:
            self._send(b"not found", 404)

    def do_POST(self):
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        argument = form.get("__EVENTARGUMENT", [""])[0]
        Handler.posts.append(argument)
        ok = form.get("__VIEWSTATE") and form.get("__EVENTTARGET") == ["ctl00$gvKetLuan"]
        self._send(page(int(argument.split("$")[1])) if ok else b"bad postback", 200 if ok else 400)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    Handler.posts = []
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def test_spot_check_follows_postback_paging(server, rulebook):
    options = RunOptions(period=(rulebook.period[0], rulebook.period[1]), allow_private=True)
    inv, at = spot_check(f"{server}/KetLuan.aspx", "thanh-tra", matcher=CategoryMatcher.from_rulebook(rulebook),
                         options=options)
    verdict = make_verdict("-", inv.outcome, options.period, reported_url=None, checked_at=at)
    assert (verdict.status, verdict.reason, verdict.posts_in_year) == ("pass", "ok", 5)
    # page 2 still holds 2018 posts, page 3 holds only older ones: then the paging stops
    assert Handler.posts == ["Page$2", "Page$3"]
    # then one article of a post listed before 2018, to see whether the portal shows updates
    assert [p.purpose for p in verdict.pages] == ["listing", "listing", "listing", "article"]


def test_crawl_follows_postback_paging(server, tmp_path):
    (tmp_path / "agencies.csv").write_text(f"agency_id,agency_name,group,portal\ntt,Thanh tra tỉnh,so,{server}\n",
                                           encoding="utf-8")
    (tmp_path / "reports.csv").write_text(f"agency_id,criterion,url\ntt,thanh-tra,{server}/KetLuan.aspx\n",
                                          encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(root / "cli.py"), "crawl", "--agencies", str(tmp_path / "agencies.csv"),
                             "--reports", str(tmp_path / "reports.csv"), "--db", str(tmp_path / "ev.db"),
                             "--allow-private"], capture_output=True, text=True, timeout=120, cwd=root,
                            env={**os.environ, "no_proxy": "*"})
    assert result.returncode in (0, 1), result.stderr[-2000:]
    import sqlite3
    row = sqlite3.connect(tmp_path / "ev.db").execute(
        "select status, reason, posts_in_year from verdicts where criterion = 'thanh-tra'").fetchone()
    assert row == ("pass", "ok", 5)
    assert Handler.posts == ["Page$2", "Page$3"]


def test_spot_check_keeps_its_evidence_in_a_warc(server, rulebook, tmp_path):
    """`check --warc`: every request (the postbacks with their form body) and response, at the offsets the
    verdict's pages point to."""
    from warcio.archiveiterator import ArchiveIterator

    options = RunOptions(period=(rulebook.period[0], rulebook.period[1]), allow_private=True)
    warc = tmp_path / "check.warc.gz"
    inv, at = spot_check(f"{server}/KetLuan.aspx", "thanh-tra", matcher=CategoryMatcher.from_rulebook(rulebook),
                         options=options, warc_path=warc)
    verdict = make_verdict("-", inv.outcome, options.period, reported_url=None, checked_at=at)
    with warc.open("rb") as fh:
        records = {it.offset: (rec.rec_type, rec.http_headers.protocol if rec.http_headers else None,
                               rec.content_stream().read())
                   for it in [ArchiveIterator(fh)] for rec in it}
    requests = [(proto, body) for kind, proto, body in records.values() if kind == "request"]
    assert [proto for proto, _ in requests] == ["GET", "POST", "POST", "GET"]      # the last: the update probe
    assert b"__EVENTARGUMENT=Page%242" in requests[1][1]
    listing = [v for v in verdict.pages if v.purpose == "listing"]
    for number, page_visit in enumerate(listing, start=1):
        name, place = page_visit.warc_record.split("#")
        kind, _, body = records[int(place.split("+")[0])]
        assert name == warc.name and kind == "response"
        assert body == page(number)          # the listing page as served, byte for byte
