"""The evidence database as a person browses it: foreign keys, each post linked to the page it was read from,
pages as fetch rows, readable views, Datasette's metadata, and the in-place upgrade of an older file."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils
import yaml
from warcio.archiveiterator import ArchiveIterator

from crawler.categories import CategoryMatcher
from crawler.records import PageVisit, Post
from crawler.settings import RunOptions
from crawler.spotcheck import spot_check
from demo.pipeline import DEMO_DIR, DEMO_LIMITS, proxy_env
from tests.verifier.builders import T_CHECK, add_run, page, website
from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook
from verifier.store import (
    SCHEMA_VERSION,
    datasette_metadata,
    open_db,
    read_run,
    save_verdict,
    schema_version,
    write_datasette_metadata,
)

ROOT = Path(__file__).resolve().parents[2]
AGENCIES = ("skhdt", "syt")          # article-dated posts, a feed, an undated listing, a not-found link
PERIOD = (dt.date(2018, 1, 1), dt.date(2018, 12, 31))


def _subset(source: Path, target: Path, agencies) -> Path:
    with source.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [r for r in reader if r["agency_id"] in agencies]
        fields = reader.fieldnames
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.fixture(scope="module")
def crawled(server, tmp_path_factory) -> Path:
    """A crawl of two demo agencies by the CLI, into evidence.db."""
    tmp = tmp_path_factory.mktemp("people")
    db = tmp / "evidence.db"
    env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": "",
           "NO_PROXY": ""}
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "crawl",
         "--agencies", str(_subset(DEMO_DIR / "agencies.csv", tmp / "agencies.csv", AGENCIES)),
         "--reports", str(_subset(DEMO_DIR / "reports.csv", tmp / "reports.csv", AGENCIES)),
         "--db", str(db), "--timeout", str(DEMO_LIMITS.read_timeout)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    return db


def rows(db: Path, sql: str, *args) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


# ------------------------------------------------------------------------------------------- a demo crawl

def test_a_demo_crawl_declares_its_foreign_keys_and_keeps_them(crawled):
    db = sqlite_utils.Database(crawled)
    links = {(t.name, fk.column, fk.other_table) for t in db.tables for fk in t.foreign_keys}
    assert {("verdicts", "run_id", "runs"), ("fetches", "verdict_id", "verdicts"), ("posts", "fetch_id", "fetches"),
            ("posts", "verdict_id", "verdicts"), ("overrides", "verdict_id", "verdicts"),
            ("agencies", "run_id", "runs"), ("criteria", "run_id", "runs")} <= links
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert schema_version(db) == SCHEMA_VERSION
    assert not [t.name for t in db.tables if "group" in t.columns_dict or "evidence" in t.columns_dict]


def test_every_post_names_the_page_it_was_read_from(crawled):
    posts = rows(crawled, "select p.date_source, p.verdict_id as pv, f.verdict_id as fv, f.purpose, f.status "
                          "from posts p left join fetches f on f.id = p.fetch_id")
    assert posts and all(p["purpose"] is not None for p in posts)
    assert all(p["pv"] == p["fv"] and p["status"] == 200 for p in posts)    # a page of its own verdict
    by_source = {(p["date_source"] or "").partition(":")[0]: p["purpose"] for p in posts}
    assert by_source["article"] == "article"      # dated by its article page: linked to that page
    assert by_source["listing"] == "listing"


def test_a_verdicts_pages_are_its_fetch_rows_in_order(crawled):
    stored = read_run(open_db(crawled, read_only=True))
    verdict = next(v for v in stored.verdicts if len(v.pages) > 2)
    fetches = rows(crawled, "select f.* from fetches f join verdicts v on v.id = f.verdict_id "
                            "where v.agency_id = ? and v.criterion = ? order by position",
                   verdict.agency_id, verdict.criterion)
    assert [f["position"] for f in fetches] == list(range(len(verdict.pages)))
    assert [f["url"] for f in fetches] == [p.url for p in verdict.pages]
    assert stored.page_fetch_ids[(verdict.agency_id, verdict.criterion)] == tuple(f["id"] for f in fetches)
    assert all(p.page_index is not None and 0 <= p.page_index < len(verdict.pages) for p in verdict.posts)


def test_the_crawl_records_how_long_each_fetch_took(crawled):
    answered = rows(crawled, "select elapsed from fetches where status is not null")
    assert answered and all(0 < r["elapsed"] < DEMO_LIMITS.read_timeout + 1 for r in answered)
    refused = rows(crawled, "select error, error_detail from fetches where error is not null")
    assert refused and all(r["error_detail"] for r in refused)


def test_the_readable_view_names_agency_criterion_and_reason(crawled):
    view = rows(crawled, "select * from verdicts_readable where reason = 'ok'")
    rulebook = load_rulebook(DEFAULT_RULEBOOK)
    names = {c.id: c.name for c in rulebook.criteria}
    assert view
    for row in view:
        assert row["agency_name"] in ("Sở Kế hoạch và Đầu tư", "Sở Y tế")
        assert row["criterion_name"] == names[row["criterion"]]
        assert row["reason_text"] == "Đúng chuyên mục, có bài viết trong kỳ đánh giá"
        assert row["pages"] >= 1 and row["override_status"] is None


def test_the_spot_check_measures_elapsed_and_links_posts_too(server):
    """The httpx path: the same fields, filled."""
    rulebook = load_rulebook(DEFAULT_RULEBOOK)
    options = RunOptions(period=PERIOD, limits=DEMO_LIMITS)
    with proxy_env(server.proxy_url):
        inv, _ = spot_check("http://sokhdt.caobang.gov.vn/chuyen-muc/tin-tuc-su-kien.html", "tin-tuc-su-kien",
                            matcher=CategoryMatcher.from_rulebook(rulebook), options=options,
                            agency_portal="http://sokhdt.caobang.gov.vn")
    visits, posts = inv.outcome.visits, list(inv.outcome.posts.values())
    assert visits and all(v.elapsed and v.elapsed > 0 for v in visits if v.status is not None)
    assert posts and all(visits[p.page_index].purpose in ("listing", "article", "feed") for p in posts)


# --------------------------------------------------------------------------------------------- Datasette

def _datasette(db: Path):
    from datasette.app import Datasette

    metadata = yaml.safe_load(write_datasette_metadata(db).read_text(encoding="utf-8"))
    return Datasette([str(db)], metadata=metadata)


def _as_json(link: str, extra: str) -> str:
    """The JSON of a Datasette link ("/db/table?col=v" -> "/db/table.json?col=v&...")."""
    path, _, query = link.partition("?")
    return f"{path}.json?{query}&{extra}"


def test_datasette_follows_a_verdict_to_its_fetches_pages_and_posts(crawled):
    async def browse():
        ds = _datasette(crawled)
        await ds.invoke_startup()
        get = ds.client.get
        verdict = (await get("/evidence/verdicts_readable.json?reason=ok&_shape=objects&_size=1")).json()["rows"][0]
        row = (await get(f"/evidence/verdicts/{verdict['verdict_id']}.json?_extras=foreign_key_tables")).json()
        to_fetches = next(t for t in row["foreign_key_tables"] if t["other_table"] == "fetches")
        assert to_fetches["count"] == verdict["pages"] and to_fetches["link"].endswith(f"verdict_id={verdict['verdict_id']}")
        html = (await get(f"/evidence/verdicts/{verdict['verdict_id']}")).text
        assert to_fetches["link"] in html                                  # the link a reviewer clicks
        fetches = (await get(_as_json(to_fetches["link"], "_labels=on&_shape=objects&_sort=position"))).json()["rows"]
        assert fetches[0]["verdict_id"] == {"value": verdict["verdict_id"], "label": verdict["criterion"]}
        listing = next(f for f in fetches if f["purpose"] == "listing" and f["posts"])
        fetch_row = (await get(f"/evidence/fetches/{listing['id']}.json?_extras=foreign_key_tables")).json()
        to_posts = next(t for t in fetch_row["foreign_key_tables"] if t["other_table"] == "posts")
        posts = (await get(_as_json(to_posts["link"], "_shape=objects&_labels=on"))).json()["rows"]
        assert posts and all(p["fetch_id"]["value"] == listing["id"] for p in posts)
        table_html = (await get("/evidence/verdicts")).text
        fetches_html = (await get("/evidence/fetches")).text
        return listing, table_html, fetches_html

    listing, table_html, fetches_html = asyncio.run(browse())
    # the page's WARC reference opens its response record
    warc = next(crawled.parent.glob("evidence-warc/*.warc.gz")).parent / listing["warc_file"]
    with warc.open("rb") as fh:
        fh.seek(listing["warc_offset"])
        record = next(iter(ArchiveIterator(fh)))
    assert record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == listing["final_url"]
    # the descriptions of the metadata show, in both languages
    described = datasette_metadata("evidence")["databases"]["evidence"]["tables"]
    assert described["verdicts"]["description"].startswith("Phán định tự động")
    assert described["verdicts"]["description"] in table_html
    assert f'<dd>{described["fetches"]["columns"]["elapsed"]}</dd>' in fetches_html


def test_the_written_metadata_opens_with_the_datasette_command(crawled):
    metadata = write_datasette_metadata(crawled)
    assert metadata == crawled.parent / "metadata.yaml"
    described = yaml.safe_load(metadata.read_text(encoding="utf-8"))["databases"]["evidence"]["tables"]
    db = sqlite_utils.Database(crawled)
    for name in db.table_names() + db.view_names():
        assert name in described, name
        assert set(db[name].columns_dict) <= set(described[name]["columns"]), name
    done = subprocess.run([str(Path(sys.executable).parent / "datasette"), str(crawled), "-m", str(metadata),
                           "--get", "/evidence/verdicts_readable.json?_shape=array&_size=1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["criterion_name"]


# ------------------------------------------------------------------------------------------ store round trip

def test_a_verdict_stored_again_keeps_its_id_and_replaces_its_pages(tmp_path):
    db = open_db(tmp_path / "e.db")
    run_id = add_run(db)
    pages = (page("https://a.gov.vn/l", ref="w.warc.gz#10+20"), page("https://a.gov.vn/p", ref="w.warc.gz#30",
                                                                     purpose="article", kind="article"))
    posts = (Post("Bài 1", "https://a.gov.vn/1", dt.date(2018, 3, 1), page_index=0),
             Post("Bài 2", "https://a.gov.vn/2", dt.date(2018, 4, 1), date_source="article:time", page_index=1))
    verdict = website("a", "tin-tuc-su-kien", "pass", "ok", pages=pages, posts=posts)
    save_verdict(db, run_id, verdict, PERIOD)
    first = db.execute("select id from verdicts").fetchone()[0]
    save_verdict(db, run_id, verdict, PERIOD)
    assert db.execute("select id from verdicts").fetchall() == [(first,)]
    assert db["fetches"].count == 2 and db["posts"].count == 2
    back = read_run(db).verdicts[0]
    assert back.pages == pages and back.posts == posts
    assert [p.page_index for p in back.posts] == [0, 1]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


# ----------------------------------------------------------------------------------- an older database

# The layout before version 1 (main before foreign keys), as data: how such a file was made.
OLD_SCHEMA = {
    "runs": ({"id": int, "started_at": str, "finished_at": str, "status": str, "rulebook": str, "year": int,
              "period_start": str, "period_end": str, "options": str, "inputs_digest": str, "agencies_file": str,
              "reports_file": str, "warc_dir": str, "pid": int, "provenance": str}, "id"),
    "agencies": ({"run_id": int, "agency_id": str, "agency_name": str, "group": str, "portal": str},
                 ("run_id", "agency_id")),
    "reports": ({"run_id": int, "agency_id": str, "criterion": str, "url": str, "value": str, "not_applicable": int,
                 "note": str, "submitted_at": str, "source": str}, ("run_id", "agency_id", "criterion")),
    "fetches": ({"id": int, "run_id": int, "agency_id": str, "criterion": str, "purpose": str, "url": str,
                 "final_url": str, "status": int, "error": str, "error_detail": str, "fetched_at": str,
                 "elapsed": float, "digest": str, "warc_file": str, "warc_offset": int, "warc_length": int,
                 "kind": str, "category": str, "category_label": str, "posts": int}, "id"),
    "posts": ({"id": int, "run_id": int, "agency_id": str, "criterion": str, "title": str, "url": str,
               "published": str, "updated": str, "date_source": str, "in_period": int}, "id"),
    "verdicts": ({"run_id": int, "agency_id": str, "criterion": str, "url": str, "checked_url": str, "status": str,
                  "reason": str, "posts_in_year": int, "discovered": int, "detail": str, "checked_at": str,
                  "evidence": str}, ("run_id", "agency_id", "criterion")),
    "overrides": ({"id": int, "agency_id": str, "criterion": str, "status": str, "note": str, "by": str, "at": str,
                   "run_id": int, "machine_status": str, "machine_reason": str}, "id"),
    "scores": ({"run_id": int, "agency_id": str, "group": str, "score": float, "max_score": float, "percent": float,
                "level": str, "rank": int, "ranked": int, "late": int, "not_ranked_reason": str, "rulebook": str,
                "period_start": str, "period_end": str, "scored_at": str}, ("run_id", "agency_id")),
    "criterion_points": ({"run_id": int, "agency_id": str, "criterion": str, "points": float, "max_points": float,
                          "status": str, "reason": str, "basis": str}, ("run_id", "agency_id", "criterion")),
    "crawl_lock": ({"id": int, "token": str, "pid": int, "pid_started": float, "host": str, "since": str,
                    "beat": float}, "id"),
}
OLD_PAGE = {"url": "https://a.gov.vn/l", "final_url": "https://a.gov.vn/l", "purpose": "listing", "status": 200,
            "fetched_at": "2018-11-28T03:00:00Z", "error": None, "kind": "listing", "category": "tin-tuc-su-kien",
            "category_label": "Tin tức", "posts": 2, "warc_record": "w.warc.gz#0+100", "digest": "sha1:A"}


def _old_database(path: Path) -> None:
    """A version-0 file as main wrote it: two verdicts, one whose second page has no fetch row."""
    db = sqlite_utils.Database(path)
    for name, (columns, pk) in OLD_SCHEMA.items():
        db[name].create(columns, pk=pk)
    db["runs"].insert({"id": 1, "started_at": "2018-11-28T02:00:00Z", "status": "done", "year": 2018,
                       "period_start": "2018-01-01", "period_end": "2018-12-31", "options": "{}"})
    db["agencies"].insert({"run_id": 1, "agency_id": "a", "agency_name": "Sở A", "group": "so", "portal": "x"})
    db["fetches"].insert({"id": 7, "run_id": 1, "agency_id": "a", "criterion": "tin-tuc-su-kien",
                          **{k: v for k, v in OLD_PAGE.items() if k != "warc_record"},
                          "warc_file": "w.warc.gz", "warc_offset": 0, "warc_length": 100})
    second = {**OLD_PAGE, "url": "https://a.gov.vn/p", "final_url": "https://a.gov.vn/p", "purpose": "article",
              "warc_record": "w.warc.gz#100+50"}
    db["verdicts"].insert_all([
        {"run_id": 1, "agency_id": "a", "criterion": "tin-tuc-su-kien", "status": "pass", "reason": "ok",
         "posts_in_year": 2, "discovered": 0, "detail": "", "checked_at": "2018-11-28T03:00:00Z",
         "evidence": json.dumps({"pages": [{**OLD_PAGE, "fetch_id": 7}, second]})},
        {"run_id": 1, "agency_id": "a", "criterion": "gioi-thieu", "status": "fail", "reason": "no_link",
         "posts_in_year": None, "discovered": 0, "detail": "", "checked_at": "2018-11-28T03:00:00Z",
         "evidence": json.dumps({"pages": []})},
    ])
    db["posts"].insert({"id": 1, "run_id": 1, "agency_id": "a", "criterion": "tin-tuc-su-kien", "title": "Bài 1",
                        "url": "https://a.gov.vn/1", "published": "2018-03-01", "in_period": 1})
    db["overrides"].insert({"id": 1, "agency_id": "a", "criterion": "gioi-thieu", "status": "pass", "note": "n",
                            "by": "B", "at": "2018-11-29T00:00:00+00:00", "run_id": 1, "machine_status": "fail",
                            "machine_reason": "no_link"})
    db["scores"].insert({"run_id": 1, "agency_id": "a", "group": "so", "score": 3.0})
    db.conn.commit()
    db.close()


def _dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [*con.iterdump(), str(con.execute("PRAGMA user_version").fetchone()[0])]
    finally:
        con.close()


def test_an_old_database_is_upgraded_in_place_with_its_rows(tmp_path):
    path = tmp_path / "old.db"
    _old_database(path)
    db = open_db(path)
    assert schema_version(db) == SCHEMA_VERSION
    stored = read_run(db)
    assert [a.group for a in stored.agencies] == ["so"]
    verdict = next(v for v in stored.verdicts if v.criterion == "tin-tuc-su-kien")
    assert [p.url for p in verdict.pages] == ["https://a.gov.vn/l", "https://a.gov.vn/p"]
    assert [p.warc_record for p in verdict.pages] == ["w.warc.gz#0+100", "w.warc.gz#100+50"]
    assert stored.page_fetch_ids[("a", "tin-tuc-su-kien")][0] == 7          # the row the evidence named
    assert [p.title for p in verdict.posts] == ["Bài 1"] and verdict.posts[0].page_index is None
    assert db.execute("select agency_group from scores").fetchall() == [("so",)]
    assert db.execute("select v.criterion from overrides o join verdicts v on v.id = o.verdict_id").fetchall() \
        == [("gioi-thieu",)]
    assert not any("group" in t.columns_dict or "evidence" in t.columns_dict for t in db.tables)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [r["criterion"] for r in db.query("select criterion from verdicts order by id")] \
        == ["tin-tuc-su-kien", "gioi-thieu"]                                 # the stored order kept
    db.conn.close()
    upgraded = _dump(path)
    open_db(path).conn.close()
    assert _dump(path) == upgraded                                           # a second open changes nothing


def test_a_read_only_old_database_is_read_without_being_changed(tmp_path):
    path = tmp_path / "old.db"
    _old_database(path)
    before = path.read_bytes()
    db = open_db(path, read_only=True)
    stored = read_run(db)
    assert len(stored.verdicts) == 2 and len(stored.verdicts[0].pages) == 2
    assert path.read_bytes() == before
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 0
    con.close()


def test_pages_round_trip_with_elapsed_and_error_detail(tmp_path):
    db = open_db(tmp_path / "e.db")
    run_id = add_run(db)
    failed = PageVisit(url="https://a.gov.vn/x", final_url="https://a.gov.vn/x", purpose="listing", status=None,
                       fetched_at=T_CHECK, error="timeout", error_detail="no answer in 2.0 s", elapsed=2.01)
    save_verdict(db, run_id, website("a", "thanh-tra", "fail", "unreachable", pages=(failed,)), PERIOD)
    assert read_run(db).verdicts[0].pages == (failed,)
    assert db.execute("select elapsed, error_detail from fetches").fetchall() == [(2.01, "no answer in 2.0 s")]


def test_content_checks_are_rows_and_a_version_1_file_gets_them_from_its_details(tmp_path):
    from dataclasses import replace

    from crawler.content import CheckSeen

    path = tmp_path / "v1.db"
    db = open_db(path)
    run_id = add_run(db)
    checks = (CheckSeen("cn", "Chức năng, nhiệm vụ", True, "https://a.gov.vn/gt", "…có chức năng, nhiệm vụ…"),
              CheckSeen("dt", "Điện thoại", False))
    save_verdict(db, run_id, replace(website("a", "gioi-thieu", "fail", "missing_content",
                                             detail="content missing: Điện thoại (1 of 2 required found); "
                                                    "content found: Chức năng, nhiệm vụ"),
                                     content_checks=checks), PERIOD)
    assert read_run(db).verdicts[0].content_checks == checks
    # the same verdict as version 1 stored it: a content pass with reason ok, its checks named in its detail only
    save_verdict(db, run_id, website("b", "gioi-thieu", "pass", "ok", detail="content found: Địa chỉ; Thư điện tử"),
                 PERIOD)
    db.execute("drop table content_checks")
    db.execute("PRAGMA user_version = 1")
    db.conn.commit()
    db.conn.close()
    db = open_db(path)
    assert schema_version(db) == SCHEMA_VERSION
    old = next(v for v in read_run(db).verdicts if v.agency_id == "b")
    assert (old.status, old.reason) == ("pass", "content_ok")
    assert old.content_checks == (CheckSeen("", "Địa chỉ", True), CheckSeen("", "Thư điện tử", True))
    db.conn.close()
    upgraded = _dump(path)
    open_db(path).conn.close()
    assert _dump(path) == upgraded
