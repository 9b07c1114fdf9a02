"""The evidence database (SQLite through sqlite-utils): runs, inputs, fetches, posts, verdicts, overrides, scores.

This is the only module that speaks SQL: the other modules hand it records and
get records back (rows become Verdict, Post, PageVisit, Report, Override here).

Every crawl is a run; old runs stay for the audit. Rows are written per
finished link in one transaction, so a killed crawl leaves only whole links.
A crawl claims the database with a lock row (see `claim_lock`), so a second
crawl is refused whatever path (a symlink, a hard link) it reaches the file by.
A database that cannot be written (a read-only archive) opens read-only for
reading; a write that fails (disk full) raises StoreError naming the file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import psutil
import sqlite_utils

from crawler.records import PageVisit, Post, Verdict
from verifier.errors import InputError
from verifier.intake import Agency, Report, parse_day

if TYPE_CHECKING:
    from verifier.overrides import Override
    from verifier.score import AgencyScore


SCHEMA = {
    "runs": dict(columns={
        "id": int, "started_at": str, "finished_at": str, "status": str, "rulebook": str, "year": int,
        "period_start": str, "period_end": str, "options": str, "inputs_digest": str,
        "agencies_file": str, "reports_file": str, "warc_dir": str, "pid": int, "provenance": str,
    }, pk="id"),
    "agencies": dict(columns={
        "run_id": int, "agency_id": str, "agency_name": str, "group": str, "portal": str,
    }, pk=("run_id", "agency_id")),
    "reports": dict(columns={
        "run_id": int, "agency_id": str, "criterion": str, "url": str, "value": str,
        "not_applicable": int, "note": str, "submitted_at": str, "source": str,
    }, pk=("run_id", "agency_id", "criterion")),
    "fetches": dict(columns={
        "id": int, "run_id": int, "agency_id": str, "criterion": str, "purpose": str, "url": str,
        "final_url": str, "status": int, "error": str, "error_detail": str, "fetched_at": str,
        "elapsed": float, "digest": str, "warc_file": str, "warc_offset": int, "warc_length": int,
        "kind": str, "category": str, "category_label": str, "posts": int,
    }, pk="id"),
    "posts": dict(columns={
        "id": int, "run_id": int, "agency_id": str, "criterion": str, "title": str, "url": str,
        "published": str, "updated": str, "date_source": str, "in_period": int,
    }, pk="id"),
    "verdicts": dict(columns={
        "run_id": int, "agency_id": str, "criterion": str, "url": str, "checked_url": str, "status": str,
        "reason": str, "posts_in_year": int, "discovered": int, "detail": str, "checked_at": str,
        "evidence": str,
    }, pk=("run_id", "agency_id", "criterion")),
    "overrides": dict(columns={
        "id": int, "agency_id": str, "criterion": str, "status": str, "note": str, "by": str, "at": str,
        "run_id": int, "machine_status": str, "machine_reason": str,
    }, pk="id"),
    "scores": dict(columns={
        "run_id": int, "agency_id": str, "group": str, "score": float, "max_score": float, "percent": float,
        "level": str, "rank": int, "ranked": int, "late": int, "not_ranked_reason": str, "rulebook": str,
        "period_start": str, "period_end": str, "scored_at": str,
    }, pk=("run_id", "agency_id")),
    "criterion_points": dict(columns={
        "run_id": int, "agency_id": str, "criterion": str, "points": float, "max_points": float,
        "status": str, "reason": str, "basis": str,
    }, pk=("run_id", "agency_id", "criterion")),
    # One row while a crawl runs: who holds the database (see claim_lock).
    "crawl_lock": dict(columns={
        "id": int, "token": str, "pid": int, "pid_started": float, "host": str, "since": str, "beat": float,
    }, pk="id"),
}
INDEXES = {
    "fetches": [("run_id", "agency_id", "criterion")],
    "posts": [("run_id", "agency_id", "criterion")],
    "overrides": [("agency_id", "criterion")],
}
# A lock whose holder has not shown a sign of life for this long is stale even if a process of
# that pid runs (another host over a network share, where the pid cannot be checked).
LOCK_STALE_SECONDS = 600.0
LOCK_BEAT_SECONDS = 30.0


class StoreError(InputError):
    """Cannot use the evidence database"""


class ReadOnlyDatabase(StoreError):
    """The evidence database is read-only"""


class NotEvidenceDatabase(StoreError):
    """Not an evidence database"""


class NoRun(InputError):
    """No crawl run to work on"""


class CrawlLocked(InputError):
    """Another crawl is running on this database"""


class EvidenceDB(sqlite_utils.Database):
    """A sqlite-utils Database that knows its file and whether it was opened read-only."""

    def __init__(self, conn, path: Path, *, read_only: bool):
        super().__init__(conn)
        self.path = path
        self.read_only = read_only


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


# ------------------------------------------------------------------------------------------ opening, errors

def _failure(path: Path, exc: BaseException, doing: str) -> StoreError:
    """The error a failed database operation is reported as: the file named, what was being done."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return NotEvidenceDatabase(f"{doing}: {text}", file=str(path))
    if "readonly" in text.replace("-", "").replace(" ", "") or "read-only" in text:
        return ReadOnlyDatabase(f"{doing}: {text}", file=str(path),
                                hint="run the command on a writable copy of the database")
    hint = "free some disk space" if "full" in text or "No space" in text else None
    return StoreError(f"{doing}: {text}", file=str(path), hint=hint)


