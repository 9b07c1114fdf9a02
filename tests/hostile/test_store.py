"""The evidence database under hostile conditions: a signal mid-crawl, a second crawl through another
path to the same file, a full disk, a read-only archive, a damaged WARC, a stranger's WARC files, and
a re-score with another period. Crawls run as subprocesses against the bundled demo portals."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.records import Post, Verdict
from demo.pipeline import load_truth, truth_tuple, verdict_tuple
from demo.server import PortalServer
from tests.test_crawl import crawl_cmd, rows
from verifier.export.audit import load_run
from verifier.intake import Agency, Report
from verifier.store import CrawlLocked, claim_lock, create_run, open_db, release_lock, save_verdict

ROOT = Path(__file__).resolve().parents[2]


def proxy_env(proxy: str) -> dict:
    return {**os.environ, "http_proxy": proxy, "HTTP_PROXY": proxy, "no_proxy": "", "NO_PROXY": ""}


def run(cmd: list[str], proxy: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = proxy_env(proxy) if proxy else dict(os.environ)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *map(str, args)]


def verdicts(db: Path) -> dict[tuple[str, str], tuple]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return {(r["agency_id"], r["criterion"]): verdict_tuple(dict(r)) for r in con.execute("select * from verdicts")}
    finally:
        con.close()


def wrong_verdicts(db: Path) -> list[str]:
    """Stored verdicts that differ from data/demo/truth.csv (links not stored are not counted)."""
    truth = load_truth()
    return [f"{key}: {got} != {truth_tuple(truth[key])}" for key, got in verdicts(db).items()
            if key in truth and got != truth_tuple(truth[key])]


def run_status(db: Path) -> list[str]:
    return [r[0] for r in rows(db, "select status from runs order by id")]


def _namespaces_work() -> bool:
    """Can we mount a filesystem of our own (a private mount namespace, as root or a mapped root)?"""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, timeout=20)
    return probe.returncode == 0


NAMESPACES = _namespaces_work()
needs_mounts = pytest.mark.skipif(not NAMESPACES, reason="cannot mount a tmpfs in a private mount namespace here")


def in_namespace(script: str, *args: str, proxy: str | None = None, timeout: float = 300):
    """Run a shell script in a private mount namespace (its mounts vanish with it); args are $1, $2..."""
    env = proxy_env(proxy) if proxy else dict(os.environ)
    return subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def crawl_2019(server, tmp_path_factory):
    """A demo crawl for the period 2019, started at once and left running beside the other crawls."""
    db = tmp_path_factory.mktemp("crawl-2019") / "evidence.db"
    proc = subprocess.Popen([*crawl_cmd(db), "--period-start", "2019-01-01", "--period-end", "2019-12-31"],
                            env=proxy_env(server.proxy_url), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    yield db, proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, server, crawl_2019):
    """A demo crawl SIGTERMed mid-way (while it runs, second crawls through a symlink and a hard link
    to its database are tried), then resumed with the same command."""
    tmp = tmp_path_factory.mktemp("sigterm")
    db = tmp / "evidence.db"
    symlink, hardlink = tmp / "symlink.db", tmp / "hardlink.db"
    with PortalServer(latency=0.05) as slow:
        proc = subprocess.Popen(crawl_cmd(db), env=proxy_env(slow.proxy_url), cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            try:       # links verified from fetched pages (the form's figures are decided at once)
                if rows(db, "select count(*) from verdicts where checked_url is not null")[0][0] >= 15:
                    break
            except sqlite3.OperationalError:
                continue
        assert proc.poll() is None, "the crawl finished before it could be stopped"
        symlink.symlink_to(db)
        os.link(db, hardlink)
        beside = {name: run(crawl_cmd(path), slow.proxy_url, timeout=60)
                  for name, path in (("symlink", symlink), ("hard link", hardlink))}
        assert proc.poll() is None, "the crawl finished before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        stopped = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        at_stop = verdicts(db)
        status_at_stop = run_status(db)
    resumed = run(crawl_cmd(db), server.proxy_url)       # resumed at full speed
    return dict(db=db, stopped=stopped, at_stop=at_stop, status_at_stop=status_at_stop, beside=beside,
                resumed=resumed)


def test_sigterm_stores_no_verdict_of_an_unfinished_link(interrupted):
    stopped = interrupted["stopped"]
    assert stopped.returncode == 143, stopped.stderr[-2000:]          # 128 + SIGTERM: the contract names no code
    assert "Traceback" not in stopped.stderr
    truth = load_truth()
    at_stop = interrupted["at_stop"]
    assert 15 <= len([k for k in at_stop if k in truth]) < len(truth)
    wrong = [f"{k}: {v} != {truth_tuple(truth[k])}" for k, v in at_stop.items() if k in truth
             and v != truth_tuple(truth[k])]
    assert not wrong, "\n".join(wrong)
    assert interrupted["status_at_stop"] == ["running"]               # resumable, not done
    assert "verdicts:" not in stopped.stdout                           # no summary of a finished run


def test_sigterm_says_in_vietnamese_how_to_resume(interrupted):
    err = interrupted["stopped"].stderr
    assert "Đã dừng lần chạy 1" in err and "SIGTERM" in err
    assert f"Để chạy tiếp, chạy lại đúng lệnh này: {shlex.join(crawl_cmd(interrupted['db']))}" in err


def test_the_resumed_run_ends_with_every_truth_verdict(interrupted):
    resumed, db = interrupted["resumed"], interrupted["db"]
    assert resumed.returncode in (0, 1), resumed.stderr[-2000:]
    assert "(resumed)" in resumed.stdout
    assert run_status(db) == ["done"]
    truth = load_truth()
    final = verdicts(db)
    assert len([k for k in final if k in truth]) == len(truth) == 342
    assert not wrong_verdicts(db)
    for key, got in interrupted["at_stop"].items():      # what was stored before the signal stays as it was
        assert final[key] == got
    assert rows(db, "select count(*) from crawl_lock") == [(0,)]


@pytest.mark.parametrize("path", ["symlink", "hard link"])
def test_a_second_crawl_through_another_path_is_refused(interrupted, path):
    second = interrupted["beside"][path]
    assert second.returncode == 2, second.stderr[-2000:]
    assert "Another crawl is running" in second.stderr and "Traceback" not in second.stderr


def test_a_stale_lock_of_a_dead_crawl_is_taken_over(tmp_path):
    """A crawl killed with -9 leaves its lock row: the next claim sees its holder is gone."""
    db = tmp_path / "evidence.db"
    dead = subprocess.run([sys.executable, "-c", "import sys; from verifier.store import open_db, claim_lock; "
                           "claim_lock(open_db(sys.argv[1])); print(__import__('os').getpid())", str(db)],
                          cwd=ROOT, capture_output=True, text=True)
    assert dead.returncode == 0, dead.stderr
    assert rows(db, "select pid from crawl_lock") == [(int(dead.stdout),)]
    handle = open_db(db)
    token = claim_lock(handle)
    assert rows(db, "select pid, token from crawl_lock") == [(os.getpid(), token)]
    with pytest.raises(CrawlLocked):         # and a live holder is respected
        claim_lock(open_db(db))
    release_lock(handle, token)
    assert rows(db, "select count(*) from crawl_lock") == [(0,)]


# ---------------------------------------------------------------------------------------------- re-scoring

def test_rescoring_with_another_period_gives_the_verdicts_a_crawl_with_it_gives(interrupted, crawl_2019):
    stored = interrupted["db"]                      # a 2018 run
    other, proc = crawl_2019
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode in (0, 1), stderr[-2000:]
    crawled = {(a, c): (s, r, p) for a, c, s, r, p in rows(
        other, "select agency_id, criterion, status, reason, posts_in_year from verdicts")}
    data = load_run(open_db(stored), period=(dt.date(2019, 1, 1), dt.date(2019, 12, 31)))
    rescored = {(v.agency_id, v.criterion): (v.status, v.reason, v.posts_in_year) for v in data.verdicts}
    differ = {k: (rescored.get(k), v) for k, v in crawled.items() if rescored.get(k) != v}
    assert not differ
    assert sum(1 for s, _, _ in crawled.values() if s == "pass") < sum(1 for v in verdicts(stored).values()
                                                                      if v[0] == "pass")   # the period mattered


def test_rescoring_keeps_the_undated_rule(tmp_path):
    """An undated post listed before every dated one may be in the period: review, as the crawl decides."""
    db = open_db(tmp_path / "evidence.db")
    period_2017 = (dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    run_id = create_run(db, started_at=dt.datetime(2018, 1, 5, tzinfo=dt.UTC), rulebook="caobang-2018",
                        year=2018, period=period_2017, options={}, inputs_digest="x", agencies_file="a",
                        reports_file="r", warc_dir="w", agencies=[Agency("so-a", "Sở A", "so", "http://a.vn", None)],
                        reports=[Report("so-a", "chi-dao-dieu-hanh", "http://a.vn/cd")])
    posts = (Post("Newest, undated", "http://a.vn/3"), Post("Dated", "http://a.vn/2", dt.date(2017, 5, 2)))
    save_verdict(db, run_id, Verdict("so-a", "chi-dao-dieu-hanh", "http://a.vn/cd", "http://a.vn/cd", "pass", "ok", 1,
                                     posts=posts), period_2017)
    again = load_run(db, run_id, period=(dt.date(2018, 1, 1), dt.date(2018, 12, 31))).verdict_map()
    v = again[("so-a", "chi-dao-dieu-hanh")]
    assert (v.status, v.reason, v.posts_in_year) == ("review", "undated", 0)


# -------------------------------------------------------------------------------------------- disk and files

# The crawl writes into a tmpfs too small for it, mounted in a namespace of its own; what was
# written is copied out before the namespace (and its mount) goes away.
CRAWL_ON_SMALL_DISK = """
mount -t tmpfs -o size=$1 tmpfs "$2" || exit 99
shift 3
"$@" > "$OUT/stdout" 2> "$OUT/stderr"
rc=$?
cp -r "$SMALL/." "$OUT/disk/"
exit $rc
"""


def _crawl_on_small_disk(tmp_path, proxy, size, *, db_on_disk: bool):
    small, out = tmp_path / "small", tmp_path / "out"
    for d in (small, out / "disk"):
        d.mkdir(parents=True)
    db = small / "evidence.db" if db_on_disk else out / "evidence.db"
    warc = out / "warc" if db_on_disk else small / "warc"
    script = CRAWL_ON_SMALL_DISK.replace("$OUT", str(out)).replace("$SMALL", str(small))
    result = in_namespace(script, size, small, "--", *crawl_cmd(db, "--warc-dir", str(warc)), proxy=proxy)
    assert result.returncode != 99, result.stderr
    stdout, stderr = (out / "stdout").read_text(), (out / "stderr").read_text()
    kept_db = out / "disk" / "evidence.db" if db_on_disk else db
    return result.returncode, stdout, stderr, kept_db, (small / "evidence.db" if db_on_disk else small / "warc")


@needs_mounts
def test_a_full_disk_under_the_database_stops_the_crawl_with_exit_2(tmp_path, server):
    code, stdout, stderr, db, named = _crawl_on_small_disk(tmp_path, server.proxy_url, "600k", db_on_disk=True)
    assert code == 2, stderr[-2000:]
    assert "Traceback" not in stderr
    assert f"{named}: Cannot use the evidence database" in stderr and "disk is full" in stderr
    assert "run the same command again to resume run 1" in stderr
    assert run_status(db) == ["running"]
    assert 0 < len(verdicts(db)) < 340 and not wrong_verdicts(db)


@needs_mounts
def test_a_full_disk_under_the_warc_stops_the_crawl_with_exit_2(tmp_path, server):
    code, stdout, stderr, db, named = _crawl_on_small_disk(tmp_path, server.proxy_url, "40k", db_on_disk=False)
    assert code == 2, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "Cannot write the WARC evidence: No space left on device" in stderr and str(named) in stderr
    assert run_status(db) == ["running"]
    assert 0 < len(verdicts(db)) < 340 and not wrong_verdicts(db)
    # every stored page points at a whole WARC record (nothing stored rests on the failed write)
    names = {n for (n,) in rows(db, "select distinct warc_file from fetches where warc_file is not null")}
    assert names


def _archive(src_db: Path, dest: Path) -> Path:
    """A copy of a crawled database and its WARC folder, the copy's run pointing at the copied folder."""
    dest.mkdir(parents=True, exist_ok=True)
    db = dest / "evidence.db"
    shutil.copyfile(src_db, db)
    shutil.copytree(src_db.with_name(src_db.stem + "-warc"), dest / "warc")
    con = sqlite3.connect(db)
    con.execute("update runs set warc_dir = ?", [str(dest / "warc")])
    con.commit()
    con.close()
    return db


