"""Listed criteria (the lists agencies must publish): the rulebook's schema, items.csv, matching an item by its
document number or its title, the verdicts and both scorings, and `check` and `crawl` on the demo portals with
report.json and the workbook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from crawler.extract.rows import Row
from crawler.items import ItemRule, find_item, normalise_number
from crawler.records import Item, ItemFinding, Verdict
from demo.pipeline import DEMO_DIR, DEMO_LIMITS, proxy_env
from verifier.errors import InputError, RulebookError
from verifier.intake import load_items, load_registry
from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook
from verifier.score import criterion_points

ROOT = Path(__file__).resolve().parent.parent
ITEMS = DEMO_DIR / "items.csv"
STP_LIST = "http://sotuphap.caobang.gov.vn/taxonomy/term/38"
SKHDT_LIST = "http://sokhdt.caobang.gov.vn/chuyen-muc/du-an-dau-tu.html"


# ------------------------------------------------------------------------------------------------ rulebook

def _rulebook_with(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(DEFAULT_RULEBOOK.read_text(encoding="utf-8"))
    listed = next(c for c in raw["criteria"] if c["id"] == "danh-muc-vbqppl")
    change(raw, listed)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


RULEBOOK_ERRORS = [
    (lambda raw, c: c.pop("match"), "criteria[danh-muc-vbqppl]", "needs match"),
    (lambda raw, c: c.pop("agencies"), "criteria[danh-muc-vbqppl]", "needs agencies"),
    (lambda raw, c: c.update(scoring="some"), "criteria[danh-muc-vbqppl].scoring", "all_or_nothing"),
    (lambda raw, c: c.update(match="number"), "criteria[danh-muc-vbqppl].match", "document_number"),
    (lambda raw, c: c.update(agencies=["stp", "stp"]), "criteria[danh-muc-vbqppl]", "each agency once"),
    (lambda raw, c: c.update(search_url="http://x/?q="), "criteria[danh-muc-vbqppl].search_url", "pattern"),
    (lambda raw, c: c.update(title_threshold=1.5), "criteria[danh-muc-vbqppl].title_threshold", "less than or equal"),
    (lambda raw, c: (c.pop("aliases"), c.pop("keywords")), "criteria[danh-muc-vbqppl]", "aliases or keywords"),
    (lambda raw, c: raw["criteria"][0].update(agencies=["stp"]), "criteria[gioi-thieu]",
     "belong to listed criteria"),
]


@pytest.mark.parametrize("change,column,words", RULEBOOK_ERRORS, ids=[e[2] for e in RULEBOOK_ERRORS])
def test_a_listed_criterion_is_schema_checked(tmp_path, change, column, words):
    with pytest.raises(RulebookError) as info:
        load_rulebook(_rulebook_with(tmp_path, change))
    assert info.value.column == column and words in info.value.message()


def test_a_list_applies_to_the_agencies_it_names_only(rulebook):
    listed = {c.id: c.agencies for c in rulebook.listed_criteria()}
    assert listed == {"danh-muc-vbqppl": ("stp",), "danh-muc-du-an": ("skhdt",), "danh-muc-khcn": ("skhcn",),
                      "danh-muc-ket-luan-thanh-tra": ("thanh-tra-tinh",)}
    assert rulebook.max_points("so") == 150 and rulebook.max_points("so", "stp") == 154
    assert rulebook.max_points("so", "stnmt") == 150


# ------------------------------------------------------------------------------------------------ items.csv

HEADER = "agency_id,criterion,number,title,issued,url\n"
ITEM_ERRORS = [   # (a row of items.csv, the column named, words of the message)
    ("xyz,danh-muc-vbqppl,1/2018/QĐ-UBND,,,", "agency_id", "Agency not in the registry"),
    ("stp,no-such,1/2018/QĐ-UBND,,,", "criterion", "Criterion not in rulebook"),
    ("stp,van-ban-phap-luat,1/2018/QĐ-UBND,,,", "criterion", "is not a list"),
    ("stnmt,danh-muc-vbqppl,1/2018/QĐ-UBND,,,", "criterion", "does not apply to agency 'stnmt'"),
    ("stp,danh-muc-vbqppl,,Quyết định về,,", "number", "number is blank"),
    ("skhdt,danh-muc-du-an,1/2018,,,", "title", "title is blank"),
    ("stp,danh-muc-vbqppl,1/2018/QĐ-UBND,,31/02/2018,", "issued", "Malformed date"),
    ("stp,danh-muc-vbqppl,1/2018/QĐ-UBND,,,http://", "url", "Malformed URL"),
    ("stp,danh-muc-vbqppl,11/2017/QD - ubnd,,,", "number", "also listed at"),
]


@pytest.mark.parametrize("row,column,words", ITEM_ERRORS, ids=[e[2] for e in ITEM_ERRORS])
def test_items_csv_errors_name_file_row_and_column(tmp_path, rulebook, row, column, words):
    path = tmp_path / "items.csv"
    path.write_text(HEADER + "stp,danh-muc-vbqppl,11/2017/QĐ-UBND,,,\n" + row + "\n", encoding="utf-8")
    registry = load_registry(DEMO_DIR / "agencies.csv", rulebook)
    with pytest.raises(InputError) as info:
        load_items(path, registry, rulebook)
    [error] = info.value.errors
    assert (error.file, error.row, error.column) == (str(path), 3, column)
    assert words in error.message()


def test_the_demo_items_read_in_file_order(rulebook):
    rows = load_items(ITEMS, load_registry(DEMO_DIR / "agencies.csv", rulebook), rulebook)
    assert [(r.agency_id, r.criterion) for r in rows] == [("stp", "danh-muc-vbqppl")] * 5 + \
        [("skhdt", "danh-muc-du-an")] * 6
    assert rows[0].item.source.endswith("items.csv:2") and rows[0].item.issued.isoformat() == "2017-12-18"


def test_crawl_refuses_a_bad_items_file_with_exit_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "items.csv"
    bad.write_text(HEADER + "stp,danh-muc-vbqppl,1/2018/QĐ-UBND,,2018-13-01,\n", encoding="utf-8")
    db = tmp_path / "evidence.db"
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(DEMO_DIR / "agencies.csv"),
                             "--reports", str(DEMO_DIR / "reports.csv"), "--items", str(bad), "--db", str(db)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert f"{bad}, row 2, column 'issued': Malformed date" in result.stderr
    assert not db.exists()


# ------------------------------------------------------------------------------------------------ matching

NUMBERS = [   # (the number as listed, the text on the page, found)
    ("15/2018/QĐ-UBND", "Quyết định số 15/2018/QĐ-UBND ngày 05/3/2018", True),
    ("15/2018/qđ-ubnd", "Quyết định số 15/2018/QĐ-UBND", True),
    ("15/2018/QD-UBND", "Quyết định số 15/2018/QĐ-UBND", True),
    ("15 / 2018 / QĐ – UBND", "số 15/2018/QĐ-UBND", True),
    ("15/2018/QĐ-UBND", "Quyết định số 115/2018/QĐ-UBND", False),
    ("15/2018/QĐ-UBND", "Quyết định số 15/2018/QĐ-UBNDT", False),
    ("15/2018/QĐ-UBND", "Quyết định số 15/2019/QĐ-UBND", False),
]


@pytest.mark.parametrize("number,text,found", NUMBERS)
def test_a_document_number_is_matched_normalised_and_whole(number, text, found):
    rule = ItemRule("document_number")
    assert (find_item(Item(number=number), rule, (Row(text),)) is not None) == found


TITLES = [   # (the title as listed, the row on the page, found at the threshold 0.8)
    ("Dự án đầu tư xây dựng khu công nghiệp Chu Trinh", "DỰ ÁN đầu tư xây dựng khu công nghiệp Chu Trinh (2018)", True),
    ("Dự án đầu tư xây dựng khu công nghiệp Chu Trinh", "Du an dau tu xay dung khu cong nghiep Chu Trinh", True),
    ("Kết quả lựa chọn nhà thầu gói thầu số 11", "Kết quả lựa chọn nhà thầu gói thầu số 8", False),
    ("Dự án đầu tư xây dựng khu công nghiệp Chu Trinh", "Dự án đầu tư khu du lịch Bản Giốc", False),
    ("Dự án khu công nghiệp Chu Trinh", "Tin tức " * 40 + "Dự án khu công nghiệp Chu Trinh", False),
]


@pytest.mark.parametrize("title,text,found", TITLES)
def test_a_title_is_matched_by_its_words_and_numbers(title, text, found):
    assert (find_item(Item(title=title), ItemRule("title", 0.8), (Row(text),)) is not None) == found


def test_normalised_number():
    assert normalise_number(" 15 / 2018 /qđ – ubnd ") == "15/2018/QD-UBND"


# ------------------------------------------------------------------------------------------------ scoring

def _listed_verdict(criterion: str, found: int, total: int, status: str, reason: str) -> Verdict:
    items = tuple(ItemFinding(Item(number=f"{i}/2018/QĐ-UBND"), "found" if i < found else "not_found")
                  for i in range(total))
    return Verdict("stp", criterion, None, None, status, reason, None, items=items)


SCORES = [   # (criterion, found, listed, status, reason, points)
    ("danh-muc-vbqppl", 4, 5, "pass", "items_missing", 3.2),      # proportional: 4 × 4/5
    ("danh-muc-vbqppl", 5, 5, "pass", "ok", 4.0),
    ("danh-muc-vbqppl", 0, 5, "fail", "items_missing", 0.0),
    ("danh-muc-du-an", 5, 5, "pass", "ok", 4.0),                   # all_or_nothing
    ("danh-muc-du-an", 4, 5, "fail", "items_missing", 0.0),
]


@pytest.mark.parametrize("criterion,found,total,status,reason,points", SCORES)
def test_both_scorings(rulebook, criterion, found, total, status, reason, points):
    c = rulebook.criterion(criterion)
    cp = criterion_points(c, _listed_verdict(criterion, found, total, status, reason), None, None, (), rulebook)
    assert cp.points == points and cp.max_points == 4


# ------------------------------------------------------------------------------------------------ check, crawl

def test_check_finds_an_item_through_the_portals_search_page(server):
    # the spot-check reads one link: the project announced only in the news (found by the crawl among the
    # agency's other listings) is not found, and the list, all or nothing, fails
    from verifier.api import check_link

    with proxy_env(server.proxy_url):
        result = check_link(SKHDT_LIST, "danh-muc-du-an", agency_portal="http://sokhdt.caobang.gov.vn",
                            allow_private=True, timeout=DEMO_LIMITS.read_timeout, items=ITEMS, agency=("skhdt", None))
    v = result.verdict
    assert (v.status, v.reason) == ("fail", "items_missing")
    where = [(f.status, (f.page_url or "").split("/", 3)[-1].split("?")[0]) for f in v.items]
    assert where == [("found", "chuyen-muc/du-an-dau-tu.html")] * 4 + [("found", "tim-kiem"), ("not_found", "")]
    assert v.items[4].matched_text == "Dự án đầu tư xây dựng hạ tầng khu công nghiệp Chu Trinh"
    assert [p.purpose for p in v.pages] == ["listing", "search", "search"]


def test_check_json_names_the_item_never_published_and_the_pages_searched(server):
    env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": ""}
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", STP_LIST, "-c", "danh-muc-vbqppl",
                             "--agency-portal", "http://sotuphap.caobang.gov.vn", "--items", str(ITEMS),
                             "--agency", "stp", "--json", "--allow-private", "--timeout", "2"],
                            env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    got = json.loads(result.stdout)
    assert (got["status"], got["reason"], got["items_found"], got["items_total"]) == ("pass", "items_missing", 4, 5)
    missing = [i for i in got["evidence"]["items"] if i["status"] == "not_found"]
    assert missing == [{"number": "12/2018/QĐ-UBND", "title": "Quyết định ban hành quy chế phối hợp quản lý nhà "
                        "nước về bồi thường của Nhà nước", "issued": "2018-06-05", "url": None,
                        "status": "not_found", "searched": [STP_LIST]}]
    assert got["detail"].startswith("items missing: 12/2018/QĐ-UBND (4 of 5 item(s) found")


@pytest.fixture(scope="module")
def crawled_lists(server, tmp_path_factory):
    """The two agencies with lists crawled by `crawl --items`, and the report written from the run."""
    from verifier.export.audit import build_audit
    from verifier.export.json import write_json
    from verifier.export.xlsx import write_xlsx
    from verifier.store import open_db

    tmp = tmp_path_factory.mktemp("lists")
    keep = {"stp", "skhdt"}
    for name in ("agencies.csv", "reports.csv"):
        lines = (DEMO_DIR / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (tmp / name).write_text(lines[0] + "".join(x for x in lines[1:] if x.split(",", 1)[0] in keep),
                                encoding="utf-8")
    db = tmp / "evidence.db"
    env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": "",
           "NO_PROXY": ""}
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(tmp / "agencies.csv"),
                             "--reports", str(tmp / "reports.csv"), "--items", str(ITEMS), "--db", str(db),
                             "--timeout", str(DEMO_LIMITS.read_timeout)],
                            env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    audit = build_audit(open_db(db), None)
    report = json.loads(write_json(audit, tmp / "out").read_text(encoding="utf-8"))
    book = load_workbook(write_xlsx(audit, tmp / "out"))
    return report, book


def test_report_json_lists_each_item_with_its_evidence_and_the_points_by_share(crawled_lists):
    report, _ = crawled_lists
    verdicts = {(v["agency_id"], v["criterion"]): v for v in report["verdicts"]}
    stp, skhdt = verdicts[("stp", "danh-muc-vbqppl")], verdicts[("skhdt", "danh-muc-du-an")]
    assert (stp["status"], stp["reason"], stp["items_found"], stp["items_total"], stp["points"]) == \
        ("pass", "items_missing", 4, 5, 3.2)
    assert (skhdt["status"], skhdt["reason"], skhdt["points"]) == ("pass", "ok", 4)
    # the last item is found by the crawl among the posts of the agency's news listing, on its article page
    assert skhdt["evidence"]["items"][5]["found_on"].endswith("/khoi-cong-du-an-duong-tranh-phia-tay-thanh-pho-"
                                                              "cao-bang-2974.html")
    assert [i["status"] for i in stp["evidence"]["items"]] == ["found"] * 4 + ["not_found"]
    assert stp["evidence"]["items"][3]["matched_text"] == "Quyết định số 5/2017/QĐ-UBND ban hành quy định quản lý"
    assert "12/2018/QĐ-UBND" in stp["hint"] and "Văn bản" in stp["hint"]
    assert {a["agency_id"]: a["max_score"] for a in report["agencies"]} == {"stp": 154, "skhdt": 154}
    assert "items_found" not in verdicts[("stp", "tin-tuc-su-kien")]      # other verdicts keep their shape


def test_the_workbook_has_a_row_per_item_in_its_list_sheet(crawled_lists):
    _, book = crawled_lists
    rows = list(book["Danh mục"].iter_rows(min_row=5, values_only=True))
    assert [(r[0], r[2] or r[3], r[5]) for r in rows][3:6] == [
        ("stp", "5/2017/QĐ – UBND", "Đã đăng trên cổng"), ("stp", "12/2018/QĐ-UBND", "Không tìm thấy trên cổng"),
        ("skhdt", "Thông báo mời thầu gói thầu số 12: xây lắp công trình đường giao thông", "Đã đăng trên cổng")]
    assert len(rows) == 11


# ------------------------------------------------------------------------------------------------ forms

def _fill_xlsx(blank: Path, out: Path, agency: str, sheet: str, category: str, items: list[tuple]) -> None:
    book = load_workbook(blank)
    book["Phiếu"]["C5"], book["Phiếu"]["C7"] = agency, "20/11/2018"
    ws = book[sheet]
    ws["D5"] = category
    for offset, values in enumerate(items):
        for col, value in zip("BCDE", values):
            ws[f"{col}{7 + offset}"] = value
    book.save(out)


def _fill_docx(blank: Path, out: Path, agency: str, table: int, category: str, items: list[tuple]) -> None:
    from docx import Document

    doc = Document(str(blank))
    fields = doc.tables[0]
    fields.rows[0].cells[1].text, fields.rows[2].cells[1].text = agency, "20/11/2018"
    t = doc.tables[table - 1]
    t.rows[0].cells[3].text = category
    for offset, values in enumerate(items):
        for col, value in enumerate(values, start=1):
            t.rows[2 + offset].cells[col].text = value
    doc.save(str(out))


FORM_ITEMS = [("11/2017/QĐ-UBND", "Quyết định ban hành quy định quản lý", "18/12/2017", ""),
              ("9/2017/QD-UBND", "", "", STP_LIST)]


@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
def test_a_form_with_lists_round_trips_into_items_csv(tmp_path, rulebook, suffix):
    from verifier.forms import intake_forms, write_form

    blank = write_form(rulebook, "so", tmp_path / f"blank{suffix}")
    (tmp_path / "in").mkdir()
    filled = tmp_path / "in" / f"stp{suffix}"
    if suffix == ".xlsx":
        assert load_workbook(blank).sheetnames == ["Phiếu", "Danh mục 1", "Danh mục 2", "Danh mục 3", "Danh mục 4"]
        _fill_xlsx(blank, filled, "stp", "Danh mục 1", STP_LIST, FORM_ITEMS)
    else:
        _fill_docx(blank, filled, "stp", 3, STP_LIST, FORM_ITEMS)
    registry = load_registry(DEMO_DIR / "agencies.csv", rulebook)
    intake_forms(tmp_path / "in", registry, rulebook, tmp_path / "reports.csv")
    assert (tmp_path / "items.csv").read_text(encoding="utf-8") == (
        "agency_id,criterion,number,title,issued,url\n"
        "stp,danh-muc-vbqppl,11/2017/QĐ-UBND,Quyết định ban hành quy định quản lý,2017-12-18,\n"
        f"stp,danh-muc-vbqppl,9/2017/QD-UBND,,,{STP_LIST}\n")
    reports = (tmp_path / "reports.csv").read_text(encoding="utf-8")
    assert f"stp,Sở Tư pháp,so,danh-muc-vbqppl,{STP_LIST}," in reports
    read_back = load_items(tmp_path / "items.csv", registry, rulebook)       # what crawl --items reads
    assert [r.item.number for r in read_back] == ["11/2017/QĐ-UBND", "9/2017/QD-UBND"]


FORM_ERRORS = [   # (format, agency, list, items, the message expected)
    (".xlsx", "stp", 1, [("11/2017/QĐ-UBND", "", "31/02/2017", "")],
     "sheet 'Danh mục 1', row 7, column 'D (Ngày ban hành (dd/mm/yyyy))': Malformed date"),
    (".xlsx", "stp", 1, [("", "Quyết định về", "", "")], "row 7, column 'B (Số ký hiệu)': Bad value: number is blank"),
    (".docx", "stp", 3, [("1/2018/QĐ-UBND", "", "", "ftp://x")], "table 3, row 3, column '5 (Đường dẫn (URL) trên "
     "cổng)': Malformed URL"),
    (".docx", "stnmt", 3, [("1/2018/QĐ-UBND", "", "", "")], "table 3, row 3, column 'criterion': Bad value: "
     "criterion 'danh-muc-vbqppl' does not apply to agency 'stnmt'"),
]


@pytest.mark.parametrize("suffix,agency,where,items,message", FORM_ERRORS, ids=[e[4][-40:] for e in FORM_ERRORS])
def test_a_forms_list_errors_name_file_sheet_or_table_row_and_column(tmp_path, rulebook, suffix, agency, where,
                                                                     items, message):
    from verifier.forms import intake_forms, write_form

    blank = write_form(rulebook, "so", tmp_path / f"blank{suffix}")
    (tmp_path / "in").mkdir()
    filled = tmp_path / "in" / f"{agency}{suffix}"
    if suffix == ".xlsx":
        _fill_xlsx(blank, filled, agency, f"Danh mục {where}", STP_LIST, items)
    else:
        _fill_docx(blank, filled, agency, where, STP_LIST, items)
    registry = load_registry(DEMO_DIR / "agencies.csv", rulebook)
    with pytest.raises(InputError) as info:
        intake_forms(tmp_path / "in", registry, rulebook, tmp_path / "reports.csv")
    assert any(message in e.message() and str(filled) in e.message() for e in info.value.errors), \
        info.value.message()
    assert not (tmp_path / "reports.csv").exists() and not (tmp_path / "items.csv").exists()
