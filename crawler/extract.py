"""The extraction core: one page's bytes in, a typed reading out.

Pure: no network, database or Scrapy import. The Scrapy spider and the httpx
spot-check both call `read_page`, so the same bytes give the same reading
whichever path fetched them.

The page is understood in this order:
1. decode (HTTP header charset, BOM, <meta> charset, detection), NFC;
2. mark page chrome: header, menus, side boxes, footers (structure and class
   names, and the titles of side boxes such as "Tin mới");
3. find the page's own category label (breadcrumb, main heading, <title>),
   never from the menus that list every category;
4. find the listing: the group of repeated items with title links in the
   main region, each post dated from its own item only;
5. decide the kind of page (listing, article, home, error, static page);
6. collect next-page links and feed links.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from form2request import form2request
from w3lib.encoding import html_to_unicode

from crawler.categories import ALIAS_SCORE, CategoryMatcher
from crawler.dates import find_dates, parse_machine_date
from crawler.records import CategoryMatch, FormPost, PageReading, Post
from crawler.text import clean_space, fold_accents, nfc, normalise
from crawler.urls import is_home_url, same_page

# --- Class/id vocabulary of page chrome, as portals name it ---------------------------------

# An element whose class or id carries one of these tokens is chrome: never a post source.
CHROME_TOKENS = frozenset("""
    header footer menu menus navbar nav navigation breadcrumb breadcrumbs sidebar aside banner
    weblink weblinks lienket counter visitor visitors truycap copyright social share sharing
    marquee slider slideshow carousel quangcao advert adv ads tinmoi newest latest docnhieu
    xemnhieu mostview mostread popular tieudiem
    widget topbar dropdown submenu megamenu mainmenu topmenu toolbar login search
""".split())
# Two-token chrome names that only mean chrome together ("tin-moi", "side-bar").
CHROME_PAIRS = frozenset({
    ("tin", "moi"), ("doc", "nhieu"),
    ("xem", "nhieu"), ("lien", "ket"), ("truy", "cap"), ("side", "bar"), ("web", "link"),
    ("quang", "cao"), ("tieu", "diem"), ("most", "view"),
    ("site", "header"), ("site", "footer"), ("main", "menu"), ("top", "menu"),
})
# Tokens that make "header"-like names part of the content ("page-header", "entry-header").
CONTENT_QUALIFIERS = frozenset("page entry article post content title list view cat category section panel box".split())
# Side columns: posts there are probably not the main listing.
# ("related" is chrome on article pages but some NukeViet themes name the main listing so.)
SIDE_TOKENS = frozenset("""right left colright colleft rightcol leftcol thongbao notice related lienquan tinkhac
    othernews""".split())
# Names of the main content region.
MAIN_TOKENS = frozenset("""
    content main maincontent primary center centre noidung article articles list listing news
    category chuyenmuc view views items posts blog region-content danhsach dstin
""".split())
DATE_CLASS = re.compile(r"date|time|ngay|thoigian|thoi-gian|publish|created|posted|updated|meta|info", re.I)
TITLE_CLASS = re.compile(r"title|heading|tieude|tieu-de|header|caption|cat-?name|legend|head\b", re.I)
BREADCRUMB_CLASS = re.compile(r"breadcrumb|duong-?dan|crumb|navigation-path|vi-?tri|pathway|path-?way|location", re.I)
PAGER_CLASS = re.compile(r"pag|phan-?trang|page-?nav|nav-links|pagenavi|pager|paging|pages\b|page-list", re.I)
ACTIVE_CLASS = re.compile(r"\b(active|current|selected|current-menu-item|is-active)\b", re.I)

# Titles of side boxes on Vietnamese portals (accent-folded, normalised): never the listing.
SIDE_BOX_TITLES = frozenset("""
    tin moi|tin moi nhat|tin moi cap nhat|bai moi|tin doc nhieu|doc nhieu|tin xem nhieu|xem nhieu
    |tin noi bat|noi bat|tieu diem|tin tieu diem|thong bao|thong bao moi|van ban moi|van ban moi ban hanh
    |lien ket|lien ket website|lien ket web|tin lien quan|bai viet lien quan|cac tin khac|tin khac
    |cac bai khac|tin cung chuyen muc|cung chuyen muc|bai viet khac|video|thu vien anh|hinh anh
    |thu vien video|quang cao|thong ke truy cap|ho tro truc tuyen|tin anh|chuyen de|su kien noi bat
    |tin trong nganh|thong tin can biet|dang nhap|tim kiem|binh chon|tien ich|lien he
