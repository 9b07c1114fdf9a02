"""Does a page off the agency's portal (on a host the rulebook allows: a public-service portal) name the
agency? Such a portal lists every agency's procedures; the agency's own list is filtered for it, and says so
in its address (?donvi=<code>), its heading, its breadcrumb or the agency filter's selected option. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from crawler.content import has_phrase
from crawler.extract import parse_html, read_text
from crawler.extract.vocabulary import BREADCRUMB_CLASS
from crawler.text import clean_space

# Registry names abbreviate what pages spell out, and the other way round: both are read with these expanded.
ABBREVIATIONS = {"ubnd": "ủy ban nhân dân", "hđnd": "hội đồng nhân dân", "tp": "thành phố",
                 "kh&đt": "kế hoạch và đầu tư", "kh&cn": "khoa học và công nghệ", "ptnt": "phát triển nông thôn",
                 "tn&mt": "tài nguyên và môi trường", "gtvt": "giao thông vận tải"}
HEADINGS = ("title", "h1", "h2", "h3")


def agency_named(url: str, body: bytes, headers: Mapping[str, str] | None, *, agency_id: str,
                 agency_name: str) -> str | None:
    """Where the page names the agency ("the address (donvi=stp)", "the heading “…”"), or None."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=False):
        if value.strip().casefold() == agency_id.casefold():
            return f"the address ({key}={value})"
    if agency_id.casefold() in (unquote(p).casefold() for p in urlsplit(url).path.split("/")):
        return f"the address ({urlsplit(url).path})"
    doc = parse_html(read_text(body, headers).text, url)
    if doc is None:
        return None
    names = _names(agency_name)
    for where, text in _labels(doc):
        if has_phrase(_expanded(text), names):
            return f"{where} “{text[:120]}”"
    return None


def _labels(doc):
    """(where, text) of what names a page: its title, its headings, its breadcrumb, a filter's selected option."""
    for tag in HEADINGS:
        for el in doc.iter(tag):
            yield ("the title" if tag == "title" else "the heading"), clean_space("".join(el.itertext()))
    for el in doc.iter():
        if isinstance(el.tag, str) and BREADCRUMB_CLASS.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
            yield "the breadcrumb", clean_space("".join(el.itertext()))
    for el in doc.iter("option"):
        if el.get("selected") is not None:
            yield "the filter's selected option", clean_space("".join(el.itertext()))


def _names(agency_name: str) -> tuple[str, ...]:
    """The registry's name, expanded, and without the province it ends with ("Sở Tư pháp tỉnh Cao Bằng")."""
    name = _expanded(agency_name)
    short = name.casefold().split(" tỉnh ")[0]
    return tuple(dict.fromkeys(n for n in (name, short) if n.strip()))


def _expanded(text: str) -> str:
    return " ".join(ABBREVIATIONS.get(w.casefold(), w) for w in clean_space(text).split())
