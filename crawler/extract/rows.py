"""The rows of a page and its search form, for the items of a listed criterion. Pure.

A list an agency must publish (its legal documents, its investment projects) shows on the portal as rows:
a table row with the document number in one cell and its title in the next, a list entry, a paragraph.
Each row's text (outside menus, header, side boxes and footer) and its first link are what an item is
matched against (crawler.items). The page's own search form (a GET form whose text input is named like
q, keyword, search, tu-khoa or s) is where an item not found in the category is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

from crawler.categories import CategoryMatcher
from crawler.extract.page import Page, parse_html, read_text, text_nodes

# The elements whose text is one row: a table row, a list entry, a definition, a paragraph, a heading.
ROW_TAGS = frozenset({"tr", "li", "dt", "dd", "p", "h1", "h2", "h3", "h4", "h5", "h6", "article"})
# The names portals give the text input of their search form (WordPress "s", NukeViet "q", Drupal
# "search_api_fulltext"/"keys", Vietnamese CMSs "tu-khoa", "tukhoa", "keyword").
SEARCH_INPUT = re.compile(r"^(?:q|s|k|keys?|keywords?|search|searchword|search_api_fulltext|query|tu-?khoa|"
                          r"tu_khoa|txtsearch|txtkeyword)$", re.IGNORECASE)
MAX_ROW_CHARS = 600          # a longer block is a text, not a row: its first characters are read
# A search page's results are often in an element the chrome rules take for the search box ("search-results"):
# there the rows are every linked row outside the menus, header and footer, since the page echoes the query
# in its heading and box (a row without a link is never a result).
_NAVIGATION = re.compile(r"\b(?:nav\w*|menu\w*|header|footer|banner|breadcrumbs?)\b", re.IGNORECASE)
_NAVIGATION_TAGS = frozenset({"nav", "header", "footer", "form"})


@dataclass(frozen=True)
class Row:
    text: str
    href: str | None = None


@dataclass(frozen=True)
class SearchForm:
    """A GET search form: its action, the text input's name and the hidden fields sent with it."""

    action: str
    field: str
    hidden: tuple[tuple[str, str], ...] = ()

    def url_for(self, query: str) -> str:
        params = [*self.hidden, (self.field, query)]
        sep = "&" if urlsplit(self.action).query else "?"
        return f"{self.action}{sep}{urlencode(params)}"


@dataclass(frozen=True)
class PageRows:
    rows: tuple[Row, ...] = ()
    search: SearchForm | None = None


def page_rows(url: str, body: bytes, headers: Mapping[str, str] | None = None, *, results: bool = False) -> PageRows:
    """The page's rows outside its chrome (`results`: a search page's linked rows outside its navigation), and
    its search form. Never raises: bad HTML has no rows."""
    decoded = read_text(body, headers)
    doc = parse_html(decoded.text, url)
    if doc is None or decoded.legacy:
        return PageRows()
    search = search_form(doc, url)        # before the unseen elements (hidden inputs) are dropped
    page = Page(doc, url, CategoryMatcher(()), status=200, encoding=decoded.encoding, scope_prefix="")
    texts: dict = {}
    order: list = []
    for el, text in text_nodes(page.body):
        if (_in_navigation(el) if results else page.chrome(el)):
            continue
        row = next((x for x in (el, *el.iterancestors()) if isinstance(x.tag, str) and x.tag in ROW_TAGS), el)
        if row not in texts:
            texts[row] = []
            order.append(row)
        texts[row].append(text)
    rows = []
    for row in order:
        text = " ".join(texts[row])[:MAX_ROW_CHARS]
        link = next((a for a in row.iter("a") if a.get("href")), None)
        if link is None and row.tag != "a":
            link = next((a for a in row.iterancestors("a")), None)
        href = page.abs(link.get("href")) if link is not None else None
        if results and href is None:
            continue
        rows.append(Row(text, href))
    return PageRows(tuple(rows), search)


def _in_navigation(el) -> bool:
    for x in (el, *el.iterancestors()):
        if not isinstance(x.tag, str):
            continue
        if x.tag in _NAVIGATION_TAGS or _NAVIGATION.search(f"{x.get('id', '')} {x.get('class', '')}"):
            return True
    return False


def search_form(doc, url: str) -> SearchForm | None:
    """The first GET form with a text input named as a search box."""
    for form in doc.iter("form"):
        if (form.get("method") or "get").strip().lower() != "get":
            continue
        field, hidden = None, []
        for inp in form.iter("input"):
            kind = (inp.get("type") or "text").lower()
            name = inp.get("name") or ""
            if kind == "hidden" and name:
                hidden.append((name, inp.get("value") or ""))
            elif kind in ("text", "search") and field is None and SEARCH_INPUT.match(name):
                field = name
        if field:
            action = urljoin(url, (form.get("action") or "").strip() or url)
            if urlsplit(action).scheme in ("http", "https"):
                return SearchForm(action.split("#", 1)[0], field, tuple(hidden))
    return None
