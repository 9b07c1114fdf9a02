"""Forms: `form` writes the blank form of a group, an agency fills it (here openpyxl), `intake` reads a folder of
filled forms into reports.csv, and `score` gives the points worked out by hand. Bad forms are named by file, row
and column, exit 2, and nothing is written."""

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from verifier.cli import app
from verifier.forms import read_form
from verifier.intake import load_registry, load_reports
from verifier.rulebook import load_rulebook
from verifier.store import open_db, save_verdict
from verifier.verdict import verdict_without_fetch

from .builders import add_agency, add_run, mini_rulebook_path, posts_in, website

runner = CliRunner()
REGISTRY = ("agency_id,agency_name,group,portal\n"
            "so-a,Sở A,so,https://soa.caobang.gov.vn\n"
            "so-b,Sở B,so,https://sob.caobang.gov.vn\n"
            "ubnd-a,UBND huyện A,huyen,https://caobang.gov.vn/web/ubnd-a\n")
# What so-a writes, typed the way people type into a spreadsheet: numbers as numbers or as text.
SO_A = {"tin-tuc": "soa.caobang.gov.vn/tin-tuc?utm_source=zalo",   # no scheme, a tracking query
        "chi-dao": (None, "x", "Sở không ban hành văn bản chỉ đạo"),    # not applicable, explained
        "thanh-tra": None,                                            # left blank
        "staff": 40, "computers": 30, "lan": "85,5", "dvc": 12.0, "security": "Có"}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def setup(tmp_path):
    rules = mini_rulebook_path(tmp_path)
    (tmp_path / "agencies.csv").write_text(REGISTRY, encoding="utf-8")
    (tmp_path / "in").mkdir()
    result = invoke("form", "--group", "so", "--out", tmp_path / "phieu-so.xlsx", "--rules", rules)
    assert result.exit_code == 0, result.output
    return tmp_path, rules


def fill(blank: Path, out: Path, agency_id, submitted, answers: dict, *, name=None, group=None) -> Path:
    """Fill the blank form as an agency would: its id and date above the table, one answer per criterion row."""
    wb = load_workbook(blank)
    ws = wb.active
    ws["C5"], ws["C7"] = agency_id, submitted
    if name is not None:
        ws["C6"] = name
    if group is not None:
        ws["C8"] = group
    for row in ws.iter_rows(min_row=12):
        answer = answers.get(row[1].value)
        if isinstance(answer, tuple):
            row[4].value, row[5].value, row[6].value = answer
        elif answer is not None:
            row[4].value = answer
    wb.save(out)
    return out


def test_the_blank_form_lists_the_groups_criteria_with_their_points(setup):
    tmp, _ = setup
    ws = load_workbook(tmp / "phieu-so.xlsx").active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0][0].startswith("PHIẾU CUNG CẤP SỐ LIỆU") and "26/11/2018" in rows[2][0]
    assert (rows[7][2], rows[8][2]) == ("so", "Thử nghiệm 2018")        # group and rulebook, filled in
    criteria = [(r[1], r[3], r[7]) for r in rows[11:] if r[1] and r[0] is not None]
    assert criteria == [("tin-tuc", "URL", 10), ("chi-dao", "URL", 5), ("thanh-tra", "URL", 4),
                        ("staff", "người", 0), ("computers", "người", 6), ("lan", "%", 4),
                        ("dvc", "dịch vụ", 10), ("security", "Có/Không", 3)]
    headings = [r[0] for r in rows[11:] if r[0] and r[1] is None and not str(r[0]).startswith(("Hướng", "Tiêu", "Không"))]
    assert headings == ["Cổng/Trang thông tin điện tử (ghi đường dẫn chuyên mục)", "Số liệu báo cáo"]


def test_a_form_for_an_unknown_group_is_refused(setup):
    tmp, rules = setup
    result = invoke("form", "--group", "xa", "--out", tmp / "x.xlsx", "--rules", rules)
    assert result.exit_code == 2 and "'xa' is not one of so, huyen" in result.output
    assert not (tmp / "x.xlsx").exists()


