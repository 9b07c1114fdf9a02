"""The distributed crawl (crawl --frontier, worker) on a small farm: the single-process crawl's verdicts and
fetches, with two workers and with one of them killed (SIGKILL) mid-crawl; every WARC record at its offset.

Each test starts its own redis-server on a free loopback port in a temporary folder."""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from warcio.archiveiterator import ArchiveIterator

from bench.farm import Farm, FarmSpec
from bench.run import farm_server, proxy_env
from bench.workers import RedisServer

ROOT = Path(__file__).resolve().parent.parent
# 4 hosts of 3 categories (one undated: its articles are read; one blank: found from the home page), 2 pages each
SPEC = FarmSpec(hosts=4, categories=3, pages=2, undated=1, blank=1)
LATENCY = 0.02
LEASE = 2.0                # seconds: a killed worker's hosts go back to the queue this soon


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A redis-server of the tests' own, on a free loopback port; skipped when Debian's redis-server is not
    installed, unless PORTAL_EVIDENCE_REQUIRE_REDIS is set (CI)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("PORTAL_EVIDENCE_REQUIRE_REDIS"):
            pytest.fail("redis-server is not installed (apt-get install redis-server) and CI requires it")
        pytest.skip("redis-server is not installed")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    farm = Farm(SPEC)
    folder = tmp_path_factory.mktemp("farm")
    agencies, reports = farm.write_inputs(folder)
    with farm_server(farm, latency=LATENCY) as server:
        yield farm, server, agencies, reports


def crawl_cmd(agencies: Path, reports: Path, db: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(agencies), "--reports", str(reports),
            "--db", str(db), *extra]


