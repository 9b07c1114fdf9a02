"""One table sheet of the Department's workbook, written row by row with XlsxWriter: a heading, a header row,
then the rows; closed with an autofilter over the table, the header row frozen and repeated on every printed
page, and the page set up for A4 (fit to one page wide, landscape when the table is wide, page numbers).

Every text goes through write_string (Excel's quote prefix on one a spreadsheet would read as a formula,
invisible characters shown as marks: verifier.export.safe_text); dates and times are date cells, in the
province's time (+07:00, which each sheet's heading states once); each row is as tall as its longest
wrapped text, so a printed row is readable whole.
"""

from __future__ import annotations

import datetime as dt

from verifier.export import labels as L
from verifier.export.phieu import wrapped_lines
from verifier.export.safe_text import cell_text, formula_like, safe_href

MAX_CELL = 32000            # Excel holds 32767 characters per cell
MAX_URL = 2000              # Excel refuses longer hyperlinks
MAX_LINKS = 65000           # Excel's hyperlinks per worksheet (65 530)
LINE_PT = 12.75             # one line of Arial 10
MAX_ROW_PT = 409            # Excel's tallest row
# phieu.wrapped_lines reckons a column holds 1.1 letters per width unit, which suits the form's bordered cells;
# LibreOffice fits about 1.36 Vietnamese letters per unit of Arial 10: reckoned at 1.375 less one a line, a row
# is snug
WIDTH_SLACK = 1.25
URL_SLACK = 0.85
PORTRAIT_WIDTH = 95         # the widest table (in widths of "0") that prints portrait at a readable scale
PAPER_A4 = 9
FOOTER = "&C&9Trang &P/&N"


def formats(wb) -> dict:
    """The workbook's formats by name, and under "quoted" each one's twin with Excel's quote prefix (by id)."""
    base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
    props = {
        "cell": {**base, "text_wrap": True},
        "line": {**base},
        "num": {**base},                                       # General: 2, 3.75, 130.05
        "int": {**base, "num_format": "0"},
        "date": {**base, "num_format": "dd/mm/yyyy", "align": "left"},
        "datetime": {**base, "num_format": "dd/mm/yyyy hh:mm", "align": "left"},
        "head": {**base, "bold": True, "text_wrap": True, "bg_color": "#DDE7F0", "border": 1, "valign": "vcenter"},
        "title": {**base, "bold": True, "font_size": 13},
        "bold": {**base, "bold": True, "text_wrap": True},
        "link": {**base, "font_color": "blue", "underline": 1},
        "italic": {**base, "italic": True, "text_wrap": True},
    }
    out = {name: wb.add_format(p) for name, p in props.items()}
    out["quoted"] = {id(out[name]): wb.add_format({**p, "quote_prefix": True}) for name, p in props.items()}
    return out


def local_naive(value: dt.datetime) -> dt.datetime:
    """A stored time in the province's time, without its offset (a spreadsheet cell holds none)."""
    return L.local_time(value).replace(tzinfo=None)


