"""The other pages of a listing: next-page links, and the form posts behind ASP.NET postback links."""

from __future__ import annotations

from itertools import islice
from urllib.parse import urljoin, urlsplit

import lxml.html
from form2request import form2request
from lxml import etree

from crawler.extract.page import Page, names_match
from crawler.extract.vocabulary import (
    NEXT_ARROWS,
    NEXT_WORDS,
    PAGE_PARAM,
    PAGE_PATH,
    PAGER_CLASS,
    POSTBACK,
    POSTBACK_NUMBER,
    PREV_ARROWS,
    PREV_WORDS,
)
from crawler.extract.weights import WEIGHTS as W
from crawler.records import FormPost
from crawler.text import normalise
from crawler.urls import same_page

POSTBACK_MARKER = "postback:"


def next_pages(page: Page) -> tuple[str, ...]:
    """Other pages of this listing linked from it, in page-number order (postback links as markers)."""
    found: dict[str, int] = {}
    for a in page.body.iter("a"):
        href_raw = a.get("href") or ""
        text = page.text(a)
        key = normalise(text, accents=False)
        in_pager = any(names_match(PAGER_CLASS, anc)
                       for anc in (a, *islice(a.iterancestors(), W.pager_levels))) or _in_number_run(page, a)
        numeric = text.isdigit() and len(text) <= W.max_page_digits
        # (the arrows fold to "": an empty key is a logo or icon link, never a page word)
        is_next = bool(key) and key in NEXT_WORDS or text in NEXT_ARROWS
        is_prev = bool(key) and key in PREV_WORDS or text in PREV_ARROWS
        if not (in_pager or numeric or is_next or is_prev):
            continue
        m = POSTBACK.search(href_raw)
        if m:
            number = _page_number_from(m.group(2)) or (int(text) if numeric else W.last_page)
            found.setdefault(f"{POSTBACK_MARKER}{m.group(1)}|{m.group(2)}", number)
            continue
        href = page.abs(href_raw)
        if href is None or same_page(href, page.url):
            continue
        number = page_number(href)
        if number is None:
            if not (in_pager and (numeric or is_next or is_prev)):
                continue
            number = int(text) if numeric else (0 if is_prev else W.last_page)
        found.setdefault(href, number)
    return tuple(sorted(found, key=lambda h: found[h]))


def _in_number_run(page: Page, a) -> bool:
    """Is the link beside other page-number links ("1 2 3 Trang sau"), as a pager with no class name is
    (mirroring tools rewrite its hrefs to file names that carry no page number)?"""
    parent = a.getparent()
    if parent is None:
        return False
    numbers = 0
    for sib in parent.iter("a"):
        text = page.text(sib)
        if text.isdigit() and len(text) <= W.max_page_digits:
            numbers += 1
            if numbers >= W.page_number_run:
                return True
    return False


def postback_forms(page: Page, markers: tuple[str, ...]) -> tuple[tuple[str, FormPost], ...]:
    """The form submissions behind __doPostBack page links (ASP.NET WebForms paging)."""
    wanted = [m for m in markers if m.startswith(POSTBACK_MARKER)]
    if not wanted:
        return ()
    forms = list(page.doc.iter("form"))
    form = next((f for f in forms if f.find(".//input[@name='__VIEWSTATE']") is not None),
                forms[0] if forms else None)
    if form is None:
        return ()
    # form2request reads lxml.html's form elements: the form, as the core's tree holds it, parsed again so
    form = lxml.html.fromstring(etree.tostring(form, encoding="unicode", with_tail=False), base_url=page.url)
    out = []
    for marker in wanted:
        target, _, argument = marker[len(POSTBACK_MARKER):].partition("|")
        try:
            request = form2request(form, {"__EVENTTARGET": target, "__EVENTARGUMENT": argument}, click=False,
                                   method="POST")
        except (ValueError, TypeError):
            continue
        url = urljoin(page.base, request.url) if request.url else page.url
        content_type = dict(request.headers).get("Content-Type", "application/x-www-form-urlencoded")
        number = _page_number_from(argument) or W.last_page
        out.append((marker, FormPost(url.split("#", 1)[0], request.body, content_type, number)))
    return tuple(out)


def page_number(url: str) -> int | None:
    """The page number a listing URL asks for ("?page=3", "/trang-3.html"), or None."""
    parts = urlsplit(url)
    m = PAGE_PARAM.search("?" + parts.query) if parts.query else None
    if m:
        return int(m.group(1))
    m = PAGE_PATH.search(parts.path)
    if m:
        return int(next(g for g in m.groups() if g))
    return None


def _page_number_from(argument: str) -> int | None:
    m = POSTBACK_NUMBER.search(argument or "")
    return int(m.group(1)) if m else None
