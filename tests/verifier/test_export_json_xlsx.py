"""report.json in the schema of docs/outputs.md (with `hint`, why and how to fix, where there is something to fix), and
the XLSX workbook read back with openpyxl holding the same numbers, in Vietnamese words; crawled text that looks
like a formula stays text. The workbook's print set-up and LibreOffice's printing of it: test_xlsx_print.py."""

import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from verifier.export.audit import build_audit, load_run
from verifier.export.json import report_dict, write_json
from verifier.export.xlsx import date_source_words, write_xlsx
from verifier.overrides import new_override
from verifier.rulebook import load_rulebook
from verifier.store import open_db, save_override
from verifier.verdict import NO_POSTS_READ

from .builders import EVIL_TITLE, GENERATED, SCRIPT_TITLE, build_province

PROVINCE = dt.timezone(dt.timedelta(hours=7))
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


SO, HUYEN = "Xếp hạng Sở, ban, ngành", "Xếp hạng UBND huyện, thành phố"
CHI_DAO = "Thông tin chỉ đạo, điều hành"


# ------------------------------------------------------------------------------------------------ report.json

AGENCY_KEYS = {"agency_id": str, "agency_name": str, "group": str, "late": bool, "ranked": bool,
               "score": (float, type(None)), "max_score": (int, float), "rank": (int, type(None)),
               "level": (str, type(None))}
VERDICT_KEYS = {"agency_id": str, "criterion": str, "url": (str, type(None)), "checked_url": (str, type(None)),
                "status": str, "reason": str, "posts_in_year": (int, type(None)), "discovered": bool,
                "points": (int, float, type(None)), "override": (dict, type(None)), "hint": (str, type(None)),
                "content_checks": list, "evidence": dict}


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
        assert list(verdict) == list(VERDICT_KEYS)
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
    assert v["hint"] is None                 # passed by the reviewer: nothing left to fix


def test_a_verdict_not_passed_says_why_and_how_to_fix_and_a_full_pass_says_nothing(report):
    data, _ = report
    by_key = {(v["agency_id"], v["criterion"]): v for v in data["verdicts"]}
    maximum = {c.id: c.points for c in load_rulebook().criteria}
    for v in data["verdicts"]:
        if v["status"] in ("fail", "review") and v["override"] is None:
            assert v["hint"] and v["hint"].startswith(tuple("ĐCTSKNLQ")), v        # Vietnamese words, not a code
        if v["status"] == "exempt" or (v["status"] == "pass" and v["points"] == maximum[v["criterion"]]):
            assert v["hint"] is None, v
    assert "bài mới nhất đăng ngày 09/01/2017" in by_key[("so-tttt", "ngan-sach")]["hint"]
    assert "không phải chuyên mục Hệ thống văn bản quy phạm pháp luật" in by_key[("ubnd-hoa-an",
                                                                               "van-ban-phap-luat")]["hint"]
    short = by_key[("so-tu-phap", "tin-tuc-su-kien")]        # 8 posts: half points, what full points take
    assert short["status"] == "pass" and "cần từ 12 bài trở lên" in short["hint"]


def test_a_reviewer_who_fails_a_passed_criterion_gives_the_hint_in_their_note(tmp_path):
    db_path, run_id = build_province(tmp_path, with_warc=False)
    db = open_db(db_path)
    key = ("so-tttt", "hoi-dap")
    machine = load_run(db, run_id).verdict_map()[key]
    note = "Chuyên mục chỉ đăng lại câu hỏi cũ, không có trả lời"
    save_override(db, new_override(*key, "fail", note, "Nguyễn Văn A", at=GENERATED, run_id=run_id, machine=machine))
    entry = next(v for v in report_dict(build_audit(db, run_id))["verdicts"] if (v["agency_id"], v["criterion"]) == key)
    assert (entry["status"], entry["points"], entry["hint"]) == ("pass", 0.0, note)


