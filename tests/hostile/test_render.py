"""Listings filled in by script, on both paths: the page as fetched shows its category and no post, the need
is detected (an empty list container, a JSON endpoint in its scripts), headless Chromium renders it within
the portal, and the same core reads the rendered DOM. The evidence says it was rendered, why, and which
requests the page made; the browser's requests off the portal (a tracker, an image) are refused, never sent.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from crawler.render import CHROMIUM, render_need
from tests.hostile import harness
from tests.hostile.harness import CRITERION, Case, Reply, page, robots, run_check, run_crawl

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="no headless Chromium here")

D = ".render.hostile.gov.vn"
POSTS = [{"title": f"Thông báo số {i}/TB-UBND về lịch công tác tuần {i}", "url": f"/node/{100 + i}",
          "date": f"{10 + i:02d}/0{i}/2018"} for i in range(1, 4)]
ROW = ("`<div class=\"views-row\"><span class=\"views-field-title\"><a href=\"${p.url}\">${p.title}</a></span>"
       "<span class=\"views-field-created\"><span class=\"date-display-single\">${p.date}</span></span></div>`")
FILL = (f"fetch('/api/posts?cat=cddh').then(r => r.json()).then(items => {{"
        f"document.getElementById('news-list').innerHTML = items.map(p => {ROW}).join(''); }});")


def shell(body: str) -> Reply:
    return page(f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Chỉ đạo điều hành | Sở Thử nghiệm tỉnh Cao Bằng</title>
<script src="http://tracker.example/t.js"></script></head>
<body class="page-taxonomy"><div id="header"><span class="site-name">Sở Thử nghiệm tỉnh Cao Bằng</span>
<img src="/logo.png"></div><div id="main-content"><div class="breadcrumb"><a href="/">Trang chủ</a> » <span>Chỉ đạo
điều hành</span></div><h1 class="page-title">Chỉ đạo điều hành</h1>{body}</div>
<div id="footer">© Sở Thử nghiệm tỉnh Cao Bằng</div></body></html>""")


SCRIPT = Reply(200, (("Content-Type", "application/javascript"),), FILL)
API = Reply(200, (("Content-Type", "application/json"),), json.dumps(POSTS, ensure_ascii=False))
CASES = {
    # an empty list container, filled by an external script
    "empty-container": {f"/{CRITERION}": shell('<div class="view"><div class="view-content" id="news-list"></div>'
                                                 '</div><script src="/app.js"></script>'), "/app.js": SCRIPT},
    # the endpoint is in the page's own script; the container holds a comment
    "json-endpoint": {f"/{CRITERION}": shell(f'<div class="view"><div class="view-content" id="news-list">'
                                               f'<!-- filled by script --></div></div><script>{FILL}</script>')},
}
NEED = {"empty-container": "an empty list container", "json-endpoint": "a JSON endpoint in its scripts"}


@pytest.fixture(scope="module")
def results(attack, tmp_path_factory):
    # a browser page on a shared machine takes longer than the suite's 2 s per exchange: 10 s here
    saved, harness.TIMEOUT = harness.TIMEOUT, 10.0
    try:
        return _run(attack, tmp_path_factory)
    finally:
        harness.TIMEOUT = saved


def _run(attack, tmp_path_factory):
    checks, crawls = {}, {}
    for name, routes in CASES.items():
        for path, into in (("check", checks), ("crawl", crawls)):
            host = f"{name}.{path}{D}"
            attack.portal(host, {"/robots.txt": robots(), "/api/posts": API, **routes})
            into[name] = Case(name, f"http://{host}", f"http://{host}/{CRITERION}")
    workdir = tmp_path_factory.mktemp("render-crawl")
    mark = attack.mark()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        crawl = pool.submit(run_crawl, attack, list(crawls.values()), workdir)
        check_runs = {name: run_check(attack, case) for name, case in checks.items()}
        crawl_runs = crawl.result()
    print(f"\nrendered cases, both paths: {time.monotonic() - started:.1f} s")
    con = sqlite3.connect(workdir / "evidence.db")
    details = dict(con.execute("select agency_id, detail from verdicts where criterion = ?", (CRITERION,)))
    con.close()
    out = {}
    for name in CASES:
        check = check_runs[name]
        detail = json.loads(check.output[check.output.index("{"):])["detail"] if check.status else ""
        out[name] = (check, crawl_runs[name], detail, details.get(name, ""))
    return out, attack.since(mark)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_script_filled_listing_is_rendered_and_read_on_both_paths(results, name):
    runs, _log = results
    check, crawl, check_detail, crawl_detail = runs[name]
    print(f"{name}: check {check.verdict} {check.posts} | {check_detail}\n  crawl {crawl.verdict} | {crawl_detail}")
    assert check.verdict == crawl.verdict == ("pass", "ok"), (check.output[-1500:], crawl.output[-1500:])
    assert check.posts == crawl.posts == 3
    for detail in (check_detail, crawl_detail):
        assert f"rendered in headless Chromium (need detected: {NEED[name]}" in detail
        assert "/api/posts?cat=cddh" in detail and "http://tracker.example/t.js (refused)" in detail