""".replace("\n", "").split("|"))
SIDE_BOX_TITLES = frozenset(t.strip() for t in SIDE_BOX_TITLES if t.strip())

# Link texts that are not post titles.
READ_MORE = frozenset(normalise(t, accents=False) for t in (
    "Xem tiếp", "Xem thêm", "Chi tiết", "Đọc tiếp", "Đọc thêm", "Xem chi tiết", "Tải về", "Download",
    "Tải xuống", "Xem", "Read more", "more", "...", "»", "Tiếp",
))
NEXT_WORDS = frozenset(normalise(t, accents=False) for t in (
    "Trang sau", "Sau", "Tiếp", "Tiếp theo", "Trang tiếp", "Next", "»", "›", ">", ">>", "Cuối", "Trang cuối", "Last",
    "Xem tiếp", "Tin cũ hơn", "Bài cũ hơn", "Older posts",
))
PREV_WORDS = frozenset(normalise(t, accents=False) for t in (
    "Trang trước", "Trước", "Previous", "Đầu", "Trang đầu", "First", "Tin mới hơn", "Newer posts",
))
# "Không tìm thấy" pages served with status 200 (accent-folded, normalised).
SOFT_404 = re.compile(
    r"khong tim thay (trang|noi dung|bai viet|du lieu yeu cau|duong dan)|trang (ban )?(yeu cau|tim|truy cap) "
    r"(khong ton tai|khong tim thay|da bi xoa)|khong ton tai|page not found|\b404\b|not found|loi 404"
    r"|duong dan khong hop le|noi dung (nay )?(khong ton tai|da bi xoa|da bi go)",
)
UPDATED_LABEL = re.compile(r"cap nhat|sua doi|chinh sua|updated|modified", re.I)
PUBLISHED_LABEL = re.compile(
    r"(ngay dang|dang ngay|ngay dang tai|thoi gian dang|ngay xuat ban|ngay phat hanh|posted|published|"
    r"ngay cap nhat|cap nhat|ngay tao|dang luc|dang tai)\s*:?\s*$",
    re.I,
)

PAGE_PARAM = re.compile(
    r"(?:^|[?&;])(?:page|p|pg|paged|start|limitstart|trang|pageindex|pagenum|pageno|offset|cur|\w+_cur|curpage)=(\d+)",
    re.I,
)
PAGE_PATH = re.compile(r"/(?:page|trang|p)[-/]?(\d+)(?:/|\.html?$|$)|trang-(\d+)\.html?$|/PhanTrang/(?:[^/]+/)?(\d+)", re.I)
POSTBACK = re.compile(r"__doPostBack\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]*)['\"]\s*\)")
FEED_HREF = re.compile(r"(/rss(/|\.|$)|\.rss$|/feed/?$|/atom(\.xml)?$|rss\.aspx|[?&]format=feed)", re.I)
XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)

FILE_NAME = re.compile(r"^\S+\.(pdf|docx?|xlsx?|zip|rar|jpe?g|png|pptx?)$", re.I)

MAX_TITLE_TOKENS = 14
MIN_TITLE_CHARS = 12
ARTICLE_BODY_CHARS = 600
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")


# --- Decoding ---------------------------------------------------------------------------------

def decode(body: bytes, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(text in NFC, encoding): header charset, BOM, <meta> charset, then detection, as browsers do."""
    content_type = _header(headers, "content-type")
    encoding, text = html_to_unicode(content_type, body)
    return nfc(text), encoding


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def parse_html(text: str, url: str):
    """An lxml document, or None for text that is not HTML."""
    text = XML_DECL.sub("", text, count=1)
    if not text.strip():
        return None
    try:
        doc = lxml.html.document_fromstring(text, base_url=url)
    except (etree.ParserError, ValueError):
        return None
    return doc


# --- Chrome -----------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[\s_\-:.]+")


def _name_tokens(el) -> tuple[str, ...]:
    raw = f"{el.get('class', '')} {el.get('id', '')}"
    if not raw.strip():
        return ()
    return tuple(t for t in _SPLIT.split(_CAMEL.sub(" ", raw).lower()) if t)


def _is_chrome_element(el) -> bool:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in ("nav", "footer", "aside"):
        return True
    toks = _name_tokens(el)
    if tag == "header" and not (set(toks) & CONTENT_QUALIFIERS):
        return _is_page_header(el)
    if not toks:
        return (el.get("role") or "") in ("navigation", "banner", "contentinfo", "complementary")
    tokset = set(toks)
    hits = tokset & CHROME_TOKENS
    if hits:
        # "page-header", "entry-header", "list-title-header" belong to the content
        if hits <= {"header", "top", "bottom", "info", "meta"} and tokset & CONTENT_QUALIFIERS:
            return False
        return True
    return any(pair in CHROME_PAIRS for pair in zip(toks, toks[1:]))


def _is_page_header(el) -> bool:
    """A <header> element is page chrome unless it sits inside an article or main region."""
    for anc in el.iterancestors():
        if anc.tag in ("article", "main", "section"):
            return False
    return True


class _Chrome:
    """Memoised 'is this element inside page chrome / a side column / the main region'."""

    def __init__(self, body=None):
        self._body_chars = max(1, len(_text(body))) if body is not None else 0
        self._chrome: dict = {}
        self._side: dict = {}
        self._main: dict = {}

    def chrome(self, el) -> bool:
        if el is None or not isinstance(el.tag, str):
            return False
        hit = self._chrome.get(el)
        if hit is None:
            hit = (_is_chrome_element(el) and not self._wrapper(el)) or self.chrome(el.getparent())
            self._chrome[el] = hit
        return hit

    def _wrapper(self, el) -> bool:
        """A chrome-named element that holds the main region or most of the page is a page wrapper."""
        if el.find(".//main") is not None or el.find(".//*[@role='main']") is not None:
            return True
        return self._body_chars > 0 and len(_text(el)) > 0.5 * self._body_chars

    def side(self, el) -> bool:
        if el is None or not isinstance(el.tag, str):
            return False
        hit = self._side.get(el)
        if hit is None:
            toks = set(_name_tokens(el))
            hit = bool(toks & SIDE_TOKENS) or self.side(el.getparent())
            self._side[el] = hit
        return hit

    def main(self, el) -> bool:
        if el is None or not isinstance(el.tag, str):
            return False
        hit = self._main.get(el)
        if hit is None:
            toks = set(_name_tokens(el))
            hit = el.tag in ("main", "article") or el.get("role") == "main" or bool(toks & MAIN_TOKENS) \
                or self.main(el.getparent())
            self._main[el] = hit
        return hit


