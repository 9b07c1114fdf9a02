"""`make bench --only render`: what rendering a script-filled listing in headless Chromium costs beside reading
a plain one, in the same run: pages per second each way (the fetch and the core's reading included; a render
launches its browser, as the product does for each page that needs one) and the peak memory of this process
with the browser's processes while rendering.

The pages are served on loopback: a plain listing of three posts, and the same listing with an empty
container that its script fills from a JSON endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

POSTS = [{"title": f"Thông báo số {i}/TB-UBND về lịch công tác tuần {i}", "url": f"/node/{100 + i}",
          "date": f"{10 + i:02d}/0{i}/2018"} for i in range(1, 4)]
_ROW = ('<div class="views-row"><span class="views-field-title"><a href="{url}">{title}</a></span>'
        '<span class="views-field-created"><span class="date-display-single">{date}</span></span></div>')
_JS_ROW = _ROW.replace("{", "${p.")
FILL = ("fetch('/api/posts').then(r => r.json()).then(items => {document.getElementById('news-list').innerHTML"
        f" = items.map(p => `{_JS_ROW}`).join(''); }});")


def _page(rows: str, script: str = "") -> bytes:
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Chỉ đạo điều hành | Sở Thử nghiệm</title></head>
<body><div class="breadcrumb"><a href="/">Trang chủ</a> » <span>Chỉ đạo điều hành</span></div>
<h1 class="page-title">Chỉ đạo điều hành</h1><div class="view"><div class="view-content" id="news-list">{rows}</div>
</div>{script}</body></html>""".encode()


PAGES = {
    "/plain": ("text/html; charset=utf-8", _page("".join(_ROW.format(**p) for p in POSTS))),
    "/script": ("text/html; charset=utf-8", _page("", f"<script>{FILL}</script>")),
    "/api/posts": ("application/json", json.dumps(POSTS, ensure_ascii=False).encode()),
    "/robots.txt": ("text/plain", b"User-agent: *\nDisallow:\n"),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        kind, body = PAGES.get(self.path.split("?")[0], ("text/html", b"<h1>404</h1>"))
        self.send_response(200 if self.path.split("?")[0] in PAGES else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _pss_kb(proc: Path) -> int:
    """A process's proportional set size in kB: its private memory and its share of what it shares (the
    browser's processes share most of their pages, which their RSS would count once each)."""
    try:
        for line in (proc / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kb() -> int:
    """The memory (PSS) of this process and all its descendants, in kB (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        parents[pid] = int(fields.get("PPid", "0").strip() or 0)
        rss[pid] = _pss_kb(entry)
    me, total = os.getpid(), 0
    for pid in rss:
        p = pid
        while p and p != me:
            p = parents.get(p, 0)
        if p == me:
            total += rss[pid]
    return total


class _Sampler(threading.Thread):
    """The peak of _tree_rss_kb while running, sampled every 50 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            self.peak = max(self.peak, _tree_rss_kb())
            self._halt.wait(0.05)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def bench_render(*, pages: int = 5):
    """Rendered ÷ plain pages per second (wall, this run), and the peak memory with the browser (a bench.run.Result)."""
    from bench.run import Figure, Result, _matcher
    from crawler.extract import read_page
    from crawler.fetch import Fetcher
    from crawler.render import render
    from crawler.settings import RunOptions

    result = Result("render")
    options = RunOptions(period=(dt.date(2018, 1, 1), dt.date(2018, 12, 31)), allow_private=True)
    matcher = _matcher()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    saved = {k: os.environ.pop(k) for k in list(os.environ)
             if k.lower() in ("http_proxy", "https_proxy", "all_proxy")}
    try:
        with Fetcher(options) as fetcher:
            fetcher.fetch(f"{base}/plain")                 # robots.txt and the connection, once
            started, cpu = time.perf_counter(), time.process_time()
            plain_posts = 0
            for _ in range(pages * 4):
                fetch = fetcher.fetch(f"{base}/plain")
                plain_posts = len(read_page(fetch.final_url, fetch.body, fetch.headers, matcher).posts)
            plain_rate = pages * 4 / (time.perf_counter() - started)
            plain_cpu = (time.process_time() - cpu) / (pages * 4)
        before = _tree_rss_kb()
        sampler = _Sampler()
        sampler.start()
        started = time.perf_counter()
        rendered_posts = 0
        for _ in range(pages):
            fetch = render(f"{base}/script", None, options, need="bench")
            rendered_posts = len(read_page(fetch.final_url, fetch.body, fetch.headers, matcher).posts)
        rendered_rate = pages / (time.perf_counter() - started)
        peak = sampler.stop()
    finally:
        os.environ.update(saved)
        httpd.shutdown()
        httpd.server_close()
    right = plain_posts == rendered_posts == len(POSTS)
    result.figures += [
        Figure("render.pages_per_second.plain", "Plain listing pages per second (fetch + reading)", plain_rate,
               "pages/s", note=f"{plain_cpu * 1000:.1f} ms CPU per page"),
        Figure("render.pages_per_second.rendered", "Rendered listing pages per second (headless Chromium + reading)",
               rendered_rate, "pages/s", note="a browser launched per page" + ("" if right else "; POSTS MISSED")),
        Figure("render.speed_ratio", "Pages per second, rendered ÷ plain (same run)", rendered_rate / plain_rate, "x"),
        Figure("render.peak_memory", "Peak memory with the browser (PSS of this process and its children)", peak / 1024,
               "MB", note=f"{before / 1024:.0f} MB before the first render"),
    ]
    result.details = {"pages": pages, "posts_read": {"plain": plain_posts, "rendered": rendered_posts},
                      "rss_kb": {"before": before, "peak": peak}}
    return result
