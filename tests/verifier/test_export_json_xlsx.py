"""report.json in the SPEC.md §5 schema, and the XLSX workbook read back with openpyxl holding the same numbers;
crawled text that looks like a formula stays text."""

import json

import pytest
from openpyxl import load_workbook

from verifier.export.audit import build_audit, load_run
from verifier.export.json import write_json
from verifier.export.xlsx import write_xlsx
from verifier.overrides import new_override
from verifier.store import open_db, save_override
from verifier.verdict import NO_POSTS_READ

from .builders import EVIL_TITLE, GENERATED, SCRIPT_TITLE, build_province

FORMULA_NOTE = "+SUM(A1:A9) xem lại"        # a reviewer's note that starts like a formula


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("province")
    db_path, run_id = build_province(tmp)
    db = open_db(db_path)
    machine = load_run(db, run_id).verdict_map()[("so-tu-phap", "thanh-tra")]
    save_override(db, new_override("so-tu-phap", "thanh-tra", "pass", FORMULA_NOTE, "@Reviewer",
                                   at=GENERATED, run_id=run_id, machine=machine))
    audit = build_audit(db, run_id, generated_at=GENERATED)
    out = tmp / "out"
    data = json.loads(write_json(audit, out).read_text(encoding="utf-8"))
    book = load_workbook(write_xlsx(audit, out, link_html=True))
    return data, book


# ------------------------------------------------------------------------------------------------ report.json

AGENCY_KEYS = {"agency_id": str, "agency_name": str, "group": str, "late": bool, "ranked": bool,
               "score": (float, type(None)), "max_score": (int, float), "rank": (int, type(None)),
               "level": (str, type(None))}
VERDICT_KEYS = {"agency_id": str, "criterion": str, "url": (str, type(None)), "checked_url": (str, type(None)),
                "status": str, "reason": str, "posts_in_year": (int, type(None)), "discovered": bool,
                "points": (int, float, type(None)), "override": (dict, type(None)), "evidence": dict}


def test_report_json_has_exactly_the_spec_keys_and_types(report):
    data, _ = report
    assert list(data) == ["rulebook", "year", "period", "generated_at", "run", "agencies", "verdicts"]
    assert data["rulebook"] == "rules/caobang-2018.yaml" and data["year"] == 2018
    assert data["period"] == ["2018-01-01", "2018-12-31"] and data["generated_at"] == "2018-12-01T03:00:00Z"
    assert len(data["agencies"]) == 6
    for agency in data["agencies"]:
        assert set(agency) == set(AGENCY_KEYS)
        assert all(isinstance(agency[k], t) for k, t in AGENCY_KEYS.items()), agency
    assert len(data["verdicts"]) == 5 * 34          # every criterion of every agency with a form
    for verdict in data["verdicts"]:
        assert set(verdict) == set(VERDICT_KEYS)
        assert all(isinstance(verdict[k], t) for k, t in VERDICT_KEYS.items()), verdict
        assert verdict["status"] in ("pass", "fail", "review", "exempt")
        assert list(verdict["evidence"]) == ["pages", "posts", "fetched_at"]
        assert verdict["evidence"]["fetched_at"].endswith("Z")


def test_agencies_are_listed_per_group_in_ranking_order(report):
    data, _ = report
    rows = [(a["agency_id"], a["ranked"], a["late"], a["score"], a["rank"], a["level"]) for a in data["agencies"]]
    assert rows == [
        ("so-tttt", True, False, 133.05, 1, "Tốt"),
        ("so-tu-phap", True, False, 130.05, 2, "Tốt"),        # thanh-tra passed by the reviewer: +3
        ("so-xay-dung", False, True, None, None, None),        # late
        ("so-y-te", False, False, None, None, None),           # no form
        ("ubnd-bao-lac", True, False, 130.45, 1, "Tốt"),       # the two districts tie
        ("ubnd-hoa-an", True, False, 130.45, 1, "Tốt"),
    ]


