"""From what an investigation saw to one verdict (docs/verdicts.md). Pure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from crawler.agency_page import agency_named
from crawler.blocked import block_kind, blocked_detail
from crawler.charset import LEGACY_NOTES
from crawler.content import CheckSeen, ContentFinding, ContentRule, PageText, find_content
from crawler.extract import page_text
from crawler.extract.rows import Row
from crawler.investigate import Outcome
from crawler.items import ItemRule, evidence_text, find_item
from crawler.records import (
    ERR_BAD_URL,
    ERR_OFF_SITE,
    ERR_PRIVATE,
    ERR_ROBOTS,
    Item,
    ItemFinding,
    Post,
    Verdict,
)
from crawler.urls import host_of, is_home_url

PASS, FAIL, REVIEW, EXEMPT = "pass", "fail", "review", "exempt"

# Reasons whose verdict read no posts of the category: posts_in_year is null.
NO_POSTS_READ = frozenset({
    "not_applicable", "not_applicable_unexplained", "no_link", "off_site", "unreachable",
    "not_found", "robots_disallowed", "wrong_category", "legacy_encoding", "missing_content", "content_ok",
    "not_agency_page", "blocked", "items_missing", "items_unread", "no_items",
})

KIND_WORDS = {"home": "the home page", "article": "a single article", "error": "an error page",
              "page": "a page that is not a listing"}


def decide(outcome: Outcome, period: tuple[dt.date, dt.date], *, min_posts: int = 1,
           content: ContentRule | None = None, agency: tuple[str, str] | None = None
           ) -> tuple[str, str, int | None, str, tuple[CheckSeen, ...]]:
    """(status, reason, posts_in_year, detail, content checks) for one investigated link; `content`: the
    checks of a criterion judged by its content instead of its posts' freshness (the content checks are
    then what the page showed of each, else empty); `agency`: (id, name as registered), which a page on an
    allowed host must name to be the agency's own (None: a link checked alone, for no agency)."""
    if outcome.refused == ERR_OFF_SITE:
        return FAIL, "off_site", None, outcome.refused_detail, ()
    if outcome.refused == ERR_BAD_URL:
        return FAIL, "no_link", None, outcome.refused_detail, ()
    if outcome.no_link:
        return FAIL, "no_link", None, "no link reported and the category is not in the portal's navigation", ()
    first, reading = outcome.first, outcome.first_reading
    if first is None:
        return FAIL, "unreachable", None, "nothing was fetched", ()
    if first.error == ERR_OFF_SITE:
        return FAIL, "off_site", None, first.error_detail or "a redirect leaves the agency's portal", ()
    if first.error == ERR_ROBOTS:
        return REVIEW, "robots_disallowed", None, "robots.txt forbids this path", ()
    if first.error == ERR_PRIVATE:
        return FAIL, "unreachable", None, first.error_detail or "the host resolves to a private address", ()
    if first.error:
        return FAIL, "unreachable", None, f"{first.error}: {first.error_detail}".strip(": "), ()
    kind = block_kind(first)
    if kind is not None and _is_block(first, reading, outcome.criterion, content is not None):
        # a firewall's answer (a 403, a captcha, "access denied", a script challenge) says nothing of what
        # the agency published: a reviewer opens the page in a browser
        return REVIEW, "blocked", None, blocked_detail(first, kind), ()
    status = first.status or 0
    if status in (404, 410):
        return FAIL, "not_found", None, f"HTTP {status}", ()
    if status >= 400:
        return FAIL, "unreachable", None, f"HTTP {status}", ()
    if outcome.allowed_host and is_home_url(first.final_url):
        # the public-service portal's front page names no agency: the agency's own page or procedure list is
        # a path or a query below it (?donvi=<code>, /don-vi/<code>)
        return FAIL, "wrong_category", None, \
            f"the page is the home page of {host_of(first.final_url)}, not the agency's page on it", ()
    if outcome.redirected_home:
        if first.redirects:
            return FAIL, "not_found", None, \
                f"redirected to {first.final_url}, the home page or a page above the category", ()
        return FAIL, "not_found", None, f"{first.final_url} answers with the home page: the category is not there", ()
    if reading is None:
        return FAIL, "wrong_category", None, "the page is not HTML", ()
    if reading.legacy_encoding:
        # its words are Latin-1 nonsense: no category, kind or post title can be read, a person must look
        return REVIEW, "legacy_encoding", None, LEGACY_NOTES[reading.legacy_encoding], ()
    if reading.kind == "error":
        return FAIL, "not_found", None, "the page says it was not found (soft 404)", ()
    if reading.kind == "home" or (reading.kind == "article" and content is None):
        return FAIL, "wrong_category", None, f"the page is {KIND_WORDS[reading.kind]}", ()
    found = reading.category.criterion
    if found != outcome.criterion:
        label = reading.category.label or reading.title
        what = f"the category {found!r} ({label})" if found else f"no recognisable category (title: {label!r})"
        return FAIL, "wrong_category", None, f"the page shows {what}", ()
    if outcome.allowed_host and agency is not None and agency_named(
            first.final_url, first.body, first.headers, agency_id=agency[0], agency_name=agency[1]) is None:
        # the public-service portal lists every agency's procedures: the whole province's list, or another
        # agency's, is not this agency's page there
        return FAIL, "not_agency_page", None, \
            (f"the page on {host_of(first.final_url)} names neither {agency[1]!r} nor its code {agency[0]!r} "
             "(address, heading, breadcrumb, selected filter): not the agency's own page or procedure list"), ()
    if content is not None:
        # a static page (an introduction) is judged by what it carries, whatever its dates; one text
        # (an article-like page) under the criterion's own category is such a page
        finding = find_content(content, _content_texts(first, outcome.related))
        return (*judge_content(content, finding), finding.results)
    if reading.kind == "page" and not outcome.posts:
        return FAIL, "wrong_category", None, f"the page is {KIND_WORDS['page']}", ()
    return (*judge_posts(list(outcome.posts.values()), period, min_posts=min_posts), ())


