"""The confirmation form each agency gets back ("phiếu xác nhận"), read back through real clients: pypdf and
poppler's pdftotext for the PDF (A4, 1–3 pages, the agency's name, every criterion of its group, the total,
the level, both signature blocks, no English word), openpyxl and LibreOffice headless for the XLSX twin (A4,
page setup, real dates, 1–3 printed pages); and the "why and how to fix" texts, one for every reason the
verdict code can give.

The forms are written once per module by `report --format pdf` on a province run (tests/verifier/builders.py)
with one more, hostile agency whose name, post titles and category label are a formula and a script tag, and
once for every agency of the demo, crawled from the demo portals on loopback.
The first page of one form is kept as tests/artifacts/phieu-so-tu-phap-1.png.

LibreOffice and poppler are Debian packages (.ci/run installs them). Without them the tests that need them
are skipped, unless PORTAL_EVIDENCE_REQUIRE_BROWSER is set (CI sets it), where that is a failure.
"""

import ast
import dataclasses
import datetime as dt
import re
import subprocess
import time
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from crawler.records import Post
from tests.tools import required_tool
from verifier import reported, score, verdict
from verifier.cli import app
from verifier.export import labels as L
from verifier.export.audit import build_audit
from verifier.export.hints import hint, hint_texts, reasons_with_hints
from verifier.export.phieu import (
    COLUMNS,
    ITEM_COLUMNS,
    SIGN_AGENCY,
    SIGN_DEPARTMENT,
    build_form,
    render_html,
    write_form_pdf,
    write_phieu,
)
from verifier.rulebook import load_rulebook
from verifier.store import open_db, save_verdict