# ------------------------------------------------------------------------------------------------ XLSX

def _table(ws, header_first: str):
    """The rows under the header row whose first cell is `header_first`, as dicts keyed by the header."""
    rows = list(ws.iter_rows())
    start = next(i for i, r in enumerate(rows) if r[0].value == header_first)
    head = [c.value for c in rows[start]]
    return [dict(zip(head, r)) for r in rows[start + 1:] if any(c.value is not None for c in r)]


def test_one_ranking_sheet_per_group_with_the_json_numbers(report):
    data, book = report
    assert book.sheetnames[:2] == [SO, HUYEN]
    for sheet, group in ((SO, "so"), (HUYEN, "huyen")):
        got = [(r["Mã đơn vị"].value, r["Xếp hạng"].value, r["Điểm"].value, r["Điểm tối đa"].value,
                r["Xếp loại"].value or None) for r in _table(book[sheet], "Xếp hạng")]
        want = [(a["agency_id"], a["rank"], a["score"], a["max_score"], a["level"])
                for a in data["agencies"] if a["group"] == group]
        assert got == want
    rows = {r["Mã đơn vị"].value: r for r in _table(book[SO], "Xếp hạng")}
    assert "Nộp phiếu sau thời hạn" in rows["so-xay-dung"]["Ghi chú"].value
    assert "30/11/2018" in rows["so-xay-dung"]["Ghi chú"].value
    assert rows["so-xay-dung"]["Ngày nộp phiếu"].value == dt.datetime(2018, 11, 30)
    assert "Không nộp phiếu" in rows["so-y-te"]["Ghi chú"].value
    heading = " ".join(str(c.value) for row in book[SO].iter_rows(max_row=4) for c in row if c.value)
    assert "Bộ tiêu chí: " + load_rulebook().title in heading and "rules/" not in heading
    assert "Tốt: từ 85% trở lên" in heading and "phieu/" in heading


def test_the_verdict_sheet_holds_the_json_points_in_words_and_links_the_evidence(report):
    data, book = report
    names = {c.id: c.name for c in load_rulebook().criteria}
    rows = {(r["Mã đơn vị"].value, r["Tiêu chí"].value): r for r in _table(book["Kết quả kiểm tra"], "Mã đơn vị")}
    assert len(rows) == len(data["verdicts"])
    for v in data["verdicts"]:
        row = rows[(v["agency_id"], names[v["criterion"]])]
        assert row["Điểm"].value == pytest.approx(v["points"])
        assert row["Bài viết trong năm"].value == v["posts_in_year"]
        assert (row["Lý do và cách khắc phục"].value or None) == v["hint"]
        checked = dt.datetime.fromisoformat(v["evidence"]["fetched_at"]).astimezone(PROVINCE).replace(tzinfo=None)
        assert row["Thời điểm kiểm tra"].value == checked                    # a date cell, in +07:00
        if v["checked_url"]:
            assert row["Đường dẫn đã kiểm tra"].hyperlink.target == v["checked_url"]
    chi_dao = rows[("so-tu-phap", CHI_DAO)]
    assert (chi_dao["Kết quả"].value, chi_dao["Lý do"].value) == ("Đạt", "Đúng chuyên mục, có bài viết trong kỳ "
                                                                          "đánh giá")
    link = chi_dao["Bằng chứng"].hyperlink
    assert link.target.replace("\\", "/") == "html/agency/so-tu-phap.html" and link.location == "chi-dao-dieu-hanh"
    reviewed = rows[("so-tu-phap", names["thanh-tra"])]
    assert reviewed["Kết quả"].value == "Đạt"                         # the reviewer's decision is what scored
    assert "[" not in reviewed["Điều chỉnh của người thẩm định"].value   # not flagged
    assert FORMULA_NOTE in reviewed["Điều chỉnh của người thẩm định"].value
    assert reviewed["Thời điểm điều chỉnh"].value == dt.datetime(2018, 12, 1, 10, 0)
    wrong = rows[("ubnd-hoa-an", names["van-ban-phap-luat"])]
    assert (wrong["Kết quả"].value, wrong["Lý do"].value) == ("Không đạt", "Không đúng chuyên mục")