def _is_block(first, reading, criterion: str, by_content: bool) -> bool:
    """Is an answer with a firewall's marks a block? An error status other than 404/410 is; a 2xx page only
    when it is not the category itself (a listing with a captcha in its comment box is the listing)."""
    status = first.status or 0
    if status in (404, 410):
        return False
    if status >= 400:
        return True
    if reading is None or reading.category.criterion != criterion:
        return True
    return not by_content and reading.kind != "listing" and not reading.posts


# The detail of a content verdict starts with these words, then the checks' labels ("; "-separated), so a
# reviewer (and the exports, labels.content_checks) can read which checks were found and which are missing.
FOUND_WORDS, MISSING_WORDS = "content found: ", "content missing: "


def _content_texts(first, related) -> list[tuple[str, PageText]]:
    """The texts of the page and of the same category's pages it links to, read as one introduction."""
    return [(f.final_url, page_text(f.final_url, f.body, f.headers)) for f in (first, *related)]


def judge_content(rule: ContentRule, text: PageText | ContentFinding) -> tuple[str, str, None, str]:
    """(status, reason, None, detail) of a page judged by the content checks it carries."""
    finding = text if isinstance(text, ContentFinding) else find_content(rule, text)
    found = FOUND_WORDS + ("; ".join(c.label for c in finding.found) or "none")
    if finding.enough(rule.min_required):
        return PASS, "content_ok", None, found
    missing = MISSING_WORDS + "; ".join(c.label for c in finding.missing)
    return FAIL, "missing_content", None, \
        f"{missing} ({len(finding.found)} of {rule.min_required} required found); {found}"


def content_labels(detail: str) -> tuple[list[str], list[str]]:
    """(found, missing): the labels of the content checks a content verdict's detail names."""
    missing = _CONTENT_MISSING.search(detail)
    found = _CONTENT_FOUND.search(detail)
    return _labels(found.group(1) if found else ""), _labels(missing.group(1) if missing else "")


def content_check_labels(verdict: Verdict) -> tuple[list[str], list[str]]:
    """(found, missing): the labels of a content verdict's checks, from its fields; a verdict kept without them
    (a spot-check stored before the checks had fields of their own) from the labels its detail names."""
    if verdict.content_checks:
        return ([c.label for c in verdict.content_checks if c.found],
                [c.label for c in verdict.content_checks if not c.found])
    return content_labels(verdict.detail)


_CONTENT_MISSING = re.compile(re.escape(MISSING_WORDS) + r"(.*?) \(\d+ of \d+ required found\)")
_CONTENT_FOUND = re.compile(re.escape(FOUND_WORDS) + r"(.*?)(?:; (?:stopped|page read|the )|$)")


def _labels(text: str) -> list[str]:
    return [x.strip() for x in text.split("; ") if x.strip() and x.strip() != "none"]


