"""Score the extraction core against the saved portal pages and their expectations.

Run `python -m tests.crawler.fixture_eval` for a per-page report; the tests in
test_extract.py assert the totals so CI fails when extraction gets worse.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from crawler.categories import CategoryMatcher
from crawler.extract import read_page
from crawler.text import clean_space, nfc
from crawler.urls import same_page
from verifier.rulebook import load_rulebook

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


def load_expectations() -> dict[str, dict]:
    return json.loads((PAGES / "expectations.json").read_text(encoding="utf-8"))


def load_page(name: str) -> bytes:
    return (PAGES / f"{name}.html").read_bytes()


_MATCHER = None


def matcher() -> CategoryMatcher:
    global _MATCHER
    if _MATCHER is None:
        _MATCHER = CategoryMatcher.from_rulebook(load_rulebook())
    return _MATCHER


def read_fixture(name: str, expected: dict | None = None):
    expected = expected or load_expectations()[name]
    headers = {"Content-Type": expected.get("content_type") or "text/html"}
    return read_page(expected["url"], load_page(name), headers, matcher())


def _key(title: str) -> str:
    return clean_space(nfc(title)).casefold()


@dataclass
class Score:
    pages: int = 0
    kind_ok: int = 0
    category_ok: int = 0
    posts_expected: int = 0
    posts_found: int = 0
    posts_matched: int = 0
    dates_expected: int = 0
    dates_found: int = 0
    dates_correct: int = 0
    chrome_dates_leaked: int = 0
    next_expected: int = 0
    next_found: int = 0
    next_found_ok: int = 0
    article_dates: int = 0
    article_dates_ok: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def post_precision(self) -> float:
        return self.posts_matched / self.posts_found if self.posts_found else 1.0

    @property
    def post_recall(self) -> float:
        return self.posts_matched / self.posts_expected if self.posts_expected else 1.0

    @property
    def next_precision(self) -> float:
        return self.next_found_ok / self.next_found if self.next_found else 1.0

    @property
    def next_recall(self) -> float:
        return self.next_found_ok / self.next_expected if self.next_expected else 1.0

    @property
    def date_precision(self) -> float:
        return self.dates_correct / self.dates_found if self.dates_found else 1.0

    @property
    def date_recall(self) -> float:
        return self.dates_correct / self.dates_expected if self.dates_expected else 1.0


def evaluate() -> Score:
    score = Score()
    for name, exp in load_expectations().items():
        score_page(score, name, exp, read_fixture(name, exp))
    return score


def _distinct(urls) -> list[str]:
    """The URLs, one per page (the product's own equality: www. twin, trailing slash, query order)."""
    out: list[str] = []
    for u in urls:
        if not any(same_page(u, seen) for seen in out):
            out.append(u)
    return out


def score_page(score: Score, name: str, exp: dict, reading) -> None:
    """Add one page's reading, compared with its expectation, to the score."""
    score.pages += 1
    if reading.kind == exp["kind"]:
        score.kind_ok += 1
    else:
        score.failures.append(f"{name}: kind {reading.kind} != {exp['kind']}")
    want_cat = exp.get("category") if exp["kind"] in ("listing", "page") else None
    got_cat = reading.category.criterion if exp["kind"] in ("listing", "page") else None
    if got_cat == want_cat:
        score.category_ok += 1
    else:
        score.failures.append(f"{name}: category {got_cat} != {want_cat} (label {reading.category.label!r})")
    if exp["kind"] == "listing":
        _score_posts(score, name, exp, reading)
        # pages, not spellings: "?query-1-page=2&page_id=34" and "/?page_id=34&query-1-page=2" are one page
        wanted_next = _distinct(exp.get("next_pages", []))
        got_next = _distinct(reading.next_pages)
        score.next_expected += len(wanted_next)
        score.next_found += len(got_next)
        for u in wanted_next:
            if any(same_page(u, g) for g in got_next):
                score.next_found_ok += 1
            else:
                score.failures.append(f"{name}: next page missing {u}")
    if exp["kind"] == "article":
        score.article_dates += 1
        want = exp.get("article_date")
        got = reading.article_date.isoformat() if reading.article_date else None
        if want == got:
            score.article_dates_ok += 1
        else:
            score.failures.append(f"{name}: article date {got} != {want}")


def _score_posts(score: Score, name: str, exp: dict, reading) -> None:
    expected = {_key(p["title"]): p for p in exp.get("posts", [])}
    found = {_key(p.title): p for p in reading.posts}
    score.posts_expected += len(expected)
    score.posts_found += len(found)
    matched = set(expected) & set(found)
    score.posts_matched += len(matched)
    for k in sorted(set(expected) - set(found))[:3]:
        score.failures.append(f"{name}: missed post {expected[k]['title'][:60]!r}")
    for k in sorted(set(found) - set(expected))[:3]:
        score.failures.append(f"{name}: extra post {found[k].title[:60]!r}")
    score.dates_expected += sum(1 for p in expected.values() if p.get("date"))
    for k in matched:
        want = expected[k].get("date")
        got = found[k].published.isoformat() if found[k].published else None
        if got:
            score.dates_found += 1
        if want and got == want:
            score.dates_correct += 1
        elif want != got:
            score.failures.append(f"{name}: date of {k[:40]!r} {got} != {want}")
    chrome = set(exp.get("not_post_dates", []))
    real = {p.get("date") for p in exp.get("posts", [])}
    for post in reading.posts:
        for d in post.dates:
            if d.isoformat() in chrome and d.isoformat() not in real:
                score.chrome_dates_leaked += 1
                score.failures.append(f"{name}: chrome date {d} read as a post date")


def main() -> int:
    s = evaluate()
    for line in s.failures:
        print(line)
    print(f"pages {s.pages}: kind {s.kind_ok}/{s.pages}, category {s.category_ok}/{s.pages}")
    print(f"posts: precision {s.post_precision:.3f} recall {s.post_recall:.3f} "
          f"({s.posts_matched}/{s.posts_expected} expected, {s.posts_found} found)")
    print(f"dates: precision {s.date_precision:.3f} recall {s.date_recall:.3f}; chrome dates leaked {s.chrome_dates_leaked}")
    print(f"next pages {s.next_found_ok}/{s.next_expected}; article dates {s.article_dates_ok}/{s.article_dates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
