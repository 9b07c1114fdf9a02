"""The page's own category label: votes per criterion from what names the page itself.

The breadcrumb, the main heading, the <title> segments and the active menu
entry each vote for the criterion their text names, weighted by how reliably
portals make that element name the page. The menus that list every category
never vote. `choose_category` adds the title of the box holding the listing
once the listing is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from crawler.extract.page import Page, names_match, short_label
from crawler.extract.vocabulary import (
    ACTIVE_CLASS,
    BREADCRUMB_ARIA_LABELS,
    BREADCRUMB_CLASS,
    BREADCRUMB_PREFIX,
    BREADCRUMB_SEPARATORS,
    BREADCRUMB_SPLIT,
    TITLE_SPLIT,
)
from crawler.extract.weights import WEIGHTS as W
from crawler.records import CategoryMatch


@dataclass
class Votes:
    """Votes per criterion, and the first label (text, source) that voted for each."""

    scores: dict[str, float] = field(default_factory=dict)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, page: Page, text: str, weight: float, source: str) -> None:
        """A vote for the criterion the text names, if it is a short label that names one."""
        if not text or not short_label(text):
            return
        cid, _ = page.match(text)
        if cid:
            self.scores[cid] = self.scores.get(cid, 0.0) + weight
            self.labels.setdefault(cid, (text, source))


def label_votes(page: Page) -> Votes:
    """Votes from the page's own labels, most reliable first (the first label of a criterion is kept)."""
    votes = Votes()
    # the breadcrumb's last crumb naming a category is the page's place in the site
    for text in breadcrumb(page)[-W.breadcrumb_tail:][::-1]:
        if short_label(text) and page.match(text)[0]:
            votes.add(page, text, W.breadcrumb_vote, "breadcrumb")
            break
    # the main heading is usually the category name on a listing
    if page.main_heading:
        votes.add(page, page.main_heading, W.heading_vote, "heading")
    # the <title> often leads with the category, then the site name
    for segment in title_segments(page.title):
        votes.add(page, segment, W.title_vote, "title")
        if segment != page.title:
            break  # the first segment that names a category is the page's own
    og_title = page.meta.get("og:title")
    if og_title and og_title != page.title:
        votes.add(page, og_title, W.og_title_vote, "title")
    # themes mark the active menu entry, though not always the right one: a weak vote
    for text in active_menu(page):
        votes.add(page, text, W.active_menu_vote, "menu-active")
    return votes


def choose_category(votes: Votes, box_criterion: str | None, box_title: str | None) -> CategoryMatch:
    """The criterion with the most votes once the listing's box title has voted, or no criterion on a tie."""
    scores, labels = dict(votes.scores), dict(votes.labels)
    if box_criterion:
        scores[box_criterion] = scores.get(box_criterion, 0.0) + W.box_title_vote
        labels.setdefault(box_criterion, (box_title, "heading"))
    criterion, _ = winner(scores)
    if not criterion:
        return CategoryMatch(None, None, None, 0.0)
    label, source = labels.get(criterion, (None, None))
    return CategoryMatch(criterion, label, source, scores.get(criterion, 0.0))


def winner(votes: Mapping[str, float]) -> tuple[str | None, float]:
    """The criterion with the most votes and its votes; (None, 0) on a tie or without votes."""
    ranked = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked:
        return None, 0.0
    if len(ranked) > 1 and ranked[1][1] >= ranked[0][1]:
        return None, 0.0
    return ranked[0]


def breadcrumb(page: Page) -> list[str]:
    """The pieces of the page's breadcrumb, without repeats and without the "Bạn đang ở:" prefix."""
    for el in page.body.iter():
        if not isinstance(el.tag, str):
            continue
        if names_match(BREADCRUMB_CLASS, el) or \
                (el.get("aria-label") or "").lower() in BREADCRUMB_ARIA_LABELS:
            parts = [page.text(x) for x in el.xpath(".//a|.//span[not(.//a)]|.//li[not(.//a)]|.//strong")]
            parts = [p for p in parts if p and not BREADCRUMB_SEPARATORS.fullmatch(p)]
            if len(parts) <= 1:
                parts = [p.strip() for p in BREADCRUMB_SPLIT.split(page.text(el)) if p.strip()]
            seen = []
            for p in parts:
                if p not in seen:
                    seen.append(p)
            return [BREADCRUMB_PREFIX.sub("", p) for p in seen]
    return []


def title_segments(title: str) -> list[str]:
    """The <title> and its parts ("Chỉ đạo điều hành | Sở Tư pháp"), whole title first."""
    if not title:
        return []
    parts = [p.strip() for p in TITLE_SPLIT.split(title) if p.strip()]
    out = [title]
    for p in parts:
        if p not in out:
            out.append(p)
    return out


def active_menu(page: Page) -> list[str]:
    """The texts of the last menu entries marked active ("current-menu-item")."""
    out = []
    for a in page.body.iter("a"):
        if not page.chrome(a):
            continue
        li = a.getparent()
        classes = f"{a.get('class', '')} {li.get('class', '') if li is not None else ''}"
        if ACTIVE_CLASS.search(classes):
            out.append(page.text(a))
    return out[-W.active_menu_tail:]