def test_form_intake_score_round_trip(setup):
    tmp, rules = setup
    fill(tmp / "phieu-so.xlsx", tmp / "in" / "so-a.xlsx", "so-a", dt.datetime(2018, 11, 20), SO_A, name="SỞ A")
    late = fill(tmp / "phieu-so.xlsx", tmp / "in" / "so-b.xlsx", "so-b", None, {**SO_A, "lan": 100})
    stamp = dt.datetime(2018, 11, 30, 9, 0).timestamp()        # no date written: the file's date counts
    os.utime(late, (stamp, stamp))

    result = invoke("intake", tmp / "in", "--agencies", tmp / "agencies.csv", "--out", tmp / "reports.csv",
                    "--rules", rules)
    assert result.exit_code == 0, result.output
    assert "2 form(s), 16 rows" in result.stdout
    assert "late: so-b sent so-b.xlsx on 2018-11-30" in result.stderr

    # the crawl's part, by hand: import the rows, verify the links (tin-tuc has 14 posts in 2018)
    rulebook = load_rulebook(rules)
    reports = load_reports(tmp / "reports.csv", load_registry(tmp / "agencies.csv", rulebook), rulebook)
    by_key = {(r.agency_id, r.criterion): r for r in reports}
    assert by_key[("so-a", "tin-tuc")].url == "soa.caobang.gov.vn/tin-tuc?utm_source=zalo"
    assert (by_key[("so-a", "lan")].value, by_key[("so-a", "dvc")].value) == ("85,5", "12")
    assert by_key[("so-a", "chi-dao")].not_applicable and by_key[("so-a", "chi-dao")].note.startswith("Sở không")
    assert {r.submitted_at for r in reports if r.agency_id == "so-b"} == {dt.date(2018, 11, 30)}
    db = open_db(tmp / "evidence.db")
    run_id = add_run(db, rules)
    for agency_id, name in (("so-a", "Sở A"), ("so-b", "Sở B")):
        add_agency(db, run_id, agency_id, name, "so")
    db["reports"].insert_all([{"run_id": run_id, "agency_id": r.agency_id, "criterion": r.criterion, "url": r.url,
                               "value": r.value, "not_applicable": int(r.not_applicable), "note": r.note,
                               "submitted_at": r.submitted_at.isoformat(), "source": r.source} for r in reports])
    for agency_id in ("so-a", "so-b"):
        for v in (website(agency_id, "tin-tuc", "pass", "ok", posts=posts_in(14)),
                  verdict_without_fetch(agency_id, "chi-dao", url=None, not_applicable=True,
                                        note=by_key[(agency_id, "chi-dao")].note),
                  website(agency_id, "thanh-tra", "fail", "no_link", url="")):
            save_verdict(db, run_id, v, rulebook.period)

    result = invoke("score", "--db", tmp / "evidence.db", "--json")
    assert result.exit_code == 0, result.output
    agencies = {a["agency_id"]: a for a in json.loads(result.stdout)["agencies"]}
    # 10 (14 posts) + 5 (exempt) + 0 (no link) + 0 (staff) + 30/40×6 + 85.5%×4 + 7 (12 services) + 3 (Có)
    assert agencies["so-a"]["score"] == pytest.approx(10 + 5 + 0 + 0 + 4.5 + 3.42 + 7 + 3) == 32.92
    assert (agencies["so-a"]["rank"], agencies["so-a"]["level"]) == (1, "Khá")        # 78.38%
    assert (agencies["so-b"]["ranked"], agencies["so-b"]["late"], agencies["so-b"]["score"]) == (False, True, None)
    points = dict(db.execute("select criterion, points from criterion_points where agency_id = 'so-a'").fetchall())
    assert points == {"tin-tuc": 10, "chi-dao": 5, "thanh-tra": 0, "staff": 0, "computers": 4.5, "lan": 3.42,
                      "dvc": 7, "security": 3}


