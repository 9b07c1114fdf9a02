"""The demo: the bundled portals served on loopback, the whole pipeline run on them, checked against the truth."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import time
from pathlib import Path

from rich.table import Table
from rich.text import Text

from crawler.settings import Limits, RunOptions
from verifier.resources import bundled
from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook

# The bundled demo: data/demo of the repository, installed as the package data of demo.data.
DEMO_DIR = bundled("demo.data", "data/demo")
# The demo's slow route sleeps longer than this, so it ends as `unreachable` in seconds, not minutes.
DEMO_LIMITS = Limits(read_timeout=2.0, connect_timeout=2.0, retries=1, retry_backoff=0.2)


def load_truth(path: Path = DEMO_DIR / "truth.csv") -> dict[tuple[str, str], dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {(r["agency_id"], r["criterion"]): r for r in csv.DictReader(fh)}


def truth_tuple(row: dict) -> tuple:
    """(status, reason, posts_in_year as text, discovered) of a truth row."""
    return (row["status"], row["reason"], (row.get("posts_in_year") or "").strip(),
            (row.get("discovered") or "").strip().lower() in ("1", "true", "yes", "x"))


def truth_items(row: dict) -> str:
    """A list's items found of a truth row, "found/listed" ("4/5"); "" for a criterion that is not a list."""
    return (row.get("items_found") or "").strip()


def verdict_tuple(row: dict) -> tuple:
    """The same of a stored verdict row."""
    posts = row["posts_in_year"]
    return (row["status"], row["reason"], "" if posts is None else str(posts), bool(row["discovered"]))


def verdict_items(row: dict) -> str:
    """The same of a stored verdict row (its items_found and items_total)."""
    total = row.get("items_total")
    return "" if total is None else f"{row.get('items_found') or 0}/{total}"


@contextlib.contextmanager
def proxy_env(proxy_url: str):
    """Route http through the demo server, as a Department behind a proxy would."""
    keys = ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["http_proxy"] = os.environ["HTTP_PROXY"] = proxy_url
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = ""
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_demo(out_dir: Path, *, out, err) -> bool:
    """Serve the demo portals, crawl them, compare every reported link with data/demo/truth.csv,
    score, rank and write the report. True when every link got its truth verdict."""
    from demo.server import PortalServer
    from verifier.crawl import run_crawl
    from verifier.progress import Progress
    from verifier.store import load_verdicts, open_db, write_datasette_metadata

    rulebook = load_rulebook(DEFAULT_RULEBOOK)
    options = RunOptions(period=tuple(rulebook.period), limits=DEMO_LIMITS)
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / "evidence.db"
    for stale in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(out_dir / "warc", ignore_errors=True)
    started = time.monotonic()
    with PortalServer() as server, proxy_env(server.proxy_url):
        err.print(Text(f"demo portals served on {server.proxy_url} (as an HTTP proxy); crawling..."))
        summary = run_crawl(DEMO_DIR / "agencies.csv", DEMO_DIR / "reports.csv", DEFAULT_RULEBOOK, db_path, options,
                            warc_dir=out_dir / "warc", items=DEMO_DIR / "items.csv",
                            progress_factory=lambda total, done: Progress(total, done=done))
        requests = len(server.requests)
    crawl_seconds = time.monotonic() - started

    rows = {(r["agency_id"], r["criterion"]): r for r in load_verdicts(open_db(db_path), summary.run_id)}
    truth = load_truth()
    table = Table(title="Demo links: verdict against data/demo/truth.csv")
    for col in ("agency", "criterion", "status", "reason", "posts", "truth", "match"):
        table.add_column(col)
    good = 0
    for key, t in truth.items():
        row = rows.get(key)
        got = (*verdict_tuple(row), verdict_items(row)) if row else None
        ok = got == (*truth_tuple(t), truth_items(t))
        good += ok
        table.add_row(key[0], key[1], got[0] if got else "—", got[1] if got else "—",
                      " ".join(x for x in (got[2], got[4]) if x) if got else "",
                      f"{t['status']}/{t['reason']} {t.get('posts_in_year', '')} {t.get('items_found') or ''}".strip(),
                      Text("yes", style="green") if ok else Text("NO", style="bold red"))
    out.print(table)
    out.print(Text(f"{good}/{len(truth)} reported links match the truth; {len(rows)} verdicts in all "
                   f"(blank criteria included); crawl {crawl_seconds:.1f}s, {summary.pages} pages fetched, "
                   f"{requests} requests served"))
    _score_and_report(db_path, summary.run_id, out_dir, out)
    metadata = write_datasette_metadata(db_path)
    out.print(Text(f"evidence database: {db_path} (browse it: datasette {db_path} -m {metadata}); "
                   f"WARC: {summary.warc_file}"))
    return good == len(truth)


def _score_and_report(db_path: Path, run_id: int, out_dir: Path, out) -> None:
    """Score, rank and export, when the scoring engine and exports are installed."""
    try:
        from verifier.commands import demo_report
    except ImportError:
        return
    demo_report(db_path, run_id, out_dir, out)