# --- Text helpers ----------------------------------------------------------------------------

def _text(el) -> str:
    return clean_space(" ".join(t for t in el.itertext()))


def _label_key(text: str) -> str:
    return normalise(fold_accents(text), accents=True)


def _is_side_box_title(text: str) -> bool:
    key = _label_key(text)
    return key in SIDE_BOX_TITLES or any(key.startswith(t + " ") and len(key) < len(t) + 12 for t in SIDE_BOX_TITLES)


def _short_label(text: str) -> bool:
    return 0 < len(text.split()) <= MAX_TITLE_TOKENS


# --- The reading ------------------------------------------------------------------------------

@dataclass
class _Group:
    parent: object
    items: list
    signature: tuple
    score: float = 0.0
    box_title: str | None = None
    box_criterion: str | None = None


def read_page(url: str, body: bytes, headers: Mapping[str, str] | None, matcher: CategoryMatcher,
              *, status: int | None = 200, scope_prefix: str = "") -> PageReading:
    """Read one fetched page. Never raises on bad HTML: an unreadable page is an empty 'page'."""
    text, encoding = decode(body, headers)
    doc = parse_html(text, url)
    if doc is None:
        return PageReading(url=url, kind="page", encoding=encoding, notes=("not HTML",))
    return _Reader(doc, url, matcher, status, encoding, scope_prefix).read()