def test_the_browser_stays_on_the_portal(results):
    _runs, log = results
    assert log and all(r.host.endswith(D) for r in log)
    assert not [r.url for r in log if r.path in ("/logo.png",)]       # images are not fetched
    for name in CASES:
        for path in ("check", "crawl"):
            api = [r for r in log if r.host == f"{name}.{path}{D}" and r.path == "/api/posts"]
            assert len(api) == 1, (name, path)


def test_a_plain_listing_shows_no_need():
    assert render_need(b"<div class='view-content'><div class='views-row'>a</div></div>") is None


def test_render_off_reads_the_page_as_fetched(attack):
    from typer.testing import CliRunner

    from verifier.cli import app

    host = f"off.check{D}"
    attack.portal(host, {"/robots.txt": robots(), "/api/posts": API, **CASES["empty-container"]})
    mark = attack.mark()
    result = CliRunner().invoke(app, ["check", f"http://{host}/{CRITERION}", "-c", CRITERION, "--agency-portal",
                                      f"http://{host}", "--json", "--render", "off"], env=attack.env())
    data = json.loads(result.output[result.output.index("{"):])
    assert (data["status"], data["reason"]) == ("fail", "no_posts_in_year") and "headless" not in data["detail"]
    assert [r.path for r in attack.since(mark)] == ["/robots.txt", f"/{CRITERION}"]


def _with_render_column(agencies, modes: dict[str, str]) -> None:
    """The registry written by the harness, with a `render` column for the named agencies."""
    import csv

    with agencies.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with agencies.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, [*(k for k in rows[0] if k != "render"), "render"])
        w.writeheader()
        w.writerows({**r, "render": modes.get(r["agency_id"], "")} for r in rows)


def test_the_registry_sets_a_portals_render_mode(attack, tmp_path):
    """`render` in the registry goes before the run's: `off` reads a script-filled listing as fetched, `always`
    renders a plain one; a value that is neither is refused naming the file, row and column."""
    import subprocess
    import sys

    from tests.hostile.harness import RULES, _write_inputs

    # posts written in by an inline script, with none of the marks `auto` looks for: only `always` renders it
    rows = "".join(f'<div class="views-row"><a href="{p["url"]}">{p["title"]}</a> <span>{p["date"]}</span></div>'
                   for p in POSTS)
    unmarked = shell(f'<div class="view"><div id="khung"><p>Đang tải…</p></div></div><script>'
                     f'document.getElementById("khung").innerHTML = {json.dumps(rows)};</script>')
    assert render_need(unmarked.body if isinstance(unmarked.body, bytes) else unmarked.body.encode()) is None
    cases = {"off": CASES["empty-container"], "always": {f"/{CRITERION}": unmarked}}
    made = []
    for mode, routes in cases.items():
        host = f"registry-{mode}{D}"
        attack.portal(host, {"/robots.txt": robots(), "/api/posts": API, **routes})
        made.append(Case(mode, f"http://{host}", f"http://{host}/{CRITERION}"))
    agencies, reports, db = tmp_path / "agencies.csv", tmp_path / "reports.csv", tmp_path / "evidence.db"
    _write_inputs(made, agencies, reports)
    _with_render_column(agencies, {"off": "off", "always": "always"})
    cmd = [sys.executable, "cli.py", "crawl", "--agencies", str(agencies), "--reports", str(reports), "--rules",
           str(RULES), "--db", str(db), "--timeout", "10"]
    done = subprocess.run(cmd, env={**__import__("os").environ, **attack.env()}, capture_output=True, text=True,
                          timeout=180, cwd=harness.ROOT)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    con = sqlite3.connect(db)
    got = {a: (s, r, d) for a, s, r, d in con.execute(
        "select agency_id, status, reason, detail from verdicts where criterion = ?", (CRITERION,))}
    con.close()
    assert got["off"][:2] == ("fail", "no_posts_in_year") and "headless" not in got["off"][2]
    assert got["always"][:2] == ("pass", "ok") and "rendered in headless Chromium" in got["always"][2]

    _with_render_column(agencies, {"off": "sometimes"})
    bad = subprocess.run([*cmd[:-4], "--db", str(tmp_path / "other.db")], env={**__import__("os").environ,
                         **attack.env()}, capture_output=True, text=True, timeout=60, cwd=harness.ROOT)
    assert bad.returncode == 2 and "render" in bad.stderr and "row 2" in bad.stderr, bad.stderr[-1500:]
    assert not (tmp_path / "other.db").exists()
