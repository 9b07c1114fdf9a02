"""The files agencies really send: the form as .xlsx, .xls (Excel 97–2003), .docx and .doc. The .xls and .doc are
saved by LibreOffice from the project's own forms, filled with the same answers, and must read back to the same
reports as the .xlsx; broken files, failed or slow conversions and documents that are not the form are named,
exit 2, nothing written. LibreOffice runs once per format for the whole module (module-scoped fixture)."""

import csv
import datetime as dt
import io
import subprocess
import tempfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.tools import required_tool
from verifier.cli import app
from verifier.errors import InputErrors
from verifier.forms import read_form, read_forms
from verifier.intake import load_registry
from verifier.office import ConversionFailed
from verifier.rulebook import load_rulebook

from .builders import mini_rulebook_path
from .test_forms import SO_A, fill

runner = CliRunner()
REGISTRY = ("agency_id,agency_name,group,portal\n"
            + "".join(f"so-{x},Sở {x.upper()},so,https://so{x}.caobang.gov.vn\n" for x in "abcd")
            + "ubnd-a,UBND huyện A,huyen,https://caobang.gov.vn/web/ubnd-a\n")
# what every agency's form must read back to: criterion -> (url, value, not_applicable, note)
EXPECTED = {
    "tin-tuc": ("soa.caobang.gov.vn/tin-tuc?utm_source=zalo", "", "", ""),
    "chi-dao": ("", "", "x", "Sở không ban hành văn bản chỉ đạo"),
    "thanh-tra": ("", "", "", ""),
    "staff": ("", "40", "", ""), "computers": ("", "30", "", ""), "lan": ("", "85,5", "", ""),
    "dvc": ("", "12", "", ""), "security": ("", "Có", "", ""),
}
BAD = {"tin-tuc": "http://sob.caobang .gov.vn/tin", "chi-dao": (None, "có lẽ", None), "lan": "nhiều"}
VALUE = "Giá trị hoặc đường dẫn (URL) chuyên mục"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def word_text(value) -> str:
    """An answer as typed into a Word cell."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def fill_docx(blank: Path, out: Path, agency_id: str, submitted: str, answers: dict) -> Path:
    """Fill the blank Word form as an agency would: table 1 the id and date, table 2 one answer per criterion."""
    doc = Document(str(blank))
    fields, criteria = doc.tables
    fields.rows[0].cells[1].text, fields.rows[2].cells[1].text = agency_id, submitted
    for row in criteria.rows[1:]:
        cells = row.cells
        answer = answers.get(cells[1].text)
        if isinstance(answer, tuple):
            for cell, value in zip(cells[4:7], answer):
                cell.text = word_text(value)
        elif answer is not None:
            cells[4].text = word_text(answer)
    doc.save(str(out))
    return out


def save_as(soffice: str, to: str, files: list[Path], out_dir: Path) -> None:
    """LibreOffice saves the files in the legacy format, all in one run, with a profile of its own."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", to, "--outdir", str(out_dir), *map(str, files)],
                       check=True, capture_output=True, timeout=120)
    for f in files:
        if not (out_dir / f"{f.stem}.{to}").is_file():
            pytest.skip(f"LibreOffice wrote no .{to} (apt-get install libreoffice-calc libreoffice-writer)")


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    """The blank forms (.xlsx and .docx) written by `form`, filled, and the .xls/.doc twins LibreOffice saved."""
    soffice = required_tool("soffice")
    tmp = tmp_path_factory.mktemp("office")
    rules = mini_rulebook_path(tmp)
    (tmp / "agencies.csv").write_text(REGISTRY, encoding="utf-8")
    for suffix in ("xlsx", "docx"):
        result = invoke("form", "--group", "so", "--out", tmp / f"phieu-so.{suffix}", "--rules", rules)
        assert result.exit_code == 0, result.output
    filled, good, bad = tmp / "filled", tmp / "good", tmp / "bad"
    for d in (filled, good, bad):
        d.mkdir()
    blank_x, blank_w = tmp / "phieu-so.xlsx", tmp / "phieu-so.docx"
    fill(blank_x, good / "so-a.xlsx", "so-a", dt.datetime(2018, 11, 20), SO_A)
    fill(blank_x, filled / "so-b.xlsx", "so-b", dt.datetime(2018, 11, 20), SO_A)
    fill_docx(blank_w, good / "so-c.docx", "so-c", "20/11/2018", SO_A)
    fill_docx(blank_w, filled / "so-d.docx", "so-d", "20/11/2018", SO_A)
    fill(blank_x, filled / "bad-x.xlsx", "so-a", "ngày 20", BAD)
    fill_docx(blank_w, filled / "bad-w.docx", "so-c", "ngày 20", BAD)
    save_as(soffice, "xls", [filled / "so-b.xlsx", filled / "bad-x.xlsx"], filled)
    save_as(soffice, "doc", [filled / "so-d.docx", filled / "bad-w.docx"], filled)
    for name in ("so-b.xls", "so-d.doc"):
        (filled / name).replace(good / name)
    for name in ("bad-x.xls", "bad-w.doc"):
        (filled / name).replace(bad / name)
    return tmp, rules