# Reasons decided by counting the category's posts (judge_posts): a re-score with another period
# judges these again from the posts the crawl read.
COUNTED = frozenset({"ok", "no_posts_in_year", "undated"})


def judge_posts(posts: list[Post], period: tuple[dt.date, dt.date], *, min_posts: int = 1
                ) -> tuple[str, str, int, str]:
    """(status, reason, posts_in_year, detail) of the right category's posts, in listing order, for the period."""
    counted = [p for p in posts if p.within(period)]
    dated = [p for p in posts if p.dates]
    n = len(counted)
    span = f"{period[0].isoformat()}..{period[1].isoformat()}"
    if n >= min_posts:
        return PASS, "ok", n, f"{n} post(s) dated within {span}"
    if posts and not dated:
        return REVIEW, "undated", 0, f"{len(posts)} post(s) but no date found for any"
    if not counted and _undated_could_be_recent(posts, period):
        return REVIEW, "undated", 0, "no dated post in the period, and newer posts carry no date"
    if n:
        return FAIL, "no_posts_in_year", n, f"only {n} post(s) within {span}, {min_posts} required"
    newest = max((max(p.dates) for p in dated), default=None)
    tail = f"; newest post {newest.isoformat()}" if newest else "; the listing is empty"
    return FAIL, "no_posts_in_year", 0, f"nothing dated within {span}{tail}"


def _undated_could_be_recent(posts: list[Post], period) -> bool:
    """An undated post listed before (newer than) every dated one may be in the period."""
    for post in posts:
        if post.dates:
            return False
        return True
    return False


# A listed criterion's detail names the items not found after these words ("; "-separated), then how many
# of the list were found, so the hints and exports read them back (missing_items).
ITEMS_MISSING_WORDS = "items missing: "
# The reasons of a reported category whose pages were not read (nothing to look for the items in): a person
# must look (`items_unread`); any other failure of the link, with nothing else read, stays that failure.
_UNREAD = frozenset({"unreachable", "robots_disallowed", "legacy_encoding"})


def judge_items(outcome: Outcome, items: tuple[Item, ...], scoring: str, period
                ) -> tuple[str, str, str, tuple[ItemFinding, ...]]:
    """(status, reason, detail, findings) of a listed criterion: each item found on a page read for the items
    (the category's pages, the portal's search, the item's own link) or not.

    Every item found: pass/ok. Some not found: proportional scoring passes with the share found
    (pass/items_missing), all_or_nothing fails (fail/items_missing); none found: fail/items_missing.
    No page read at all: review/items_unread when the portal did not answer, else the link's own failure."""
    searched = tuple(dict.fromkeys(outcome.item_pages))
    findings = tuple(
        ItemFinding(item, "found", *outcome.item_hits[i]) if i in outcome.item_hits
        else ItemFinding(item, "not_found", searched=searched)
        for i, item in enumerate(items))
    if not items:
        return FAIL, "no_items", "the agency listed no items for this list", ()
    link_status, link_reason, _, link_detail, _ = decide(outcome, period)
    if link_reason in COUNTED:      # the list's category, whatever the dates of its posts
        label = outcome.first_reading.category.label if outcome.first_reading else None
        category = "the reported page is the list's category" + (f" ({label})" if label else "")
    else:
        category = f"the reported page: {link_status}/{link_reason}" + (f" ({link_detail})" if link_detail else "")
    if not searched:
        if link_reason in _UNREAD or link_status in (REVIEW, PASS):
            return REVIEW, "items_unread", f"no page could be read to look for the {len(items)} item(s); " \
                f"{category}", findings
        return link_status, link_reason, f"{link_detail}; no page read to look for the {len(items)} item(s)", findings
    return (*_judge_findings(findings, scoring, len(searched), category), findings)


def _judge_findings(findings: tuple[ItemFinding, ...], scoring: str, pages: int, category: str
                    ) -> tuple[str, str, str]:
    found = [f for f in findings if f.status == "found"]
    missing = [f.item.name for f in findings if f.status != "found"]
    share = f"{len(found)} of {len(findings)} item(s) found in {pages} page(s) read"
    if not missing:
        return PASS, "ok", f"{share}; {category}"
    detail = f"{ITEMS_MISSING_WORDS}{'; '.join(missing)} ({share}); {category}"
    if found and scoring == "proportional":
        return PASS, "items_missing", detail
    return FAIL, "items_missing", detail