READ_ONLY = """
mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" || exit 99
touch "$1/probe" 2>/dev/null && exit 98
shift
for cmd in report score override crawl; do
  case $cmd in
    report) "$@" report --db "$DB" --out "$OUT/report" ;;
    score) "$@" score --db "$DB" ;;
    override) "$@" override so-tu-phap thanh-tra --status pass --note x --by y --db "$DB" ;;
    crawl) "$@" crawl --agencies "$AGENCIES" --reports "$REPORTS" --db "$DB" ;;
  esac > "$OUT/$cmd.out" 2> "$OUT/$cmd.err"
  echo $? > "$OUT/$cmd.rc"
done
"""


@needs_mounts
def test_an_archived_read_only_database_is_reported_as_it_is(interrupted, tmp_path):
    archive = tmp_path / "archive"
    db = _archive(interrupted["db"], archive)
    out = tmp_path / "out"
    out.mkdir()
    script = (READ_ONLY.replace("$DB", str(db)).replace("$OUT", str(out))
              .replace("$AGENCIES", str(ROOT / "data/demo/agencies.csv"))
              .replace("$REPORTS", str(ROOT / "data/demo/reports.csv")))
    result = in_namespace(script, archive, sys.executable, str(ROOT / "cli.py"))
    assert result.returncode == 0, result.stderr
    said = {cmd: (int((out / f"{cmd}.rc").read_text()), (out / f"{cmd}.err").read_text())
            for cmd in ("report", "score", "override", "crawl")}
    assert said["report"][0] in (0, 1) and "Traceback" not in said["report"][1], said["report"]
    assert "read-only: the scores are shown but not stored" in said["report"][1]
    import json
    report = json.loads((out / "report" / "report.json").read_text())
    assert len(report["verdicts"]) == len(verdicts(db))
    assert (out / "report" / "warc" / "index.cdxj").exists()
    assert said["score"][0] in (0, 1) and "Traceback" not in said["score"][1]
    for cmd in ("override", "crawl"):            # writing commands: a clear refusal
        code, err = said[cmd]
        assert code == 2 and "The evidence database is read-only" in err and str(db) in err, (cmd, err)
        assert "Traceback" not in err