class _Reader:
    def __init__(self, doc, url, matcher, status, encoding, scope_prefix):
        self.url = url
        self.matcher = matcher
        self.status = status
        self.encoding = encoding
        self.scope_prefix = scope_prefix
        self.base = url
        base = doc.find(".//base[@href]")
        if base is not None:
            self.base = urljoin(url, base.get("href").strip())
        self.jsonld = [s.text or "" for s in doc.iter("script") if (s.get("type") or "").lower() == "application/ld+json"]
        self.meta = _meta(doc)
        for bad in doc.xpath("//script|//style|//noscript|//template|//svg|//comment()"):
            bad.drop_tree() if isinstance(bad.tag, str) else _drop_comment(bad)
        self.doc = doc
        self.body = doc.find("body") if doc.find("body") is not None else doc
        self.chrome = _Chrome(self.body)
        title_el = doc.find(".//title")
        self.title = _text(title_el) if title_el is not None else ""

    def abs(self, href: str | None) -> str | None:
        if not href:
            return None
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            return None
        try:
            out = urljoin(self.base, href)
        except ValueError:
            return None
        return out.split("#", 1)[0] if out.startswith(("http://", "https://")) else None

    # -- main entry

    def read(self) -> PageReading:
        pre_votes = self._category_votes()
        groups = self._groups()
        pre_category = _winner(pre_votes)[0]
        self._score_groups(groups, pre_category)
        candidates = [g for g in groups if g.score > 0]
        candidates.sort(key=lambda g: g.score, reverse=True)
        best = candidates[0] if candidates else None
        if best is not None:
            best = self._merge_twins(best, candidates)

        votes = defaultdict(float, pre_votes)
        labels = dict(getattr(self, "_labels", {}))
        if best is not None and best.box_criterion:
            votes[best.box_criterion] += 3.0
            labels.setdefault(best.box_criterion, (best.box_title, "heading"))
        criterion, _ = _winner(votes)
        label, source = labels.get(criterion, (None, None)) if criterion else (None, None)
        category = CategoryMatch(criterion, label, source, votes.get(criterion, 0.0) if criterion else 0.0)

        article_date, article_updated, date_source = self._article_dates()
        body_chars = self._body_chars(best)
        kind = self._kind(groups, best, category, body_chars)
        posts: tuple[Post, ...] = ()
        if kind == "listing" and best is not None:
            posts = self._posts(best)
        elif kind == "page" and category.criterion:
            posts = (Post(title=self._main_heading() or self.title, url=self.url, published=article_date,
                          updated=article_updated, date_source=date_source),)
        next_pages = self._next_pages() if kind == "listing" else ()
        return PageReading(
            url=self.url, kind=kind, title=self.title, category=category, posts=posts,
            next_pages=next_pages, forms=self._postback_forms(next_pages),
            feeds=self._feeds(), article_date=article_date, article_updated=article_updated,
            article_date_source=date_source, nav_links=self._nav_links(), encoding=self.encoding,
        )

    # -- category

    def _category_votes(self) -> dict[str, float]:
        """Votes per criterion from the page's own labels: breadcrumb, main heading, title."""
        votes: dict[str, float] = defaultdict(float)
        self._labels: dict[str, tuple[str, str]] = {}

        def vote(text: str, weight: float, source: str):
            if not text or not _short_label(text):
                return
            cid, _ = self.matcher.match(text)
            if cid:
                votes[cid] += weight
                self._labels.setdefault(cid, (text, source))

        crumbs = self._breadcrumb()
        for text in crumbs[-2:][::-1]:
            cid, _ = self.matcher.match(text) if _short_label(text) else (None, 0)
            if cid:
                vote(text, 3.0, "breadcrumb")
                break
        heading = self._main_heading()
        if heading:
            vote(heading, 3.0, "heading")
        for segment in _title_segments(self.title):
            vote(segment, 2.0, "title")
            if segment != self.title:
                break  # the first segment that names a category is the page's own
        og_title = self.meta.get("og:title")
        if og_title and og_title != self.title:
            vote(og_title, 1.0, "title")
        for text in self._active_menu():
            vote(text, 1.0, "menu-active")
        return votes

    def _breadcrumb(self) -> list[str]:
        for el in self.body.iter():
            if not isinstance(el.tag, str):
                continue
            if BREADCRUMB_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}") or \
                    (el.get("aria-label") or "").lower() in ("breadcrumb", "breadcrumbs"):
                parts = [_text(x) for x in el.xpath(".//a|.//span[not(.//a)]|.//li[not(.//a)]|.//strong")]
                parts = [p for p in parts if p and not re.fullmatch(r"[›»>/|\-→\s]+", p)]
                if len(parts) <= 1:
                    parts = [p.strip() for p in re.split(r"\s[›»>/|→]\s|\s-\s(?=\S)", _text(el)) if p.strip()]
                seen = []
                for p in parts:
                    if p not in seen:
                        seen.append(p)
                return [re.sub(r"^(bạn đang ở|vị trí|you are here)\s*:?\s*", "", p, flags=re.I) for p in seen]
        return []

    def _main_heading(self) -> str | None:
        """The first heading in the content (not in chrome, not a side-box title)."""
        for el in self.body.iter(*HEADING_TAGS):
            if self.chrome.chrome(el):
                continue
            text = _text(el)
            if text and not _is_side_box_title(text):
                return text
        for el in self.body.iter("div", "span", "p", "td"):
            if TITLE_CLASS.search(el.get("class", "") or "") and not self.chrome.chrome(el):
                text = _text(el)
                if text and _short_label(text) and not _is_side_box_title(text):
                    return text
        return None

    def _active_menu(self) -> list[str]:
        out = []
        for a in self.body.iter("a"):
            if not self.chrome.chrome(a):
                continue
            li = a.getparent()
            classes = f"{a.get('class', '')} {li.get('class', '') if li is not None else ''}"
            if ACTIVE_CLASS.search(classes):
                out.append(_text(a))
        return out[-2:]

    # -- groups of repeated items

    def _groups(self) -> list[_Group]:
        groups = []
        for parent in self.body.iter():
            if not isinstance(parent.tag, str) or len(parent) < 1:
                continue
            if parent.tag in ("a", "p", "span", "strong", "em", "b", "i", "h1", "h2", "h3", "h4", "h5", "h6", "select"):
                continue
            by_sig: dict[tuple, list] = defaultdict(list)
            for child in parent:
                if not isinstance(child.tag, str) or child.tag in ("br", "hr", "script", "style"):
                    continue
                by_sig[_signature(child)].append(child)
            for sig, children in by_sig.items():
                items = [c for c in children if _small(c) and self._title_link(c) is not None]
                if len(items) >= 2 or (items and _item_like(items[0], sig)):
                    groups.append(_Group(parent, items, sig))
        return groups

    def _title_link(self, item):
        """The anchor that carries the post title inside a listing item, or None."""
        best, best_len = None, 0
        for a in item.iter("a"):
            href = self.abs(a.get("href"))
            if href is None:
                continue
            text = _text(a) or clean_space(a.get("title", ""))
            if not text or normalise(text, accents=False) in READ_MORE or len(text) < MIN_TITLE_CHARS \
                    or FILE_NAME.search(text):
                continue
            boost = 1.5 if a.getparent() is not None and a.getparent().tag in HEADING_TAGS else 1.0
            score = len(text) * boost
            if score > best_len:
                best, best_len = a, score
        return best

    def _box_title(self, group: _Group) -> str | None:
        """The title of the box a group sits in: the nearest heading before it, a few levels up."""
        node = group.parent
        first_item = group.items[0]
        # a heading inside the parent, before the first item
        for child in node:
            if child is first_item:
                break
            text = self._heading_text(child)
            if text:
                return text
        for _ in range(4):
            sib = node.getprevious()
            steps = 0
            while sib is not None and steps < 4:
                text = self._heading_text(sib)
                if text:
                    return text
                if sib.tag not in ("div", "span", "p", "br", "hr") or _text(sib):
                    break
                sib = sib.getprevious()
                steps += 1
            node = node.getparent()
            if node is None or node is self.body:
                break
        return None

    def _heading_text(self, el) -> str | None:
        if not isinstance(el.tag, str):
            return None
        if el.tag in HEADING_TAGS or TITLE_CLASS.search(el.get("class", "") or "") or el.tag == "legend":
            text = _text(el)
            if text and _short_label(text):
                return text
        inner = el.find(".//h1") if el.tag in ("div", "header") else None
        for tag in ("h1", "h2", "h3", "h4"):
            inner = el.find(f".//{tag}") if el.tag in ("div", "header", "section") and len(el) <= 3 else None
            if inner is not None:
                text = _text(inner)
                if text and _short_label(text) and len(_text(el)) <= len(text) + 40:
                    return text
        return None

    def _score_groups(self, groups: list[_Group], page_category: str | None) -> None:
        for g in groups:
            if self.chrome.chrome(g.parent):
                g.score = 0
                continue
            links = [self._title_link(i) for i in g.items]
            titles = [_text(a) for a in links]
            hrefs = {self.abs(a.get("href")) for a in links}
            if len(hrefs) < max(1, len(links) // 2):
                g.score = 0
                continue
            mean_len = sum(len(t) for t in titles) / len(titles)
            if mean_len < 18:
                g.score = 0
                continue
            dated = sum(1 for i in g.items if self._item_has_date(i))
            score = len(g.items) * min(1.0, mean_len / 40) * (1 + dated / len(g.items))
            if self.chrome.main(g.parent):
                score *= 1.5
            if self.chrome.side(g.parent):
                score *= 0.3
            g.box_title = self._box_title(g)
            if g.box_title:
                if _is_side_box_title(g.box_title):
                    g.score = 0
                    continue
                g.box_criterion = self.matcher.match(g.box_title)[0]
                if g.box_criterion and page_category and g.box_criterion != page_category:
                    g.score = 0     # a box of another category (home page, "latest" boxes)
                    continue
                if g.box_criterion and g.box_criterion == page_category:
                    score *= 3
            if len(g.items) == 1:
                score *= 0.5
            g.score = score

    def _merge_twins(self, best: _Group, candidates: list[_Group]) -> _Group:
        """Items split over sibling containers of one listing (two columns), and a lead item before it."""
        best = self._with_lead(best)
        grand = best.parent.getparent()
        twins = [g for g in candidates if g is not best and g.signature == best.signature
                 and g.parent.getparent() is grand and grand is not None
                 and _signature(g.parent) == _signature(best.parent)]
        if not twins:
            return best
        items = list(best.items)
        for g in twins:
            items.extend(g.items)
        order = {el: i for i, el in enumerate(grand.iter())}
        items.sort(key=lambda el: order.get(el, 0))
        return _Group(best.parent, items, best.signature, best.score, best.box_title, best.box_criterion)

    def _with_lead(self, best: _Group) -> _Group:
        """A lead ("hot", "featured") post set apart just before the list belongs to the listing."""
        lead = []
        known = {self.abs(self._title_link(i).get("href")) for i in best.items}
        sib = best.parent.getprevious()
        for _ in range(2):
            if sib is None or not isinstance(sib.tag, str) or sib.tag in HEADING_TAGS:
                break
            link = self._title_link(sib) if _small(sib) and not _is_chrome_element(sib) else None
            hrefs = {self.abs(a.get("href")) for a in sib.iter("a") if self.abs(a.get("href"))}
            if link is None or len(hrefs) != 1 or hrefs <= known or len(_text(link)) < 20:
                break
            lead.insert(0, sib)
            sib = sib.getprevious()
        if not lead:
            return best
        return _Group(best.parent, lead + list(best.items), best.signature, best.score, best.box_title,
                      best.box_criterion)

    # -- posts

    def _item_has_date(self, item) -> bool:
        return self._item_dates(item)[0] is not None

    def _item_dates(self, item):
        """(published, updated, text, source) of one listing item, from the item itself only."""
        for t in item.iter("time"):
            value = parse_machine_date(t.get("datetime") or "") if t.get("datetime") else None
            if value:
                return value, None, clean_space(t.get("datetime")), "time"
        title_link = self._title_link(item)
        found = []   # (priority, order, date, updated?, text)
        order = 0
        for node, text in _text_nodes(item, skip=title_link):
            for m in find_dates(text):
                priority = 2
                if _has_date_class(node, item):
                    priority = 0
                elif len(text) - len(m.text) <= 40:
                    priority = 1
                before = fold_accents(text[max(0, m.start - 25):m.start]).lower()
                found.append((priority, order, m.value, bool(UPDATED_LABEL.search(before)), m.text))
                order += 1
        if not found:
            return None, None, "", None
        found.sort(key=lambda f: (f[0], f[1]))
        best_priority = found[0][0]
        if best_priority == 2 and len(found) > 0 and found[0][4] and not _dateish_only(found):
            # only dates inside running text (a summary "Ngày 05/3, UBND ...") : use the first one
            pass
        published = next((f[2] for f in found if f[0] == best_priority and not f[3]), None)
        updated = next((f[2] for f in found if f[3]), None)
        if published is None:
            published, updated = updated, None
        text = next(f[4] for f in found if f[0] == best_priority)
        return published, updated, text, "listing"

    def _posts(self, group: _Group) -> tuple[Post, ...]:
        posts, seen = [], set()
        for item in group.items:
            a = self._title_link(item)
            href = self.abs(a.get("href"))
            title = _text(a) or clean_space(a.get("title", ""))
            key = href or title
            if key in seen:
                continue
            seen.add(key)
            published, updated, date_text, source = self._item_dates(item)
            posts.append(Post(title=title, url=href, published=published, updated=updated,
                              date_source=source, date_text=date_text))
        return tuple(posts)

    # -- kind

    def _body_chars(self, best: _Group | None) -> int:
        """Characters of running text in the main region outside listing items and chrome."""
        skip = set(best.items) if best is not None else set()
        total = 0
        for p in self.body.iter("p", "div", "td", "span"):
            if self.chrome.chrome(p) or any(anc in skip for anc in p.iterancestors()) or p in skip:
                continue
            own = clean_space((p.text or "") + " " + " ".join((c.tail or "") for c in p))
            if len(own) >= 60:
                total += len(own)
        return total

    def _kind(self, groups, best, category: CategoryMatch, body_chars: int) -> str:
        if self.status is not None and self.status >= 400:
            return "error"
        if self._soft_404(best):
            return "error"
        if is_home_url(self.url, self.scope_prefix) and not category.criterion:
            return "home"
        if is_home_url(self.url, self.scope_prefix):
            return "home"
        boxed = {g.box_criterion for g in groups if g.box_criterion and not self.chrome.chrome(g.parent)}
        if len(boxed) >= 3 and not category.criterion:
            return "home"
        article_meta = (self.meta.get("og:type", "").lower() == "article"
                        or "article:published_time" in self.meta
                        or any(re.search(r'"@type"\s*:\s*"(News)?Article|BlogPosting"', s) for s in self.jsonld))
        items = len(best.items) if best is not None else 0
        if article_meta and not (items >= 5 and body_chars < ARTICLE_BODY_CHARS):
            return "article"
        heading = self._main_heading() or ""
        sentence_heading = len(heading.split()) > MAX_TITLE_TOKENS or \
            (len(heading.split()) >= 8 and self.matcher.match(heading)[1] < ALIAS_SCORE)
        if items < 3 and (body_chars >= ARTICLE_BODY_CHARS or (sentence_heading and (body_chars >= 150 or not items))):
            return "article" if not category.criterion or category.source != "heading" else "page"
        if items >= 1:
            return "listing"
        if category.criterion:
            return "page"
        return "page"

    def _soft_404(self, best: _Group | None) -> bool:
        heading = self._main_heading() or ""
        for text in (self.title, heading):
            if text and SOFT_404.search(normalise(fold_accents(text))):
                return True
        if best is not None and len(best.items) >= 3:
            return False
        main_text = " ".join(_text(el) for el in self.body if isinstance(el.tag, str) and not self.chrome.chrome(el))
        key = normalise(fold_accents(main_text))
        return len(key) < 3000 and bool(re.search(r"khong tim thay trang|trang (ban )?(yeu cau|tim|truy cap) khong ton tai"
                                                  r"|page not found|loi 404|404 not found|noi dung khong ton tai", key))

    # -- article dates

    def _article_dates(self) -> tuple[dt.date | None, dt.date | None, str | None]:
        """Published and updated dates of an article page, most trustworthy source first."""
        published = updated = None
        source = None
        for key in ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
                    "dc.date.issued", "date"):
            if key in self.meta and (value := parse_machine_date(self.meta[key])):
                published, source = value, "meta"
                break
        for key in ("article:modified_time", "og:updated_time", "datemodified", "last-modified"):
            if key in self.meta and (value := parse_machine_date(self.meta[key])):
                updated = value
                break
        if published is None:
            published, jsonld_updated = _jsonld_dates(self.jsonld)
            updated = updated or jsonld_updated
            if published:
                source = "jsonld"
        if published is None:
            published = self._time_element_date()       # <time datetime> in the content is explicit
            source = "time" if published else None
        if published is None:
            published, visible_updated = self._visible_article_date()   # "Ngày đăng: 05/07/2018"
            updated = updated or visible_updated
            source = "article" if published else None
        return published, updated, source

    def _time_element_date(self) -> dt.date | None:
        for t in self.body.iter("time"):
            if self.chrome.chrome(t):
                continue
            value = parse_machine_date(t.get("datetime") or "") or _first(find_dates(_text(t)))
            if value:
                return value
        return None

    def _visible_article_date(self) -> tuple[dt.date | None, dt.date | None]:
        """The date line of an article: labelled dates, date-classed elements, short lines near the title.

        Scans from the main heading down and stops at the first side box ("Các tin khác"),
        whose dates belong to other posts."""
        h1 = next((h for h in self.body.iter("h1", "h2") if not self.chrome.chrome(h)), None)
        started = h1 is None
        container = self._article_container(h1) if h1 is not None else self.body
        candidates = []   # (priority, order, date, updated?)
        order = 0
        for node, text in _text_nodes(container):
            if not started:
                if node is h1 or (h1 is not None and h1 in node.iterancestors()):
                    started = True
                continue
            if self.chrome.chrome(node) or self.chrome.side(node):
                continue
            if (node.tag in HEADING_TAGS or TITLE_CLASS.search(node.get("class", "") or "")) \
                    and _is_side_box_title(text):
                break
            for m in find_dates(text):
                before = fold_accents(text[max(0, m.start - 30):m.start]).lower()
                updated = bool(UPDATED_LABEL.search(before))
                labelled = updated or bool(PUBLISHED_LABEL.search(before.strip(" :|-(")))
                if labelled or _has_date_class(node, self.body):
                    priority = 0
                elif len(text) - len(m.text) <= 50:
                    priority = 1
                else:
                    continue    # a date inside running text is the subject of the article, not its date
                candidates.append((priority, order, m.value, updated))
                order += 1
            if order > 40:
                break
        if not candidates:
            return None, None
        candidates.sort(key=lambda c: (c[0], c[1]))
        first = candidates[0]
        updated = next((c[2] for c in candidates if c[3] and c[0] == first[0]), None)
        return first[2], updated if updated != first[2] else None

    def _article_container(self, h1):
        """The element holding the headline and the article text (not the whole page)."""
        node = h1.getparent()
        for _ in range(4):
            if node is None or node.getparent() is None:
                break
            if len(_text(node)) >= 300:
                break
            node = node.getparent()
        return node if node is not None else self.body

    # -- links

    def _next_pages(self) -> tuple[str, ...]:
        """Other pages of this listing linked from it, in page-number order."""
        found: dict[str, int] = {}
        for a in self.body.iter("a"):
            href_raw = a.get("href") or ""
            text = _text(a)
            key = normalise(text, accents=False)
            in_pager = any(PAGER_CLASS.search(f"{anc.get('class', '')} {anc.get('id', '')}")
                           for anc in [a, *list(a.iterancestors())[:4]])
            numeric = text.isdigit() and len(text) <= 4
            # (the arrows fold to "": an empty key is a logo or icon link, never a page word)
            is_next = bool(key) and key in NEXT_WORDS or text in ("»", "›", ">", ">>")
            is_prev = bool(key) and key in PREV_WORDS or text in ("«", "‹", "<", "<<")
            if is_prev:
                key = "prev"
            if not (in_pager or numeric or is_next or is_prev):
                continue
            m = POSTBACK.search(href_raw)
            if m:
                number = _page_number_from(m.group(2)) or (int(text) if numeric else 10_000)
                found.setdefault(f"postback:{m.group(1)}|{m.group(2)}", number)
                continue
            href = self.abs(href_raw)
            if href is None or same_page(href, self.url):
                continue
            number = _page_number(href)
            if number is None:
                if not (in_pager and (numeric or is_next or is_prev)):
                    continue
                number = int(text) if numeric else (0 if is_prev else 10_000)
            found.setdefault(href, number)
        return tuple(sorted(found, key=lambda h: found[h]))

    def _postback_forms(self, markers) -> tuple[tuple[str, FormPost], ...]:
        """The form submissions behind __doPostBack page links (ASP.NET WebForms paging)."""
        wanted = [m for m in markers if m.startswith("postback:")]
        if not wanted:
            return ()
        forms = list(self.doc.iter("form"))
        form = next((f for f in forms if f.find(".//input[@name='__VIEWSTATE']") is not None),
                    forms[0] if forms else None)
        if form is None:
            return ()
        out = []
        for marker in wanted:
            target, _, argument = marker[len("postback:"):].partition("|")
            try:
                request = form2request(form, {"__EVENTTARGET": target, "__EVENTARGUMENT": argument}, click=False,
                                       method="POST")
            except (ValueError, TypeError):
                continue
            url = urljoin(self.base, request.url) if request.url else self.url
            content_type = dict(request.headers).get("Content-Type", "application/x-www-form-urlencoded")
            page = _page_number_from(argument) or 10_000
            out.append((marker, FormPost(url.split("#", 1)[0], request.body, content_type, page)))
        return tuple(out)

    def _feeds(self) -> tuple[str, ...]:
        out = []
        for link in self.doc.iter("link"):
            rel = (link.get("rel") or "").lower()
            typ = (link.get("type") or "").lower()
            if "alternate" in rel and ("rss" in typ or "atom" in typ):
                href = self.abs(link.get("href"))
                if href and href not in out:
                    out.append(href)
        for a in self.body.iter("a"):
            href = self.abs(a.get("href"))
            if href and FEED_HREF.search(urlsplit(href).path + ("?" + urlsplit(href).query if urlsplit(href).query else "")) \
                    and not self.chrome.chrome(a) and href not in out:
                out.append(href)
        return tuple(out)

    def _nav_links(self) -> tuple[tuple[str, str], ...]:
        """The links of the page's navigation (menus, header, side menus), for finding a category from the
        home page; post titles in the page's own content are not navigation ("Hội nghị triển khai nhiệm vụ..."
        names no category). Pages whose menus cannot be told apart give every short link."""
        menu, other, seen = [], [], set()
        for a in self.body.iter("a"):
            href = self.abs(a.get("href"))
            if not href:
                continue
            text = _text(a) or clean_space(a.get("title", ""))
            if not text or not _short_label(text) or (text, href) in seen:
                continue
            seen.add((text, href))
            (menu if self.chrome.chrome(a) else other).append((text, href))
        return tuple(menu or other)


