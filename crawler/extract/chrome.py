"""What of a page is not its content: unseen elements, page chrome, side columns, the main region.

Unseen elements (scripts, styles, templates, comments, and elements hidden by
the `hidden` attribute, `aria-hidden="true"` or an inline `display:none` /
`visibility:hidden`) are dropped from the tree before any stage reads it: an
old list left in the markup but hidden, a hidden heading or pager, is not what
the portal shows. Chrome (header, menus, breadcrumbs, side boxes, footers)
stays in the tree but is marked, from structure and class/id names, and from
the titles of side boxes ("Tin mới"): a post is never read from it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from lxml import etree

from crawler.extract.vocabulary import (
    CHROME_PAIRS,
    CHROME_ROLES,
    CHROME_TAGS,
    CHROME_TOKENS,
    CONTENT_QUALIFIERS,
    CONTENT_SECTION_TAGS,
    FOOTER_TOKENS,
    HIDING_STYLE,
    MAIN_TAGS,
    MAIN_TOKENS,
    NAME_CAMEL,
    NAME_SPLIT,
    NEVER_HIDDEN_TAGS,
    QUALIFIABLE_CHROME,
    SIDE_BOX_TITLES,
    SIDE_TOKENS,
    UNSEEN_XPATH,
    VISUALLY_HIDDEN_CLASSES,
)
from crawler.extract.weights import WEIGHTS as W
from crawler.text import fold_accents, normalise


def drop_unseen(doc) -> None:
    """Drop what a reader never sees (scripts, styles, templates, SVG, comments, hidden elements), in place."""
    for bad in doc.xpath(UNSEEN_XPATH):
        drop_tree(bad) if isinstance(bad.tag, str) else _drop_comment(bad)
    _drop_hidden(doc)


def drop_tree(el) -> None:
    """Remove the element with its children and text; its tail joins the previous element or the parent
    (lxml.html's drop_tree, for the plain elements the core parses into)."""
    parent = el.getparent()
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)


def _drop_hidden(doc) -> None:
    """Drop the elements hidden from the reader that hold text or links.

    Hidden elements with neither (icons, the hidden inputs of a form) are kept: they change no reading,
    and a postback form needs its fields. A hidden element holding most of the page's text is the page
    hidden until its scripts run (a preloader), when it holds the page's chrome too, and is kept."""
    dropped: set = set()
    page_chars = None
    # every hidden element, in document order, listed before any is dropped: one walk over the elements in
    # Python is about half the cost of the XPath of attribute tests it replaces, and lists the same elements
    hidden = [el for el in doc.iter(etree.Element) if _is_hidden(el) and el.tag not in NEVER_HIDDEN_TAGS]
    for el in hidden:
        if dropped and any(anc in dropped for anc in el.iterancestors()):
            continue
        chars = _text_chars(el)
        if not chars and el.find(".//a") is None and el.tag != "a":
            continue
        if page_chars is None:
            body = doc.find("body")
            page_chars = _text_chars(body if body is not None else doc)
        if chars > W.hidden_page_share * page_chars and any(is_chrome_element(d) for d in el.iterdescendants()):
            continue
        dropped.add(el)
        drop_tree(el)


def _is_hidden(el) -> bool:
    """Hidden by the hidden attribute, aria-hidden="true" or an inline style."""
    if el.get("hidden") is not None:
        return True
    if (el.get("aria-hidden") or "").strip().lower() == "true":
        return True
    classes = el.get("class")
    if classes and not VISUALLY_HIDDEN_CLASSES.isdisjoint(classes.split()):
        return True
    return bool(HIDING_STYLE.search(el.get("style") or ""))


def _text_chars(el) -> int:
    return sum(len(t.strip()) for t in el.itertext())


def _drop_comment(node) -> None:
    """Remove a comment, keeping the text after it."""
    parent = node.getparent()
    if parent is not None:
        if node.tail:
            prev = node.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + node.tail
            else:
                parent.text = (parent.text or "") + node.tail
        parent.remove(node)


def name_tokens(el) -> tuple[str, ...]:
    """The tokens of an element's class and id ("colRight main-menu" -> col, right, main, menu)."""
    cls, id_ = el.get("class"), el.get("id")
    if not cls and not id_:
        return ()
    return _name_tokens(f"{cls or ''} {id_ or ''}")


@lru_cache(maxsize=20_000)
def _name_tokens(raw: str) -> tuple[str, ...]:
    if not raw.strip():
        return ()
    return tuple(t for t in NAME_SPLIT.split(NAME_CAMEL.sub(" ", raw).lower()) if t)