def test_the_four_formats_read_back_to_the_same_reports(forms):
    tmp, rules = forms
    assert sorted(p.name for p in (tmp / "good").iterdir()) == ["so-a.xlsx", "so-b.xls", "so-c.docx", "so-d.doc"]
    result = invoke("intake", tmp / "good", "--agencies", tmp / "agencies.csv", "--out", tmp / "reports.csv",
                    "--rules", rules)
    assert result.exit_code == 0, result.output
    assert "4 form(s), 32 rows" in result.stdout
    rows = list(csv.DictReader(io.StringIO((tmp / "reports.csv").read_text(encoding="utf-8"))))
    by_agency: dict[str, dict] = {}
    for r in rows:
        by_agency.setdefault(r["agency_id"], {})[r["criterion"]] = (r["url"], r["value"], r["not_applicable"],
                                                                    r["note"])
        assert r["submitted_at"] == "2018-11-20"
    assert by_agency == {a: EXPECTED for a in ("so-a", "so-b", "so-c", "so-d")}
    sources = {r["source"].rsplit(":", 1)[0].rsplit("/", 1)[-1] for r in rows}
    assert sources == {"so-a.xlsx", "so-b.xls", "so-c.docx", "so-d.doc"}      # the file the agency sent


def test_bad_answers_in_an_xls_or_a_doc_are_named_by_file_table_row_and_column(forms):
    tmp, rules = forms
    broken = tmp / "bad"
    (broken / "cut.docx").write_bytes((tmp / "good" / "so-c.docx").read_bytes()[:2000])
    notes = Document()
    notes.add_paragraph("Kính gửi Sở Thông tin và Truyền thông: số liệu xem trong thư.")
    notes.save(str(broken / "letter.docx"))
    other = Document()
    other.add_table(rows=2, cols=2).rows[0].cells[0].text = "Số liệu"
    other.save(str(broken / "other-table.docx"))
    (broken / "reports.csv").write_text("untouched", encoding="utf-8")
    result = invoke("intake", broken, "--agencies", tmp / "agencies.csv", "--out", broken / "reports.csv",
                    "--rules", rules)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    xls, doc = str(broken / "bad-x.xls"), str(broken / "bad-w.doc")
    expected = [
        (xls, "row 7, column 'C (Ngày gửi phiếu (dd/mm/yyyy))'", "Malformed date: 'ngày 20'"),
        (xls, f"row 13, column 'E ({VALUE})'", "Malformed URL"),
        (xls, "row 14, column 'F (Không áp dụng (ghi x))'", "not_applicable 'có lẽ'"),
        (xls, f"row 19, column 'E ({VALUE})'", "lan: 'nhiều' is not a number"),
        (doc, "table 1, row 3, column '2 (Ngày gửi phiếu (dd/mm/yyyy))'", "Malformed date: 'ngày 20'"),
        (doc, f"table 2, row 3, column '5 ({VALUE})'", "Malformed URL"),
        (doc, "table 2, row 4, column '6 (Không áp dụng (ghi x))'", "not_applicable 'có lẽ'"),
        (doc, f"table 2, row 9, column '5 ({VALUE})'", "lan: 'nhiều' is not a number"),
        (str(broken / "cut.docx"), "", "Cannot read file: not a readable Word document (.docx)"),
        (str(broken / "letter.docx"), "", "the document has no table: it is not the form"),
        (str(broken / "other-table.docx"), "", "the criteria table header not found"),
    ]
    for file, where, what in expected:
        assert any(line.removeprefix("Error: ").startswith(file) and where in line and what in line
                   for line in lines), (file, where, what, lines)
    assert (broken / "reports.csv").read_text(encoding="utf-8") == "untouched"
    assert not list(broken.glob("reports.csv.tmp"))


