"""The scheduled crawl over the demo portals, served on loopback by the project's own server."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.categories import CategoryMatcher
from crawler.settings import MAX_RELATED_PAGES, RunOptions
from crawler.spotcheck import spot_check
from crawler.urls import Scope, allowed_host
from demo.pipeline import DEMO_DIR, DEMO_LIMITS, load_truth, proxy_env, truth_items, truth_tuple
from demo.server import PortalServer
from verifier.intake import load_items, load_registry, load_reports
from verifier.plan import plan_tasks
from verifier.rulebook import load_rulebook
from verifier.verdict import make_verdict

ROOT = Path(__file__).resolve().parent.parent
AGENCIES = DEMO_DIR / "agencies.csv"
REPORTS = DEMO_DIR / "reports.csv"
ITEMS = DEMO_DIR / "items.csv"


def crawl_cmd(db: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(AGENCIES), "--reports", str(REPORTS),
            "--items", str(ITEMS), "--db", str(db), "--timeout", str(DEMO_LIMITS.read_timeout), *extra]


def run_crawl(db: Path, proxy: str, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "http_proxy": proxy, "HTTP_PROXY": proxy, "no_proxy": "", "NO_PROXY": ""}
    return subprocess.run(crawl_cmd(db, *extra), env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def rows(db: Path, sql: str, *args) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def crawled(server, tmp_path_factory):
    """One uninterrupted crawl of the whole demo; the server's request log is kept for the tests."""
    db = tmp_path_factory.mktemp("crawl") / "evidence.db"
    before = len(server.requests)
    result = run_crawl(db, server.proxy_url)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return db, list(server.requests)[before:], result


def test_every_demo_link_gets_its_truth_verdict(crawled):
    db, _, result = crawled
    truth = load_truth()
    got = {(a, c): (s, r, "" if p is None else str(p), bool(d), "" if n is None else f"{f}/{n}")
           for a, c, s, r, p, d, f, n in rows(db, "select agency_id, criterion, status, reason, posts_in_year, "
                                                  "discovered, items_found, items_total from verdicts")}
    wrong = []
    for key, t in truth.items():
        want = (*truth_tuple(t), truth_items(t))
        if got.get(key) != want:
            wrong.append(f"{key}: got {got.get(key)} want {want}")
    assert not wrong, "\n".join(wrong)
    assert "verdicts:" in result.stdout     # the one-line summary


def test_exit_code_says_review_or_fetch_failures(crawled):
    db, _, result = crawled
    attention = rows(db, "select count(*) from verdicts where status = 'review' or reason = 'unreachable'")[0][0]
    assert result.returncode == (1 if attention else 0)


def test_crawl_and_spot_check_give_the_same_verdicts(crawled, server):
    # every reported link a reviewer can give `portal-evidence check`, checked by the library call the
    # command runs (the httpx path), gets the verdict the crawl (the Scrapy path) stored for it
    db, _, _ = crawled
    rulebook = load_rulebook()
    registry = load_registry(AGENCIES, rulebook)
    tasks = [t for t in plan_tasks(registry, load_reports(REPORTS, registry, rulebook), rulebook)
             if t.report and t.url.strip() and not t.report.not_applicable]
    options = RunOptions(period=tuple(rulebook.period), limits=DEMO_LIMITS)
    matcher = CategoryMatcher.from_rulebook(rulebook)
    checked = {}
    with proxy_env(server.proxy_url):
        for task in tasks:
            content = task.criterion.content_rule
            inv, checked_at = spot_check(task.url, task.criterion.id, matcher=matcher, options=options,
                                         agency_portal=task.agency.portal,
                                         allowed_hosts=task.criterion.allowed_hosts,
                                         related_pages=MAX_RELATED_PAGES if content else 0,
                                         related_phrases=content.phrases if content else ())
            v = make_verdict(task.agency.agency_id, inv.outcome, options.period, reported_url=task.url,
                             min_posts=task.criterion.min_posts, content=content, checked_at=checked_at,
                             agency_name=task.agency.agency_name)
            checked[task.key] = (v.status, v.reason, v.posts_in_year, v.discovered)
    crawled_verdicts = {(a, c): (s, r, p, bool(d)) for a, c, s, r, p, d in rows(
        db, "select agency_id, criterion, status, reason, posts_in_year, discovered from verdicts")}
    differ = {k: (v, crawled_verdicts.get(k)) for k, v in checked.items() if crawled_verdicts.get(k) != v}
    assert not differ
    assert len({v[:2] for v in checked.values()}) >= 8       # passes and every kind of failure alike