class Table:
    """A worksheet holding one table. `columns` are (header, width) pairs; `one_page` prints the whole sheet
    on one page (the ranking of a group)."""

    def __init__(self, wb, ws, fmt: dict, title: str, columns: list[tuple[str, float]], *, one_page: bool = False):
        self.wb, self.ws, self.f = wb, ws, fmt
        self.title, self.one_page = title, one_page
        self.names = [name for name, _ in columns]
        self.widths = [width for _, width in columns]
        self.row, self.header_row = 0, None
        self._lines = 1
        self._links = 0
        for i, width in enumerate(self.widths):
            ws.set_column(i, i, width)

    # ------------------------------------------------------------------------------------------ cells

    def text(self, col: int, value, fmt=None, *, wrap: bool = True) -> None:
        """A text cell; without wrap, one line (a code such as a WARC record's place, cut at the column's edge)."""
        text, fmt = cell_text(value, limit=MAX_CELL), fmt or self.f["cell" if wrap else "line"]
        if not text:                    # a blank cell, not an empty text: the filter lists it as "(Blanks)"
            self.ws.write_blank(self.row, col, None, fmt)
            return
        if formula_like(text):
            fmt = self.f["quoted"][id(fmt)]
        self.ws.write_string(self.row, col, text, fmt)
        if wrap:
            self._fit(text, col, bold=fmt is self.f["head"])

    def number(self, col: int, value, fmt=None) -> None:
        if value is None:
            self.ws.write_blank(self.row, col, None, self.f["cell"])
        else:
            self.ws.write_number(self.row, col, value, fmt or self.f["num"])

    def date(self, col: int, value: dt.date | None) -> None:
        """A date cell (dd/mm/yyyy); blank when there is none."""
        if value is None:
            self.ws.write_blank(self.row, col, None, self.f["cell"])
        else:
            self.ws.write_datetime(self.row, col, dt.datetime.combine(value, dt.time()), self.f["date"])

    def moment(self, col: int, value: dt.datetime | None) -> None:
        """A time cell (dd/mm/yyyy hh:mm, +07:00); blank when there is none."""
        if value is None:
            self.ws.write_blank(self.row, col, None, self.f["cell"])
        else:
            self.ws.write_datetime(self.row, col, local_naive(value), self.f["datetime"])

    def link(self, col: int, url, display=None) -> None:
        """A hyperlink for http(s) URLs only; anything else is written as text. A link takes one line, cut at
        the column's edge (LibreOffice does not wrap a link's text): the whole URL is its target."""
        url = url or ""
        href = safe_href(url)
        shown = cell_text(display or url, limit=MAX_CELL)
        if href is not None and len(href) <= MAX_URL and self._link_left():
            self.ws.write_url(self.row, col, href, self.f["link"], string=shown)
        else:
            self.text(col, display if display is not None else url)

    def local_link(self, col: int, path: str, display: str) -> None:
        """A link to a file of the report folder (the HTML evidence page), relative to the workbook: it opens
        while the workbook stays in that folder. Never a file: URL."""
        if self._link_left():
            self.ws.write_url(self.row, col, f"external:{path}", self.f["link"], string=cell_text(display))
        else:
            self.text(col, display)

    def _link_left(self) -> bool:
        self._links += 1
        return self._links < MAX_LINKS

    def _fit(self, text: str, col: int, *, bold: bool = False) -> None:
        # a text without spaces (a URL as reported) breaks only at its punctuation: more lines than its letters say
        slack = WIDTH_SLACK if " " in text.strip() else URL_SLACK
        self._lines = max(self._lines, wrapped_lines(text, self.widths[col] * slack, bold=bold))

    # ------------------------------------------------------------------------------------------ rows

    def next(self) -> None:
        """End the row: as tall as its longest wrapped text."""
        if self._lines > 1 or self.header_row is not None:
            self.ws.set_row(self.row, min(MAX_ROW_PT, LINE_PT * self._lines + 3))
        self.row += 1
        self._lines = 1

    def heading(self, lines: list[str]) -> None:
        """The sheet's title, then lines of notes, each across the table's width, then a blank row."""
        last = len(self.widths) - 1
        whole = sum(self.widths)
        for i, line in enumerate([self.title, *lines]):
            text = cell_text(line, limit=MAX_CELL)
            fmt = self.f["title"] if i == 0 else self.f["italic"]
            if formula_like(text):
                fmt = self.f["quoted"][id(fmt)]
            if last > 0:
                self.ws.merge_range(self.row, 0, self.row, last, "", fmt)
            self.ws.write_string(self.row, 0, text, fmt)
            lines_needed = wrapped_lines(text, whole * WIDTH_SLACK, bold=i == 0)
            self.ws.set_row(self.row, LINE_PT * lines_needed + (6 if i == 0 else 3))
            self.row += 1
        self.row += 1

    def header(self) -> None:
        for i, name in enumerate(self.names):
            self.text(i, name, self.f["head"])
        self.header_row = self.row
        self.next()

    def close(self) -> None:
        """Filter, freeze, print set-up: A4, one page wide (one page in all with one_page), the header row on
        every page, the sheet's title at the top and the page number at the foot."""
        ws, last_col = self.ws, len(self.widths) - 1
        last_row = max(self.row - 1, self.header_row)
        ws.autofilter(self.header_row, 0, last_row, last_col)
        ws.freeze_panes(self.header_row + 1, 0)
        ws.repeat_rows(self.header_row)
        ws.print_area(0, 0, last_row, last_col)
        page_setup(ws, self.title, landscape=sum(self.widths) > PORTRAIT_WIDTH, one_page=self.one_page)


def page_setup(ws, title: str, *, landscape: bool, one_page: bool = False) -> None:
    """A4, fit to one page wide (and one page tall with one_page), the title in the page header and the
    page number in the footer."""
    ws.set_paper(PAPER_A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 1 if one_page else 0)
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.6)
    # Excel reads & in a header as a code: doubled, it prints as itself
    ws.set_header("&L&8" + cell_text(title).replace("&", "&&")[:200])
    ws.set_footer(FOOTER)
