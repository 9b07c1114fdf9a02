"""The evidence database (SQLite through sqlite-utils): runs, inputs, fetches, posts, verdicts, overrides, scores.

This is the only module that speaks SQL: the other modules hand it records and
get records back (rows become Verdict, Post, PageVisit, Report, Override here).

Every crawl is a run; old runs stay for the audit. Rows are written per
finished link in one transaction, so a killed crawl leaves only whole links.
The tables declare their foreign keys (verdict -> run, fetch -> verdict,
post -> fetch and verdict, override -> verdict), so a reader in Datasette
clicks from a verdict to its pages and from a page to the posts read there;
a verdict's pages are its fetch rows in `position` order. PRAGMA user_version
says the layout version of a file (SCHEMA_VERSION); open_db upgrades an older
file in place, and `write_datasette_metadata` describes it for Datasette.
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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import psutil
import sqlite_utils

from crawler.content import CheckSeen
from crawler.records import Item, ItemFinding, PageVisit, Post, Verdict
from verifier.errors import InputError
from verifier.intake import Agency, Report, parse_day

if TYPE_CHECKING:
    from verifier.overrides import Override
    from verifier.score import AgencyScore


# Version 0 is the layout before foreign keys (verdicts keyed by run/agency/criterion, their pages in a
# JSON `evidence` column, `group` columns); version 1 before content checks had rows of their own (a content
# verdict named them in its detail only, and a content pass had reason `ok`); open_db upgrades such a file
# in place (see _migrate_from_0, _migrate_from_1).
SCHEMA_VERSION = 2
_RUN = ("run_id", "runs", "id")
SCHEMA = {
    "runs": dict(columns={
        "id": int, "started_at": str, "finished_at": str, "status": str, "rulebook": str, "year": int,
        "period_start": str, "period_end": str, "options": str, "inputs_digest": str,
        "agencies_file": str, "reports_file": str, "warc_dir": str, "pid": int, "provenance": str,
    }, pk="id"),
    # The rulebook's criteria as the run used them, so a reader sees names, not ids.
    "criteria": dict(columns={
        "run_id": int, "criterion": str, "name": str, "section": str, "kind": str, "max_points": float,
    }, pk=("run_id", "criterion"), foreign_keys=[_RUN]),
    "agencies": dict(columns={
        "run_id": int, "agency_id": str, "agency_name": str, "agency_group": str, "portal": str,
    }, pk=("run_id", "agency_id"), foreign_keys=[_RUN]),
    "reports": dict(columns={
        "run_id": int, "agency_id": str, "criterion": str, "url": str, "value": str,
        "not_applicable": int, "note": str, "submitted_at": str, "source": str,
    }, pk=("run_id", "agency_id", "criterion"), foreign_keys=[_RUN]),
    "verdicts": dict(columns={
        "id": int, "run_id": int, "agency_id": str, "criterion": str, "url": str, "checked_url": str,
        "status": str, "reason": str, "posts_in_year": int, "discovered": int, "detail": str, "checked_at": str,
        "items_found": int, "items_total": int,
    }, pk="id", foreign_keys=[_RUN]),
    # The lists' items an agency sent (items.csv, the form's list sheets), in its order: inputs of the run.
    "items": dict(columns={
        "run_id": int, "agency_id": str, "criterion": str, "position": int, "number": str, "title": str,
        "issued": str, "url": str, "source": str,
    }, pk=("run_id", "agency_id", "criterion", "position"), foreign_keys=[_RUN]),
    # A listed verdict's items, each found (the page and the row matched) or not (the pages searched, JSON).
    "item_findings": dict(columns={
        "id": int, "run_id": int, "verdict_id": int, "agency_id": str, "criterion": str, "position": int,
        "number": str, "title": str, "issued": str, "url": str, "status": str, "page_url": str,
        "matched_text": str, "searched": str,
    }, pk="id", foreign_keys=[_RUN, ("verdict_id", "verdicts", "id")]),
    # The pages of a verdict, in its order (`position`): its evidence.
    "fetches": dict(columns={
        "id": int, "run_id": int, "verdict_id": int, "position": int, "agency_id": str, "criterion": str,
        "purpose": str, "url": str, "final_url": str, "status": int, "error": str, "error_detail": str,
        "fetched_at": str, "elapsed": float, "digest": str, "warc_file": str, "warc_offset": int,
        "warc_length": int, "kind": str, "category": str, "category_label": str, "posts": int,
    }, pk="id", foreign_keys=[_RUN, ("verdict_id", "verdicts", "id")]),
    # fetch_id: the page the post was read from (NULL in a database upgraded from version 0).
    "posts": dict(columns={
        "id": int, "run_id": int, "verdict_id": int, "fetch_id": int, "agency_id": str, "criterion": str,
        "title": str, "url": str, "published": str, "updated": str, "date_source": str, "in_period": int,
    }, pk="id", foreign_keys=[_RUN, ("verdict_id", "verdicts", "id"), ("fetch_id", "fetches", "id")]),
    # verdict_id: the machine verdict the reviewer overrode, when the override names a run; spot_check_id: the
    # console's spot-check the decision was taken from (added to an older file by _upgrade, NULL there).
    "overrides": dict(columns={
        "id": int, "agency_id": str, "criterion": str, "status": str, "note": str, "by": str, "at": str,
        "run_id": int, "machine_status": str, "machine_reason": str, "verdict_id": int,
        "withdrawn_at": str, "withdrawn_by": str, "withdraw_note": str, "spot_check_id": int,
    }, pk="id", foreign_keys=[("verdict_id", "verdicts", "id")]),
    "scores": dict(columns={
        "run_id": int, "agency_id": str, "agency_group": str, "score": float, "max_score": float,
        "percent": float, "level": str, "rank": int, "ranked": int, "late": int, "not_ranked_reason": str,
        "rulebook": str, "period_start": str, "period_end": str, "scored_at": str,
    }, pk=("run_id", "agency_id"), foreign_keys=[_RUN]),
    "criterion_points": dict(columns={
        "run_id": int, "agency_id": str, "criterion": str, "points": float, "max_points": float,
        "status": str, "reason": str, "basis": str,
    }, pk=("run_id", "agency_id", "criterion"), foreign_keys=[_RUN]),
    # The content checks of a verdict judged by its content, in the rulebook's order (`position`): found or
    # not, on which page, with the page's words around the match (crawled text, untrusted). check_id is NULL
    # in rows upgraded from version 1, whose verdict's detail named the checks' labels only.
    "content_checks": dict(columns={
        "id": int, "run_id": int, "verdict_id": int, "position": int, "agency_id": str, "criterion": str,
        "check_id": str, "label": str, "found": int, "page": str, "excerpt": str,
    }, pk="id", foreign_keys=[_RUN, ("verdict_id", "verdicts", "id")]),
    # The verdict reasons in words (Vietnamese), for the readable views.
    "reasons": dict(columns={"reason": str, "text": str}, pk="reason"),
    # A reviewer's spot-check of one link (outside any run), kept to be offered as the verdict: its
    # evidence_json is verifier.serialize's JSON (pages, posts), its WARC record the listing page's response.
    "spot_checks": dict(columns={
        "id": int, "at": str, "by": str, "url": str, "criterion": str, "agency_id": str, "status": str,
        "reason": str, "posts_in_year": int, "checked_url": str, "detail": str, "period_start": str,
        "period_end": str, "evidence_json": str, "warc_file": str, "warc_offset": int,
    }, pk="id"),
    # One row while a crawl runs: who holds the database (see claim_lock).
    "crawl_lock": dict(columns={
        "id": int, "token": str, "pid": int, "pid_started": float, "host": str, "since": str, "beat": float,
    }, pk="id"),
}
INDEXES = {
    "verdicts": [("run_id", "agency_id", "criterion")],
    "fetches": [("run_id", "agency_id", "criterion"), ("verdict_id", "position")],
    "posts": [("run_id", "agency_id", "criterion"), ("verdict_id",), ("fetch_id",)],
    "item_findings": [("verdict_id",)],
    "content_checks": [("verdict_id", "position")],
    "overrides": [("agency_id", "criterion"), ("verdict_id",)],
}
UNIQUE_INDEXES = {"verdicts": ("run_id", "agency_id", "criterion")}
# Views for a person reading the database (in Datasette): names beside ids, the override in force
# (the latest made on this run or an earlier run of the same year, as verifier.overrides decides).
VIEWS = {
    "verdicts_readable": """