def test_every_fetch_row_points_at_its_warc_record(crawled):
    db, _, _ = crawled
    warc_dir = db.with_name(db.stem + "-warc")
    fetches = rows(db, "select url, final_url, status, digest, warc_file, warc_offset from fetches")
    assert fetches and all(f[4] for f in fetches)
    for _url, final_url, status, digest, name, offset in fetches:
        with (warc_dir / name).open("rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Target-URI") == final_url
            if status is None:
                assert record.rec_type == "metadata"
                continue
            assert record.rec_type == "response"
            body = record.content_stream().read()
            assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
    # one row per page of a link's evidence: a link's verdict is stored once, its fetches with it
    assert rows(db, "select agency_id, criterion, warc_file, warc_offset, count(*) from fetches "
                    "group by agency_id, criterion, warc_file, warc_offset having count(*) > 1") == []


def test_no_request_leaves_the_registered_portals(crawled):
    # ... but for the host of a link reported for a criterion whose rulebook entry allows that host
    db, requests, _ = crawled
    rulebook = load_rulebook()
    registry = load_registry(AGENCIES, rulebook)
    scopes = [a.scope for a in registry.values()]
    scopes += [Scope.on_host(t.url) for t in plan_tasks(registry, load_reports(REPORTS, registry, rulebook), rulebook)
               if t.url and allowed_host(t.url, t.criterion.allowed_hosts)]
    assert requests
    outside = []
    for req in requests:
        url = f"http://{req.host}{req.target if req.target.startswith('/') else urlsplit(req.target).path}"
        if urlsplit(url).path == "/robots.txt" and any(_same_host(req.host, s) for s in scopes):
            continue
        if not any(s.owns(url) for s in scopes):
            outside.append(url)
    assert not outside


def _same_host(host: str, scope: Scope) -> bool:
    bare = host[4:] if host.startswith("www.") else host
    return any(p.host == bare for p in scope.portals)


@pytest.mark.parametrize("link", ["same path", "symlink", "hard link"])
def test_a_second_crawl_on_the_same_database_is_refused(server, tmp_path, link):
    """The lock is a row inside the database: every path to the file sees it."""
    from verifier.store import claim_lock, open_db, release_lock

    db = tmp_path / "locked.db"
    holder = open_db(db)
    token = claim_lock(holder)             # held by this (live) process
    other = {"same path": db, "symlink": tmp_path / "via-symlink.db", "hard link": tmp_path / "via-link.db"}[link]
    if link == "symlink":
        other.symlink_to(db)
    elif link == "hard link":
        os.link(db, other)
    try:
        result = run_crawl(other, server.proxy_url)
    finally:
        release_lock(holder, token)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Another crawl is running" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert rows(db, "select count(*) from runs") == [(0,)]


def demo_link_tasks():
    """The demo run's links (website criteria and lists of the agencies that sent a form), without the form's
    figures."""
    rulebook = load_rulebook()
    registry = load_registry(AGENCIES, rulebook)
    reports = load_reports(REPORTS, registry, rulebook)
    return plan_tasks(registry, reports, rulebook) + plan_tasks(registry, reports, rulebook, kind="listed",
                                                                items=load_items(ITEMS, registry, rulebook))


PROGRESS_LINE = re.compile(r"^\S+ (\d+)/(\d+) links(?: \((\d+) verified before the resume\))?, ", re.M)