def with_other_listings(verdict: Verdict, listings: list[tuple[str, str]], rule: ItemRule, scoring: str) -> Verdict:
    """A listed verdict whose items not found are looked for again among the posts of the agency's other listings
    the crawl read ((page URL, post title), the last place an item is looked for): an item whose number or title
    a post carries is found on that listing page. Other verdicts are returned as they are."""
    if verdict.reason != "items_missing" or not listings:
        return verdict
    pages: dict[str, list[Row]] = {}
    for url, title in listings:
        pages.setdefault(url, []).append(Row(title))
    findings, changed = [], False
    for f in verdict.items:
        hit = None
        if f.status != "found":
            hit = next(((url, row) for url, rows in pages.items()
                        if (row := find_item(f.item, rule, tuple(rows))) is not None), None)
        if hit is not None:
            findings.append(ItemFinding(f.item, "found", hit[0], evidence_text(hit[1])))
            changed = True
        elif f.status != "found":
            findings.append(replace(f, searched=tuple(dict.fromkeys((*f.searched, *pages)))))
        else:
            findings.append(f)
    if not changed:
        return verdict
    read = {p for f in findings for p in f.searched} | {f.page_url for f in findings if f.page_url}
    category = verdict.detail.split("); ", 1)[1] if "); " in verdict.detail else ""
    status, reason, detail = _judge_findings(tuple(findings), scoring, len(read | set(pages)), category)
    return replace(verdict, status=status, reason=reason, detail=detail, items=tuple(findings))


def missing_items(detail: str) -> list[str]:
    """The names of the items a listed verdict's detail says were not found."""
    m = _ITEMS_MISSING.search(detail or "")
    return _labels(m.group(1)) if m else []


_ITEMS_MISSING = re.compile(re.escape(ITEMS_MISSING_WORDS) + r"(.*?) \(\d+ of \d+ item\(s\) found")


def make_verdict(agency_id: str, outcome: Outcome, period, *, reported_url: str | None,
                 min_posts: int = 1, content: ContentRule | None = None,
                 checked_at: dt.datetime | None = None, items: tuple[Item, ...] | None = None,
                 scoring: str = "proportional", agency_name: str | None = None) -> Verdict:
    """The verdict of one investigated link; `items` (not None): a listed criterion's items, judged by
    judge_items instead of the category's posts; `agency_name` (the registry's) lets a page on an allowed
    host be judged as the agency's own or not (None: the link is checked alone)."""
    findings: tuple[ItemFinding, ...] = ()
    checks: tuple[CheckSeen, ...] = ()
    if items is not None:
        status, reason, detail, findings = judge_items(outcome, items, scoring, period)
        count = None
    else:
        status, reason, count, detail, checks = decide(outcome, period, min_posts=min_posts, content=content,
                                                       agency=(agency_id, agency_name) if agency_name else None)
    # what the reading noted of the pages (a charset the bytes deny, a page read only in part) is evidence too
    notes = [note for note in outcome.notes if note not in detail]
    detail = "; ".join(part for part in (detail, *notes) if part)
    judged_by_posts = content is None and items is None
    posts = tuple(outcome.posts.values()) if reason not in NO_POSTS_READ and judged_by_posts else ()
    return Verdict(
        agency_id=agency_id, criterion=outcome.criterion, url=reported_url,
        checked_url=outcome.checked_url, status=status, reason=reason,
        posts_in_year=None if reason in NO_POSTS_READ or not judged_by_posts else count,
        discovered=outcome.discovered, detail=detail, pages=tuple(outcome.visits), posts=posts,
        checked_at=checked_at, items=findings, content_checks=checks,
    )


def verdict_without_fetch(agency_id: str, criterion: str, *, url: str | None, not_applicable: bool,
                          note: str, checked_at: dt.datetime | None = None) -> Verdict | None:
    """The verdict of a row marked not applicable (nothing is fetched), else None."""
    if not not_applicable:
        return None
    if note.strip():
        status, reason, detail = EXEMPT, "not_applicable", f"not applicable: {note.strip()}"
    else:
        status, reason, detail = REVIEW, "not_applicable_unexplained", "marked not applicable without an explanation"
    return Verdict(agency_id=agency_id, criterion=criterion, url=url or None, checked_url=None, status=status,
                   reason=reason, posts_in_year=None, detail=detail, checked_at=checked_at)