class _writing:
    """A write transaction on the database; a failure (disk full, read-only) becomes a StoreError."""

    def __init__(self, db: EvidenceDB, doing: str):
        self.db, self.doing = db, doing

    def __enter__(self):
        if self.db.read_only:
            raise ReadOnlyDatabase(self.doing, file=str(self.db.path),
                                   hint="run the command on a writable copy of the database")
        self.db.conn.__enter__()
        return self.db

    def __exit__(self, kind, exc, tb):
        try:
            self.db.conn.__exit__(kind, exc, tb)        # commit, or roll back on an exception
        except sqlite3.Error as failed:                  # the commit itself failed (disk full)
            raise _failure(self.db.path, failed, self.doing) from None
        if isinstance(exc, sqlite3.Error):
            raise _failure(self.db.path, exc, self.doing) from None
        return False


def _writable(path: Path) -> bool:
    """Can this process write the database (and its directory, for the WAL and journal files)?"""
    target = path if path.exists() else path.parent
    return os.access(target, os.W_OK) and os.access(path.parent, os.W_OK)


def open_db(path: Path | str, *, read_only: bool | None = False) -> EvidenceDB:
    """The database, with every table created if missing.

    read_only=True opens it read-only; None opens it read-only only when it cannot be written
    (an archived database), which `db.read_only` then says. Raises StoreError."""
    path = Path(path)
    if read_only is None:
        read_only = path.exists() and not _writable(path)
    if read_only:
        return _open_read_only(path)
    if not path.parent.is_dir():
        raise StoreError(f"the folder {path.parent} does not exist", file=str(path))
    if not _writable(path):
        raise ReadOnlyDatabase("this process cannot write the file or its folder", file=str(path),
                               hint="run the command on a writable copy of the database")
    try:
        db = EvidenceDB(sqlite3.connect(str(path)), path, read_only=False)
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA journal_mode=WAL")
        with _writing(db, "create the tables"):
            for name, spec in SCHEMA.items():
                if not db[name].exists():
                    db[name].create(spec["columns"], pk=spec["pk"])
                else:                    # a database of an older version: its missing columns added
                    have = set(db[name].columns_dict)
                    for column, kind in spec["columns"].items():
                        if column not in have:
                            db[name].add_column(column, kind)
                    for cols in INDEXES.get(name, []):
                        db[name].create_index(list(cols), if_not_exists=True)
    except sqlite3.Error as exc:
        raise _failure(path, exc, "open") from None
    return db


def _open_read_only(path: Path) -> EvidenceDB:
    """A read-only connection. A WAL database in a folder that cannot be written has no shared-memory
    file to read it with: then it is opened as immutable, which is right for an archived copy,
    unless its write-ahead log holds data the main file lacks."""
    if not path.is_file():
        raise StoreError("the file does not exist", file=str(path))
    uri = "file:" + quote(str(path.resolve()))
    wal = Path(f"{path}-wal")
    attempts = [f"{uri}?mode=ro"]
    if not (wal.exists() and wal.stat().st_size > 0):
        attempts.append(f"{uri}?mode=ro&immutable=1")
    last = None
    for target in attempts:
        try:
            conn = sqlite3.connect(target, uri=True)
            conn.execute("select count(*) from sqlite_master").fetchone()
        except sqlite3.Error as exc:
            last = exc
            continue
        db = EvidenceDB(conn, path, read_only=True)
        if not db["runs"].exists():
            raise NotEvidenceDatabase("it holds no runs table", file=str(path))
        return db
    raise _failure(path, last, "open read-only")