def test_posts_in_year_follows_the_null_rules(report):
    data, _ = report
    seen = set()
    for v in data["verdicts"]:
        seen.add(v["reason"])
        counted = {p["url"] for p in v["evidence"]["posts"] if p["in_period"]}
        if v["reason"] in NO_POSTS_READ or v["reason"] in ("scored", "blank", "logic_check"):
            assert v["posts_in_year"] is None, v
        elif v["reason"] == "undated":
            assert v["posts_in_year"] == 0
        else:                                   # ok, no_posts_in_year: the distinct posts dated in the period
            assert v["posts_in_year"] == len(counted), v
    assert {"ok", "undated", "no_posts_in_year", "not_applicable", "wrong_category", "scored"} <= seen


def test_points_add_up_to_the_agency_score(report):
    data, _ = report
    for agency in data["agencies"]:
        mine = [v["points"] for v in data["verdicts"] if v["agency_id"] == agency["agency_id"]]
        if agency["ranked"]:
            assert sum(mine) == pytest.approx(agency["score"])
    chi_dao = next(v for v in data["verdicts"] if (v["agency_id"], v["criterion"]) == ("so-tu-phap", "chi-dao-dieu-hanh"))
    assert (chi_dao["status"], chi_dao["posts_in_year"], chi_dao["points"]) == ("pass", 2, 2.0)
    assert [p["title"] for p in chi_dao["evidence"]["posts"]][0] == EVIL_TITLE
    assert chi_dao["evidence"]["pages"][0]["warc_record"].startswith("run-1-20181128-1.warc.gz#0+")


def test_an_override_sits_beside_the_machine_verdict_in_json(report):
    data, _ = report
    v = next(v for v in data["verdicts"] if (v["agency_id"], v["criterion"]) == ("so-tu-phap", "thanh-tra"))
    assert (v["status"], v["reason"], v["points"]) == ("review", "undated", 3.0)
    assert v["override"]["status"] == "pass" and v["override"]["note"] == FORMULA_NOTE


# ------------------------------------------------------------------------------------------------ XLSX

def _table(ws, header_first: str):
    """The rows under the header row whose first cell is `header_first`, as dicts keyed by the header."""
    rows = list(ws.iter_rows())
    start = next(i for i, r in enumerate(rows) if r[0].value == header_first)
    head = [c.value for c in rows[start]]
    return [dict(zip(head, r)) for r in rows[start + 1:] if any(c.value is not None for c in r)]


def test_one_ranking_sheet_per_group_with_the_json_numbers(report):
    data, book = report
    assert book.sheetnames[:2] == ["Xếp hạng so", "Xếp hạng huyen"]
    for sheet, group in (("Xếp hạng so", "so"), ("Xếp hạng huyen", "huyen")):
        got = [(r["Mã đơn vị"].value, r["Xếp hạng"].value, r["Điểm"].value, r["Điểm tối đa"].value,
                r["Xếp loại"].value or None) for r in _table(book[sheet], "Xếp hạng")]
        want = [(a["agency_id"], a["rank"], a["score"], a["max_score"], a["level"])
                for a in data["agencies"] if a["group"] == group]
        assert got == want
    notes = {r["Mã đơn vị"].value: r["Ghi chú"].value for r in _table(book["Xếp hạng so"], "Xếp hạng")}
    assert "Nộp phiếu sau thời hạn" in notes["so-xay-dung"] and "30/11/2018" in notes["so-xay-dung"]
    assert "Không nộp phiếu" in notes["so-y-te"]


