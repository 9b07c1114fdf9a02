"""The Department's workbook as a reviewer opens and prints it: read back with openpyxl (a filter and a frozen,
repeated header row on every table sheet, A4 page set-up fit to one page wide, dates as date cells, rows tall
enough for their wrapped text, links relative or http(s), never file:), in Vietnamese words (no code word of
the verdicts, no criterion slug, the rulebook by its title), and printed by LibreOffice headless: every page A4,
each group's ranking on one page, the whole within a bound set from the run's size.

The run is the province of tests/verifier/builders.py (6 agencies, 170 verdicts, 423 posts read), with a
reviewer's decision. Before this workbook was laid out for print, LibreOffice printed it as 90 pages (84 A4,
6 US Letter: one confirmation sheet per agency, and the verdict sheet split across its columns); now 26.

LibreOffice is a Debian package (.ci/run installs it). Without it the printing test is skipped, unless
PORTAL_EVIDENCE_REQUIRE_BROWSER is set (CI sets it), where that is a failure.
"""

import datetime as dt
import math
import re
import subprocess
import time

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from pypdf import PdfReader

from tests.tools import required_tool
from verifier.export import labels as L
from verifier.export.audit import build_audit, load_run
from verifier.export.xlsx import LINKS_NOTE, write_xlsx
from verifier.overrides import new_override
from verifier.store import open_db, save_override

from .builders import GENERATED, build_province

A4 = {(595, 842), (842, 595)}
RUN_SHEET = "Thông tin lần chạy"
RANKINGS = ("Xếp hạng Sở, ban, ngành", "Xếp hạng UBND huyện, thành phố")
DATE_COLUMNS = {"Ngày nộp phiếu", "Thời điểm kiểm tra", "Thời điểm điều chỉnh", "Ngày đăng", "Ngày cập nhật"}
# English words of the code that must not reach the Department's workbook (whole words, case-insensitive)
FORBIDDEN = ("article", "articles", "listing", "listings", "post", "posts", "post(s)", "pass", "fail", "review",
             "pending", "exempt", "scored", "none", "null", *L.REASON)
_ENGLISH = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(w) for w in FORBIDDEN) + r")(?![\w/-])", re.I)
LETTERS_PER_WIDTH = 1.4     # more than LibreOffice fits in a wrapping column (about 1.36 Vietnamese letters)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xlsx-print")
    db_path, run_id = build_province(tmp)
    db = open_db(db_path)
    machine = load_run(db, run_id).verdict_map()[("so-tu-phap", "thanh-tra")]
    save_override(db, new_override("so-tu-phap", "thanh-tra", "pass", "Đã xem trực tiếp trên cổng", "Nguyễn Văn A",
                                   at=GENERATED, run_id=run_id, machine=machine))
    audit = build_audit(db, run_id, generated_at=GENERATED)
    return audit, write_xlsx(audit, tmp / "out", link_html=True)


@pytest.fixture(scope="module")
def book(run):
    return load_workbook(run[1])


def tables(book):
    return [ws for ws in book.worksheets if ws.title != RUN_SHEET]


def header_row(ws) -> int:
    """The table's header row, from its autofilter (1-based)."""
    _, first_row, _, _ = range_boundaries(ws.auto_filter.ref)
    return first_row


def columns(ws) -> dict[str, int]:
    row = header_row(ws)
    return {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value}


def width(ws, col: int) -> float:
    """A column's width (openpyxl keeps neighbouring columns of one width as one range)."""
    return next(d.width for d in ws.column_dimensions.values() if d.min <= col <= d.max)


def body(ws):
    return ws.iter_rows(min_row=header_row(ws) + 1)


# ------------------------------------------------------------------------------------------------ openpyxl

def test_every_table_sheet_has_a_filter_and_a_frozen_repeated_header(book):
    assert [ws.title for ws in tables(book)][:2] == list(RANKINGS)
    for ws in tables(book):
        assert ws.auto_filter.ref, ws.title
        first_col, head, last_col, last_row = range_boundaries(ws.auto_filter.ref)
        assert first_col == 1 and last_col == len(columns(ws)) and last_row >= head
        assert ws.cell(head, 1).font.b and ws.cell(head, 1).fill.fgColor.rgb.endswith("DDE7F0"), ws.title
        assert ws.freeze_panes == f"A{head + 1}", ws.title
        assert ws.print_title_rows == f"${head}:${head}", ws.title


def test_every_sheet_prints_on_a4_one_page_wide_with_page_numbers(book):
    for ws in book.worksheets:
        setup = ws.page_setup
        assert setup.paperSize in (9, "9"), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert setup.fitToWidth in (1, "1", None), ws.title                 # None: the default, 1
        one_page = ws.title in RANKINGS
        assert str(setup.fitToHeight) in (("1", "None") if one_page else ("0",)), ws.title    # None: 1
        assert setup.orientation == "landscape", ws.title                   # every table is wider than A4 is
        assert ws.print_area, ws.title
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text, ws.title
        assert ws.title.split()[0] in ws.oddHeader.left.text, ws.title      # the sheet's title on every page