# ------------------------------------------------------------------------------------------------- the lock

def _process_started(pid: int) -> float | None:
    """When the process of that pid started, or None when no such process runs."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.Error:
        return -1.0                      # it runs, but we may not look at it: count it as alive


def _lock_is_stale(row: dict, now: float) -> bool:
    """Is the holder gone? On this machine its pid says so at once; from another machine (a network
    share) only its silence for LOCK_STALE_SECONDS can."""
    if row.get("host") != socket.gethostname():
        return now - (row.get("beat") or 0) > LOCK_STALE_SECONDS
    started = _process_started(int(row["pid"] or 0))
    if started is None:
        return True                      # the holder died (kill -9, power cut)
    if started >= 0 and row.get("pid_started") and abs(started - row["pid_started"]) > 1.0:
        return True                      # the pid was reused by another process
    return False


def _fold_log(db: EvidenceDB) -> None:
    """Copy the write-ahead log into the database file. A process that reaches the file by a hard link
    has a log of its own name and reads the file itself: the lock row must be there."""
    try:
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:
        pass


def claim_lock(db: EvidenceDB) -> str:
    """Claim the database for this crawl in one IMMEDIATE transaction; returns the token to release it with.

    The lock is a row inside the database, so every path to the file (a symlink, a hard link)
    sees it. A lock whose holder is dead, or silent for LOCK_STALE_SECONDS, is taken over.
    Raises CrawlLocked, StoreError."""
    token = uuid.uuid4().hex
    now = time.time()
    pid = os.getpid()
    if db.read_only:
        raise ReadOnlyDatabase("a crawl needs to write it", file=str(db.path))
    try:
        db.conn.commit()
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            held = next(iter(db["crawl_lock"].rows_where("id = 1")), None)
            if held is not None and not _lock_is_stale(held, now):
                db.conn.rollback()
                since = held.get("since") or "?"
                raise CrawlLocked(f"pid {held['pid']} on {held['host']} holds {db.path} since {since}",
                                  hint="wait for it to finish, or stop it (a stopped crawl can be resumed)")
            db["crawl_lock"].insert({"id": 1, "token": token, "pid": pid, "pid_started": _process_started(pid),
                                     "host": socket.gethostname(), "since": iso(dt.datetime.now(dt.UTC)),
                                     "beat": now}, replace=True)
            db.conn.commit()
            _fold_log(db)
        except BaseException:
            if db.conn.in_transaction:
                db.conn.rollback()
            raise
    except sqlite3.Error as exc:
        raise _failure(db.path, exc, "claim the crawl lock") from None
    return token


def beat_lock(db: EvidenceDB, token: str) -> None:
    """A sign of life of the lock's holder (see LOCK_STALE_SECONDS)."""
    with _writing(db, "keep the crawl lock"):
        db.execute("update crawl_lock set beat = ? where id = 1 and token = ?", [time.time(), token])
    _fold_log(db)


def release_lock(db: EvidenceDB, token: str) -> None:
    with _writing(db, "release the crawl lock"):
        db.execute("delete from crawl_lock where id = 1 and token = ?", [token])
    _fold_log(db)


# ---------------------------------------------------------------------------------------------------- runs

def latest_run(db, *, status: str | None = None) -> dict | None:
    where = "status = ?" if status else "1=1"
    args = [status] if status else []
    rows = list(db["runs"].rows_where(where, args, order_by="id desc", limit=1))
    return rows[0] if rows else None


def get_run(db, run_id: int) -> dict | None:
    return next(iter(db["runs"].rows_where("id = ?", [run_id])), None)


def pick_run(db, run_id: int | None = None) -> dict:
    """The run asked for, else the latest. Raises NoRun."""
    if run_id is not None:
        row = get_run(db, run_id)
        if row is None:
            raise NoRun(f"run {run_id} is not in the database", column="--run")
        return row
    row = latest_run(db)
    if row is None:
        raise NoRun("the database holds no run", hint="run `portal-evidence crawl` first")
    return row


def resumable_run(db, inputs_digest: str) -> int | None:
    """The latest unfinished run with these inputs, to resume."""
    row = next(iter(db["runs"].rows_where("status = 'running' and inputs_digest = ?", [inputs_digest],
                                          order_by="id desc", limit=1)), None)
    return row["id"] if row else None