def assert_resumed_progress(result: subprocess.CompletedProcess, links: int, links_before: int) -> None:
    """The resumed run counts its links of its links (never past them, those verified before the kill
    included, and said), closes with every link done, and its summary line says how many came before."""
    shown = [(int(done), int(total), int(before or 0)) for done, total, before in PROGRESS_LINE.findall(result.stderr)]
    assert shown, result.stderr[-2000:]
    assert all(total == links and before == links_before and links_before <= done <= total
               for done, total, before in shown), shown
    assert [done for done, *_ in shown] == sorted(done for done, *_ in shown)
    assert shown[-1][0] == links, result.stderr[-2000:]          # the closing line: every link verified
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"{len(load_truth())} verdicts: "), summary     # the whole run's verdicts
    assert f"resumed: {links_before} of {links} links verified before the resume" in summary, summary


def test_killed_crawl_resumes_to_the_same_verdicts(crawled, tmp_path):
    reference_db, _, _ = crawled
    db = tmp_path / "killed.db"
    with PortalServer(latency=0.05) as slow:
        env = {**os.environ, "http_proxy": slow.proxy_url, "HTTP_PROXY": slow.proxy_url, "no_proxy": ""}
        proc = subprocess.Popen(crawl_cmd(db), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            if db.exists():
                try:        # links verified from fetched pages (the form's figures are decided at once)
                    fetched_links = rows(db, "select count(*) from verdicts where checked_url is not null")[0][0]
                except sqlite3.OperationalError:
                    continue
                if fetched_links >= 15:
                    break
        assert proc.poll() is None, "the crawl finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = {(a, c): n for a, c, n in rows(
            db, "select agency_id, criterion, count(*) from fetches group by agency_id, criterion")}
        done_before = rows(db, "select agency_id, criterion, status, reason, posts_in_year from verdicts")
        result = run_crawl(db, slow.proxy_url)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "resumed" in result.stdout
    assert rows(db, "select count(*), count(distinct id) from runs") == [(1, 1)]
    links = len(demo_link_tasks())
    links_before = sum(1 for a, c, *_ in done_before if (a, c) in {t.key for t in demo_link_tasks()})
    assert_resumed_progress(result, links, links_before)
    final = set(rows(db, "select agency_id, criterion, status, reason, posts_in_year from verdicts"))
    reference = set(rows(reference_db, "select agency_id, criterion, status, reason, posts_in_year from verdicts"))
    assert final == reference
    assert set(done_before) <= final
    after = {(a, c): n for a, c, n in rows(
        db, "select agency_id, criterion, count(*) from fetches group by agency_id, criterion")}
    assert sum(before.values()) > 0
    for a, c, *_ in done_before:     # nothing lost or duplicated for links done before the kill
        assert after.get((a, c), 0) == before.get((a, c), 0)


def test_an_introduction_missing_its_content_says_what_in_the_store_and_the_exports(crawled, tmp_path):
    import json

    from openpyxl import load_workbook

    from verifier.export.audit import build_audit
    from verifier.export.json import write_json
    from verifier.export.xlsx import write_xlsx
    from verifier.store import open_db

    db, _, _ = crawled
    (status, reason, detail), = rows(db, "select status, reason, detail from verdicts "
                                         "where agency_id = 'ha-quang' and criterion = 'gioi-thieu'")
    assert (status, reason) == ("fail", "missing_content")
    assert "content missing: Lãnh đạo (họ tên, chức danh); Điện thoại" in detail
    assert rows(db, "select text from reasons where reason = 'missing_content'") == [("Trang thiếu nội dung bắt buộc",)]
    audit = build_audit(open_db(db))
    data = json.loads(write_json(audit, tmp_path).read_text(encoding="utf-8"))
    verdict = next(v for v in data["verdicts"] if (v["agency_id"], v["criterion"]) == ("ha-quang", "gioi-thieu"))
    assert verdict["reason"] == "missing_content" and verdict["posts_in_year"] is None
    assert "còn thiếu Lãnh đạo (họ tên, chức danh); Điện thoại" in verdict["hint"]
    book = load_workbook(write_xlsx(audit, tmp_path))
    cells = [str(c.value) for row in book["Kết quả kiểm tra"].iter_rows() for c in row if c.value]
    assert "Trang thiếu nội dung bắt buộc" in cells and verdict["hint"] in cells