def test_dates_and_times_are_date_cells(book):
    seen = set()
    for ws in tables(book):
        for name, col in columns(ws).items():
            if name not in DATE_COLUMNS:
                continue
            for row in body(ws):
                cell = row[col - 1]
                if cell.value is None:
                    continue
                assert isinstance(cell.value, dt.datetime) and cell.is_date, (ws.title, cell.coordinate, cell.value)
                assert cell.number_format.startswith("dd/mm/yyyy"), cell.number_format
                seen.add(name)
    assert seen == DATE_COLUMNS - {"Ngày cập nhật"}           # no post of the run was seen updated
    assert "Ngày cập nhật" in columns(book["Bài viết đã đọc"])
    checked = [r[columns(book["Kết quả kiểm tra"])["Thời điểm kiểm tra"] - 1].value for r in body(book["Kết quả kiểm tra"])]
    assert dt.datetime(2018, 11, 28, 9, 30) in checked           # 02:30 UTC, shown in the province's time
    heading = book[RANKINGS[0]]["A2"].value
    assert "Lập lúc: 01/12/2018 10:00:00 +07:00" in heading and "UTC+07:00" in heading


def test_rows_are_tall_enough_for_their_wrapped_text(book):
    ws = book["Kết quả kiểm tra"]
    checked = 0
    for row in body(ws):
        for cell in row:
            if not isinstance(cell.value, str) or cell.hyperlink or not cell.alignment.wrap_text:
                continue
            col_width = width(ws, cell.column)
            lines = sum(math.ceil(max(1, len(p)) / (col_width * LETTERS_PER_WIDTH)) for p in cell.value.split("\n"))
            assert ws.row_dimensions[cell.row].height >= 12 * lines, (cell.coordinate, cell.value)
            checked += 1
    assert checked > 500


def test_links_are_http_or_relative_to_the_report_folder_never_file(run, book):
    criteria = {c.id for c in run[0].rulebook.criteria}
    relative = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.hyperlink is None:
                    continue
                target = (cell.hyperlink.target or "").replace("\\", "/")
                assert not target.lower().startswith("file:"), target
                if target.startswith(("http://", "https://")):
                    continue
                assert target.startswith("html/agency/") and target.endswith(".html"), target
                assert cell.hyperlink.location in criteria, cell.hyperlink.location
                relative += 1
    assert relative > 100
    notes = [c.value for row in book["Kết quả kiểm tra"].iter_rows(max_row=4) for c in row if c.value]
    assert LINKS_NOTE in notes
    assert LINKS_NOTE.startswith("Các liên kết chứng cứ trỏ tới thư mục báo cáo; giữ tệp này trong thư mục đó")


def _words(book) -> str:
    """Every text of the workbook, links and words holding a "/" (URLs, paths) left out."""
    texts = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.hyperlink is None]
    return " ".join(w for t in texts for w in t.split() if "/" not in w)


def test_no_code_word_reaches_the_workbook(book):
    assert not _ENGLISH.findall(_words(book))


def test_criteria_are_named_and_the_rulebook_by_its_title(run, book):
    audit, _ = run
    slugs = {c.id for c in audit.rulebook.criteria} | set(audit.rulebook.groups)
    values = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert not values & slugs
    names = {r[columns(book["Kết quả kiểm tra"])["Tiêu chí"] - 1].value for r in body(book["Kết quả kiểm tra"])}
    # every criterion but the lists that name none of the run's agencies (a list applies to the agencies it names)
    agencies = {a.agency_id for a in audit.data.agencies}
    assert names == {c.name for c in audit.rulebook.criteria if c.kind != "listed" or agencies & set(c.agencies)}
    for ws in book.worksheets:
        assert f"Bộ tiêu chí: {audit.rulebook.title};" in ws["A2"].value, ws.title
    assert "rules/" not in _words(book) and "caobang-2018.yaml" not in " ".join(map(str, values))


# ------------------------------------------------------------------------------------------------ LibreOffice

def page_bound(audit) -> int:
    """The most pages the workbook may print as: a page per group's ranking, at least 10 verdicts, 20 pages
    fetched and 30 posts read on a page, a page for the review queue and one for the run."""
    pages = sum(len(v.pages) for v in audit.verdicts)
    posts = sum(len(v.posts) for v in audit.verdicts)
    return (len(audit.groups()) + math.ceil(len(audit.verdicts) / 10) + math.ceil(pages / 20)
            + math.ceil(posts / 30) + 2)


def test_libreoffice_prints_the_workbook_on_a4_within_its_bound(run, tmp_path):
    audit, path = run
    soffice = required_tool("soffice")
    started = time.monotonic()
    result = subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                             "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                            capture_output=True, timeout=180)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    reader = PdfReader(tmp_path / "report.pdf")
    count, bound = len(reader.pages), page_bound(audit)
    print(f"\nLibreOffice printed the workbook as {count} pages (bound {bound}) in {time.monotonic() - started:.1f}s")
    assert 0 < count <= bound
    assert all((round(float(p.mediabox.width)), round(float(p.mediabox.height))) in A4 for p in reader.pages)
    # each page's header names its sheet: each group's ranking is on one page, then the verdicts follow
    heads = [(page.extract_text() or "").strip().split("\n")[0] for page in reader.pages]
    for _gid, name, _ in audit.groups():
        assert heads.count(f"{L.RANKING} – {name}") == 1, heads
    assert heads[len(audit.groups())].startswith("Kết quả kiểm tra"), heads