def create_run(db, *, started_at: dt.datetime, rulebook: str, year: int, period, options: dict, inputs_digest: str,
               agencies_file: str, reports_file: str, warc_dir: str, agencies: Iterable[Agency],
               reports: Iterable[Report], provenance: dict | None = None) -> int:
    """A new run with its inputs (registry and reports), in one transaction; returns its id."""
    with _writing(db, "store the run's inputs"):
        run_id = db["runs"].insert({
            "started_at": iso(started_at), "status": "running", "rulebook": rulebook, "year": year,
            "period_start": iso(period[0]), "period_end": iso(period[1]), "options": json.dumps(options),
            "inputs_digest": inputs_digest, "agencies_file": agencies_file, "reports_file": reports_file,
            "warc_dir": warc_dir, "pid": os.getpid(),
            "provenance": json.dumps(provenance, ensure_ascii=False) if provenance else None,
        }).last_pk
        db["agencies"].insert_all([{"run_id": run_id, "agency_id": a.agency_id, "agency_name": a.agency_name,
                                    "group": a.group, "portal": a.portal} for a in agencies])
        db["reports"].insert_all([{"run_id": run_id, "agency_id": r.agency_id, "criterion": r.criterion,
                                   "url": r.url, "value": r.value, "not_applicable": int(r.not_applicable),
                                   "note": r.note, "submitted_at": iso(r.submitted_at), "source": r.source}
                                  for r in reports])
    return run_id


