"""Reviewer sessions browse and override through a real `serve` process while a crawl writes a new run to the
same database: no 5xx, no "database is locked", no override lost, and the pages keep showing the finished run.
The same sessions as the benchmark's (bench/console.py), on a small scale."""

import datetime as dt
import sqlite3

from bench.console import console_targets, hidden_fields, run_sessions, start_crawl
from bench.farm import Farm, FarmSpec
from bench.run import farm_server
from tests.console.conftest import PASSWORD, Served, make_console_db, signed_in
from tests.verifier.builders import copy_run
from verifier.console.app import create_app
from verifier.console.auth import hash_password
from verifier.store import ensure_console_tables, open_db, save_user

SESSIONS = [f"duyet{k}" for k in range(1, 6)]
# two portals of five categories, crawled once at full speed, then again with every answer 0.3 s late: the
# second crawl writes for several seconds
FARM = FarmSpec(hosts=2, categories=5, pages=1, undated=1)
LATENCY = 0.3


def test_sessions_while_a_crawl_writes(tmp_path):
    farm = Farm(FARM)
    inputs = farm.write_inputs(tmp_path / "farm")
    db_path = tmp_path / "evidence.db"
    with farm_server(farm) as portals:
        first = start_crawl(db_path, tmp_path / "warc-1", portals, tmp_path / "crawl-1.log", inputs)
        assert first.wait(timeout=120) in (0, 1), (tmp_path / "crawl-1.log").read_text(errors="replace")[-2000:]
    db = open_db(db_path)
    ensure_console_tables(db)
    digest = hash_password(PASSWORD)
    for name in SESSIONS:
        save_user(db, name=name, role="reviewer", agency_id=None, password_hash=digest, at=dt.datetime.now(dt.UTC))
    db.close()
    targets = console_targets(db_path)
    with Served(db_path) as console, farm_server(farm, latency=LATENCY) as portals:
        crawl = start_crawl(db_path, tmp_path / "warc-2", portals, tmp_path / "crawl-2.log", inputs)
        got = run_sessions(console.url, db_path, SESSIONS, targets, crawl, max_seconds=60, think=0.05,
                           password=PASSWORD)
    crawl_log = (tmp_path / "crawl-2.log").read_text(errors="replace")
    assert crawl.returncode in (0, 1), crawl_log[-2000:]
    assert got["crawl_seconds"] > 2, "the crawl ended before the sessions had browsed"
    assert got["errors"] == []
    assert "database is locked" not in console.stderr + crawl_log
    assert got["posted"] == len(SESSIONS) * 2 and got["lost"] == [] and got["found"] == got["posted"]
    # every verdict page read while the crawl was writing showed the finished run, and there were some
    assert got["unfinished_run_shown"] == []
    assert got["seen_during_crawl"] > 0
    with sqlite3.connect(db_path) as conn:
        runs = conn.execute("select id, status from runs order by id").fetchall()
        overrides = conn.execute("select agency_id, criterion, run_id from overrides").fetchall()
    assert [status for _, status in runs] == ["done", "done"]
    assert len({(a, c) for a, c, _ in overrides}) == len(overrides) == got["posted"]


def test_pages_show_the_latest_finished_run_until_a_crawl_finishes_its_run(tmp_path):
    db_path = make_console_db(tmp_path)
    db = open_db(db_path)
    first = db.execute("select max(id) from runs").fetchone()[0]
    second = copy_run(db, first, changes={("so-tu-phap", "thanh-tra"): ("pass", "ok", 4)})
    db["runs"].update(second, {"status": "running", "finished_at": None})     # a crawl still writing it
    db.close()
    client = signed_in(create_app(db_path), "duyet")
    page = client.get("/agency/so-tu-phap/thanh-tra")
    assert hidden_fields(page.text, "override")["run"] == str(first) and 'class="badge review"' in page.text
    db = open_db(db_path)
    db["runs"].update(second, {"status": "done", "finished_at": "2018-11-29T08:00:00Z"})
    db.close()
    page = client.get("/agency/so-tu-phap/thanh-tra")
    assert hidden_fields(page.text, "override")["run"] == str(second) and 'class="badge pass"' in page.text
