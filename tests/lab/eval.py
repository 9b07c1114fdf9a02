"""Score the extraction core and the verdicts on pages nobody on the team wrote.

Two page sets, each a folder of recorded portals (``portals/<host>/site.yaml``,
the format the project's loopback server replays) and expectations as data
(``expectations/<host>.json``, written by hand from the content and the page as
a reader sees it):

* ``lab``: portals rendered by real CMS installs (tests/lab, see its README);
* ``real``: saved pages of public gov.vn portals (tests/realpages).

Per platform it reports page kind, category, posts precision/recall, dates
precision/recall, next pages precision/recall, article dates and verdicts
(status, reason and posts_in_year all equal), and counts false passes.
Pages are read straight from the recorded bytes; verdicts come from the
spot-check library call driven through the loopback server as a proxy, as a
reviewer's ``check`` would run. ``tests/lab/pins.json`` holds the figures the
suite must not fall below (tests/lab/test_lab_eval.py).

    python -m tests.lab.eval              # the table, and every failure
    python -m tests.lab.eval --pin        # write the figures reached to pins.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from crawler.extract import read_page
from crawler.settings import MAX_RELATED_PAGES, Limits, RunOptions
from crawler.spotcheck import spot_check
from demo.server import PortalServer, Site, load_sites
from tests.crawler.fixture_eval import Score, matcher, score_page
from verifier.rulebook import load_rulebook
from verifier.verdict import NO_POSTS_READ, make_verdict

HERE = Path(__file__).resolve().parent
SETS = {"lab": HERE, "real": HERE.parent / "realpages"}
PINS = HERE / "pins.json"
# Replayed pages answer at once: short timeouts and no retries keep a wrong turn cheap.
EVAL_LIMITS = Limits(connect_timeout=5.0, read_timeout=5.0, retries=0)
FIGURES = ("kind", "category", "posts_precision", "posts_recall", "dates_precision", "dates_recall",
           "next_precision", "next_recall", "article_dates", "verdicts")


@dataclass
class PlatformScore:
    pages: Score = field(default_factory=Score)
    verdicts: int = 0
    verdicts_ok: int = 0
    false_passes: int = 0
    failures: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)   # cases whose rule another issue brings (not scored)

    def figures(self) -> dict[str, float]:
        s = self.pages
        ratio = lambda a, b: round(a / b, 3) if b else 1.0  # noqa: E731
        return {
            "kind": ratio(s.kind_ok, s.pages), "category": ratio(s.category_ok, s.pages),
            "posts_precision": round(s.post_precision, 3), "posts_recall": round(s.post_recall, 3),
            "dates_precision": round(s.date_precision, 3), "dates_recall": round(s.date_recall, 3),
            "next_precision": round(s.next_precision, 3), "next_recall": round(s.next_recall, 3),
            "article_dates": ratio(s.article_dates_ok, s.article_dates),
            "verdicts": ratio(self.verdicts_ok, self.verdicts), "false_passes": self.false_passes,
            "pages": s.pages, "posts": s.posts_expected, "verdict_cases": self.verdicts,
            "pending_cases": len(self.pending),
        }


def family(platform: str) -> str:
    """'WordPress 6.1 (Debian), theme ...' -> 'WordPress'."""
    return (platform.replace("(", " ").split() or ["unknown"])[0]


def expectation_files(root: Path) -> list[dict]:
    out = []
    for path in sorted((root / "expectations").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["_file"] = path
        out.append(data)
    return out


def recorded(site: Site, url: str) -> tuple[int, dict[str, str], bytes] | None:
    """(status, headers, body) the recording holds for a URL, or None."""
    parts = urlsplit(url)
    route, _ = site.find("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    if route is None or route.location:
        return None
    return route.status, {"Content-Type": route.content_type or site.content_type}, route.payload()


def evaluate_pages(root: Path, scores: dict[str, PlatformScore]) -> None:
    sites = load_sites(root / "portals") if (root / "portals").is_dir() else {}
    for exp_file in expectation_files(root):
        platform = family(exp_file.get("platform", ""))
        score = scores[platform]
        for url, exp in exp_file.get("pages", {}).items():
            host = (urlsplit(url).hostname or "").lower()
            site = sites.get(host) or sites.get(host.removeprefix("www."))
            got = recorded(site, url) if site else None
            if got is None:
                score.failures.append(f"{url}: not in the recording")
                continue
            status, headers, body = got
            reading = read_page(url, body, headers, matcher(), status=status)
            score_page(score.pages, url, exp, reading)


@contextmanager
def _proxy_env(proxy: str):
    names = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY")
    saved = {n: os.environ.get(n) for n in names}
    for n in names:
        os.environ.pop(n, None)
    os.environ["http_proxy"] = os.environ["HTTP_PROXY"] = proxy
    try:
        yield
    finally:
        for n, v in saved.items():
            os.environ.pop(n, None)
            if v is not None:
                os.environ[n] = v


def evaluate_verdicts(root: Path, scores: dict[str, PlatformScore]) -> None:
    if not (root / "portals").is_dir():
        return
    rulebook = load_rulebook()
    cases = [(family(f.get("platform", "")), f, v) for f in expectation_files(root) for v in f.get("verdicts", [])]
    if not cases:
        return
    with PortalServer(root / "portals") as server, _proxy_env(server.proxy_url):
        for platform, exp_file, case in cases:
            score = scores[platform]
            if case.get("pending"):
                score.pending.append(f"{case['url']} [{case['criterion']}]: {case['pending']}")
                continue
            period = tuple(dt.date.fromisoformat(d) for d in case["period"])
            options = RunOptions(period=period, allow_private=True, limits=EVAL_LIMITS)
            criterion = rulebook.criterion(case["criterion"])
            # the loopback server replays https portals over plain http (it is a proxy without CONNECT)
            url = _plain(case["url"])
            portal = _plain(case.get("agency_portal") or f"http://{exp_file['host']}/")
            inv, checked_at = spot_check(url, criterion.id, matcher=matcher(), options=options,
                                         agency_portal=portal,
                                         related_pages=MAX_RELATED_PAGES if criterion.content_rule else 0,
                                         related_phrases=criterion.content_rule.phrases if criterion.content_rule else ())
            verdict = make_verdict("lab", inv.outcome, period, reported_url=url,
                                   min_posts=criterion.min_posts, content=criterion.content_rule,
                                   checked_at=checked_at)
            # docs/outputs.md: posts_in_year is null where no posts of the category were read
            count = None if case["reason"] in NO_POSTS_READ or criterion.content_rule else case.get("posts_in_year")
            want = (case["status"], case["reason"], count)
            got = (verdict.status, verdict.reason, verdict.posts_in_year)
            score.verdicts += 1
            if got == want:
                score.verdicts_ok += 1
            else:
                score.failures.append(f"verdict {case['url']} [{case['criterion']}]: {got} != {want}"
                                      f" ({verdict.detail})")
            if verdict.status == "pass" and case["status"] != "pass":
                score.false_passes += 1


def _plain(url: str) -> str:
    return "http://" + url[len("https://"):] if url.startswith("https://") else url


def evaluate(sets: dict[str, Path] = SETS) -> dict[str, dict[str, PlatformScore]]:
    out = {}
    for name, root in sets.items():
        scores: dict[str, PlatformScore] = defaultdict(PlatformScore)
        evaluate_pages(root, scores)
        evaluate_verdicts(root, scores)
        out[name] = dict(scores)
    return out


def figures(results: dict[str, dict[str, PlatformScore]]) -> dict[str, dict[str, dict[str, float]]]:
    return {name: {p: s.figures() for p, s in sorted(scores.items())} for name, scores in results.items()}


def table(results) -> str:
    head = ("set", "platform", "pages", "kind", "category", "posts P/R", "dates P/R", "next P/R", "art.dates",
            "verdicts", "false pass")
    rows = [head]
    for name, scores in results.items():
        for platform, s in sorted(scores.items()):
            f = s.figures()
            rows.append((name, platform, str(f["pages"]), f"{f['kind']:.3f}", f"{f['category']:.3f}",
                         f"{f['posts_precision']:.3f}/{f['posts_recall']:.3f}",
                         f"{f['dates_precision']:.3f}/{f['dates_recall']:.3f}",
                         f"{f['next_precision']:.3f}/{f['next_recall']:.3f}", f"{f['article_dates']:.3f}",
                         f"{s.verdicts_ok}/{s.verdicts}", str(s.false_passes)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pin", action="store_true", help="write the figures reached to tests/lab/pins.json")
    parser.add_argument("--quiet", action="store_true", help="the table only")
    args = parser.parse_args(argv)
    results = evaluate()
    if not args.quiet:
        for name, scores in results.items():
            for platform, s in sorted(scores.items()):
                for line in s.failures + s.pages.failures:
                    print(f"[{name}/{platform}] {line}")
    print(table(results))
    if args.pin:
        PINS.write_text(json.dumps(figures(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"pinned in {PINS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