def worker(url: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "worker", "--frontier", url, "--hosts", "2",
                             "--wait", "60"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.fixture(scope="module")
def single(farm, tmp_path_factory):
    """The single-process crawl of the farm: what a distributed crawl must equal."""
    _, server, agencies, reports = farm
    db = tmp_path_factory.mktemp("single") / "single.db"
    result = subprocess.run(crawl_cmd(agencies, reports, db), cwd=ROOT, env=proxy_env(server), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return db


def verdicts(db: Path) -> dict:
    with sqlite3.connect(db) as con:
        return {(a, c): rest for a, c, *rest in con.execute(
            "select agency_id, criterion, url, checked_url, status, reason, posts_in_year, discovered, detail "
            "from verdicts")}


def fetch_rows(db: Path) -> collections.Counter:
    """Every fetch row of the run's verdicts, as the evidence shows it (what was fetched, for which link)."""
    with sqlite3.connect(db) as con:
        return collections.Counter(con.execute(
            "select agency_id, criterion, position, purpose, url, final_url, status, error, digest, kind, category, "
            "posts from fetches"))


def records_misplaced(db: Path, warc_dir: Path) -> list[str]:
    """Fetch rows whose WARC record is not at the recorded offset (or is not the fetch's final URL)."""
    wrong = []
    with sqlite3.connect(db) as con:
        rows = con.execute("select final_url, warc_file, warc_offset, warc_length from fetches").fetchall()
    assert rows and all(file for _, file, _, _ in rows)
    for final_url, file, offset, length in rows:
        with (warc_dir / file).open("rb") as fh:
            fh.seek(offset)
            member = fh.read(length)          # the gzip member of the record, alone
        records = list(ArchiveIterator(io.BytesIO(member)))
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in records]
        if uris != [final_url]:
            wrong.append(f"{file}#{offset}+{length}: {uris} (wanted {final_url})")
    return wrong


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_two_workers_reach_the_single_process_verdicts_and_fetches(farm, single, redis_url, tmp_path):
    _, server, agencies, reports = farm
    env = proxy_env(server)
    db = tmp_path / "dist.db"
    workers = [worker(redis_url, env) for _ in range(2)]
    coordinator = subprocess.Popen(crawl_cmd(agencies, reports, db, "--frontier", redis_url), cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code, out, err = finish(coordinator)
    assert code in (0, 1), err[-3000:]
    sent = [finish(w, 30) for w in workers]
    assert all(c == 0 for c, _, _ in sent), [e[-2000:] for _, _, e in sent]
    # both took part: each says how many links it investigated
    assert all(int(e.split("worker: ")[1].split()[0]) > 0 for _, _, e in sent), [e[-500:] for _, _, e in sent]
    assert verdicts(db) == verdicts(single)
    assert fetch_rows(db) == fetch_rows(single)
    assert not records_misplaced(db, tmp_path / "dist-warc")
    assert not redis.Redis.from_url(redis_url).keys("pe:run:*")        # the coordinator left nothing behind


def test_a_worker_killed_mid_crawl_leaves_its_hosts_to_the_other(farm, single, redis_url, tmp_path):
    _, server, agencies, reports = farm
    env = proxy_env(server)
    db = tmp_path / "killed.db"
    client = redis.Redis.from_url(redis_url)
    doomed, survivor = worker(redis_url, env), worker(redis_url, env)
    coordinator = subprocess.Popen(crawl_cmd(agencies, reports, db, "--frontier", redis_url, "--lease-seconds",
                                             str(LEASE)), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
    # kill the doomed worker once links came back and it holds a host with links not finished
    held, deadline = [], time.monotonic() + 60
    while not held and time.monotonic() < deadline and coordinator.poll() is None:
        done = sum(client.scard(k) for k in client.scan_iter("pe:run:*:done"))
        leases = {k: client.get(k) for k in client.scan_iter("pe:run:*:lease:*")}
        held = [k for k, v in leases.items() if v and f":{doomed.pid}:".encode() in v] if done else []
        time.sleep(0.02)
    assert held, "the doomed worker never held a host while links were coming back"
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    code, out, err = finish(coordinator)
    assert code in (0, 1), err[-3000:]
    assert finish(survivor, 30)[0] == 0
    assert verdicts(db) == verdicts(single)
    assert fetch_rows(db) == fetch_rows(single)        # no fetch row lost, none twice
    assert not records_misplaced(db, tmp_path / "killed-warc")


def test_a_frontier_that_cannot_be_reached_is_said_before_anything_is_written(farm, tmp_path):
    _, _, agencies, reports = farm
    with socket.socket() as probe:                  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = tmp_path / "none.db"
    result = subprocess.run(crawl_cmd(agencies, reports, db, "--frontier", f"redis://127.0.0.1:{port}/0"), cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot reach the frontier redis://127.0.0.1:{port}/0" in result.stderr
    assert not db.exists()
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "worker", "--frontier",
                             f"redis://127.0.0.1:{port}/0"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "cannot reach the frontier" in result.stderr


class _Planted:
    """A pickle that, unpickled, would create a file: what a frontier that pickled would run."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_a_pickle_and_a_malformed_result_are_refused_without_running_anything(farm, single, redis_url, tmp_path):
    _, server, agencies, reports = farm
    env = proxy_env(server)
    db, planted = tmp_path / "planted.db", tmp_path / "pwned"
    client = redis.Redis.from_url(redis_url)
    coordinator = subprocess.Popen(crawl_cmd(agencies, reports, db, "--frontier", redis_url), cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (runs := client.lrange("pe:runs", 0, -1)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runs, "the coordinator never opened its run"
    base = f"pe:run:{runs[-1].decode()}:"
    host = client.lindex(base + "queue", -1).decode()       # the next host a worker takes: its unit is spoiled
    unit = client.get(base + "unit:" + host)
    client.set(base + "unit:" + host, pickle.dumps(_Planted(planted)))
    key = json.loads(unit)["data"][0][0]                      # one of that host's links
    client.rpush(base + "results",
                 pickle.dumps(_Planted(planted)),
                 json.dumps({"v": 1, "type": "result", "data": {"key": key, "worker": "x", "outcome": {},
                                                                "fetches": {}}}),
                 json.dumps({"v": 99, "type": "result", "data": {}}))
    workers = [worker(redis_url, env) for _ in range(2)]
    code, out, err = finish(coordinator)
    assert code in (0, 1), err[-3000:]
    logs = [finish(w, 30) for w in workers]
    assert all(c == 0 for c, _, _ in logs), [e[-2000:] for _, _, e in logs]
    assert not planted.exists()
    assert "3 results from the frontier refused (not well formed)" in " ".join(out.split())
    assert "refused a result from the frontier" in err
    assert any(f"dropped the unit of {host}" in e for _, _, e in logs)
    assert verdicts(db) == verdicts(single)                  # the spoiled unit and link were done again, once
    assert fetch_rows(db) == fetch_rows(single)


def test_the_demo_crawled_by_two_workers_matches_its_truth(redis_url, server, tmp_path):
    """Every kind of criterion through the frontier: content-judged introductions with their related pages,
    allowed public-service hosts, listed criteria with their items (and their own category matcher)."""
    from demo.pipeline import DEMO_DIR, load_truth, truth_items, truth_tuple, verdict_items, verdict_tuple
    from verifier.store import load_verdicts, open_db

    env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": ""}
    db = tmp_path / "demo.db"
    workers = [worker(redis_url, env) for _ in range(2)]
    coordinator = subprocess.Popen(
        crawl_cmd(DEMO_DIR / "agencies.csv", DEMO_DIR / "reports.csv", db, "--items", str(DEMO_DIR / "items.csv"),
                  "--allow-private", "--timeout", "2", "--frontier", redis_url),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code, _, err = finish(coordinator, 240)
    assert code in (0, 1), err[-3000:]
    assert all(finish(w, 30)[0] == 0 for w in workers)
    conn = open_db(db)
    run_id = conn.execute("select max(id) from runs").fetchone()[0]
    rows = {(r["agency_id"], r["criterion"]): r for r in load_verdicts(conn, run_id)}
    got = {key: (*verdict_tuple(row), verdict_items(row)) for key, row in rows.items()}
    want = {key: (*truth_tuple(t), truth_items(t)) for key, t in load_truth().items()}
    assert {k: got.get(k) for k in want if got.get(k) != want[k]} == {}