select v.id as verdict_id, v.run_id, v.agency_id, a.agency_name, a.agency_group, v.criterion,
       c.name as criterion_name, c.section, v.status, v.reason, r.text as reason_text, v.posts_in_year,
       v.url as reported_url, v.checked_url, v.checked_at,
       (select count(*) from fetches f where f.verdict_id = v.id) as pages,
       o.status as override_status, o.note as override_note, o.by as override_by, o.at as override_at
from verdicts v
join runs on runs.id = v.run_id
left join agencies a on a.run_id = v.run_id and a.agency_id = v.agency_id
left join criteria c on c.run_id = v.run_id and c.criterion = v.criterion
left join reasons r on r.reason = v.reason
left join overrides o on o.id = (
    select max(o2.id) from overrides o2 left join runs r2 on r2.id = o2.run_id
    where o2.agency_id = v.agency_id and o2.criterion = v.criterion and o2.withdrawn_at is null
      and (o2.run_id is null or (o2.run_id <= v.run_id and (r2.year is null or r2.year = runs.year))))
""",
    "fetches_readable": """
select f.id as fetch_id, f.verdict_id, f.run_id, f.agency_id, a.agency_name, f.criterion,
       c.name as criterion_name, f.position, f.purpose, f.url, f.final_url, f.status, f.error, f.error_detail,
       f.fetched_at, f.elapsed, f.kind, f.category_label, f.posts,
       (select count(*) from posts p where p.fetch_id = f.id) as posts_read_here,
       f.warc_file || '#' || f.warc_offset || coalesce('+' || f.warc_length, '') as warc_record