# --- Module helpers ---------------------------------------------------------------------------

_SIG_NOISE = re.compile(
    r"\d|^(odd|even|first|last|active|current|selected|clearfix|item-?\d*|row-?\d*|views-row-\w+|sticky|featured"
    r"|hot|noibat|noi-bat|highlight|lead|top|new|moi)$|alt(ernat)?", re.I)


ITEM_CLASS = re.compile(r"item|news|post|entry|row|tin|bai|article|record|result", re.I)


def _item_like(el, sig) -> bool:
    """Can this lone element be a listing of one post (not a wrapper of the page)?"""
    if not (sig[0] in ("li", "tr", "article") or any(ITEM_CLASS.search(c) for c in sig[1])):
        return False
    if el.find(".//ul/li") is not None or el.find(".//ol/li") is not None or el.find(".//table") is not None:
        return False
    return len(_text(el)) < 600


MAX_ITEM_LINKS = 8
MAX_ITEM_CHARS = 1500


def _small(el) -> bool:
    """A listing item holds a few links and a few lines; page sections, boxes and the article hold more."""
    if el.tag == "h1" or el.find(".//h1") is not None:
        return False
    if el.tag not in ("ul", "ol", "table") and len(el.xpath(".//ul/li[.//a] | .//ol/li[.//a]")) >= 2:
        return False        # a box with a list of links inside is a box, not a post
    links = 0
    for _ in el.iter("a"):
        links += 1
        if links > MAX_ITEM_LINKS:
            return False
    size = 0
    for t in el.itertext():
        size += len(t.strip())
        if size > MAX_ITEM_CHARS:
            return False
    return True