def test_intake_names_file_row_and_column_of_every_problem_and_writes_nothing(setup):
    tmp, rules = setup
    blank = tmp / "phieu-so.xlsx"
    fill(blank, tmp / "in" / "1-good.xlsx", "so-a", "20/11/2018", SO_A)
    fill(blank, tmp / "in" / "2-bad.xlsx", "so-b", "ngày 20", {
        "tin-tuc": "http://sob.caobang .gov.vn/tin", "chi-dao": (None, "có lẽ", None), "lan": "nhiều"})
    fill(blank, tmp / "in" / "3-stranger.xlsx", "so-z", "20/11/2018", SO_A)
    fill(blank, tmp / "in" / "4-wrong-group.xlsx", "ubnd-a", "20/11/2018", SO_A)
    (tmp / "in" / "5-calc.ods").write_bytes(b"PK\x03\x04 an OpenDocument sheet")
    (tmp / "reports.csv").write_text("untouched", encoding="utf-8")

    result = invoke("intake", tmp / "in", "--agencies", tmp / "agencies.csv", "--out", tmp / "reports.csv",
                    "--rules", rules)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    bad = str(tmp / "in" / "2-bad.xlsx")
    expected = [
        (bad, "row 7, column 'C (Ngày gửi phiếu (dd/mm/yyyy))'", "Malformed date: 'ngày 20'"),
        (bad, "row 13, column 'E (Giá trị hoặc đường dẫn (URL) chuyên mục)'", "Malformed URL"),
        (bad, "row 14, column 'F (Không áp dụng (ghi x))'", "not_applicable 'có lẽ'"),
        (bad, "row 19, column 'E (Giá trị hoặc đường dẫn (URL) chuyên mục)'", "lan: 'nhiều' is not a number"),
        (str(tmp / "in" / "3-stranger.xlsx"), "row 5, column 'C (Mã đơn vị)'", "Agency not in the registry: 'so-z'"),
        (str(tmp / "in" / "4-wrong-group.xlsx"), "row 8, column 'C (Nhóm)'", "the agency is in group 'huyen'"),
        (str(tmp / "in" / "5-calc.ods"), "", ".ods forms are not read"),
    ]
    for file, where, what in expected:
        assert any(line.removeprefix("Error: ").startswith(file) and where in line and what in line
                   for line in lines), (file, where, what, lines)
    assert not any("1-good" in line for line in lines)
    assert "Hint:" in lines[-1]
    assert (tmp / "reports.csv").read_text(encoding="utf-8") == "untouched"
    assert not list(tmp.glob("reports.csv.tmp"))


def test_two_forms_of_one_agency_are_an_error_naming_both(setup):
    tmp, rules = setup
    fill(tmp / "phieu-so.xlsx", tmp / "in" / "a1.xlsx", "so-a", "20/11/2018", SO_A)
    fill(tmp / "phieu-so.xlsx", tmp / "in" / "a2.xlsx", "so-a", "21/11/2018", SO_A)
    result = invoke("intake", tmp / "in", "--agencies", tmp / "agencies.csv", "--out", tmp / "reports.csv",
                    "--rules", rules)
    assert result.exit_code == 2
    assert "a2.xlsx, row 5" in result.stderr and "also sent" in result.stderr and "a1.xlsx" in result.stderr
    assert not (tmp / "reports.csv").exists()


def test_an_edited_criterion_id_is_named(setup):
    tmp, rules = setup
    path = fill(tmp / "phieu-so.xlsx", tmp / "in" / "a.xlsx", "so-a", "20/11/2018", SO_A)
    wb = load_workbook(path)
    wb.active["B17"] = "so-can-bo"            # the staff row
    wb.save(path)
    result = invoke("intake", tmp / "in", "--agencies", tmp / "agencies.csv", "--out", tmp / "reports.csv",
                    "--rules", rules)
    assert result.exit_code == 2
    assert "a.xlsx, row 17, column 'B (Mã tiêu chí)': Criterion not in rulebook: 'so-can-bo'" in result.stderr


def test_a_file_that_is_not_a_workbook_is_named(setup):
    tmp, rules = setup
    (tmp / "in" / "a.xlsx").write_text("not a zip", encoding="utf-8")
    result = invoke("intake", tmp / "in", "--agencies", tmp / "agencies.csv", "--out", tmp / "reports.csv",
                    "--rules", rules)
    assert result.exit_code == 2 and "a.xlsx: Cannot read file: not a readable XLSX workbook" in result.stderr


def test_a_percentage_typed_as_85_percent_in_excel_reads_as_85(setup):
    """Excel keeps "85,5%" typed into a cell as 0.855 shown with a percent format: the agency means 85.5."""
    tmp, rules = setup
    path = fill(tmp / "phieu-so.xlsx", tmp / "in" / "a.xlsx", "so-a", "20/11/2018", {**SO_A, "lan": 0.855})
    wb = load_workbook(path)
    cell = next(r[4] for r in wb.active.iter_rows(min_row=12) if r[1].value == "lan")
    cell.number_format = "0.0%"
    wb.save(path)
    rulebook = load_rulebook(rules)
    form = read_form(path, load_registry(tmp / "agencies.csv", rulebook), rulebook)
    values = {r.criterion: r.value for r in form.reports}
    assert values["lan"] == "85.5" and values["staff"] == "40"