_CHROME_BY_NAMES: dict[tuple, bool] = {}     # (tag, class, id, role) -> is_chrome_element, for other tags


def is_chrome_element(el) -> bool:
    """Is this element itself (not through an ancestor) chrome, by its tag, role or names?"""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "footer" and any(anc.tag == "article" for anc in el.iterancestors()):
        return False        # an article's own footer ("Published 10/04/2019", its categories), not the page's
    if tag in CHROME_TAGS:
        return True
    if tag == "header":
        toks = name_tokens(el)
        if not (set(toks) & CONTENT_QUALIFIERS):
            return _is_page_header(el)
        return _chrome_by_names(el, toks)
    # any other element's answer is its tag's, names' and role's alone: the same on every page of a portal
    key = (tag, el.get("class"), el.get("id"), el.get("role"))
    try:
        return _CHROME_BY_NAMES[key]
    except KeyError:
        pass
    out = _chrome_by_names(el, name_tokens(el))
    if len(_CHROME_BY_NAMES) > 50_000:
        _CHROME_BY_NAMES.clear()
    _CHROME_BY_NAMES[key] = out
    return out


def _chrome_by_names(el, toks: tuple[str, ...]) -> bool:
    if not toks:
        return (el.get("role") or "") in CHROME_ROLES
    tokset = set(toks)
    hits = tokset & CHROME_TOKENS
    if hits:
        # "page-header", "entry-header", "list-title-header" belong to the content
        if hits <= QUALIFIABLE_CHROME and tokset & CONTENT_QUALIFIERS:
            return False
        return True
    return any(pair in CHROME_PAIRS for pair in zip(toks, toks[1:]))


def is_footer_element(el) -> bool:
    """Is this element itself a page footer (<footer>, role contentinfo, a "footer"/"bottom" name)?"""
    if not isinstance(el.tag, str):
        return False
    if el.tag == "footer" or (el.get("role") or "") == "contentinfo":
        return True
    return bool(set(name_tokens(el)) & FOOTER_TOKENS)


def _is_page_header(el) -> bool:
    """A <header> element is page chrome unless it sits inside an article or main region."""
    return not any(anc.tag in CONTENT_SECTION_TAGS for anc in el.iterancestors())


@lru_cache(maxsize=4096)
@lru_cache(maxsize=20_000)
def is_side_box_title(text: str) -> bool:
    """Is this the title of a side box ("Tin mới", "Văn bản mới ban hành")? (Memoised: the same titles
    come back on every page of a portal.)"""
    key = normalise(fold_accents(text), accents=True)
    return key in SIDE_BOX_TITLES or any(key.startswith(t + " ") and len(key) < len(t) + W.side_box_title_slack
                                         for t in SIDE_BOX_TITLES)


class Regions:
    """Memoised 'is this element inside page chrome / a side column / the main region'."""

    def __init__(self, body, text: Callable[[object], str]):
        self._text = text
        self._body_chars = max(1, len(text(body)))
        self._chrome: dict = {}
        self._side: dict = {}
        self._main: dict = {}
        self._holders: set | None = None     # the ancestors of the page's main regions, found once

    def chrome(self, el) -> bool:
        """Inside page chrome (header, menus, side boxes, footer)?"""
        if el is None or not isinstance(el.tag, str):
            return False
        hit = self._chrome.get(el)
        if hit is None:
            hit = (is_chrome_element(el) and not self._wrapper(el)) or self.chrome(el.getparent())
            self._chrome[el] = hit
        return hit

    def _wrapper(self, el) -> bool:
        """A chrome-named element that holds the main region or most of the page is a page wrapper."""
        if self._holders is None:
            root = el.getroottree().getroot()
            self._holders = {anc for m in root.xpath("//main | //*[@role='main']") for anc in m.iterancestors()}
        if el in self._holders:
            return True
        return len(self._text(el)) > W.wrapper_share * self._body_chars

    def side(self, el) -> bool:
        """Inside a side column?"""
        if el is None or not isinstance(el.tag, str):
            return False
        hit = self._side.get(el)
        if hit is None:
            hit = bool(set(name_tokens(el)) & SIDE_TOKENS) or self.side(el.getparent())
            self._side[el] = hit
        return hit

    def main(self, el) -> bool:
        """Inside the main content region?"""
        if el is None or not isinstance(el.tag, str):
            return False
        hit = self._main.get(el)
        if hit is None:
            hit = el.tag in MAIN_TAGS or el.get("role") == "main" or bool(set(name_tokens(el)) & MAIN_TOKENS) \
                or self.main(el.getparent())
            self._main[el] = hit
        return hit
