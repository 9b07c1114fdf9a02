"""Decoding, parsing, and the page context every stage reads.

`Page` is built once per page: the tree with unseen elements dropped, its
body, base URL, <meta>, JSON-LD and <title>, the chrome/side/main memo and
the main heading. It also memoises per-element work (the text of an element,
a resolved href, a category match, the title link and dates of an item) so
that no stage computes one twice. Nothing mutates the tree once it is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from urllib.parse import urljoin

from lxml import etree

from crawler.categories import CategoryMatcher
from crawler.charset import Decoded, decode_html
from crawler.extract.chrome import Regions, drop_unseen, is_side_box_title
from crawler.extract.vocabulary import (
    ARTICLE_BODY_CLASS,
    ARTICLE_CONTAINER_CLASS,
    ARTICLE_ITEMTYPE,
    ARTICLE_JSONLD_TYPE,
    DATE_CLASS,
    HEADING_TAGS,
    META_DATE_ITEMPROPS,
    NOT_A_LINK,
    TITLE_CLASS,
    TITLE_LIKE_TAGS,
    XML_DECL,
)
from crawler.extract.weights import WEIGHTS as W
from crawler.text import clean_space, fold_accents, normalise
from crawler.urls import same_page

# --- Decoding and parsing ------------------------------------------------------------------------

# lxml's own HTML parser with plain elements: lxml.html's parser is the same one with a class lookup, which
# is Python code run each time an element is touched (the core touches every element several times)
HTML_PARSER = etree.HTMLParser()


def decode(body: bytes, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(text in NFC, encoding), by the cascade of crawler/charset.py."""
    decoded = read_text(body, headers)
    return decoded.text, decoded.encoding