def run_provenance(run: dict) -> dict:
    """The provenance stored with a run (see verifier.provenance), or {} for a run of an older version."""
    try:
        value = json.loads(run.get("provenance") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def finish_run(db, run_id: int, at: dt.datetime) -> None:
    """Mark the run done (its provenance gets the end time), and fold the write-ahead log into the
    file (an archived copy is then whole)."""
    from verifier.provenance import finished

    run = get_run(db, run_id) or {}
    known = run_provenance(run)
    with _writing(db, "mark the run done"):
        db["runs"].update(run_id, {"status": "done", "finished_at": iso(at),
                                   "provenance": json.dumps(finished(known, at), ensure_ascii=False)
                                   if known else run.get("provenance")})
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass                              # a reader holds the log: it is folded in later


def previous_finished_run(db, run_id: int) -> int | None:
    row = next(iter(db["runs"].rows_where("status = 'done' and id < ?", [run_id], order_by="id desc",
                                          limit=1)), None)
    return row["id"] if row else None


def run_years(db) -> dict[int, int | None]:
    """The evaluation year of every run, by run id."""
    return {r["id"]: r["year"] for r in db["runs"].rows}


# ------------------------------------------------------------------------------------------------ verdicts

def verdict_row(run_id: int, verdict: Verdict, fetch_ids: dict[int, int] | None = None) -> dict:
    """A verdict as a row; its evidence lists the pages with their fetch ids and WARC records."""
    pages = []
    for i, page in enumerate(verdict.pages):
        entry = {k: iso(v) if isinstance(v, (dt.date, dt.datetime)) else v for k, v in asdict(page).items()}
        if fetch_ids and i in fetch_ids:
            entry["fetch_id"] = fetch_ids[i]
        pages.append(entry)
    return {
        "run_id": run_id, "agency_id": verdict.agency_id, "criterion": verdict.criterion,
        "url": verdict.url, "checked_url": verdict.checked_url, "status": verdict.status,
        "reason": verdict.reason, "posts_in_year": verdict.posts_in_year,
        "discovered": int(verdict.discovered), "detail": verdict.detail,
        "checked_at": iso(verdict.checked_at),
        "evidence": json.dumps({"pages": pages}, ensure_ascii=False),
    }


def parse_warc_ref(ref: str | None) -> tuple[str, int, int] | None:
    """'file.warc.gz#offset+length' -> (file, offset, length)."""
    if not ref:
        return None
    name, _, span = ref.rpartition("#")
    offset, _, length = span.partition("+")
    return name, int(offset), int(length or 0)


def warc_ref(name: str, offset: int, length: int) -> str:
    return f"{name}#{offset}+{length}"


def save_verdict(db, run_id: int, verdict: Verdict, period) -> None:
    """Store one finished link (its fetches, posts and verdict) in one transaction. Raises StoreError.

    Each page's `warc_record` ('file#offset+length') points at its WARC response record."""
    with _writing(db, f"store the verdict of {verdict.agency_id}/{verdict.criterion}"):
        fetch_ids = {}
        for i, page in enumerate(verdict.pages):
            row = _fetch_row(run_id, verdict, page, parse_warc_ref(page.warc_record))
            fetch_ids[i] = db["fetches"].insert(row).last_pk
        db["posts"].insert_all([
            {"run_id": run_id, "agency_id": verdict.agency_id, "criterion": verdict.criterion,
             "title": p.title, "url": p.url, "published": iso(p.published), "updated": iso(p.updated),
             "date_source": p.date_source, "in_period": int(p.within(period))}
            for p in verdict.posts
        ])
        db["verdicts"].insert(verdict_row(run_id, verdict, fetch_ids), replace=True)


def _fetch_row(run_id: int, verdict: Verdict, page: PageVisit, ref) -> dict:
    return {
        "run_id": run_id, "agency_id": verdict.agency_id, "criterion": verdict.criterion,
        "purpose": page.purpose, "url": page.url, "final_url": page.final_url, "status": page.status,
        "error": page.error, "error_detail": None, "fetched_at": iso(page.fetched_at), "elapsed": None,
        "digest": page.digest, "warc_file": ref[0] if ref else None, "warc_offset": ref[1] if ref else None,
        "warc_length": ref[2] if ref else None, "kind": page.kind, "category": page.category,
        "category_label": page.category_label, "posts": page.posts,
    }


def load_verdicts(db, run_id: int) -> list[dict]:
    """The run's verdict rows, as stored."""
    return list(db["verdicts"].rows_where("run_id = ?", [run_id], order_by="agency_id, criterion"))


def verdict_keys(db, run_id: int) -> set[tuple[str, str]]:
    """(agency, criterion) of every link the run has a verdict for."""
    return {(r["agency_id"], r["criterion"]) for r in db.query(
        "select agency_id, criterion from verdicts where run_id = ?", [run_id])}


def verdict_outcomes(db, run_id: int) -> dict[tuple[str, str], tuple[str, str]]:
    """(status, reason) per (agency, criterion) of the run."""
    return {(r["agency_id"], r["criterion"]): (r["status"], r["reason"]) for r in db.query(
        "select agency_id, criterion, status, reason from verdicts where run_id = ?", [run_id])}


def fetch_rows(db, run_id: int) -> dict[int, dict]:
    """The run's fetch rows by id (the exports link each page to its WARC record through them)."""
    return {row["id"]: row for row in db.query("select * from fetches where run_id = ? order by id", [run_id])}


# ------------------------------------------------------------------------------------- rows back to records

@dataclass(frozen=True)
class AgencyInfo:
    agency_id: str
    agency_name: str
    group: str
    portal: str = ""       # as registered: the forms name it when a link leaves it


@dataclass(frozen=True)
class StoredRun:
    """One run as the database holds it, as records: what the scoring reads."""

    run: dict
    period: tuple[dt.date | None, dt.date | None]                   # the run's period, as stored
    checked_at: dt.datetime | None                                  # when the run finished (else started)
    agencies: tuple[AgencyInfo, ...]
    reports: tuple[Report, ...]
    verdicts: tuple[Verdict, ...]                                   # stored order
    page_fetch_ids: dict[tuple[str, str], tuple[int | None, ...]]
    overrides: tuple[Override, ...]                               # every override, oldest first
    run_years: dict[int, int | None]


def _dt(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _day(text: str | None) -> dt.date | None:
    try:
        return parse_day(text or "")
    except ValueError:
        return None


PAGE_FIELDS = ("url", "final_url", "purpose", "status", "fetched_at", "error", "kind", "category",
               "category_label", "posts", "warc_record", "digest")


def page_from_entry(entry: dict) -> PageVisit:
    values = {k: entry.get(k) for k in PAGE_FIELDS}
    values["fetched_at"] = _dt(values["fetched_at"])
    values["posts"] = values["posts"] or 0
    values["url"] = values["url"] or ""
    values["final_url"] = values["final_url"] or values["url"]
    values["purpose"] = values["purpose"] or ""
    return PageVisit(**values)


def post_from_row(row: dict) -> Post:
    return Post(row["title"], row["url"],
                dt.date.fromisoformat(row["published"]) if row["published"] else None,
                dt.date.fromisoformat(row["updated"]) if row["updated"] else None,
                row["date_source"])


def report_from_row(row: dict) -> Report:
    return Report(row["agency_id"], row["criterion"], row.get("url") or "", row.get("value") or "",
                  bool(row.get("not_applicable")), row.get("note") or "", _day(row.get("submitted_at")),
                  row.get("source") or "")


def override_from_row(row: dict) -> Override:
    from verifier.overrides import Override  # overrides.py is above the store: it imports iso from here

    at = dt.datetime.fromisoformat(row["at"]) if row.get("at") else dt.datetime.min.replace(tzinfo=dt.UTC)
    return Override(row["id"], row["agency_id"], row["criterion"], row["status"], row["note"] or "",
                    row["by"] or "", at, row["run_id"], row["machine_status"], row["machine_reason"])


def load_overrides(db) -> tuple[Override, ...]:
    """Every override ever recorded, oldest first."""
    return tuple(override_from_row(r) for r in db["overrides"].rows_where(order_by="id"))


def read_run(db, run_id: int | None = None) -> StoredRun:
    """The run asked for (else the latest) with its agencies, reports, verdicts (with their posts and
    pages) and the overrides, as records. Raises NoRun, StoreError."""
    try:
        run = pick_run(db, run_id)
        rid = run["id"]
        agencies = tuple(AgencyInfo(r["agency_id"], r["agency_name"] or "", r["group"] or "", r.get("portal") or "")
                         for r in db.query("select * from agencies where run_id = ? order by rowid", [rid]))
        reports = tuple(report_from_row(r) for r in db.query(
            "select * from reports where run_id = ? order by rowid", [rid]))
        posts: dict[tuple[str, str], list[Post]] = {}
        for row in db.query("select * from posts where run_id = ? order by id", [rid]):
            posts.setdefault((row["agency_id"], row["criterion"]), []).append(post_from_row(row))
        verdicts, fetch_ids = [], {}
        for row in db.query("select * from verdicts where run_id = ?", [rid]):
            key = (row["agency_id"], row["criterion"])
            pages = json.loads(row["evidence"] or "{}").get("pages") or []
            fetch_ids[key] = tuple(p.get("fetch_id") for p in pages)
            verdicts.append(Verdict(
                agency_id=row["agency_id"], criterion=row["criterion"], url=row["url"],
                checked_url=row["checked_url"], status=row["status"], reason=row["reason"],
                posts_in_year=row["posts_in_year"], discovered=bool(row["discovered"]), detail=row["detail"] or "",
                pages=tuple(page_from_entry(p) for p in pages), posts=tuple(posts.get(key, ())),
                checked_at=_dt(row["checked_at"])))
        period = (_day(run.get("period_start")), _day(run.get("period_end")))
        checked_at = _dt(run.get("finished_at")) or _dt(run.get("started_at"))
        return StoredRun(run, period, checked_at, agencies, reports, tuple(verdicts), fetch_ids, load_overrides(db),
                         run_years(db))
    except sqlite3.Error as exc:
        raise _failure(getattr(db, "path", Path("?")), exc, "read the run") from None


# ---------------------------------------------------------------------------------------- scores, overrides

def save_scores(db, run_id: int, scores: Iterable[AgencyScore], *, rulebook: str, period,
                scored_at: dt.datetime) -> None:
    """Replace the run's scores and criterion points in one transaction, naming the rulebook and the period
    they came from (a re-score with another period replaces them, and says so). Raises StoreError."""
    scores = list(scores)
    with _writing(db, "store the scores"):
        db.execute("delete from scores where run_id = ?", [run_id])
        db.execute("delete from criterion_points where run_id = ?", [run_id])
        db["scores"].insert_all([{
            "run_id": run_id, "agency_id": s.agency_id, "group": s.group, "score": s.score,
            "max_score": s.max_score, "percent": s.percent, "level": s.level, "rank": s.rank,
            "ranked": int(s.ranked), "late": int(s.late), "not_ranked_reason": s.not_ranked_reason,
            "rulebook": rulebook, "scored_at": iso(scored_at),
            "period_start": iso(period[0]), "period_end": iso(period[1]),
        } for s in scores])
        db["criterion_points"].insert_all([{
            "run_id": run_id, "agency_id": cp.agency_id, "criterion": cp.criterion, "points": cp.points,
            "max_points": cp.max_points, "status": cp.status, "reason": cp.reason, "basis": cp.basis,
        } for s in scores for cp in s.points])


def save_override(db, override: Override) -> Override:
    """Insert the override (a new row: earlier decisions stay for the audit); returns it with its id."""
    from dataclasses import replace

    row = {
        "agency_id": override.agency_id, "criterion": override.criterion, "status": override.status,
        "note": override.note, "by": override.by, "at": iso(override.at), "run_id": override.run_id,
        "machine_status": override.machine_status, "machine_reason": override.machine_reason,
    }
    with _writing(db, "store the override"):
        pk = db["overrides"].insert(row).last_pk
    return replace(override, id=pk)
