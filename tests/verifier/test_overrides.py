"""Reviewer overrides: stored beside the machine verdict, in force for later runs of the same year, flagged
when the machine verdict has changed since the reviewer decided."""

import datetime as dt

import pytest
from openpyxl import load_workbook

from verifier.export.audit import build_audit, load_run
from verifier.export.html import write_html
from verifier.export.json import report_dict
from verifier.export.labels import MACHINE_CHANGED
from verifier.export.xlsx import write_xlsx
from verifier.overrides import BadOverride, new_override, override_dict
from verifier.score import score_run
from verifier.store import open_db, save_override

from .builders import build_province, copy_run

UTC = dt.UTC
DECIDED = dt.datetime(2018, 12, 2, 8, 0, tzinfo=UTC)
KEY = ("so-tu-phap", "thanh-tra")          # review/undated in build_province: 0 of 3 points, pending


@pytest.fixture
def province(tmp_path):
    db_path, run_id = build_province(tmp_path, with_warc=False)
    return open_db(db_path), run_id


def decide(db, run_id, status="pass", note="Đã xem trực tiếp: có kết luận thanh tra tháng 5/2018",
           by="Nguyễn Văn A", at=DECIDED, key=KEY):
    data = load_run(db, run_id)
    machine = data.verdict_map().get(key)
    return save_override(db, new_override(*key, status, note, by, at=at, run_id=run_id, machine=machine))


def rerun(db, run_id, *, year=2018, changes=None) -> int:
    """A later crawl of the same inputs: a new run with the old run's rows, some verdicts changed."""
    return copy_run(db, run_id, year=year, changes=changes)


def scores_of(db, run_id):
    return {s.agency_id: s for s in score_run(load_run(db, run_id))}


def test_an_override_is_stored_beside_the_machine_verdict(province):
    db, run_id = province
    saved = decide(db, run_id)
    assert saved.id == 1 and (saved.machine_status, saved.machine_reason) == ("review", "undated")
    machine = db.execute("select status, reason from verdicts where run_id = ? and agency_id = ? and criterion = ?",
                         [run_id, *KEY]).fetchone()
    assert machine == ("review", "undated")           # never written over
    view = load_run(db, run_id).overrides[KEY]
    assert view.override.status == "pass" and not view.machine_changed
    assert override_dict(view) == {
        "status": "pass", "note": "Đã xem trực tiếp: có kết luận thanh tra tháng 5/2018", "by": "Nguyễn Văn A",
        "at": "2018-12-02T08:00:00Z", "machine_status": "review", "machine_reason": "undated",
        "machine_changed": False}


def test_the_override_changes_the_points_and_clears_the_pending_verdict(province):
    db, run_id = province
    before = scores_of(db, run_id)["so-tu-phap"]
    decide(db, run_id)
    after = scores_of(db, run_id)["so-tu-phap"]
    assert (before.score, before.pending, before.rank) == (127.05, 1, 2)
    assert (after.score, after.pending) == (130.05, 0)       # + the 3 points of thanh-tra
    assert after.level == "Tốt" and after.rank == 2          # 86.7% of 150


def test_the_latest_override_wins_and_the_history_is_kept(province):
    db, run_id = province
    decide(db, run_id, "pass")
    decide(db, run_id, "fail", note="Bài không thuộc năm 2018", by="Trần Thị B", at=DECIDED + dt.timedelta(hours=3))
    view = load_run(db, run_id).overrides[KEY]
    assert [o.status for o in view.history] == ["pass", "fail"] and view.override.by == "Trần Thị B"
    assert scores_of(db, run_id)["so-tu-phap"].score == 127.05
    assert db["overrides"].count == 2


def test_an_override_survives_a_recrawl_of_the_same_year(province):
    db, run_id = province
    decide(db, run_id)
    later = rerun(db, run_id)
    view = load_run(db, later).overrides[KEY]
    assert view.override.run_id == run_id and not view.machine_changed
    assert scores_of(db, later)["so-tu-phap"].score == 130.05


def test_a_recrawl_whose_machine_verdict_changed_flags_the_override(province, tmp_path):
    db, run_id = province
    decide(db, run_id, "exempt", note="Sở không có chức năng thanh tra")
    later = rerun(db, run_id, changes={KEY: ("fail", "not_found", None)})
    data = load_run(db, later)
    view = data.overrides[KEY]
    assert view.machine_changed and (view.machine_status, view.machine_reason) == ("fail", "not_found")
    assert (view.override.machine_status, view.override.machine_reason) == ("review", "undated")
    assert scores_of(db, later)["so-tu-phap"].score == 130.05      # still in force: exempt, full points
    audit = build_audit(db, later, generated_at=DECIDED)
    entry = next(v for v in report_dict(audit)["verdicts"] if (v["agency_id"], v["criterion"]) == KEY)
    assert (entry["status"], entry["reason"]) == ("fail", "not_found")        # the machine verdict of this run
    assert entry["override"]["status"] == "exempt" and entry["override"]["machine_changed"] is True
    assert [(v.agency_id, v.criterion) for v, _ in audit.review_queue()] == [KEY]   # listed for a second look
    # the reports show it too: the HTML agency page and the workbook's verdict sheet
    page = (write_html(audit, tmp_path / "out").parent / "agency" / "so-tu-phap.html").read_text(encoding="utf-8")
    section = page.split('id="thanh-tra"')[1].split("</section>")[0]
    assert MACHINE_CHANGED in section and "Sở không có chức năng thanh tra" in section
    book = load_workbook(write_xlsx(audit, tmp_path / "out"))
    rows = list(book["Kết quả kiểm tra"].iter_rows(values_only=True))
    head = next(r for r in rows if r[0] == "Mã đơn vị")
    name = audit.rulebook.by_id[KEY[1]].name
    row = dict(zip(head, next(r for r in rows if (r[0], r[2]) == (KEY[0], name))))
    assert f"[{MACHINE_CHANGED}]" in row["Điều chỉnh của người thẩm định"] and row["Điểm"] == 3


def test_an_override_does_not_reach_another_year_nor_an_earlier_run(province):
    db, run_id = province
    next_year = rerun(db, run_id, year=2019)
    same_year = rerun(db, run_id)
    decide(db, same_year)
    assert KEY not in load_run(db, next_year).overrides
    assert KEY not in load_run(db, run_id).overrides        # the audit of the earlier run stays as it was
    assert KEY in load_run(db, same_year).overrides


@pytest.mark.parametrize("status,note,by,column", [("approved", "x", "A", "--status"), ("pass", "  ", "A", "--note"),
                                                   ("pass", "x", "", "--by")])
def test_a_bad_override_is_refused(status, note, by, column):
    with pytest.raises(BadOverride) as exc:
        new_override(*KEY, status, note, by, at=DECIDED, run_id=1, machine=None)
    assert exc.value.column == column


def test_status_is_case_insensitive():
    assert new_override(*KEY, " Exempt ", "Không áp dụng", "A", at=DECIDED, run_id=1, machine=None).status == "exempt"