def read_text(body: bytes, headers: Mapping[str, str] | None = None) -> Decoded:
    """The body's text, its encoding, and what the reading should note (a wrong declaration, a legacy font)."""
    return decode_html(body, _header(headers, "content-type"))


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value whatever the case of its name."""
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
        doc = etree.fromstring(text, HTML_PARSER, base_url=url)
    except (etree.ParserError, ValueError):
        return None
    return doc


def cut_after(doc, tag: str, limit: int) -> bool:
    """Drop everything after the `limit`-th element of `tag` ("*": any) in document order, in place.

    True when something was cut. The part kept is what a reader meets first, so a page is read as far
    as its first `limit` links, whatever follows."""
    # the first element past the limit, in document order (elements only, as doc.iter(tag) counts them)
    past = doc.xpath(f"(//{tag})[{limit + 1}]")
    if not past:
        return False
    el = past[0]
    _drop_following(el)
    el.getparent().remove(el)
    return True


def _drop_following(el) -> None:
    """Remove every element after `el` in document order: its later siblings and those of its ancestors."""
    node = el
    while node is not None:
        parent = node.getparent()
        if parent is None:
            break
        while node.getnext() is not None:
            parent.remove(node.getnext())
        node = parent


# The tags Page.sizes notes below each element, one bit each
INSIDE = {"h1": 1, "table": 2, "h2": 4, "h3": 8, "h4": 16, "h5": 32}
INSIDE_H1, INSIDE_TABLE, INSIDE_H2_H5 = 1, 2, 4 | 8 | 16 | 32


# --- The page context ----------------------------------------------------------------------------


class Page:
    """One parsed page and the memo of what has been read of it."""

    def __init__(self, doc, url: str, matcher: CategoryMatcher, *, status: int | None, encoding: str,
                 scope_prefix: str, source: str | None = None):
        self.url = url
        self.matcher = matcher
        self.status = status
        self.encoding = encoding
        self.scope_prefix = scope_prefix
        self.base = _base_url(doc, url)
        # JSON-LD and <meta> (machine-readable, never shown, so never "hidden") are read before the
        # scripts go with the rest of the unseen elements; every other stage reads the tree after the drop
        self.jsonld = [s.text or "" for s in doc.iter("script")
                       if (s.get("type") or "").lower() == "application/ld+json"]
        self.meta = _meta(doc, source)
        self.cut = cut_after(doc, "*", W.max_page_elements)
        drop_unseen(doc)
        self.cut = cut_after(doc, "a", W.max_page_links) or self.cut
        self.doc = doc
        body = doc.find("body")
        self.body = body if body is not None else doc
        self._texts: dict = {}
        self._hrefs: dict[str | None, str | None] = {}
        self._matches: dict[str, tuple[str | None, float]] = {}
        self.title_links: dict = {}     # listing item -> its title anchor or None (listing.title_link)
        self.link_scores: dict = {}     # anchor -> its score as a title link, 0 for none (listing.title_link)
        self.item_dates: dict = {}      # listing item -> its ItemDates (item_dates.item_dates)
        self.lead_lines: dict = {}      # a lead headline -> the date and summary lines after it (listing)
        self.memo: dict = {}            # a stage's per-page tables, by name (listing._titled_entries)
        self.regions = Regions(self.body, self.text)
        title_el = doc.find(".//title")
        self.title = self.text(title_el) if title_el is not None else ""

    def text(self, el) -> str:
        """The element's text, white space collapsed.

        Built from the leaves up: an element's text is its own pieces and its children's texts joined by
        a space, which is element_text's reading (the text is NFC already, and a space neither composes
        with nor moves a mark), so each piece of text is cleaned once, not once per ancestor."""
        texts = self._texts
        try:
            return texts[el]
        except KeyError:
            pass
        if "sizes" not in self.__dict__:
            _ = self.sizes  # the one walk of the body notes every element's text with its size
            try:
                return texts[el]
            except KeyError:
                pass
        if not isinstance(el.tag, str):
            out = texts[el] = element_text(el)
            return out
        for node in reversed(list(el.iter())):
            if node in texts or not isinstance(node.tag, str):
                continue
            parts = []
            if node.text:
                piece = clean_space(node.text)
                if piece:
                    parts.append(piece)
            for child in node:
                if isinstance(child.tag, str):
                    piece = texts[child]
                    if piece:
                        parts.append(piece)
                if child.tail:
                    piece = clean_space(child.tail)
                    if piece:
                        parts.append(piece)
            texts[node] = " ".join(parts)
        return texts[el]

    def link_text(self, a) -> str:
        """An anchor's text, or its title attribute for an image link."""
        return self.text(a) or clean_space(a.get("title", ""))

    def abs(self, href: str | None) -> str | None:
        """An absolute http(s) URL without fragment, or None for no link ("#", "javascript:", "mailto:")."""
        try:
            return self._hrefs[href]
        except KeyError:
            out = self._hrefs[href] = _absolute(self.base, href)
            return out

    def match(self, text: str) -> tuple[str | None, float]:
        """The criterion this label names and its score (CategoryMatcher.match, memoised)."""
        try:
            return self._matches[text]
        except KeyError:
            out = self._matches[text] = self.matcher.match(text)
            return out

    def chrome(self, el) -> bool:
        return self.regions.chrome(el)

    @cached_property
    def sizes(self) -> dict:
        """element -> (its <a> count, the length of its stripped text pieces summed, the INSIDE bits of the
        tags below it), for every element of the body in one pass from the leaves up, so that sizing an
        element is not a walk of its subtree (listing.is_small sizes every element of the page)."""
        out = {}
        texts = self._texts
        inside_bits = INSIDE.get
        for el in reversed(list(self.body.iter())):
            tag = el.tag
            if not isinstance(tag, str):
                continue
            links = 1 if tag == "a" else 0
            parts = []
            text = el.text
            if text:
                size = len(text.strip())
                if size:
                    piece = clean_space(text)
                    if piece:
                        parts.append(piece)
            else:
                size = 0
            inside = 0
            for child in el:
                c_tag = child.tag
                if isinstance(c_tag, str):
                    c_links, c_size, c_inside = out[child]
                    links += c_links
                    size += c_size
                    inside |= c_inside | inside_bits(c_tag, 0)
                    piece = texts[child]
                    if piece:
                        parts.append(piece)
                tail = child.tail
                if tail:
                    n = len(tail.strip())
                    if n:
                        size += n
                        piece = clean_space(tail)
                        if piece:
                            parts.append(piece)
            out[el] = (links, size, inside)
            if el not in texts:
                texts[el] = " ".join(parts)
        return out

    @cached_property
    def short_text_key(self) -> str | None:
        """The text of the page outside its chrome, accent-folded and normalised, for the phrases that say
        "not found" or "nothing here yet"; None when that key is `soft_404_chars` long or longer (only a short
        page is read for them).

        A long page's key is not built: folding and normalising keep or lengthen every character but a run of
        punctuation or space (one space), so the key of the text's first part is no longer than the whole
        text's; when that part's key already reaches the limit, so does the whole's."""
        text = " ".join(self.text(el) for el in self.body if isinstance(el.tag, str) and not self.chrome(el))
        limit = W.soft_404_chars
        head = text[:2 * limit]
        key = normalise(fold_accents(head))
        if len(key) >= limit:
            return None
        if len(head) < len(text):
            key = normalise(fold_accents(text))
        return key if len(key) < limit else None

    @cached_property
    def sub_categories(self) -> frozenset[str]:
        """The names (normalised) of the categories the page's menus nest under the page's own entry:
        a parent category's page shows boxes of these, and their posts are the parent's."""
        names = set()
        for a in self.body.iter("a"):
            href = self.abs(a.get("href"))
            if not href or not same_page(href, self.url):
                continue
            entry = next((x for x in a.iterancestors("li")), None)
            if entry is None:
                continue
            for sub in entry.iterfind(".//li//a"):
                text = self.link_text(sub)
                if text and sub is not a:
                    names.add(normalise(text))
        return frozenset(names)

    @cached_property
    def article_meta(self) -> bool:
        """The page's <meta> or JSON-LD says it is an article."""
        return (self.meta.get("og:type", "").lower() == "article" or "article:published_time" in self.meta
                or any(ARTICLE_JSONLD_TYPE.search(s) for s in self.jsonld))

    @cached_property
    def is_one_post(self) -> bool:
        """The markup says the page is one post: article <meta>, JSON-LD or a single microdata Article,
        or the <body> class the CMS gives a single post's page."""
        if self.article_meta:
            return True
        if ARTICLE_BODY_CLASS.search(self.body.get("class") or ""):
            return True
        typed = contained = 0
        for el in self.body.iter():
            if not isinstance(el.tag, str):
                continue
            typed += bool(ARTICLE_ITEMTYPE.search(el.get("itemtype") or ""))
            contained += bool(ARTICLE_CONTAINER_CLASS.search(el.get("class") or ""))
        return typed == 1 or contained == 1

    @cached_property
    def main_heading(self) -> str | None:
        """The first heading in the content (not in chrome, not a side-box title, not a link to another page:
        a heading that is a link elsewhere is a post's title in a listing or a box, not the page's own)."""
        for el in self.body.iter(*HEADING_TAGS):
            if self.chrome(el) or self._links_away(el):
                continue
            text = self.text(el)
            # a side box's title ("Liên hệ", "Tin mới") is never the page's, unless it is the page's <h1>
            if text and (el.tag == "h1" or not is_side_box_title(text)):
                return text
        for el in self.body.iter(*TITLE_LIKE_TAGS):
            if TITLE_CLASS.search(el.get("class", "") or "") and not self.chrome(el) and not self._links_away(el):
                text = self.text(el)
                if text and short_label(text) and not is_side_box_title(text):
                    return text
        return None

    def _links_away(self, heading) -> bool:
        """Is the heading's text (nearly) all one link to another page, or inside one?"""
        text = self.text(heading)
        for anc in heading.iterancestors("a"):
            href = self.abs(anc.get("href"))
            if href and not same_page(href, self.url):
                return True
        for a in heading.iter("a"):
            href = self.abs(a.get("href"))
            if href and not same_page(href, self.url) and len(self.text(a)) >= W.heading_link_share * len(text):
                return True
        return False