def test_an_introduction_that_carries_its_content_passes_in_its_own_words(crawled, tmp_path):
    from openpyxl import load_workbook

    from verifier.export.audit import build_audit
    from verifier.export.phieu import found_words
    from verifier.export.xlsx import write_xlsx
    from verifier.store import open_db

    db, _, _ = crawled
    assert rows(db, "select status, reason from verdicts where agency_id = 'stp' and criterion = 'gioi-thieu'") \
        == [("pass", "content_ok")]
    assert rows(db, "select text from reasons where reason = 'content_ok'") == [("Trang có đủ nội dung bắt buộc",)]
    audit = build_audit(open_db(db))
    verdict = next(v for v in audit.verdicts_of("stp") if v.criterion == "gioi-thieu")
    assert "có đủ nội dung bắt buộc: Chức năng, nhiệm vụ, quyền hạn; Cơ cấu tổ chức" in found_words(audit, verdict)
    book = load_workbook(write_xlsx(audit, tmp_path))
    cells = {str(c.value) for row in book["Kết quả kiểm tra"].iter_rows() for c in row if c.value}
    assert "Trang có đủ nội dung bắt buộc" in cells and "Đúng chuyên mục, có bài viết trong kỳ đánh giá" in cells


def test_the_content_checks_are_fields_in_the_store_and_every_export(crawled, tmp_path):
    import json

    from openpyxl import load_workbook

    from verifier.export.audit import build_audit
    from verifier.export.html import write_html
    from verifier.export.json import write_json
    from verifier.export.xlsx import write_xlsx
    from verifier.store import open_db

    db, _, _ = crawled
    stored = rows(db, "select c.check_id, c.found, c.page, c.excerpt from content_checks c join verdicts v "
                      "on v.id = c.verdict_id where v.agency_id = 'ha-quang' order by c.position")
    assert [(i, f) for i, f, _, _ in stored] == [("chuc-nang-nhiem-vu", 1), ("co-cau-to-chuc", 1), ("lanh-dao", 0),
                                                 ("dia-chi", 1), ("dien-thoai", 0), ("thu-dien-tu", 1)]
    assert all(p.startswith("http://caobang.gov.vn/web/ha-quang/") and 0 < len(x) <= 202 for _, f, p, x in stored if f)
    assert all(p is None and x is None for _, f, p, x in stored if not f)
    audit = build_audit(open_db(db))
    data = json.loads(write_json(audit, tmp_path).read_text(encoding="utf-8"))
    verdict = next(v for v in data["verdicts"] if (v["agency_id"], v["criterion"]) == ("ha-quang", "gioi-thieu"))
    assert [(c["id"], c["found"]) for c in verdict["content_checks"]] == [(i, bool(f)) for i, f, _, _ in stored]
    assert verdict["content_checks"][0]["label"] == "Chức năng, nhiệm vụ, quyền hạn"
    assert "chức năng" in verdict["content_checks"][0]["excerpt"].casefold()
    book = load_workbook(write_xlsx(audit, tmp_path))
    sheet = list(book["Kết quả kiểm tra"].iter_rows(values_only=True))
    head = next(r for r in sheet if r[0] == "Mã đơn vị")
    row = dict(zip(head, next(r for r in sheet if r[0] == "ha-quang" and str(r[2]).startswith("Giới thiệu"))))
    assert row["Nội dung bắt buộc còn thiếu"] == "Lãnh đạo (họ tên, chức danh); Điện thoại"
    assert row["Nội dung bắt buộc có trên trang"].startswith("Chức năng, nhiệm vụ, quyền hạn; Cơ cấu tổ chức")
    page = (write_html(audit, tmp_path / "html").parent / "agency" / "ha-quang.html").read_text(encoding="utf-8")
    section = page.split('id="gioi-thieu"')[1].split("</section>")[0]
    assert 'class="content-checks"' in section and "Lãnh đạo (họ tên, chức danh)" in section
