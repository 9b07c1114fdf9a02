"""One owner of "make untrusted text safe to show": crawled and reported text in HTML, XLSX/CSV and the console.

- Invisible characters that change what a reader sees (bidi overrides such as U+202E, zero-width
  characters, other format and control characters) are shown as a visible mark, ‹U+202E›, so a
  title cannot read backwards or hide a word; Vietnamese letters are left as they are (no
  normalisation: NFC text stays byte for byte the same).
- HTML: the text is escaped for elements and attributes alike; a link is made for http(s) only.
- XLSX/CSV: a cell that a spreadsheet would read as a formula (OWASP CSV injection: a leading
  `=`, `+`, `-`, `@`, tab, CR or NUL) gets a leading apostrophe in CSV, and Excel's quote prefix
  (a text cell that stays text when edited) in XLSX.
- Console: ANSI escape sequences are dropped, other control characters shown as marks, and no
  text is read as rich markup (`[bold]` in a page title stays those seven characters).
"""

from __future__ import annotations

import json
import re
import unicodedata
from html import escape
from urllib.parse import quote, urlsplit

from rich.console import Console
from rich.json import JSON
from rich.segment import Segment
from rich.text import Text

SAFE_SCHEMES = frozenset({"http", "https"})
# OWASP CSV injection: what makes a spreadsheet read a cell as a formula (full-width forms too,
# which some spreadsheets fold to the ASCII ones)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "＝", "＋", "－", "＠")
# letters that draw nothing (Hangul fillers), used to make a name look blank or shorter
_BLANK_LETTERS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0"})
# what a reader's eye does not see, by Unicode category: control, format (bidi, zero-width, soft
# hyphen, tags), line/paragraph separators, and lone surrogates (undecodable bytes)
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_KEEP = frozenset({"\n", "\t", "\r"})       # line structure of multi-line text (notes, archived pages)
_CELL_KEEP = frozenset({"\n", "\t"})         # a spreadsheet cell (a leading tab is dealt with as a formula)
_CONSOLE_KEEP = frozenset({"\n", "\t"})     # a CR would let a line overwrite itself on a terminal
# ESC sequences as a terminal reads them: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other
# two-character escapes (an unterminated OSC loses "ESC ]" only, its text stays); also the 8-bit CSI
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]?")


def _invisible(ch: str, keep: frozenset[str]) -> bool:
    return ch not in keep and (unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ch in _BLANK_LETTERS)


def mark(ch: str) -> str:
    """The visible stand-in of an invisible character: ‹U+202E›."""
    return f"‹U+{ord(ch):04X}›"


def _fast_ok(text: str) -> bool:
    # printable text (Vietnamese letters included) has nothing to mark: the common case, kept cheap
    return text.isprintable() and _BLANK_LETTERS.isdisjoint(text)


def show_invisible(value, *, keep: frozenset[str] = _KEEP) -> str:
    """The text with every invisible or control character (but `keep`) replaced by its mark; None -> ''."""
    text = "" if value is None else str(value)
    if _fast_ok(text):
        return text
    # character by character: no table of all of Unicode to build first (it cost a spot-check 0.2 s)
    return "".join(mark(ch) if _invisible(ch, keep) else ch for ch in text)


# ------------------------------------------------------------------------------------------------ HTML

def html_text(value) -> str:
    """Untrusted text escaped for an HTML element or a quoted attribute, invisible characters shown."""
    return escape(show_invisible(value), quote=True)


def safe_href(url) -> str | None:
    """The URL to put in an href when it is an absolute http(s) URL, else None (javascript:, data:, relative…).

    Control, invisible and space characters are percent-encoded, as a browser would send them."""
    url = ("" if url is None else str(url)).strip()
    if not url:
        return None
    encoded = "".join(quote(ch, safe="") if (ch.isspace() or _invisible(ch, frozenset())) else ch for ch in url)
    try:
        parts = urlsplit(encoded)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return encoded


