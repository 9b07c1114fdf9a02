"""The library API the command line and the console both call: spot-check, keep it, override, withdraw,
score, list and compare runs; and the commands built on it (runs, diff, unoverride)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from demo.pipeline import DEMO_LIMITS, proxy_env
from tests.test_check_demo import CASES
from verifier import api
from verifier.api import BadLink, CriterionNotApplicable, UnknownAgency
from verifier.cli import app
from verifier.errors import InputError, UnknownCriterion
from verifier.export.audit import build_audit
from verifier.export.html import write_html
from verifier.export.json import report_dict
from verifier.export.xlsx import write_xlsx
from verifier.overrides import BadOverride
from verifier.rulebook import DEFAULT_RULEBOOK
from verifier.store import NoRun, get_spot_check, open_db

from .builders import build_province, copy_run

UTC = dt.UTC
DECIDED = dt.datetime(2018, 12, 2, 8, 0, tzinfo=UTC)
KEY = ("so-tu-phap", "thanh-tra")          # review/undated in build_province: pending, 0 points
NOTE = "Đã xem trực tiếp: có kết luận thanh tra tháng 5/2018"
runner = CliRunner()


@pytest.fixture
def province(tmp_path):
    db_path, run_id = build_province(tmp_path, with_warc=False)
    return db_path, run_id


def points(result, agency="so-tu-phap"):
    return next(s for s in result.scores if s.agency_id == agency).score


def test_an_override_withdrawn_is_kept_but_no_longer_applied_and_can_be_made_again(province):
    db_path, run_id = province
    scored = api.score_run(db_path, run_id, store=False)
    assert scored.attention          # a ranked agency's verdict waits for a reviewer
    machine_points = points(scored)
    made = api.apply_override(db_path, *KEY, "pass", NOTE, "Nguyễn Văn A", now=DECIDED)
    assert (made.override.status, made.override.machine_status, made.override.machine_reason) == \
        ("pass", "review", "undated")
    assert points(made) > machine_points
    gone = api.withdraw_override(db_path, made.override.id, "Trần Thị B", "Nhập nhầm cơ quan",
                                 now=DECIDED + dt.timedelta(hours=1))
    assert (gone.override.withdrawn_by, gone.override.withdraw_note) == ("Trần Thị B", "Nhập nhầm cơ quan")
    assert gone.override.withdrawn_at == DECIDED + dt.timedelta(hours=1)
    assert points(gone) == machine_points
    db = open_db(db_path)
    audit = build_audit(db, run_id)
    assert audit.override(*KEY) is None       # not applied in the exports either
    verdict = next(v for v in report_dict(audit)["verdicts"] if (v["agency_id"], v["criterion"]) == KEY)
    assert verdict["override"] is None and verdict["status"] == "review"
    row = next(db.query("select override_status from verdicts_readable where run_id = ? and agency_id = ? "
                        "and criterion = ?", [run_id, *KEY]))
    assert row["override_status"] is None
    # the withdrawal is recorded on the row; a second withdrawal is refused
    assert [o.withdrawn for o in api.list_overrides(db_path)] == [True]
    with pytest.raises(BadOverride, match="already withdrawn"):
        api.withdraw_override(db_path, made.override.id, "Trần Thị B", "again")
    again = api.apply_override(db_path, *KEY, "exempt", "Không có nhiệm vụ thanh tra", "Trần Thị B",
                               now=DECIDED + dt.timedelta(hours=2))
    assert build_audit(open_db(db_path), run_id).override(*KEY).override.status == "exempt"
    assert [o.id for o in api.list_overrides(db_path)] == [made.override.id, again.override.id]


def test_the_reports_list_a_withdrawn_override_as_withdrawn(province, tmp_path):
    db_path, run_id = province
    made = api.apply_override(db_path, *KEY, "pass", NOTE, "Nguyễn Văn A", now=DECIDED)
    api.withdraw_override(db_path, made.override.id, "Trần Thị B", "Nhập nhầm cơ quan",
                          now=DECIDED + dt.timedelta(hours=1))
    audit = build_audit(open_db(db_path), run_id)
    report = report_dict(audit)
    assert [(o["id"], o["status"], o["withdrawn_by"], o["withdraw_note"]) for o in report["withdrawn_overrides"]] == \
        [(made.override.id, "pass", "Trần Thị B", "Nhập nhầm cơ quan")]
    assert report["generated_at"] == "2018-12-02T09:00:00Z"       # the report's time is the withdrawal's
    index = write_html(audit, tmp_path / "out").read_text(encoding="utf-8")
    assert 'id="withdrawn"' in index and "Nhập nhầm cơ quan" in index and 'id="overrides"' not in index
    book = load_workbook(write_xlsx(audit, tmp_path / "out"))
    rows = list(book["Kết quả kiểm tra"].iter_rows(values_only=True))
    head = next(r for r in rows if r[0] == "Mã đơn vị")
    row = dict(zip(head, next(r for r in rows if (r[0], r[2]) == (KEY[0], audit.rulebook.by_id[KEY[1]].name))))
    assert row["Điều chỉnh của người thẩm định"].startswith("[Đã rút lại, không áp dụng]")
    assert row["Điểm"] == 0                  # the machine verdict counts again: review, no points yet


@pytest.mark.parametrize("args,error,field", [
    (("so-x", "thanh-tra", "pass", NOTE, "A"), UnknownAgency, "AGENCY"),
    (("so-tu-phap", "khong-co", "pass", NOTE, "A"), UnknownCriterion, None),
    (("ubnd-hoa-an", "csdl-chuyen-nganh", "pass", NOTE, "A"), CriterionNotApplicable, "CRITERION"),
    (("so-tu-phap", "thanh-tra", "great", NOTE, "A"), BadOverride, "--status"),
    (("so-tu-phap", "thanh-tra", "pass", "  ", "A"), BadOverride, "--note"),
])
def test_bad_overrides_name_the_field_and_store_nothing(province, args, error, field):
    db_path, _ = province
    with pytest.raises(error) as caught:
        api.apply_override(db_path, *args)
    assert caught.value.column == field
    assert api.list_overrides(db_path) == []


def test_a_withdrawal_needs_an_existing_override_and_a_note(province):
    db_path, _ = province
    with pytest.raises(BadOverride, match="#99 is not in the database"):
        api.withdraw_override(db_path, 99, "A", "why")
    made = api.apply_override(db_path, *KEY, "pass", NOTE, "A")
    with pytest.raises(BadOverride) as caught:
        api.withdraw_override(db_path, made.override.id, "A", "")
    assert caught.value.column == "--note"
    assert not api.list_overrides(db_path)[0].withdrawn


def test_a_report_is_written_through_the_api_with_its_warnings(province, tmp_path):
    db_path, run_id = province
    said = []
    result = api.write_report(db_path, tmp_path / "out", ["json", "warc"], period_start="2017-06-01",
                              generated_at=DECIDED, on_warning=said.append)
    assert {p.name for p in result.written} == {"report.json", "metadata.yaml"}
    assert result.run_id == run_id and result.attention
    assert said == list(result.warnings) and "crawled for a period from 2018-01-01" in said[0]
    assert any("has no WARC file to copy" in w for w in said)
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["period"] == \
        ["2017-06-01", "2018-12-31"]
    with pytest.raises(InputError) as caught:
        api.write_report(db_path, tmp_path / "out", "json,docx")
    assert caught.value.column == "--format"


def test_runs_are_listed_and_compared(province):
    db_path, run_id = province
    db = open_db(db_path)
    second = copy_run(db, run_id, changes={KEY: ("pass", "ok", 4), ("so-tttt", "ngan-sach"): ("fail", "not_found", None)})
    runs = api.list_runs(db_path)
    assert [r.id for r in runs] == [second, run_id]
    assert runs[1].period == ("2018-01-01", "2018-12-31") and runs[1].status == "done"
    assert runs[1].rulebook == Path(DEFAULT_RULEBOOK).name     # a run without provenance: its rulebook file
    total = db.execute("select count(*) from verdicts where run_id = ?", [run_id]).fetchone()[0]
    assert sum(runs[1].counts.values()) == total and runs[1].counts["review"] >= 1
    assert runs[0].counts.get("review", 0) == runs[1].counts["review"] - 1
    changes = api.diff_runs(db_path, run_id, second)
    assert [(c.agency_id, c.criterion) for c in changes] == [("so-tttt", "ngan-sach"), KEY]
    c = changes[1]
    assert (c.status_before, c.reason_before, c.posts_before, c.status_after, c.reason_after, c.posts_after) == \
        ("review", "undated", 0, "pass", "ok", 4)
    assert api.diff_runs(db_path, run_id, run_id) == []
    with pytest.raises(NoRun) as caught:
        api.diff_runs(db_path, run_id, 42)
    assert caught.value.column == "B"


def test_the_commands_runs_diff_and_unoverride(province):
    db_path, run_id = province
    second = copy_run(open_db(db_path), run_id, changes={KEY: ("pass", "ok", 4)})
    listed = runner.invoke(app, ["runs", "--db", str(db_path)])
    assert listed.exit_code == 0, listed.output
    assert f"{second}" in listed.output and "2018-01-01..2018-12-31" in listed.output
    as_json = json.loads(runner.invoke(app, ["runs", "--db", str(db_path), "--json"]).stdout)
    assert [r["id"] for r in as_json] == [second, run_id]
    diffed = runner.invoke(app, ["diff", str(run_id), str(second), "--db", str(db_path)])
    assert diffed.exit_code == 0 and "review/undated (0 posts)" in diffed.stdout and "pass/ok (4 posts)" in diffed.stdout
    missing = runner.invoke(app, ["diff", str(run_id), "9", "--db", str(db_path)])
    assert missing.exit_code == 2 and "run 9 is not in the database" in missing.stderr
    made = runner.invoke(app, ["override", *KEY, "--status", "pass", "--note", NOTE, "--by", "A",
                               "--db", str(db_path), "--run", str(run_id)])
    assert made.exit_code == 0 and "override #1:" in made.stdout
    empty = runner.invoke(app, ["unoverride", "1", "--note", "", "--by", "B", "--db", str(db_path)])
    assert empty.exit_code == 2 and "'--note'" in empty.stderr
    gone = runner.invoke(app, ["unoverride", "1", "--note", "Nhập nhầm", "--by", "B", "--db", str(db_path)])
    assert gone.exit_code == 0, gone.output
    assert "override #1: so-tu-phap thanh-tra: pass withdrawn by B" in gone.stdout
    twice = runner.invoke(app, ["unoverride", "1", "--note", "Nhập nhầm", "--by", "B", "--db", str(db_path)])
    assert twice.exit_code == 2 and "already withdrawn" in twice.stderr and "Traceback" not in twice.output


PASS_CASE = next(c for c in CASES if c[4][:2] == ("pass", "ok"))


def test_a_spot_check_is_judged_and_kept_with_its_warc_record(server, tmp_path):
    agency, criterion, url, portal, want, _ = PASS_CASE
    warc = tmp_path / "check.warc.gz"
    with proxy_env(server.proxy_url):
        result = api.check_link(url, criterion, agency_portal=portal, allow_private=True,
                                timeout=DEMO_LIMITS.read_timeout, warc_path=warc)
    assert (result.verdict.status, result.verdict.reason) == want[:2]
    assert result.period == tuple(result.rulebook.period) and result.elapsed > 0 and result.warc_path == warc
    db_path, _ = build_province(tmp_path, with_warc=False)
    kept = api.store_check(db_path, result, "Nguyễn Văn A", agency_id=agency, now=DECIDED)
    row = get_spot_check(open_db(db_path), kept.id)
    assert (row["status"], row["reason"], row["agency_id"], row["by"], row["criterion"]) == \
        ("pass", "ok", agency, "Nguyễn Văn A", criterion)
    assert row["posts_in_year"] == result.verdict.posts_in_year
    pages = json.loads(row["evidence_json"])["pages"]
    assert pages and pages[0]["final_url"] == result.verdict.pages[0].final_url
    with open(row["warc_file"], "rb") as fh:
        fh.seek(row["warc_offset"])
        record = next(iter(ArchiveIterator(fh)))
    assert record.rec_type == "response"
    assert record.rec_headers.get_header("WARC-Target-URI") in {p.final_url for p in result.verdict.pages}


def test_a_spot_check_with_bad_input_names_the_field(tmp_path):
    with pytest.raises(BadLink) as caught:
        api.check_link("ftp://x y", "chi-dao-dieu-hanh")
    assert caught.value.column == "URL"
    with pytest.raises(UnknownCriterion):
        api.check_link("http://example.invalid/a", "khong-co")
    with pytest.raises(api.BadCheck) as caught:
        api.store_check(tmp_path / "x.db", None, " ")
    assert caught.value.column == "--by"