def _signature(el) -> tuple:
    if el.tag in ("li", "tr", "dt", "dd", "article"):
        return (el.tag, ())         # rows of one list or table, whatever their alternating classes
    classes = tuple(sorted(c for c in (el.get("class") or "").split() if not _SIG_NOISE.search(c.lower())))
    return (el.tag, classes)


def _text_nodes(root, skip=None):
    """(element, text) for every non-empty text piece under root, skipping the `skip` subtree."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if skip is not None and (el is skip or skip in el.iterancestors()):
            continue
        if el.text and el.text.strip():
            yield el, clean_space(el.text)
        for child in el:
            if child.tail and child.tail.strip() and not (skip is not None and child is skip and False):
                yield el, clean_space(child.tail)


def _has_date_class(node, stop) -> bool:
    el = node
    for _ in range(4):
        if el is None:
            return False
        if DATE_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
            return True
        if el is stop:
            return False
        el = el.getparent()
    return False


def _dateish_only(found) -> bool:
    return any(f[0] < 2 for f in found)


def _first(matches):
    return matches[0].value if matches else None


def _drop_comment(node):
    parent = node.getparent()
    if parent is not None:
        if node.tail:
            prev = node.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + node.tail
            else:
                parent.text = (parent.text or "") + node.tail
        parent.remove(node)


def _meta(doc) -> dict[str, str]:
    out = {}
    for m in doc.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv") or "").strip().lower()
        value = m.get("content")
        if key and value and key not in out:
            out[key] = value.strip()
    for el in doc.xpath("//*[@itemprop='datePublished' or @itemprop='dateModified']"):
        key = el.get("itemprop").lower()
        value = el.get("content") or el.get("datetime")
        if value and key not in out:
            out[key] = value
    return out


def _jsonld_dates(blocks: list[str]) -> tuple[dt.date | None, dt.date | None]:
    published = updated = None
    for block in blocks:
        try:
            data = json.loads(block)
        except (ValueError, TypeError):
            continue
        for node in _walk_json(data):
            if published is None and isinstance(node.get("datePublished"), str):
                published = parse_machine_date(node["datePublished"])
            if updated is None and isinstance(node.get("dateModified"), str):
                updated = parse_machine_date(node["dateModified"])
    return published, updated


def _walk_json(data, depth=0):
    if depth > 6:
        return
    if isinstance(data, dict):
        yield data
        for v in data.values():
            yield from _walk_json(v, depth + 1)
    elif isinstance(data, list):
        for v in data[:50]:
            yield from _walk_json(v, depth + 1)


_TITLE_SPLIT = re.compile(r"\s+[|–—:»]\s+|\s+-\s+(?=[^-]*$)|\s*::\s*|\s+>\s+")


def _title_segments(title: str) -> list[str]:
    """The <title> and its parts ("Chỉ đạo điều hành | Sở Tư pháp"), whole title first."""
    if not title:
        return []
    parts = [p.strip() for p in re.split(r"\s+[|–—»]\s+|\s*::\s*|\s+>\s+", title) if p.strip()]
    out = [title] if len(parts) > 1 or title else []
    for p in parts:
        if p not in out:
            out.append(p)
    return out


def _winner(votes: Mapping[str, float]) -> tuple[str | None, float]:
    ranked = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked:
        return None, 0.0
    if len(ranked) > 1 and ranked[1][1] >= ranked[0][1]:
        return None, 0.0
    return ranked[0]


def _page_number(url: str) -> int | None:
    parts = urlsplit(url)
    m = PAGE_PARAM.search("?" + parts.query) if parts.query else None
    if m:
        return int(m.group(1))
    m = PAGE_PATH.search(parts.path)
    if m:
        return int(next(g for g in m.groups() if g))
    return None


def _page_number_from(argument: str) -> int | None:
    m = re.search(r"(\d+)", argument or "")
    return int(m.group(1)) if m else None