def test_a_damaged_warc_does_not_stop_the_report_and_strangers_files_stay_out(interrupted, tmp_path):
    db = _archive(interrupted["db"], tmp_path / "archive")
    warc_dir = tmp_path / "archive" / "warc"
    own = sorted(p.name for p in warc_dir.glob("*.warc.gz"))
    assert len(own) == 2                         # the interrupted process's and the resumed one's
    damaged = warc_dir / own[0]
    data = bytearray(damaged.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 300] = b"\0" * 300
    damaged.write_bytes(bytes(data))
    stranger = warc_dir / "run-1-20170101T000000-1.warc.gz"   # a deleted database's run 1
    shutil.copyfile(warc_dir / own[1], stranger)
    out = tmp_path / "report"
    result = run(cli("report", "--db", db, "--out", out))
    assert result.returncode == 1, result.stderr[-2000:]         # done, but the evidence needs a look
    assert "Traceback" not in result.stderr
    assert f"damaged WARC file {damaged.name}: unreadable record at offset" in result.stderr
    exported = sorted(p.name for p in (out / "warc").glob("*.warc.gz"))
    assert exported == own                       # only the files the run's fetches point at
    referenced = {n for (n,) in rows(db, "select distinct warc_file from fetches where warc_file is not null")}
    assert set(exported) == referenced
    index = (out / "warc" / "index.cdxj").read_text().splitlines()
    assert index and all(stranger.name not in line for line in index)
    assert {line.split('"filename": "')[1].split('"')[0] for line in index} == set(own)
    assert not list((out / "warc").glob("*.tmp"))
    assert (out / "report.json").exists() and (out / "html" / "index.html").exists()


@needs_mounts
def test_a_report_on_a_full_disk_exits_2_and_leaves_no_temporary_index(interrupted, tmp_path):
    db = _archive(interrupted["db"], tmp_path / "archive")
    small = tmp_path / "small"
    small.mkdir()
    script = ('mount -t tmpfs -o size=200k tmpfs "$1" || exit 99; shift; "$@"; rc=$?; '
              f'ls -a "{small}" > "{tmp_path}/left"; find "{small}" -name "*.tmp" >> "{tmp_path}/left"; exit $rc')
    result = in_namespace(script, small, *cli("report", "--db", db, "--out", small / "report"))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Cannot write the report" in result.stderr and "No space left on device" in result.stderr
    assert "Traceback" not in result.stderr
    assert ".tmp" not in (tmp_path / "left").read_text()