def _base_url(doc, url: str) -> str:
    base = doc.find(".//base[@href]")
    return urljoin(url, base.get("href").strip()) if base is not None else url


def _absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(NOT_A_LINK):
        return None
    # what of the base the result depends on: only its scheme for an absolute http(s) link, only its
    # scheme and host for a link from the root ("/tin-tuc"), which is most of a portal's menus on every page
    if href.startswith(("http://", "https://")):
        key = (0, base.split(":", 1)[0], href)
    elif href[0] == "/" and href[1:2] != "/":
        key = (1, "/".join(base.split("/", 3)[:3]), href)
    else:
        key = (2, base, href)
    try:
        return _JOINED[key]
    except KeyError:
        pass
    if len(_JOINED) >= MEMO_LINKS:
        _JOINED.clear()
    out = _JOINED[key] = _join(base, href)
    return out


def _join(base: str, href: str) -> str | None:
    try:
        out = urljoin(base, href)
    except ValueError:
        return None
    return out.split("#", 1)[0] if out.startswith(("http://", "https://")) else None


MEMO_LINKS = 50_000
_JOINED: dict[tuple, str | None] = {}
ITEMPROP = re.compile("itemprop", re.I)


def _meta(doc, source: str | None = None) -> dict[str, str]:
    """<meta> name/property -> content (first wins), plus itemprop datePublished/dateModified.

    `source`, the text the tree was parsed from: without an "itemprop" in it (an attribute's name is never
    written with character references) no element has one, and the XPath's walk of every element is skipped."""
    out = {}
    for m in doc.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv") or "").strip().lower()
        value = m.get("content")
        if key and value and key not in out:
            out[key] = value.strip()
    if source is not None and not ITEMPROP.search(source):
        return out
    for el in doc.xpath(META_DATE_ITEMPROPS):
        key = el.get("itemprop").lower()
        value = el.get("content") or el.get("datetime")
        if value and key not in out:
            out[key] = value
    return out