# ------------------------------------------------------------------------------------------------ XLSX / CSV

def formula_like(text: str) -> bool:
    """Would a spreadsheet read this cell as a formula (or its leading character as a command)?"""
    return text.startswith(FORMULA_START)


def cell_text(value, *, limit: int | None = None) -> str:
    """Untrusted text for a spreadsheet cell: invisible characters shown, cut to `limit` characters ("…")."""
    text = show_invisible(("" if value is None else str(value)).replace("\r\n", "\n"), keep=_CELL_KEEP)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text


def csv_cell(value) -> str:
    """Untrusted text for a CSV cell: as cell_text, with a leading apostrophe when it would be a formula.

    verifier.intake reads the apostrophe back off, as a spreadsheet does."""
    text = cell_text(value)
    return "'" + text if formula_like(text) else text


def csv_unquote(text: str) -> str:
    """A CSV cell as written by csv_cell or a spreadsheet: the apostrophe before a formula character dropped."""
    return text[1:] if text.startswith("'") and formula_like(text[1:]) else text


# ------------------------------------------------------------------------------------------------ console

def console_text(value) -> str:
    """Untrusted text for a terminal: ANSI escape sequences dropped, other controls and invisibles marked."""
    text = "" if value is None else str(value)
    if _fast_ok(text):
        return text
    return show_invisible(_ANSI.sub("", text), keep=_CONSOLE_KEEP)


def _json_escape(ch: str) -> str:
    return json.dumps(ch)[1:-1]          # "\u202e"; a surrogate pair beyond the BMP


def console_rich_text(text: Text, replace=mark) -> Text:
    """A rich Text cleaned as console_text (each invisible character through `replace`), its styles kept
    on the same characters."""
    plain = text.plain
    if _fast_ok(plain):
        return text
    pieces: list[str] = []
    where = [0] * (len(plain) + 1)          # index in the old text -> index in the new one
    size, last = 0, 0
    for match in [*_ANSI.finditer(plain), None]:
        stop = match.start() if match else len(plain)
        for i in range(last, stop):
            where[i] = size
            piece = replace(plain[i]) if _invisible(plain[i], _CONSOLE_KEEP) else plain[i]
            pieces.append(piece)
            size += len(piece)
        if match:
            for i in range(match.start(), match.end()):
                where[i] = size
            last = match.end()
    where[len(plain)] = size
    clean = Text("".join(pieces), style=text.style, justify=text.justify, overflow=text.overflow,
                 no_wrap=text.no_wrap, end=text.end, tab_size=text.tab_size)
    for span in text.spans:
        clean.stylize(span.style, where[min(span.start, len(plain))], where[min(span.end, len(plain))])
    return clean


class SafeConsole(Console):
    """A rich Console that never reads markup from text nor highlights it, and cleans every text it writes
    (console_text), whatever it came in: a str, a Text, a Table cell, JSON."""

    def __init__(self, *args, markup: bool = False, highlight: bool = False, **kwargs):
        super().__init__(*args, markup=markup, highlight=highlight, **kwargs)

    def print_json(self, json: str | None = None, *, data=None, **kwargs) -> None:
        """As rich prints JSON, with the same data kept lossless: an invisible character inside a string is
        written as its JSON escape (\\u202e) rather than a mark."""
        renderable = JSON(json, **kwargs) if json is not None else JSON.from_data(data, **kwargs)
        self.print(console_rich_text(renderable.text, _json_escape), soft_wrap=True)

    def render_str(self, text: str, **kwargs) -> Text:
        return super().render_str(console_text(text), **kwargs)

    def render(self, renderable, options=None):
        # clean a Text before it is laid out (its marks wrap with it, not cropped), then every segment as a backstop
        if isinstance(renderable, Text):
            renderable = console_rich_text(renderable)
        for segment in super().render(renderable, options):
            if segment.control is None and segment.text and not _fast_ok(segment.text):
                yield Segment(console_text(segment.text), segment.style, segment.control)
            else:
                yield segment