def test_the_verdict_sheet_holds_the_json_points_and_links_the_evidence(report):
    data, book = report
    rows = {(r["Mã đơn vị"].value, r["Mã tiêu chí"].value): r for r in _table(book["Kết quả kiểm tra"], "Mã đơn vị")}
    assert len(rows) == len(data["verdicts"])
    for v in data["verdicts"]:
        row = rows[(v["agency_id"], v["criterion"])]
        assert row["Điểm"].value == pytest.approx(v["points"])
        assert row["Bài viết trong năm"].value == v["posts_in_year"]
        if v["checked_url"]:
            assert row["Đường dẫn đã kiểm tra"].hyperlink.target == v["checked_url"]
    chi_dao = rows[("so-tu-phap", "chi-dao-dieu-hanh")]
    link = chi_dao["Bằng chứng"].hyperlink
    assert link.target.replace("\\", "/") == "html/agency/so-tu-phap.html" and link.location == "chi-dao-dieu-hanh"
    assert "run-1-20181128-1.warc.gz#0+" in chi_dao["Bản lưu (WARC)"].value
    assert "[" not in rows[("so-tu-phap", "thanh-tra")]["Điều chỉnh của người thẩm định"].value   # not flagged
    assert FORMULA_NOTE in rows[("so-tu-phap", "thanh-tra")]["Điều chỉnh của người thẩm định"].value


def test_pages_and_posts_sheets_show_what_a_verdict_rests_on(report):
    _, book = report
    pages = [r for r in _table(book["Trang đã kiểm tra"], "Mã đơn vị") if r["Mã tiêu chí"].value == "chi-dao-dieu-hanh"]
    assert [r["Mục đích"].value for r in pages] == ["Trang chuyên mục", "Bài viết"]
    assert pages[0]["Tên chuyên mục trên trang"].value == SCRIPT_TITLE
    assert pages[0]["URL"].hyperlink.target == "https://so-tu-phap.caobang.gov.vn/chi-dao-dieu-hanh"
    posts = [r for r in _table(book["Bài viết đã đọc"], "Mã đơn vị")
             if (r["Mã đơn vị"].value, r["Mã tiêu chí"].value) == ("so-tu-phap", "chi-dao-dieu-hanh")]
    assert [(r["Tiêu đề"].value, r["Ngày đăng"].value, r["Trong kỳ"].value) for r in posts] == [
        (EVIL_TITLE, "05/03/2018", "Có"), ("Kế hoạch công tác", "12/06/2018", "Có"),
        ("Thông báo cũ", "04/01/2016", "")]


def test_one_confirmation_sheet_per_agency_with_its_points(report):
    data, book = report
    sheets = [n for n in book.sheetnames if n.startswith("PXN ")]
    assert sheets == [f"PXN {a}" for a in ("so-tu-phap", "so-tttt", "so-xay-dung", "so-y-te", "ubnd-hoa-an",
                                           "ubnd-bao-lac")]
    for agency in data["agencies"]:
        ws = book[f"PXN {agency['agency_id']}"]
        assert ws["A1"].value.startswith("PHIẾU XÁC NHẬN")
        values = [[c.value for c in r] for r in ws.iter_rows()]
        total = next(r for r in values if r[1] == "Tổng cộng")
        if agency["ranked"]:
            assert total[5] == pytest.approx(agency["score"])
        assert total[6] == agency["max_score"]
    tu_phap = {r[1]: r for r in ([c.value for c in row] for row in book["PXN so-tu-phap"].iter_rows())}
    assert tu_phap["Thông tin chỉ đạo, điều hành"][4:7] == ["Đạt", 2, 5]
    summary = next(k for k in tu_phap if isinstance(k, str) and k.startswith("Điểm: "))
    assert summary.startswith("Điểm: 130,05/150 (86,7%); Xếp loại: Tốt; Xếp hạng: 2")
    late = [c.value for row in book["PXN so-xay-dung"].iter_rows() for c in row if c.value]
    assert any("Không xếp hạng: Nộp phiếu sau thời hạn" in str(v) for v in late)


def test_crawled_text_that_looks_like_a_formula_stays_text(report):
    _, book = report
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for text in (EVIL_TITLE, SCRIPT_TITLE, FORMULA_NOTE, "@Reviewer"):
        hits = [c for c in cells if isinstance(c.value, str) and text in c.value]
        assert hits, text
        assert all(c.data_type == "s" for c in hits)
    evil = next(c for c in cells if c.value == EVIL_TITLE)
    assert evil.hyperlink is None