# --- Element helpers -----------------------------------------------------------------------------


def element_text(el) -> str:
    """The text of an element, white space collapsed (unmemoised: use Page.text)."""
    return clean_space(" ".join(el.itertext()))


def short_label(text: str) -> bool:
    """Short enough to be a label (a category name), not a sentence."""
    return 0 < len(text.split()) <= W.max_label_tokens


def text_nodes(root, skip=None):
    """(element, text) for every non-empty text piece under root in reading order, skipping the `skip`
    subtree; a piece after a child (its tail) belongs to the child's parent and comes after the child's text."""
    skipped = set(skip.iter()) if skip is not None else ()
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(el.tag, str):
            continue
        if event == "start":
            if el not in skipped and el.text and el.text.strip():
                yield el, clean_space(el.text)
        elif el is not root and el.tail and el.tail.strip():
            parent = el.getparent()
            if parent is not None and parent not in skipped:
                yield parent, clean_space(el.tail)


def names_match(pattern, el) -> bool:
    """pattern.search(f"{class} {id}") for the element's class and id attributes, memoised by (pattern, class,
    id): a portal's class and id attributes repeat on every page and element, a regex search each time is the
    cost (the answer is the search's own, computed once per distinct pair)."""
    cls, id_ = el.get("class", ""), el.get("id", "")
    key = (pattern, cls, id_)
    try:
        return _NAMED[key]
    except KeyError:
        pass
    if len(_NAMED) >= MEMO_LINKS:
        _NAMED.clear()
    out = _NAMED[key] = bool(pattern.search(f"{cls} {id_}"))
    return out


_NAMED: dict[tuple, bool] = {}


def has_date_class(node, stop) -> bool:
    """Does the node or one of its few nearest ancestors (up to `stop`) carry a date-like class or id?"""
    el = node
    for _ in range(W.date_class_levels):
        if el is None:
            return False
        if names_match(DATE_CLASS, el):
            return True
        if el is stop:
            return False
        el = el.getparent()
    return False