def test_pages_and_posts_sheets_show_what_a_verdict_rests_on(report):
    _, book = report
    pages = [r for r in _table(book["Trang đã kiểm tra"], "Mã đơn vị") if r["Tiêu chí"].value == CHI_DAO
             and r["Mã đơn vị"].value == "so-tu-phap"]
    assert [r["Mục đích"].value for r in pages] == ["Trang chuyên mục", "Bài viết"]
    assert [r["Loại trang"].value for r in pages] == ["trang chuyên mục", "một bài viết đơn lẻ"]
    assert pages[0]["Chuyên mục nhận diện"].value == CHI_DAO
    assert pages[0]["Tên chuyên mục trên trang"].value == SCRIPT_TITLE
    assert pages[0]["URL"].hyperlink.target == "https://so-tu-phap.caobang.gov.vn/chi-dao-dieu-hanh"
    assert pages[0]["Bản lưu (WARC)"].value.startswith("run-1-20181128-1.warc.gz#0+")
    posts = [r for r in _table(book["Bài viết đã đọc"], "Mã đơn vị")
             if (r["Mã đơn vị"].value, r["Tiêu chí"].value) == ("so-tu-phap", CHI_DAO)]
    assert [(r["Tiêu đề"].value, r["Ngày đăng"].value, r["Nguồn ngày"].value, r["Trong kỳ"].value)
            for r in posts] == [
        (EVIL_TITLE, dt.datetime(2018, 3, 5), "trang bài viết", "Có"),
        ("Kế hoạch công tác", dt.datetime(2018, 6, 12), "danh sách bài viết", "Có"),
        ("Thông báo cũ", dt.datetime(2016, 1, 4), "danh sách bài viết", None)]
    assert posts[0]["Ngày đăng"].number_format == "dd/mm/yyyy"


@pytest.mark.parametrize("source,words", [
    ("listing", "danh sách bài viết"), ("time", "thẻ thời gian của trang"), ("article:article", "trang bài viết"),
    ("article:page", "trang bài viết"), ("article:meta", "trang bài viết (thông tin mô tả của trang)"),
    ("listing+article:updated", "danh sách bài viết; ngày cập nhật trên trang bài viết"), (None, "")])
def test_where_a_date_was_read_is_said_in_words(source, words):
    assert date_source_words(source) == words


def test_the_review_queue_says_why_in_words(report):
    _, book = report
    queue = _table(book["Danh sách cần xem xét"], "Mã đơn vị")
    assert [(r["Mã đơn vị"].value, r["Tiêu chí"].value) for r in queue] == []     # thanh-tra was decided
    assert book["Danh sách cần xem xét"].auto_filter.ref


def test_the_agencies_forms_are_their_own_workbooks_not_sheets_of_this_one(report):
    _, book = report
    assert not [n for n in book.sheetnames if n.startswith("PXN")]
    assert book.sheetnames == [SO, HUYEN, "Kết quả kiểm tra", "Trang đã kiểm tra", "Bài viết đã đọc",
                               "Danh sách cần xem xét", "Thông tin lần chạy"]


def test_crawled_text_that_looks_like_a_formula_stays_text(report):
    _, book = report
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for text in (EVIL_TITLE, SCRIPT_TITLE, FORMULA_NOTE, "@Reviewer"):
        hits = [c for c in cells if isinstance(c.value, str) and text in c.value]
        assert hits, text
        assert all(c.data_type == "s" for c in hits)
    evil = next(c for c in cells if c.value == EVIL_TITLE)
    assert evil.hyperlink is None and evil.quotePrefix