from .builders import (
    EVIL_TITLE,
    GENERATED,
    GOOD_FIGURES,
    SCRIPT_TITLE,
    add_agency,
    add_report,
    build_province,
    crawl_demo,
    page,
    website,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
A4 = (595.28, 841.89)
HOSTILE = "hostile"
HOSTILE_NAME = f"{EVIL_TITLE} {SCRIPT_TITLE}"
# English words of the code that must not reach an agency's form (whole words, case-insensitive)
FORBIDDEN = ("article", "articles", "listing", "listings", "wrong_category", "no_posts_in_year", "undated",
             "not_found", "off_site", "unreachable", "post", "posts", "post(s)", "pass", "fail", "review",
             "pending", "exempt", "scored", "blank", "category", "page", "points", "reason", "none", "null")


def _add_hostile_agency(db, run_id: int, rulebook) -> None:
    """A district whose name, post titles and page label are hostile, with a failing verdict of each kind."""
    add_agency(db, run_id, HOSTILE, HOSTILE_NAME, "huyen", "https://hostile.caobang.gov.vn")
    base = "https://hostile.caobang.gov.vn"
    rows = []
    for c in rulebook.criteria_for("huyen"):
        value = {**GOOD_FIGURES, "may-tinh-can-bo": "50", "ket-noi-internet": EVIL_TITLE,
                 "mang-chuyen-dung": ""}.get(c.id, "")
        rows.append(add_report(db, run_id, HOSTILE, c.id, url="" if c.is_reported else f"{base}/{c.id}",
                               value=value, submitted_at="2018-11-20"))
    verdicts = {
        "tin-tuc-su-kien": website(HOSTILE, "tin-tuc-su-kien", "pass", "ok", posts=(
            Post(EVIL_TITLE, f"{base}/a/1", dt.date(2018, 3, 5), None, "listing"),
            Post(SCRIPT_TITLE, f"{base}/a/2", dt.date(2018, 4, 5), None, "listing")),
            pages=(page(f"{base}/tin-tuc-su-kien", category="tin-tuc-su-kien", label=SCRIPT_TITLE, posts=2),)),
        "chi-dao-dieu-hanh": website(HOSTILE, "chi-dao-dieu-hanh", "fail", "wrong_category",
                                     pages=(page(f"{base}/chi-dao-dieu-hanh", category="tin-tuc-su-kien",
                                                 label="Tin tức - Sự kiện", posts=9),)),
        "thanh-tra": website(HOSTILE, "thanh-tra", "fail", "wrong_category",
                             pages=(page(f"{base}/thanh-tra", label=SCRIPT_TITLE, kind="page"),)),
        "ngan-sach": website(HOSTILE, "ngan-sach", "fail", "no_posts_in_year", posts_in_year=0, posts=(
            Post("Công khai dự toán 2017", f"{base}/ns/1", dt.date(2017, 1, 9), None, "listing"),)),
        "hoi-dap": website(HOSTILE, "hoi-dap", "fail", "not_found", pages=(page(f"{base}/hoi-dap", status=404),)),
        "du-an-dau-tu": website(HOSTILE, "du-an-dau-tu", "fail", "off_site", url="https://evil.example/du-an"),
        "dich-vu-cong": website(HOSTILE, "dich-vu-cong", "review", "undated", posts_in_year=0,
                                posts=(Post("Thủ tục A", f"{base}/d/1"), Post("Thủ tục B", f"{base}/d/2"))),
    }
    for c in rulebook.criteria_for("huyen"):
        if c.kind == "website":
            v = verdicts.get(c.id) or website(HOSTILE, c.id, "pass", "ok", posts=(
                Post(f"Bài {c.id}", f"{base}/{c.id}/1", dt.date(2018, 5, 1), None, "listing"),))
            save_verdict(db, run_id, v, rulebook.period)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phieu")
    db_path, run_id = build_province(tmp)
    db = open_db(db_path)
    rulebook = load_rulebook()
    _add_hostile_agency(db, run_id, rulebook)
    db.conn.close()
    return tmp, db_path, run_id


@pytest.fixture(scope="module")
def forms(run):
    """`report --format pdf` as a reviewer runs it; the render time of all the forms is printed."""
    tmp, db_path, run_id = run
    out = tmp / "out"
    started = time.monotonic()
    result = CliRunner().invoke(app, ["report", "--db", str(db_path), "--out", str(out), "--format", "pdf",
                                      "--now", GENERATED.isoformat()])
    elapsed = time.monotonic() - started
    assert result.exit_code in (0, 1), result.output
    print(f"\n{len(list((out / 'phieu').glob('*.pdf')))} forms (PDF + XLSX) rendered in {elapsed:.1f}s")
    return out / "phieu"


@pytest.fixture(scope="module")
def audit(run):
    _, db_path, run_id = run
    return build_audit(open_db(db_path), run_id, generated_at=GENERATED)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo crawled as a reviewer crawls it (a whole process, the demo server as its proxy), then every
    agency's form written; the render time per form and in all is printed."""
    tmp = tmp_path_factory.mktemp("demo")
    db_path = crawl_demo(tmp)
    audit = build_audit(open_db(db_path), generated_at=GENERATED)
    times = []
    for agency in audit.data.agencies:
        started = time.monotonic()
        write_phieu(audit, tmp, agencies=[agency.agency_id])
        times.append(time.monotonic() - started)
    print(f"\ndemo: {len(times)} forms (PDF + XLSX), {min(times):.2f}–{max(times):.2f}s each, {sum(times):.1f}s in all")
    return audit, tmp / "phieu"


def pdf_text(path: Path, *, raw: bool = False) -> str:
    """pdftotext's reading of the PDF (or, raw, its text in the order drawn), whitespace collapsed (a cell's text
    wraps over lines)."""
    text = subprocess.run([required_tool("pdftotext"), *(["-raw"] if raw else []), "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, check=True,
                          timeout=60).stdout.decode("utf-8")
    return " ".join(text.split())


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>')


def column_text(path: Path, head: str, next_head: str | None = None) -> str:
    """The words of one column of the criteria table, page by page and top to bottom (pdftotext -bbox): the
    column starts at its header's first word and ends where the next header starts (the header row is the
    one that starts with "STT"). pdftotext's reading order joins side-by-side cells into one line; read by
    position, a cell's lines stay together."""
    bbox = subprocess.run([required_tool("pdftotext"), "-bbox", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True, timeout=60).stdout.decode("utf-8")
    words = []
    for number, page_xml in enumerate(bbox.split("<page ")[1:]):
        found = [(float(x), float(y), unescape(w)) for x, y, w in _WORD.findall(page_xml)]
        header_y = next((y for x, y, w in found if w == COLUMNS[0]), None)
        if header_y is None:        # a last page with the summary and signatures only
            continue
        header = {w: x for x, y, w in found if abs(y - header_y) < 1}
        start = header[head.split()[0]]
        end = header[next_head.split()[0]] if next_head else float("inf")
        words += [(number, y, x, w) for x, y, w in found if y > header_y + 1 and start - 1 <= x < end - 1]
    return " ".join(w for *_, w in sorted(words))


def squash(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------------------------ PDF

def test_report_writes_a_pdf_and_an_xlsx_form_per_agency(forms, audit):
    ids = {a.agency_id for a in audit.data.agencies}
    assert {p.stem for p in forms.glob("*.pdf")} == ids
    assert {p.stem for p in forms.glob("*.xlsx")} == ids
    assert not list(forms.glob("*.tmp"))


def test_every_form_is_a4_portrait_within_three_pages(forms):
    for path in sorted(forms.glob("*.pdf")):
        reader = PdfReader(path)
        assert 1 <= len(reader.pages) <= 3, (path.name, len(reader.pages))
        for p in reader.pages:
            assert (round(float(p.mediabox.width), 2), round(float(p.mediabox.height), 2)) == A4, path.name


def test_each_form_names_the_agency_its_criteria_total_level_and_signatures(forms, audit):
    check_forms(forms, audit)


def test_every_demo_agency_form_is_a4_within_three_pages_in_vietnamese(demo):
    audit, forms = demo
    assert {p.stem for p in forms.glob("*.pdf")} == {a.agency_id for a in audit.data.agencies}
    lists = {v.agency_id for v in audit.verdicts if v.items}       # a list's items may take a page more
    for path in sorted(forms.glob("*.pdf")):
        reader = PdfReader(path)
        assert 1 <= len(reader.pages) <= 3 + (path.stem in lists), (path.name, len(reader.pages))
        assert all(abs(float(p.mediabox.width) - A4[0]) < 0.5 and abs(float(p.mediabox.height) - A4[1]) < 0.5
                   for p in reader.pages), path.name
        assert not english_words(pdf_text(path)), path.name
    check_forms(forms, audit)


def test_a_listed_criterion_shows_its_items_and_names_the_missing_ones_in_the_form(demo):
    """Each list's items under its criterion in both twins: the number or title, the date of issue, found (the
    page) or not (the pages searched); the hint names the items not found and the category they belong in."""
    audit, forms = demo
    lists = [v for v in audit.verdicts if v.items]
    assert {v.agency_id for v in lists} == {"stp", "skhdt"}
    assert any(f.status == "not_found" for v in lists for f in v.items)
    for v in lists:
        text = pdf_text(forms / f"{v.agency_id}.pdf", raw=True)      # in the order drawn: a cell's lines together
        assert all(name in text for name in ITEM_COLUMNS)
        cells = [str(c.value) for row in load_workbook(forms / f"{v.agency_id}.xlsx").active.iter_rows()
                 for c in row if c.value is not None]
        for f in v.items:
            item = next(i for r in build_form(audit, _agency(audit, v.agency_id)).rows for i in r.items
                        if i.name.startswith(" ".join((f.item.number or f.item.title).split())))
            assert squash(item.name) in text and item.issued in text, item
            assert L.ITEM_STATUS[f.status] in text
            assert [item.name, item.issued, item.where, item.result] == cells[cells.index(item.name):][:4]
            if f.status == "found":
                assert item.where == unquote(f.page_url)
            else:
                assert item.where == f"đã tìm trong {len(f.searched)} trang"
        missing = [f.item.name for f in v.items if f.status != "found"]
        if missing:
            criterion = audit.rulebook.by_id[v.criterion]
            hint_text = text[text.index("Lý do, cách khắc phục", text.index(squash(ITEM_COLUMNS[0]))):]
            assert all(squash(name) in hint_text for name in missing), hint_text[:400]
            assert squash(criterion.aliases[0]) in hint_text


def _agency(audit, agency_id):
    return next(a for a in audit.data.agencies if a.agency_id == agency_id)


def check_forms(forms: Path, audit) -> None:
    """Each agency's PDF holds its name, every criterion of its group, its total, level or why it is not
    ranked, the Quốc hiệu, the place and date line, the legend and both signature blocks."""
    rb = audit.rulebook
    for agency in audit.data.agencies:
        text = pdf_text(forms / f"{agency.agency_id}.pdf")
        compact = text.replace(" ", "")
        assert squash(agency.agency_name) in text
        names = column_text(forms / f"{agency.agency_id}.pdf", COLUMNS[1], COLUMNS[2])
        for criterion in rb.criteria_for(agency.group, agency.agency_id):
            assert squash(criterion.name) in names, (agency.agency_id, criterion.name)
        s = audit.score(agency.agency_id)
        if s.points:
            total = f"{s.total:g}/{rb.max_points(agency.group, agency.agency_id):g}".replace(".", ",")
            assert f"Tổngđiểm:{total}" in compact or not s.ranked
            assert total in column_text(forms / f"{agency.agency_id}.pdf", COLUMNS[5]).replace(" ", "")
        if s.ranked:
            assert f"Xếp loại: {s.level}; xếp thứ {s.rank}/" in text
        else:
            assert "Không xếp hạng" in text
        for head, note in (SIGN_AGENCY, SIGN_DEPARTMENT):
            assert head in text and note in text
        for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "UBND TỈNH CAO BẰNG",
                     "Cao Bằng, ngày …… tháng …… năm ……", "PHIẾU XÁC NHẬN KẾT QUẢ ĐÁNH GIÁ",
                     "Tốt: từ 85% (", "Yếu: dưới 50%", "Đồng ý"):
            assert line in text, (agency.agency_id, line)


_ENGLISH = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(w) for w in FORBIDDEN) + r")(?![\w/-])", re.I)


def english_words(text: str) -> list[str]:
    """The forbidden words in a form's text, links left out (they are the agency's own, even broken over lines)."""
    return _ENGLISH.findall(" ".join(w for w in text.split() if "/" not in w))


def test_no_english_word_of_the_code_reaches_a_form(forms):
    for path in sorted(forms.glob("*.pdf")):
        assert not english_words(pdf_text(path)), path.name


def test_sections_are_numbered_once_each_in_the_rulebook_order(forms, audit):
    form = build_form(audit, next(a for a in audit.data.agencies if a.agency_id == "so-tu-phap"))
    titles = [s.title for s in form.sections]
    assert [t.split(".")[0] for t in titles] == ["I", "II", "III", "IV", "V", "VI", "VII"]
    assert titles[0] == "I. Cổng/Trang thông tin điện tử" and titles[2] == "III. Ứng dụng CNTT trong nội bộ cơ quan"
    # the sector database, listed last in the rulebook, joins its section instead of opening it again
    sector = audit.rulebook.by_id["csdl-chuyen-nganh"].name
    assert form.sections[2].rows[-1].name.startswith(sector)
    assert [r.number for r in form.rows] == list(range(1, len(form.rows) + 1))
    text = pdf_text(forms / "so-tu-phap.pdf")
    assert text.count("Ứng dụng CNTT trong nội bộ cơ quan") == 1


def test_a_failing_criterion_says_why_and_how_to_fix_in_the_form(forms):
    text = pdf_text(forms / f"{HOSTILE}.pdf")
    for expected in (
        "Đường dẫn đã báo cáo là trang Tin tức, sự kiện, không phải chuyên mục Thông tin chỉ đạo, điều hành. "
        "Đề nghị đăng các bài viết về Thông tin chỉ đạo, điều hành vào đúng chuyên mục",
        "bài mới nhất đăng ngày 09/01/2017",
        "trả về lỗi HTTP 404",
        "không thuộc cổng/trang thông tin điện tử đã đăng ký của đơn vị (https://hostile.caobang.gov.vn)",
        "Đề nghị hiển thị ngày đăng",
        "lớn hơn “Tổng số cán bộ",
    ):
        assert squash(expected) in text, expected
    assert text.count("Lý do, cách khắc phục:") >= 7


def test_the_same_run_gives_the_same_pdf_bytes(forms, audit, tmp_path):
    agency = next(a for a in audit.data.agencies if a.agency_id == HOSTILE)
    again = write_form_pdf(build_form(audit, agency), tmp_path / "again.pdf")
    assert again.read_bytes() == (forms / f"{HOSTILE}.pdf").read_bytes()
    info = PdfReader(again).metadata
    assert info.creation_date == info.modification_date == GENERATED


def test_hostile_text_stays_text_in_the_pdf(forms, audit):
    path = forms / f"{HOSTILE}.pdf"
    raw = path.read_bytes()
    assert b"/JavaScript" not in raw and b"/JS" not in raw and b"/URI (javascript" not in raw
    text = pdf_text(path)
    assert EVIL_TITLE in text.replace(" ", "") or squash(EVIL_TITLE) in text
    assert SCRIPT_TITLE in text          # shown as the characters it is made of
    html = render_html(build_form(audit, next(a for a in audit.data.agencies if a.agency_id == HOSTILE)))
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_first_page_is_kept_as_a_picture(forms):
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "phieu-so-tu-phap-1"
    subprocess.run([required_tool("pdftoppm"), "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(forms / "so-tu-phap.pdf"), str(target)], check=True, timeout=60)
    png = target.with_suffix(".png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert abs(width / height - A4[0] / A4[1]) < 0.01


# ------------------------------------------------------------------------------------------------ XLSX

def test_xlsx_form_is_set_up_for_a4_printing(forms, audit):
    wb = load_workbook(forms / "so-tu-phap.xlsx")
    ws = wb.active
    assert ws.page_setup.paperSize in (9, "9") and ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, "1", None)
    assert ws.page_setup.fitToHeight in (0, "0")
    assert ws.print_title_rows and ws.print_area
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws.page_margins.left > 0.9
    dates = [c.value for row in ws.iter_rows() for c in row if getattr(c, "is_date", False)]
    assert dt.datetime(2018, 1, 1) in dates and dt.datetime(2018, 12, 31) in dates and dt.datetime(2018, 11, 20) in dates
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "STT")
    assert ws.print_title_rows == f"${header}:${header}"
    numbered = [r for r in range(header + 1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)]
    assert len(numbered) == len(audit.rulebook.criteria_for("so"))
    for r in numbered:
        height = ws.row_dimensions[r].height
        assert height, f"row {r} has no height"
        longest = max(len(str(ws.cell(r, c).value or "")) for c in (2, 3, 4))
        assert height >= 12 * (longest // 45 + 1), (r, height, longest)     # a 30-wide column holds < 45 letters


def test_xlsx_hostile_text_is_a_string_never_a_formula(forms):
    wb = load_workbook(forms / f"{HOSTILE}.xlsx")
    ws = wb.active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    name = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert name.value == HOSTILE_NAME and name.data_type == "s" and name.quotePrefix
    assert any(str(c.value).startswith(EVIL_TITLE) and c.quotePrefix for c in cells)    # the reported figure


def test_libreoffice_prints_each_xlsx_form_on_a4_within_three_pages(forms, demo, tmp_path):
    soffice = required_tool("soffice")
    out = tmp_path / "pdf"
    sheets = sorted(forms.glob("*.xlsx")) + sorted(demo[1].glob("*.xlsx"))
    assert len({p.stem for p in sheets}) == len(sheets)          # the two runs' agency ids differ
    started = time.monotonic()
    result = subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                             "--convert-to", "pdf", "--outdir", str(out), *map(str, sheets)],
                            capture_output=True, timeout=240)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    print(f"\nLibreOffice printed {len(list(out.glob('*.pdf')))} XLSX forms in {time.monotonic() - started:.1f}s")
    for path in sheets:
        reader = PdfReader(out / f"{path.stem}.pdf")
        assert 1 <= len(reader.pages) <= 3, (path.name, len(reader.pages))
        for p in reader.pages:
            assert abs(float(p.mediabox.width) - A4[0]) < 1 and abs(float(p.mediabox.height) - A4[1]) < 1, path.name
        text = pdf_text(out / f"{path.stem}.pdf")
        assert "ĐẠI DIỆN ĐƠN VỊ" in text and "Tổng cộng" in text


# ------------------------------------------------------------------------------------------------ hints

def _reasons_in_code() -> set[str]:
    """Every reason the verdict code can give: the modules' reason constants, and the second item of every
    (status, reason, ...) tuple and every reason= argument in them."""
    reasons = set(verdict.NO_POSTS_READ | verdict.COUNTED) | {reported.SCORED, reported.BLANK, reported.LOGIC_CHECK,
                                                              score.NOT_CHECKED}
    for module in (verdict, reported, score):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 4:
                item = node.value.elts[1]
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    reasons.add(item.value)
            if isinstance(node, ast.keyword) and node.arg == "reason" and isinstance(node.value, ast.Constant):
                reasons.add(node.value.value)
    return reasons


def test_every_reason_the_code_gives_has_a_hint():
    reasons = _reasons_in_code()
    assert {"wrong_category", "no_posts_in_year", "undated", "not_found", "off_site", "blank", "logic_check",
            "not_checked", "robots_disallowed", "not_applicable_unexplained"} <= reasons
    missing = reasons - reasons_with_hints("vi")
    assert not missing, f"no hint in verifier/export/hints/vi.yaml for: {sorted(missing)}"


def test_every_hint_fills_from_what_was_seen(rulebook):
    """Each reason's text is filled for a verdict that saw nothing but its criterion: no placeholder is left."""
    for reason in hint_texts("vi")["reasons"]:
        v = website("so-x", "thanh-tra", "fail", reason, url="")
        text = hint(v, rulebook)
        assert text and "{" not in text and "}" not in text, reason


def _hint(rulebook, **kw):
    return hint(website("so-x", kw.pop("criterion", "chi-dao-dieu-hanh"), kw.pop("status", "fail"),
                        kw.pop("reason"), **kw), rulebook, portal="https://so-x.caobang.gov.vn")


def test_hints_say_what_was_seen(rulebook):
    assert _hint(rulebook, reason="wrong_category", pages=(page("https://so-x.caobang.gov.vn/t",
                                                                category="tin-tuc-su-kien", label="Tin tức"),)) == (
        "Đường dẫn đã báo cáo là trang Tin tức, sự kiện, không phải chuyên mục Thông tin chỉ đạo, điều hành. "
        "Đề nghị đăng các bài viết về Thông tin chỉ đạo, điều hành vào đúng chuyên mục và báo cáo đường dẫn "
        "của chuyên mục đó.")
    home = _hint(rulebook, reason="wrong_category", pages=(page("https://so-x.caobang.gov.vn/", kind="home"),))
    assert home.startswith("Đường dẫn đã báo cáo là trang chủ của cổng, không phải trang chuyên mục")
    newest = _hint(rulebook, reason="no_posts_in_year", posts_in_year=0,
                   posts=(Post("Cũ", "https://so-x.caobang.gov.vn/1", dt.date(2016, 4, 2), None, "listing"),))
    assert "bài mới nhất đăng ngày 02/04/2016" in newest
    assert "HTTP 404" in _hint(rulebook, reason="not_found", pages=(page("https://so-x.caobang.gov.vn/c", status=404),))
    assert "HTTP 503" in _hint(rulebook, reason="unreachable", pages=(page("https://so-x.caobang.gov.vn/c", status=503),))
    timeout = dataclasses.replace(page("https://so-x.caobang.gov.vn/c"), status=None, error="timeout")
    assert "máy chủ không trả lời trong thời gian chờ" in _hint(rulebook, reason="unreachable", pages=(timeout,))
    assert "(https://so-x.caobang.gov.vn)" in _hint(rulebook, reason="off_site", url="https://evil.example/x")
    undated = _hint(rulebook, reason="undated", status="review", posts=(Post("A", "https://so-x.caobang.gov.vn/a"),))
    assert "có 1 bài viết" in undated and "Ngày đăng: 05/03/2018" in undated


def test_no_english_word_in_any_hint_text():
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in FORBIDDEN) + r")\b", re.I)

    def texts(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from texts(value)

    for text in texts(hint_texts("vi")):
        words = re.sub(r"\{\w+\}", " ", text).replace("robots.txt", " ")     # placeholders are filled in
        assert not pattern.findall(words), text


def test_a_blank_figure_and_a_figure_above_its_whole_get_their_own_hint(audit):
    from verifier.export.hints import audit_hint
    assert audit_hint(audit, HOSTILE, "mang-chuyen-dung").startswith("Đơn vị bỏ trống số liệu “Kết nối mạng")
    above = audit_hint(audit, HOSTILE, "may-tinh-can-bo")
    assert "“50”" in above and "lớn hơn “Tổng số cán bộ" in above


def test_the_date_line_is_left_blank_unless_a_date_is_given(audit):
    agency = audit.data.agencies[0]
    assert build_form(audit, agency).place_date == "Cao Bằng, ngày …… tháng …… năm ……"
    assert build_form(audit, agency, dated=dt.date(2018, 12, 5)).place_date == "Cao Bằng, ngày 05 tháng 12 năm 2018"
