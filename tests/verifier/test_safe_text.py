"""verifier.export.safe_text: the one owner of making untrusted text safe to show (HTML, XLSX/CSV, console)."""

import io
import sys
import unicodedata

import pytest
from rich.text import Text

from verifier.export.safe_text import (
    SafeConsole,
    cell_text,
    console_rich_text,
    console_text,
    csv_cell,
    csv_unquote,
    formula_like,
    html_text,
    safe_href,
    show_invisible,
)

VIETNAMESE = "Thông tin chỉ đạo, điều hành – Sở Tư pháp tỉnh Cao Bằng: Kế hoạch số 28/KH-SYT ngày 10/3/2017"


def test_every_control_format_and_separator_character_is_marked_and_nothing_else():
    marked = {c for c in range(sys.maxunicode + 1) if show_invisible(chr(c), keep=frozenset()) != chr(c)}
    expected = {c for c in range(sys.maxunicode + 1)
                if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp", "Cs")} | {0x115F, 0x1160, 0x3164, 0xFFA0}
    assert marked == expected
    assert {0x202E, 0x202B, 0x2066, 0x200B, 0x200D, 0xFEFF, 0x00AD, 0x1B, 0x9B, 0xE0041} <= marked


@pytest.mark.parametrize("show", [show_invisible, html_text, cell_text, console_text, csv_cell])
def test_vietnamese_in_nfc_and_nfd_is_left_as_it_is(show):
    for form in ("NFC", "NFD"):
        text = unicodedata.normalize(form, VIETNAMESE)
        assert show(text) == text


def test_marks_name_the_code_point():
    assert show_invisible("abc\u202edef\u202c") == "abc‹U+202E›def‹U+202C›"
    assert show_invisible("tag\U000E0041") == "tag‹U+E0041›"
    assert show_invisible("two\nlines\tand\r\n") == "two\nlines\tand\r\n"      # line structure kept in HTML


def test_html_text_escapes_for_elements_and_attributes():
    assert html_text('"><script>alert(1)</script>\u202e') == "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;‹U+202E›"
    assert html_text("it's") == "it&#x27;s" and html_text(None) == ""


@pytest.mark.parametrize("url,href", [
    ("http://sotuphap.caobang.gov.vn/node/1", "http://sotuphap.caobang.gov.vn/node/1"),
    (" HTTPS://a.gov.vn/x ", "HTTPS://a.gov.vn/x"),
    ("http://a.gov.vn/x\u202eexe.txt", "http://a.gov.vn/x%E2%80%AEexe.txt"),
    ("http://a.gov.vn/a b\nc", "http://a.gov.vn/a%20b%0Ac"),
    ("javascript:alert(1)", None), (" JaVaScRiPt:alert(1)", None), ("\x01javascript:alert(1)", None),
    ("java\tscript:alert(1)", None), ("data:text/html,<script>x</script>", None), ("vbscript:x", None),
    ("//evil.example/x", None), ("http:evil", None), ("/relative", None), ("", None), (None, None),
    ("http://[::1", None),
])
def test_only_absolute_http_urls_become_hrefs(url, href):
    assert safe_href(url) == href


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "\0x", "＝1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_read_back(text):
    """An apostrophe before the formula; a leading CR or NUL is a visible mark already."""
    assert formula_like(text)
    cell = csv_cell(text)
    assert not formula_like(cell) and (cell.startswith("'") or cell.startswith("‹U+"))
    assert csv_unquote(cell) == cell_text(text)


def test_plain_csv_cells_are_left_alone():
    for text in ("Sở Tư pháp", "http://a.gov.vn/x", "1", "'quoted", "x=1", ""):
        assert csv_cell(text) == text and csv_unquote(text) == text
    assert csv_unquote("'=1") == "=1" and csv_unquote("'x") == "'x"


def test_cell_text_cuts_long_text_and_keeps_line_breaks():
    assert cell_text("a" * 10, limit=4) == "aaaa…"
    assert cell_text("a\r\nb\tc\u202e") == "a\nb\tc‹U+202E›"


def test_console_text_drops_escape_sequences_and_marks_other_controls():
    assert console_text("\x1b[2J\x1b[31mred\x1b[0m") == "red"
    assert console_text("a\x1b]8;;http://evil\x07link\x1b]8;;\x07b") == "alinkb"     # OSC 8 hyperlink
    assert console_text("a\x1b]0;title") == "a0;title"           # unterminated: its text stays, inert
    assert console_text("over\rwrite\x08") == "over‹U+000D›write‹U+0008›"
    assert console_text("\x9b2Jx") == "x"


def test_console_rich_text_keeps_styles_on_the_same_characters():
    text = Text("ab\u202ecd")
    text.stylize("bold", 3, 4)       # "c"
    clean = console_rich_text(text)
    assert clean.plain == "ab‹U+202E›cd"
    (span,) = clean.spans
    assert clean.plain[span.start:span.end] == "c" and span.style == "bold"


def test_safe_console_reads_no_markup_and_writes_no_foreign_escapes():
    console = SafeConsole(file=io.StringIO(), width=60)
    console.print("[bold red]x[/bold red] \x1b[5m\u202e", Text("[i]y[/i]"))
    assert console.file.getvalue() == "[bold red]x[/bold red] ‹U+202E› [i]y[/i]\n"
