"""The demo: the bundled portals served on loopback, every demo link verified, compared with the truth."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import time
from collections import Counter
from pathlib import Path

from rich.table import Table
from rich.text import Text

from crawler.categories import CategoryMatcher
from crawler.settings import Limits, RunOptions
from verifier.intake import load_registry, load_reports
from verifier.plan import plan_tasks
from verifier.rulebook import load_rulebook
from verifier.serialize import verdict_dict

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
# The demo's slow route sleeps longer than this, so it ends as `unreachable` in seconds, not minutes.
DEMO_LIMITS = Limits(read_timeout=2.0, connect_timeout=2.0, retries=1, retry_backoff=0.2)


def load_truth(path: Path = DEMO_DIR / "truth.csv") -> dict[tuple[str, str], dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {(r["agency_id"], r["criterion"]): r for r in csv.DictReader(fh)}


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


def matches_truth(verdict, truth_row: dict) -> bool:
    want_posts = truth_row.get("posts_in_year", "").strip()
    want_discovered = truth_row.get("discovered", "").strip().lower() in ("1", "true", "yes", "x")
    return (verdict.status == truth_row["status"] and verdict.reason == truth_row["reason"]
            and (str(verdict.posts_in_year) if verdict.posts_in_year is not None else "") == want_posts
            and verdict.discovered == want_discovered)


def run_demo(out_dir: Path, *, out, err) -> bool:
    """Serve the demo portals, verify every demo link, print the comparison with the truth file.
    Returns True when every link in the truth file got its truth verdict."""
    from crawler.demo_server import PortalServer
    from verifier.checks import check_tasks

    rulebook = load_rulebook()
    registry = load_registry(DEMO_DIR / "agencies.csv", rulebook)
    reports = load_reports(DEMO_DIR / "reports.csv", registry, rulebook)
    truth = load_truth()
    tasks = [t for t in plan_tasks(registry, reports, rulebook) if t.report is not None]
    options = RunOptions(period=tuple(rulebook.period), allow_private=True, limits=DEMO_LIMITS)
    matcher = CategoryMatcher.from_rulebook(rulebook)
    started = time.monotonic()
    verdicts, timings = [], []
    with PortalServer() as server, proxy_env(server.proxy_url):
        err.print(Text(f"demo portals served on {server.proxy_url} (as an HTTP proxy)"))
        for task in tasks:
            t0 = time.monotonic()
            verdict = next(iter(check_tasks([task], matcher, options)))
            timings.append(time.monotonic() - t0)
            verdicts.append(verdict)
    elapsed = time.monotonic() - started

    table = Table(title="Demo verdicts")
    for col in ("agency", "criterion", "status", "reason", "posts", "truth", "match"):
        table.add_column(col)
    good = 0
    for v in verdicts:
        t = truth.get((v.agency_id, v.criterion))
        ok = t is not None and matches_truth(v, t)
        good += ok
        want = f"{t['status']}/{t['reason']} {t.get('posts_in_year', '')}".strip() if t else "—"
        table.add_row(v.agency_id, v.criterion, v.status, v.reason,
                      "" if v.posts_in_year is None else str(v.posts_in_year), want,
                      Text("yes", style="green") if ok else Text("NO", style="bold red"))
    out.print(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    period = tuple(rulebook.period)
    (out_dir / "verdicts.json").write_text(json.dumps(
        [verdict_dict(v, period=period) for v in verdicts], ensure_ascii=False, indent=1), encoding="utf-8")
    counts = Counter(v.status for v in verdicts)
    timings.sort()
    median = timings[len(timings) // 2] if timings else 0.0
    out.print(Text(f"{len(verdicts)} links: " + ", ".join(f"{n} {s}" for s, n in counts.most_common())
                   + f"; {good}/{len(truth)} match data/demo/truth.csv; {elapsed:.1f}s "
                   f"(median {median * 1000:.0f} ms per link)"))
    out.print(Text(f"verdicts written to {out_dir / 'verdicts.json'}"))
    return good == len(truth) and len(verdicts) == len(truth)