from fetches f
left join agencies a on a.run_id = f.run_id and a.agency_id = f.agency_id
left join criteria c on c.run_id = f.run_id and c.criterion = f.criterion
""",
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
        _upgrade(db)
        db.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise _failure(path, exc, "open") from None
    return db


def schema_version(db) -> int:
    """The layout version of a database file (PRAGMA user_version; 0 before versions were kept)."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def _upgrade(db) -> None:
    """Every table, index and view created if missing, an older database upgraded in place, in one
    transaction; a database already of this version is left as it is."""
    version = schema_version(db)
    with db.atomic():
        if version < 1 and db["runs"].exists():
            _migrate_from_0(db)
        for name, spec in SCHEMA.items():
            table = db[name]
            fks = spec.get("foreign_keys") or []
            if not table.exists():
                table.create(spec["columns"], pk=spec["pk"], foreign_keys=fks or None)
            else:                        # a database of an older version: its missing columns added
                have = set(table.columns_dict)
                for column, kind in spec["columns"].items():
                    if column not in have:
                        table.add_column(column, kind)
                want = {(c, t, o) for c, t, o in fks}
                if want != {(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys}:
                    table.transform(foreign_keys=fks)
            for cols in INDEXES.get(name, []):
                table.create_index(list(cols), if_not_exists=True)
            if name in UNIQUE_INDEXES:
                table.create_index(list(UNIQUE_INDEXES[name]), unique=True, if_not_exists=True)
        for name, sql in VIEWS.items():      # a view of an older version (e.g. before withdrawals) replaced
            if not db[name].exists() or db[name].schema != f"CREATE VIEW {name} AS {sql.strip()}":
                db.create_view(name, sql.strip(), replace=True)
        if version < 2:
            _migrate_from_1(db)
        _fill_reasons(db)
        if version != SCHEMA_VERSION:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _fill_reasons(db) -> None:
    from verifier.export.labels import REASON  # the wording is data of the exports; the store lists it

    if {r["reason"]: r["text"] for r in db["reasons"].rows} != REASON:
        db.execute("delete from reasons")
        db["reasons"].insert_all([{"reason": k, "text": v} for k, v in REASON.items()])


def _migrate_from_0(db) -> None:
    """Version 0 to 1: `group` becomes `agency_group`; verdicts get an integer id; the pages of each
    verdict's `evidence` JSON become its fetch rows (the rows it names, or new rows for pages without
    one), then `evidence` is dropped; posts and overrides are linked to their verdict (an old post
    does not say which page it was read from: its fetch_id stays NULL). Foreign keys are declared
    by _upgrade afterwards."""
    for name in ("agencies", "scores"):
        if db[name].exists() and "group" in db[name].columns_dict:
            db[name].transform(rename={"group": "agency_group"})
    verdicts, fetches = db["verdicts"], db["fetches"]
    if not verdicts.exists() or "id" in verdicts.columns_dict:
        return
    if fetches.exists():
        for column in ("verdict_id", "position"):
            if column not in fetches.columns_dict:
                fetches.add_column(column, int)
    verdicts.add_column("id", int)
    db.execute("update verdicts set id = rowid")         # the stored order is kept
    if "evidence" in verdicts.columns_dict:
        if fetches.exists():
            for row in list(db.query("select id, run_id, agency_id, criterion, evidence from verdicts")):
                _pages_to_fetches(db, row)
        verdicts.transform(pk="id", drop={"evidence"})
    else:
        verdicts.transform(pk="id")
    key = ("v.run_id = {t}.run_id and v.agency_id = {t}.agency_id and v.criterion = {t}.criterion")
    for name in ("posts", "overrides"):
        if db[name].exists():
            if "verdict_id" not in db[name].columns_dict:
                db[name].add_column("verdict_id", int)
            db.execute(f"update {name} set verdict_id = (select v.id from verdicts v where {key.format(t=name)})")
    if db["posts"].exists() and "fetch_id" not in db["posts"].columns_dict:
        db["posts"].add_column("fetch_id", int)


def _migrate_from_1(db) -> None:
    """Version 1 to 2: a content verdict (its detail starts "content found: " or "content missing: ") gets
    its content check rows from the labels its detail names (no check id, page or excerpt: version 1 kept
    none), and a content pass its own reason, `content_ok` (version 1 gave it `ok`)."""
    from verifier.verdict import FOUND_WORDS, MISSING_WORDS, content_labels

    content = [r for r in db.query("select id, run_id, agency_id, criterion, reason, detail from verdicts "
                                   "where detail like ? or detail like ?", [FOUND_WORDS + "%", MISSING_WORDS + "%"])
               if r["reason"] in ("ok", "content_ok", "missing_content")]
    for row in content:
        if db.execute("select 1 from content_checks where verdict_id = ?", [row["id"]]).fetchone():
            continue
        found, missing = content_labels(row["detail"] or "")
        db["content_checks"].insert_all([
            {"run_id": row["run_id"], "verdict_id": row["id"], "position": i, "agency_id": row["agency_id"],
             "criterion": row["criterion"], "check_id": None, "label": label, "found": int(is_found),
             "page": None, "excerpt": None}
            for i, (label, is_found) in enumerate([(x, True) for x in found] + [(x, False) for x in missing])])
        if row["reason"] == "ok":
            db.execute("update verdicts set reason = 'content_ok' where id = ?", [row["id"]])


def _pages_to_fetches(db, verdict: dict) -> None:
    """One verdict's `evidence` pages as its fetch rows, in order."""
    try:
        pages = json.loads(verdict["evidence"] or "{}").get("pages") or []
    except (ValueError, AttributeError):
        pages = []
    for position, entry in enumerate(p for p in pages if isinstance(p, dict)):
        link = {"verdict_id": verdict["id"], "position": position}
        fid = entry.get("fetch_id")
        if fid is not None and db.execute("select 1 from fetches where id = ? and run_id = ?",
                                          [fid, verdict["run_id"]]).fetchone():
            db["fetches"].update(fid, link)
            continue
        page = page_from_entry(entry)
        row = _fetch_row(verdict["run_id"], verdict["agency_id"], verdict["criterion"], page)
        db["fetches"].insert({**row, **link}, alter=True)


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
        if schema_version(db) < SCHEMA_VERSION:
            db = _upgraded_copy(db)
        return db
    raise _failure(path, last, "open read-only")


def _upgraded_copy(db: EvidenceDB) -> EvidenceDB:
    """A read-only database of an older version, copied into memory and upgraded there to be read
    (the file is left as it is)."""
    memory = sqlite3.connect(":memory:")
    try:
        db.conn.backup(memory)
        copy = EvidenceDB(memory, db.path, read_only=True)
        _upgrade(copy)
    except sqlite3.Error as exc:
        raise _failure(db.path, exc, "read an older database") from None
    finally:
        db.conn.close()
    return copy


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
               reports: Iterable[Report], provenance: dict | None = None, criteria: Iterable = (),
               items: Iterable = ()) -> int:
    """A new run with its inputs (registry, reports, the lists' items: verifier.intake.ListedItem, and the
    rulebook's criteria: verifier.rulebook.Criterion), in one transaction; returns its id."""
    with _writing(db, "store the run's inputs"):
        run_id = db["runs"].insert({
            "started_at": iso(started_at), "status": "running", "rulebook": rulebook, "year": year,
            "period_start": iso(period[0]), "period_end": iso(period[1]), "options": json.dumps(options),
            "inputs_digest": inputs_digest, "agencies_file": agencies_file, "reports_file": reports_file,
            "warc_dir": warc_dir, "pid": os.getpid(),
            "provenance": json.dumps(provenance, ensure_ascii=False) if provenance else None,
        }).last_pk
        db["agencies"].insert_all([{"run_id": run_id, "agency_id": a.agency_id, "agency_name": a.agency_name,
                                    "agency_group": a.group, "portal": a.portal} for a in agencies])
        db["criteria"].insert_all([{"run_id": run_id, "criterion": c.id, "name": c.name, "section": c.section,
                                    "kind": c.kind, "max_points": c.points} for c in criteria])
        db["reports"].insert_all([{"run_id": run_id, "agency_id": r.agency_id, "criterion": r.criterion,
                                   "url": r.url, "value": r.value, "not_applicable": int(r.not_applicable),
                                   "note": r.note, "submitted_at": iso(r.submitted_at), "source": r.source}
                                  for r in reports])
        positions: dict[tuple[str, str], int] = {}
        rows = []
        for row in items:
            key = (row.agency_id, row.criterion)
            positions[key] = positions.get(key, -1) + 1
            rows.append({"run_id": run_id, "agency_id": row.agency_id, "criterion": row.criterion,
                         "position": positions[key], **_item_columns(row.item), "source": row.item.source})
        db["items"].insert_all(rows)
    return run_id