def test_a_conversion_that_fails_or_runs_too_long_is_named_and_leaves_nothing(forms, tmp_path):
    tmp, rules = forms
    rulebook = load_rulebook(rules)
    registry = load_registry(tmp / "agencies.csv", rulebook)
    leftovers = set(Path(tempfile.gettempdir()).glob("portal-evidence-convert-*"))
    with pytest.raises(ConversionFailed) as slow:
        read_form(tmp / "good" / "so-b.xls", registry, rulebook, timeout=0.2)
    assert str(slow.value).startswith(f"{tmp / 'good' / 'so-b.xls'}: Cannot convert file: LibreOffice did not "
                                      "convert it within 0.2 s")
    assert set(Path(tempfile.gettempdir()).glob("portal-evidence-convert-*")) == leftovers
    # an .xls that LibreOffice reads as text (random bytes) is not the form; a .doc it cannot open converts to
    # nothing; an empty file is not sent to LibreOffice
    (tmp_path / "noise.xls").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "zip.doc").write_bytes(b"PK\x03\x04 not a Word file")
    (tmp_path / "empty.doc").write_bytes(b"")
    with pytest.raises(InputErrors) as noise:
        read_forms(tmp_path, registry, rulebook)
    assert f"{tmp_path / 'zip.doc'}: Cannot convert file: LibreOffice could not read it as a .doc file" in str(
        noise.value)
    assert f"{tmp_path / 'empty.doc'}: Cannot read file: the file is empty" in str(noise.value)
    assert f"{tmp_path / 'noise.xls'}, row 11: Not a form of this rulebook: the criteria table header" in str(noise.value)


def test_without_libreoffice_a_doc_is_named_and_a_docx_still_reads(forms, tmp_path, monkeypatch):
    tmp, rules = forms
    (tmp_path / "so-d.doc").write_bytes((tmp / "good" / "so-d.doc").read_bytes())
    (tmp_path / "so-c.docx").write_bytes((tmp / "good" / "so-c.docx").read_bytes())
    monkeypatch.setenv("PATH", str(tmp_path))           # no soffice on this PATH
    result = invoke("intake", tmp_path, "--agencies", tmp / "agencies.csv", "--out", tmp_path / "reports.csv",
                    "--rules", rules)
    assert result.exit_code == 2
    assert (f"{tmp_path / 'so-d.doc'}: Cannot convert file: LibreOffice is needed to read .doc forms and is not "
            "installed") in result.stderr
    assert "apt-get install libreoffice-writer" in result.stderr and "so-c.docx" not in result.stderr
    assert not (tmp_path / "reports.csv").exists()


def test_the_blank_word_form_carries_the_workbooks_columns_texts_and_prints_on_a4(forms):
    tmp, _ = forms
    doc = Document(str(tmp / "phieu-so.docx"))
    sheet = [[c.value for c in r] for r in load_workbook(tmp / "phieu-so.xlsx").active.iter_rows()]
    paragraphs = [p.text for p in doc.paragraphs if p.text]
    assert paragraphs[:3] == [sheet[0][0], sheet[1][0], sheet[2][0]]        # title, group, deadline
    assert paragraphs[3:] == [r[0] for r in sheet if r[0] and str(r[0]).startswith(("Hướng dẫn", "Tiêu chí không",
                                                                                      "Không thay đổi"))]
    fields, criteria = doc.tables
    assert [[c.text for c in r.cells] for r in fields.rows] == [[r[0], r[2] or ""] for r in sheet[4:9]]
    assert [c.text for c in criteria.rows[0].cells] == sheet[10]
    word_rows = [(c[0].text, c[1].text, c[2].text, c[3].text, c[7].text)
                 for c in (r.cells for r in criteria.rows[1:])]
    sheet_rows = [(str(r[0]), r[1], r[2], r[3], str(r[7])) if r[1] else (r[0],) * 5 for r in sheet[11:]
                  if r[0] is not None and (r[1] or not str(r[0]).startswith(("Hướng", "Tiêu chí không", "Không")))]
    assert word_rows == sheet_rows
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (297, 210)     # A4 landscape
    usable = section.page_width.mm - section.left_margin.mm - section.right_margin.mm
    assert sum(c.width.mm for c in criteria.columns) == pytest.approx(usable, abs=1)
    result = invoke("form", "--group", "xa", "--out", tmp / "x.docx")
    assert result.exit_code == 2 and "'xa' is not one of" in result.output and not (tmp / "x.docx").exists()
