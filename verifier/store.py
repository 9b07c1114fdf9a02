"""The evidence database (SQLite through sqlite-utils): runs, inputs, fetches, posts, verdicts, overrides, scores.

Every crawl is a run; old runs stay for the audit. Rows are written per
finished link in one transaction, so a killed crawl leaves only whole links.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import sqlite_utils

from crawler.records import PageVisit, Post, Verdict


SCHEMA = {
    "runs": dict(columns={
        "id": int, "started_at": str, "finished_at": str, "status": str, "rulebook": str, "year": int,
        "period_start": str, "period_end": str, "options": str, "inputs_digest": str,
        "agencies_file": str, "reports_file": str, "warc_dir": str, "pid": int,
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
}
INDEXES = {
    "fetches": [("run_id", "agency_id", "criterion")],
    "posts": [("run_id", "agency_id", "criterion")],
    "overrides": [("agency_id", "criterion")],
}


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


def open_db(path: Path | str) -> sqlite_utils.Database:
    """The database, with every table created if missing."""
    db = sqlite_utils.Database(str(path))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=5000")
    for name, spec in SCHEMA.items():
        if not db[name].exists():
            db[name].create(spec["columns"], pk=spec["pk"])
            for cols in INDEXES.get(name, []):
                db[name].create_index(list(cols), if_not_exists=True)
    return db


def latest_run(db, *, status: str | None = None) -> dict | None:
    where = "status = ?" if status else "1=1"
    args = [status] if status else []
    rows = list(db["runs"].rows_where(where, args, order_by="id desc", limit=1))
    return rows[0] if rows else None


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
    """Store one finished link (its fetches, posts and verdict) in one transaction.

    Each page's `warc_record` ('file#offset+length') points at its WARC response record."""
    with db.conn:
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
    return list(db["verdicts"].rows_where("run_id = ?", [run_id], order_by="agency_id, criterion"))


def post_from_row(row: dict) -> Post:
    return Post(row["title"], row["url"],
                dt.date.fromisoformat(row["published"]) if row["published"] else None,
                dt.date.fromisoformat(row["updated"]) if row["updated"] else None,
                row["date_source"])