def _item_columns(item: Item) -> dict:
    return {"number": item.number, "title": item.title, "issued": iso(item.issued), "url": item.url}


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
    """A verdict as a row (its pages are its fetch rows, its posts its post rows; fetch_ids is unused and
    kept for callers of an older version)."""
    return {
        "run_id": run_id, "agency_id": verdict.agency_id, "criterion": verdict.criterion,
        "url": verdict.url, "checked_url": verdict.checked_url, "status": verdict.status,
        "reason": verdict.reason, "posts_in_year": verdict.posts_in_year,
        "discovered": int(verdict.discovered), "detail": verdict.detail,
        "checked_at": iso(verdict.checked_at),
        "items_found": sum(f.status == "found" for f in verdict.items) if verdict.items else None,
        "items_total": len(verdict.items) if verdict.items else None,
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
    """Store one finished link (its verdict, its pages as fetch rows in order, its posts each linked to
    the fetch it was read from) in one transaction. A link stored again keeps its verdict id (an override
    stays linked) and its earlier pages and posts are replaced. Raises StoreError.

    Each page's `warc_record` ('file#offset+length') points at its WARC response record."""
    with _writing(db, f"store the verdict of {verdict.agency_id}/{verdict.criterion}"):
        row = verdict_row(run_id, verdict)
        known = db.execute("select id from verdicts where run_id = ? and agency_id = ? and criterion = ?",
                           [run_id, verdict.agency_id, verdict.criterion]).fetchone()
        if known is not None:
            verdict_id = known[0]
            db.execute("delete from posts where verdict_id = ?", [verdict_id])
            db.execute("delete from item_findings where verdict_id = ?", [verdict_id])
            db.execute("delete from content_checks where verdict_id = ?", [verdict_id])
            db.execute("delete from fetches where verdict_id = ?", [verdict_id])
            db["verdicts"].update(verdict_id, row)
        else:
            verdict_id = db["verdicts"].insert(row).last_pk
        fetch_ids = []
        for position, page in enumerate(verdict.pages):
            fetch = _fetch_row(run_id, verdict.agency_id, verdict.criterion, page)
            fetch_ids.append(db["fetches"].insert({**fetch, "verdict_id": verdict_id, "position": position}).last_pk)
        db["posts"].insert_all([
            {"run_id": run_id, "verdict_id": verdict_id,
             "fetch_id": fetch_ids[p.page_index] if p.page_index is not None and 0 <= p.page_index < len(fetch_ids)
             else None,
             "agency_id": verdict.agency_id, "criterion": verdict.criterion,
             "title": p.title, "url": p.url, "published": iso(p.published), "updated": iso(p.updated),
             "date_source": p.date_source, "in_period": int(p.within(period))}
            for p in verdict.posts
        ])
        db["content_checks"].insert_all([
            {"run_id": run_id, "verdict_id": verdict_id, "position": i, "agency_id": verdict.agency_id,
             "criterion": verdict.criterion, "check_id": c.id, "label": c.label, "found": int(c.found),
             "page": c.page, "excerpt": c.excerpt or None}
            for i, c in enumerate(verdict.content_checks)
        ])
        db["item_findings"].insert_all(_finding_rows(run_id, verdict_id, verdict))


def agency_listing_posts(db, run_id: int, agency_id: str, criteria: Iterable[str]) -> list[tuple[str, str]]:
    """(page URL, post title) of every post the run read on the listings of these criteria of an agency: the page
    is the one the post was read from (its listing page, or the article page that dated it)."""
    wanted = list(criteria)
    if not wanted:
        return []
    marks = ", ".join("?" for _ in wanted)
    return [(r[0], r[1]) for r in db.execute(
        "select f.final_url, p.title from posts p join fetches f on f.id = p.fetch_id "
        f"where p.run_id = ? and p.agency_id = ? and p.criterion in ({marks}) "
        "order by p.id", [run_id, agency_id, *wanted]).fetchall()]


def listed_verdicts(db, run_id: int, criteria: Iterable[str]) -> list[Verdict]:
    """The run's verdicts of these (listed) criteria with their items, without their pages."""
    wanted = list(criteria)
    if not wanted:
        return []
    marks = ", ".join("?" for _ in wanted)
    out = []
    for row in db.query(f"select * from verdicts where run_id = ? and criterion in ({marks}) order by id",
                        [run_id, *wanted]):
        findings = tuple(finding_from_row(r) for r in db.query(
            "select * from item_findings where verdict_id = ? order by position", [row["id"]]))
        out.append(Verdict(agency_id=row["agency_id"], criterion=row["criterion"], url=row["url"],
                           checked_url=row["checked_url"], status=row["status"], reason=row["reason"],
                           posts_in_year=row["posts_in_year"], discovered=bool(row["discovered"]),
                           detail=row["detail"] or "", checked_at=moment(row["checked_at"]), items=findings))
    return out


def update_listed_verdict(db, run_id: int, verdict: Verdict) -> None:
    """A listed verdict judged again (its status, reason, detail and items), its pages left as stored."""
    with _writing(db, f"store the verdict of {verdict.agency_id}/{verdict.criterion}"):
        known = db.execute("select id from verdicts where run_id = ? and agency_id = ? and criterion = ?",
                           [run_id, verdict.agency_id, verdict.criterion]).fetchone()
        if known is None:
            return
        row = verdict_row(run_id, verdict)
        db["verdicts"].update(known[0], {k: row[k] for k in ("status", "reason", "detail", "items_found",
                                                             "items_total")})
        db.execute("delete from item_findings where verdict_id = ?", [known[0]])
        db["item_findings"].insert_all(_finding_rows(run_id, known[0], verdict))


def _finding_rows(run_id: int, verdict_id: int, verdict: Verdict) -> list[dict]:
    return [{"run_id": run_id, "verdict_id": verdict_id, "agency_id": verdict.agency_id,
             "criterion": verdict.criterion, "position": i, **_item_columns(f.item), "status": f.status,
             "page_url": f.page_url, "matched_text": f.matched_text or None,
             "searched": json.dumps(list(f.searched)) if f.searched else None}
            for i, f in enumerate(verdict.items)]


def _fetch_row(run_id: int, agency_id: str, criterion: str, page: PageVisit) -> dict:
    ref = parse_warc_ref(page.warc_record)
    return {
        "run_id": run_id, "agency_id": agency_id, "criterion": criterion,
        "purpose": page.purpose, "url": page.url, "final_url": page.final_url, "status": page.status,
        "error": page.error, "error_detail": page.error_detail or None, "fetched_at": iso(page.fetched_at),
        "elapsed": page.elapsed, "digest": page.digest, "warc_file": ref[0] if ref else None,
        "warc_offset": ref[1] if ref else None,
        "warc_length": ref[2] if ref and "+" in (page.warc_record or "").rpartition("#")[2] else None,
        "kind": page.kind, "category": page.category, "category_label": page.category_label, "posts": page.posts,
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


def moment(text: str | None) -> dt.datetime | None:
    """A stored time read back (ISO 8601 as iso() writes it; naive taken as UTC); None when empty or unreadable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _day(text: str | None) -> dt.date | None:
    try:
        return parse_day(text or "")
    except ValueError:
        return None


PAGE_FIELDS = ("url", "final_url", "purpose", "status", "fetched_at", "error", "kind", "category",
               "category_label", "posts", "warc_record", "digest", "error_detail", "elapsed")


def page_from_row(row: dict) -> PageVisit:
    """A fetch row as the page of its verdict."""
    record = None
    if row.get("warc_file"):
        record = f"{row['warc_file']}#{row['warc_offset'] or 0}"
        if row.get("warc_length") is not None:
            record += f"+{row['warc_length']}"
    return page_from_entry({**row, "warc_record": record})


def page_from_entry(entry: dict) -> PageVisit:
    """A page from a dict of its fields (a fetch row, or a page of a version-0 `evidence` JSON)."""
    values = {k: entry.get(k) for k in PAGE_FIELDS}
    values["error_detail"] = values["error_detail"] or ""
    values["fetched_at"] = moment(values["fetched_at"])
    values["posts"] = values["posts"] or 0
    values["url"] = values["url"] or ""
    values["final_url"] = values["final_url"] or values["url"]
    values["purpose"] = values["purpose"] or ""
    return PageVisit(**values)


def post_from_row(row: dict, positions: dict[int, int] | None = None) -> Post:
    """A post row as a record; positions (fetch id -> index in the verdict's pages) gives its page_index."""
    fetch_id = row.get("fetch_id")
    return Post(row["title"], row["url"],
                dt.date.fromisoformat(row["published"]) if row["published"] else None,
                dt.date.fromisoformat(row["updated"]) if row["updated"] else None,
                row["date_source"], page_index=(positions or {}).get(fetch_id) if fetch_id is not None else None)


def finding_from_row(row: dict) -> ItemFinding:
    item = Item(row["number"] or "", row["title"] or "", _day(row["issued"]), row["url"] or None)
    return ItemFinding(item, row["status"], row["page_url"] or None, row["matched_text"] or "",
                       tuple(json.loads(row["searched"])) if row["searched"] else ())


def report_from_row(row: dict) -> Report:
    return Report(row["agency_id"], row["criterion"], row.get("url") or "", row.get("value") or "",
                  bool(row.get("not_applicable")), row.get("note") or "", _day(row.get("submitted_at")),
                  row.get("source") or "")


def override_from_row(row: dict) -> Override:
    from verifier.overrides import Override  # overrides.py is above the store: it imports iso from here

    at = dt.datetime.fromisoformat(row["at"]) if row.get("at") else dt.datetime.min.replace(tzinfo=dt.UTC)
    return Override(row["id"], row["agency_id"], row["criterion"], row["status"], row["note"] or "",
                    row["by"] or "", at, row["run_id"], row["machine_status"], row["machine_reason"],
                    moment(row.get("withdrawn_at")), row.get("withdrawn_by"), row.get("withdraw_note"),
                    row.get("spot_check_id"))


def load_overrides(db) -> tuple[Override, ...]:
    """Every override ever recorded, oldest first."""
    return tuple(override_from_row(r) for r in db["overrides"].rows_where(order_by="id"))


def read_run(db, run_id: int | None = None) -> StoredRun:
    """The run asked for (else the latest) with its agencies, reports, verdicts (with their posts and
    pages) and the overrides, as records. Raises NoRun, StoreError."""
    try:
        run = pick_run(db, run_id)
        rid = run["id"]
        agencies = tuple(AgencyInfo(r["agency_id"], r["agency_name"] or "", r["agency_group"] or "",
                                    r.get("portal") or "")
                         for r in db.query("select * from agencies where run_id = ? order by rowid", [rid]))
        reports = tuple(report_from_row(r) for r in db.query(
            "select * from reports where run_id = ? order by rowid", [rid]))
        pages: dict[int, list[dict]] = {}
        for row in db.query("select * from fetches where run_id = ? and verdict_id is not null "
                            "order by verdict_id, position, id", [rid]):
            pages.setdefault(row["verdict_id"], []).append(row)
        positions = {row["id"]: i for rows in pages.values() for i, row in enumerate(rows)}
        posts: dict[int, list[Post]] = {}
        for row in db.query("select * from posts where run_id = ? order by id", [rid]):
            posts.setdefault(row["verdict_id"], []).append(post_from_row(row, positions))
        findings: dict[int, list[ItemFinding]] = {}
        for row in db.query("select * from item_findings where run_id = ? order by verdict_id, position", [rid]):
            findings.setdefault(row["verdict_id"], []).append(finding_from_row(row))
        checks: dict[int, list[CheckSeen]] = {}
        for row in db.query("select * from content_checks where run_id = ? order by verdict_id, position, id", [rid]):
            checks.setdefault(row["verdict_id"], []).append(CheckSeen(
                row["check_id"] or "", row["label"] or "", bool(row["found"]), row["page"], row["excerpt"] or ""))
        verdicts, fetch_ids = [], {}
        for row in db.query("select * from verdicts where run_id = ? order by id", [rid]):
            key = (row["agency_id"], row["criterion"])
            rows = pages.get(row["id"], [])
            fetch_ids[key] = tuple(r["id"] for r in rows)
            verdicts.append(Verdict(
                agency_id=row["agency_id"], criterion=row["criterion"], url=row["url"],
                checked_url=row["checked_url"], status=row["status"], reason=row["reason"],
                posts_in_year=row["posts_in_year"], discovered=bool(row["discovered"]), detail=row["detail"] or "",
                pages=tuple(page_from_row(r) for r in rows), posts=tuple(posts.get(row["id"], ())),
                checked_at=moment(row["checked_at"]), items=tuple(findings.get(row["id"], ())),
                content_checks=tuple(checks.get(row["id"], ()))))
        period = (_day(run.get("period_start")), _day(run.get("period_end")))
        checked_at = moment(run.get("finished_at")) or moment(run.get("started_at"))
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
            "run_id": run_id, "agency_id": s.agency_id, "agency_group": s.group, "score": s.score,
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
        "spot_check_id": override.spot_check_id,
    }
    with _writing(db, "store the override"):
        if override.run_id is not None:
            known = db.execute("select id from verdicts where run_id = ? and agency_id = ? and criterion = ?",
                               [override.run_id, override.agency_id, override.criterion]).fetchone()
            row["verdict_id"] = known[0] if known else None
        pk = db["overrides"].insert(row).last_pk
    return replace(override, id=pk)


def get_override(db, override_id: int) -> Override | None:
    row = next(iter(db["overrides"].rows_where("id = ?", [override_id])), None)
    return override_from_row(row) if row else None


def withdraw_override(db, override_id: int, *, by: str, note: str, at: dt.datetime) -> Override:
    """Mark the override withdrawn (who, when, why) on its row, only if it is still in force; returns it."""
    with _writing(db, "withdraw the override"):
        db.execute("update overrides set withdrawn_at = ?, withdrawn_by = ?, withdraw_note = ? "
                   "where id = ? and withdrawn_at is null", [iso(at), by, note, override_id])
    return get_override(db, override_id)


def save_spot_check(db, row: dict) -> int:
    """Keep a spot-check (the columns of `spot_checks` but id); returns its id."""
    with _writing(db, "store the spot-check"):
        return db["spot_checks"].insert(row).last_pk


def get_spot_check(db, check_id: int) -> dict | None:
    return next(iter(db["spot_checks"].rows_where("id = ?", [check_id])), None)


def list_runs(db) -> list[dict]:
    """Every run, newest first, with its verdict counts by status (`counts`: {status: n})."""
    counts: dict[int, dict[str, int]] = {}
    for row in db.query("select run_id, status, count(*) as n from verdicts group by run_id, status"):
        counts.setdefault(row["run_id"], {})[row["status"]] = row["n"]
    return [dict(run, counts=counts.get(run["id"], {})) for run in db["runs"].rows_where(order_by="id desc")]


def verdict_pairs(db, run_a: int, run_b: int) -> list[tuple[dict | None, dict | None]]:
    """The verdicts of two runs paired by (agency, criterion), in the order agency, criterion."""
    cols = "agency_id, criterion, status, reason, posts_in_year, url, checked_url"
    before = {(r["agency_id"], r["criterion"]): r
              for r in db.query(f"select {cols} from verdicts where run_id = ?", [run_a])}
    after = {(r["agency_id"], r["criterion"]): r
             for r in db.query(f"select {cols} from verdicts where run_id = ?", [run_b])}
    return [(before.get(key), after.get(key)) for key in sorted(set(before) | set(after))]


# ------------------------------------------------------------------------------------------- for Datasette

METADATA_RESOURCE = "store_metadata.yaml"


def datasette_metadata(db_name: str) -> dict:
    """Datasette metadata of an evidence database of that name (its file name without the suffix): every
    table, view and column described in Vietnamese and English, from the package's store_metadata.yaml."""
    import yaml

    text = resources.files("verifier").joinpath(METADATA_RESOURCE).read_text(encoding="utf-8")
    shipped = yaml.safe_load(text)
    return {"title": shipped["title"], "description": shipped["description"],
            "databases": {db_name: {"description": shipped["description"], "tables": shipped["tables"]}}}


def write_datasette_metadata(db_path: Path | str, target: Path | str | None = None) -> Path:
    """Write the metadata of the database at db_path to target (default: metadata.yaml beside it), so
    `datasette <db> -m <target>` shows the descriptions. Returns the path written."""
    import yaml

    db_path = Path(db_path)
    target = Path(target) if target is not None else db_path.parent / "metadata.yaml"
    target.write_text(yaml.safe_dump(datasette_metadata(db_path.stem), allow_unicode=True, sort_keys=False,
                                     width=120), encoding="utf-8")
    return target


# ------------------------------------------------------------------------------ the reviewer console's tables

# Users, sign-in attempts, the audit trail and the console's settings (its session key). Created on the first
# use by the console or the `user` command, not by a crawl; the audit trail is append-only (no function here
# updates or deletes its rows).
CONSOLE_SCHEMA = {
    "users": ({"name": str, "role": str, "agency_id": str, "password_hash": str, "disabled": int,
               "created_at": str}, "name"),
    "sign_in_attempts": ({"id": int, "at": str, "name": str, "client": str, "ok": int}, "id"),
    "audit": ({"id": int, "at": str, "who": str, "action": str, "object": str, "detail": str}, "id"),
    "console_settings": ({"key": str, "value": str}, "key"),
}


def ensure_console_tables(db) -> None:
    """The console's tables, created if missing (one transaction)."""
    if all(db[name].exists() for name in CONSOLE_SCHEMA):
        return
    with _writing(db, "create the console's tables"):
        for name, (columns, pk) in CONSOLE_SCHEMA.items():
            db[name].create(columns, pk=pk, if_not_exists=True)
        db["sign_in_attempts"].create_index(["name", "at"], if_not_exists=True)
        db["sign_in_attempts"].create_index(["client", "at"], if_not_exists=True)


def get_user(db, name: str) -> dict | None:
    if not db["users"].exists():
        return None
    rows = list(db.query("select * from users where name = ?", [name]))
    return rows[0] if rows else None


def save_user(db, *, name: str, role: str, agency_id: str | None, password_hash: str, at: dt.datetime) -> None:
    """Add the user, or replace its role, agency and password (enabling it again)."""
    with _writing(db, "store the user"):
        db["users"].upsert({"name": name, "role": role, "agency_id": agency_id or "", "password_hash": password_hash,
                            "disabled": 0, "created_at": iso(at)}, pk="name")


def set_user_password(db, name: str, password_hash: str) -> None:
    with _writing(db, "change the password"):
        db.execute("update users set password_hash = ? where name = ?", [password_hash, name])


def disable_user(db, name: str) -> None:
    with _writing(db, "disable the user"):
        db.execute("update users set disabled = 1 where name = ?", [name])


def record_sign_in(db, *, name: str, client: str, ok: bool, at: dt.datetime) -> None:
    with _writing(db, "record the sign-in"):
        db["sign_in_attempts"].insert({"at": iso(at), "name": name, "client": client, "ok": int(ok)})


def failed_sign_ins(db, *, name: str, client: str, since: dt.datetime) -> int:
    """Wrong passwords since `since` for this name or from this client, after the last success of that name."""
    last_ok = db.execute("select max(at) from sign_in_attempts where name = ? and ok = 1", [name]).fetchone()[0]
    start = max(iso(since), last_ok or "")
    return db.execute("select count(*) from sign_in_attempts where ok = 0 and at > ? and (name = ? or client = ?)",
                      [start, name, client]).fetchone()[0]


def append_audit(db, *, at: dt.datetime, who: str, action: str, object: str, detail: str = "") -> None:
    with _writing(db, "record the audit entry"):
        db["audit"].insert({"at": iso(at), "who": who, "action": action, "object": object, "detail": detail})


def audit_entries(db, limit: int = 500) -> list[dict]:
    return list(db.query("select * from audit order by id desc limit ?", [limit]))


def console_setting(db, key: str) -> str | None:
    row = db.execute("select value from console_settings where key = ?", [key]).fetchone()
    return row[0] if row else None


def set_console_setting(db, key: str, value: str) -> None:
    with _writing(db, "store the console's setting"):
        db.execute("insert or ignore into console_settings (key, value) values (?, ?)", [key, value])


def verdict_history(db, agency_id: str, criterion: str) -> list[dict]:
    """The verdict of (agency, criterion) in every run that has one, newest run first."""
    return list(db.query(
        "select r.id as run_id, r.started_at, v.status, v.reason, v.posts_in_year, v.checked_at "
        "from verdicts v join runs r on r.id = v.run_id where v.agency_id = ? and v.criterion = ? "
        "order by r.id desc", [agency_id, criterion]))


# ------------------------------------------------------------------------------------ the console's spot-checks

def list_spot_checks(db, limit: int = 50) -> list[dict]:
    """The latest spot-checks kept, newest first."""
    return list(db.query("select * from spot_checks order by id desc limit ?", [limit]))


# ------------------------------------------------------------------------------------ the confirmation round

# A round asks every agency of one finished run to confirm or dispute each verdict until `closes_on` (the
# province's day); an agency's every answer is a row (the latest counts); a reviewer answers a dispute once,
# with the override it made when accepting it changed the result. Created with the other tables (SCHEMA).
ROUND_SCHEMA = {
    "rounds": dict(columns={
        "id": int, "run_id": int, "opened_at": str, "opened_by": str, "closes_on": str, "closed_at": str,
        "closed_by": str,
    }, pk="id", foreign_keys=[_RUN]),
    "round_responses": dict(columns={
        "id": int, "round_id": int, "agency_id": str, "criterion": str, "kind": str, "note": str,
        "corrected_url": str, "by": str, "at": str,
    }, pk="id", foreign_keys=[("round_id", "rounds", "id")]),
    "dispute_answers": dict(columns={
        "id": int, "response_id": int, "decision": str, "status": str, "note": str, "by": str, "at": str,
        "override_id": int,
    }, pk="id", foreign_keys=[("response_id", "round_responses", "id"), ("override_id", "overrides", "id")]),
}
SCHEMA.update(ROUND_SCHEMA)
INDEXES.update({"round_responses": [("round_id", "agency_id", "criterion")], "dispute_answers": [("response_id",)]})


def _with_audit(db, table: str, row: dict, entry: dict, doing: str) -> int:
    """Insert the row and its audit entry in one transaction (the console's tables made first); returns its id.
    The entry's `detail` may be a function of the new row's id."""
    ensure_console_tables(db)
    with _writing(db, doing):
        pk = db[table].insert(row).last_pk
        detail = entry["detail"](pk) if callable(entry["detail"]) else entry["detail"]
        db["audit"].insert(dict(entry, at=iso(entry["at"]), detail=detail))
    return pk


def save_round(db, *, run_id: int, opened_at: dt.datetime, opened_by: str, closes_on: dt.date, audit: dict) -> int:
    """A new round on the run, with its audit entry; returns its id."""
    return _with_audit(db, "rounds", {"run_id": run_id, "opened_at": iso(opened_at), "opened_by": opened_by,
                                      "closes_on": iso(closes_on)}, audit, "open the round")


def close_round_row(db, round_id: int, *, at: dt.datetime, by: str, audit: dict) -> None:
    """Mark the round closed (only if it is still open), with its audit entry."""
    ensure_console_tables(db)
    with _writing(db, "close the round"):
        db.execute("update rounds set closed_at = ?, closed_by = ? where id = ? and closed_at is null",
                   [iso(at), by, round_id])
        db["audit"].insert(dict(audit, at=iso(audit["at"])))


def latest_round(db) -> dict | None:
    if not db["rounds"].exists():
        return None
    return next(iter(db["rounds"].rows_where(order_by="id desc", limit=1)), None)


def rounds_of_run(db, run_id: int) -> list[dict]:
    if not db["rounds"].exists():
        return []
    return list(db["rounds"].rows_where("run_id = ?", [run_id], order_by="id"))


def save_response(db, row: dict, audit: dict) -> int:
    """An agency's answer (the columns of round_responses but id), with its audit entry; returns its id."""
    return _with_audit(db, "round_responses", row, audit, "store the agency's answer")


def get_response(db, response_id: int) -> dict | None:
    return next(iter(db["round_responses"].rows_where("id = ?", [response_id])), None)


def round_responses(db, *, round_ids=None, agency_id: str | None = None, criterion: str | None = None) -> list[dict]:
    """Responses (oldest first) of the rounds named (else all), narrowed to an agency and a criterion, each with
    its reviewer's answer (`answer`: a dispute_answers row, or None)."""
    if not db["round_responses"].exists():
        return []
    where, args = ["1=1"], []
    if round_ids is not None:
        ids = [int(i) for i in round_ids] or [-1]
        where.append(f"round_id in ({', '.join('?' * len(ids))})")
        args += ids
    for column, value in (("agency_id", agency_id), ("criterion", criterion)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    rows = list(db["round_responses"].rows_where(" and ".join(where), args, order_by="id"))
    answers = {a["response_id"]: a for a in db["dispute_answers"].rows_where(order_by="id")} if rows else {}
    return [dict(r, answer=answers.get(r["id"])) for r in rows]


def save_dispute_answer(db, row: dict, audit: dict) -> int:
    """A reviewer's answer to a dispute (the columns of dispute_answers but id), with its audit entry."""
    return _with_audit(db, "dispute_answers", row, audit, "store the answer to the dispute")


def audit_trail(db) -> list[dict]:
    """Every audit entry, oldest first (by id); none when the console's tables were never made."""
    if not db["audit"].exists():
        return []
    return list(db.query("select * from audit order by id"))


def get_round(db, round_id: int) -> dict | None:
    if not db["rounds"].exists():
        return None
    return next(iter(db["rounds"].rows_where("id = ?", [round_id])), None)


def run_agency_names(db, run_id: int) -> list[tuple[str, str]]:
    """(agency id, name) of the run's agencies, as registered."""
    return [(r["agency_id"], r["agency_name"]) for r in
            db.query("select agency_id, agency_name from agencies where run_id = ? order by rowid", [run_id])]


# ------------------------------------------------------------------------------------ the console's readings

def run_state(db, run_id: int) -> tuple:
    """What the scored reading of a run depends on in the database: the run's status and end, its verdicts
    (count, latest check) and the overrides (count, latest id, withdrawals). Equal states, equal readings."""
    run = db.execute("select status, finished_at from runs where id = ?", [run_id]).fetchone()
    verdicts = db.execute("select count(*), max(checked_at) from verdicts where run_id = ?", [run_id]).fetchone()
    overrides = db.execute("select count(*), max(id), count(withdrawn_at), max(withdrawn_at) from overrides"
                           ).fetchone() if db["overrides"].exists() else ()
    return (run_id, tuple(run or ()), tuple(verdicts), tuple(overrides))
