"""The confirmation round through the library API and the `round` commands: every refusal names its field and
stores nothing; the happy path keeps every answer (the latest counts), turns an accepted dispute into an
override citing it, writes the audit trail; the report carries the trail and the round (JSON, XLSX, HTML)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from verifier import api
from verifier.cli import app
from verifier.errors import InputError, MalformedDate, MalformedURL, UnknownCriterion
from verifier.store import audit_trail, load_overrides, open_db

from .builders import build_province, copy_run

NOW = dt.datetime(2018, 12, 1, 3, 0, tzinfo=dt.UTC)          # 10:00 in Cao Bằng
LAST_DAY = "2018-12-10"
AFTER = dt.datetime(2018, 12, 10, 17, 0, tzinfo=dt.UTC)      # 00:00 on the 11th, +07:00
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
runner = CliRunner()


@pytest.fixture
def province(tmp_path):
    db_path, _ = build_province(tmp_path, with_warc=False)
    return db_path


def _refused(call, error, column):
    with pytest.raises(error) as caught:
        call()
    assert caught.value.column == column, caught.value.message()


def _stored(db_path):
    db = open_db(db_path)
    return [db[t].count for t in ("rounds", "round_responses", "dispute_answers")]


def test_opening_and_closing_are_refused_with_the_field_named(province, tmp_path):
    _refused(lambda: api.respond(province, "so-tu-phap", "thanh-tra", "confirm", "", "a", now=NOW),
             api.NoRoundOpen, "round")
    _refused(lambda: api.close_round(province, "duyet", now=NOW), api.NoRoundOpen, "round")
    _refused(lambda: api.open_round(province, "10/13/2018", "duyet", now=NOW), MalformedDate, "--closes")
    _refused(lambda: api.open_round(province, "2018-11-30", "duyet", now=NOW), api.BadRound, "--closes")
    _refused(lambda: api.open_round(province, LAST_DAY, " ", now=NOW), api.BadRound, "--by")
    _refused(lambda: api.open_round(province, LAST_DAY, "duyet", run_id=7, now=NOW), api.BadRound, "--run")
    db = open_db(province)
    later = copy_run(db, 1)
    db["runs"].update(later, {"status": "running", "finished_at": None})   # a crawl under way is not finished
    db.conn.commit()
    _refused(lambda: api.open_round(province, LAST_DAY, "duyet", run_id=later, now=NOW), api.BadRound, "--run")
    assert _stored(province) == [0, 0, 0]
    opened = api.open_round(province, "10/12/2018", "duyet", now=NOW)
    assert (opened.run_id, opened.closes_on, opened.accepting(NOW), opened.accepting(AFTER)) == \
        (1, dt.date(2018, 12, 10), True, False)
    _refused(lambda: api.open_round(province, LAST_DAY, "duyet", now=NOW), api.BadRound, "round")
    assert api.close_round(province, "duyet", now=NOW).closed_at == NOW
    _refused(lambda: api.close_round(province, "duyet", now=NOW), api.NoRoundOpen, "round")
    empty = tmp_path / "empty.db"
    open_db(empty).close()
    _refused(lambda: api.open_round(empty, LAST_DAY, "duyet", now=NOW), InputError, "--run")


def test_answers_are_refused_with_the_field_named_and_nothing_stored(province):
    api.open_round(province, LAST_DAY, "duyet", now=NOW)

    def respond(agency="so-tu-phap", criterion="thanh-tra", kind="dispute", note="Sai", url=None, by="tuphap",
                now=NOW):
        return lambda: api.respond(province, agency, criterion, kind, note, by, corrected_url=url, now=now)
    _refused(respond(agency="so-khong-co"), api.UnknownAgency, "AGENCY")
    _refused(respond(criterion="khong-co"), UnknownCriterion, "CRITERION")
    _refused(respond(kind="maybe"), api.BadResponse, "--kind")
    _refused(respond(note="  "), api.BadResponse, "--note")
    _refused(respond(note="x" * 4001), api.BadResponse, "--note")
    _refused(respond(url="ftp://so-tu-phap.caobang.gov.vn/x"), MalformedURL, "--url")
    _refused(respond(url="http://exa mple.vn"), MalformedURL, "--url")
    _refused(respond(kind="confirm", url="https://so-tu-phap.caobang.gov.vn/x"), api.BadResponse, "--url")
    _refused(respond(by=""), api.BadResponse, "--by")
    _refused(respond(now=AFTER), api.RoundClosed, "round")
    assert _stored(province) == [1, 0, 0]
    dispute = api.respond(province, "so-tu-phap", "thanh-tra", "dispute", "Sai", "tuphap", now=NOW)
    for decision, status, note, column in (("maybe", None, "x", "--decision"), ("reject", None, " ", "--note"),
                                           ("accept", None, "", "--note"), ("reject", "pass", "x", "--status"),
                                           ("accept", "great", "x", "--status")):
        _refused(lambda d=decision, n=note, s=status: api.answer_dispute(province, dispute.id, d, n, "duyet",
                                                                         status=s, now=NOW), api.BadAnswer, column)
    _refused(lambda: api.answer_dispute(province, 999, "reject", "x", "duyet", now=NOW), api.BadAnswer, "ID")
    confirm = api.respond(province, "so-tu-phap", "gioi-thieu", "confirm", "", "tuphap", now=NOW)
    _refused(lambda: api.answer_dispute(province, confirm.id, "reject", "x", "duyet", now=NOW), api.BadAnswer, "ID")
    api.respond(province, "so-tu-phap", "thanh-tra", "confirm", "", "tuphap", now=NOW)      # changed its mind
    _refused(lambda: api.answer_dispute(province, dispute.id, "reject", "x", "duyet", now=NOW), api.BadAnswer, "ID")
    assert _stored(province) == [1, 3, 0] and not load_overrides(open_db(province))


def test_the_round_keeps_every_answer_and_the_latest_counts(province):
    api.open_round(province, LAST_DAY, "duyet", now=NOW)
    api.respond(province, "so-tu-phap", "chi-dao-dieu-hanh", "dispute", "Nhầm", "tuphap", now=NOW)
    api.respond(province, "so-tu-phap", "chi-dao-dieu-hanh", "confirm", None, "tuphap", now=NOW)
    dispute = api.respond(province, "so-tu-phap", "thanh-tra", "dispute", "Trang đúng ở địa chỉ khác", "tuphap",
                          corrected_url="so-tu-phap.caobang.gov.vn/thanh-tra-moi", now=NOW)
    kept = api.respond(province, "ubnd-hoa-an", "tin-tuc-su-kien", "dispute", "Có bài", "hoaan", now=NOW)
    assert dispute.corrected_url == "http://so-tu-phap.caobang.gov.vn/thanh-tra-moi"
    summary = api.round_summary(province)
    mine = next(a for a in summary.agencies if a.agency_id == "so-tu-phap")
    assert (mine.confirmed, mine.disputed, mine.unanswered) == (1, 1, 12)          # 14 verdicts
    assert [d.id for d in summary.open_disputes] == [dispute.id, kept.id]
    assert len(api.responses(province, agency_id="so-tu-phap", criterion="chi-dao-dieu-hanh")) == 2
    accepted = api.answer_dispute(province, dispute.id, "accept", "Đã xem trang mới", "duyet", status="pass",
                                  now=NOW)
    override = load_overrides(open_db(province))[-1]
    assert accepted.answer.override_id == override.id and override.status == "pass" and override.run_id == 1
    assert f"ý kiến #{dispute.id}" in override.note and "Đã xem trang mới" in override.note
    rejected = api.answer_dispute(province, kept.id, "reject", "Không có bài trong kỳ", "duyet", now=NOW)
    assert rejected.answer.decision == "reject" and rejected.answer.override_id is None
    assert not api.round_summary(province).open_disputes
    steps = [(e["who"], e["action"], e["object"]) for e in audit_trail(open_db(province))]
    assert steps == [("duyet", "round-open", "run 1"), ("tuphap", "dispute", "so-tu-phap/chi-dao-dieu-hanh"),
                     ("tuphap", "confirm", "so-tu-phap/chi-dao-dieu-hanh"), ("tuphap", "dispute", "so-tu-phap/thanh-tra"),
                     ("hoaan", "dispute", "ubnd-hoa-an/tin-tuc-su-kien"), ("duyet", "answer", "so-tu-phap/thanh-tra"),
                     ("duyet", "answer", "ubnd-hoa-an/tin-tuc-su-kien")]
    assert open_db(province).execute("PRAGMA foreign_key_check").fetchall() == []


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_the_round_commands(province):
    assert _invoke("round", "status", "--db", province).exit_code == 2
    bad = _invoke("round", "open", "--closes", "mai", "--by", "duyet", "--db", province, "--now", NOW.isoformat())
    assert bad.exit_code == 2 and "--closes" in bad.output and "Malformed date" in bad.output
    bad = _invoke("round", "open", "--closes", LAST_DAY, "--run", 5, "--by", "duyet", "--db", province,
                  "--now", NOW.isoformat())
    assert bad.exit_code == 2 and "'--run'" in bad.output
    ok = _invoke("round", "open", "--closes", LAST_DAY, "--by", "duyet", "--db", province, "--now", NOW.isoformat())
    assert ok.exit_code == 0 and "round #1 on run 1, until 2018-12-10: open" in ok.output
    again = _invoke("round", "open", "--closes", LAST_DAY, "--by", "duyet", "--db", province, "--now",
                    NOW.isoformat())
    assert again.exit_code == 2 and "close it first" in again.output
    api.respond(province, "so-tu-phap", "thanh-tra", "dispute", "Sai", "tuphap", now=NOW)
    status = _invoke("round", "status", "--db", province, "--now", NOW.isoformat())
    assert status.exit_code == 0 and "open dispute #1: so-tu-phap/thanh-tra by tuphap: Sai" in status.output
    closed = _invoke("round", "close", "--by", "duyet", "--db", province, "--now", NOW.isoformat())
    assert closed.exit_code == 0 and ": closed" in closed.output
    assert _invoke("round", "close", "--by", "duyet", "--db", province).exit_code == 2
    assert [e["action"] for e in audit_trail(open_db(province))] == ["round-open", "dispute", "round-close"]


def test_the_report_carries_the_audit_trail_and_the_round(province, tmp_path):
    out = tmp_path / "out"
    api.write_report(province, out, ["json", "xlsx", "html"])
    before = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "audit_trail" not in before and "confirmation_rounds" not in before          # nothing done yet
    assert not (out / "html" / "audit.html").exists()
    api.open_round(province, LAST_DAY, "duyet", now=NOW)
    dispute = api.respond(province, "so-tu-phap", "thanh-tra", "dispute", HOSTILE, "tuphap",
                          corrected_url="https://so-tu-phap.caobang.gov.vn/thanh-tra-moi", now=NOW)
    api.respond(province, "so-tu-phap", "gioi-thieu", "confirm", "", "tuphap", now=NOW)
    api.answer_dispute(province, dispute.id, "accept", "Đúng", "duyet", status="pass", now=NOW)
    api.write_report(province, out, ["json", "xlsx", "html"])
    files = {name: (out / name).read_bytes() for name in ("report.json", "report.xlsx", "html/audit.html")}
    report = json.loads(files["report.json"])
    assert [e["action"] for e in report["audit_trail"]] == ["round-open", "dispute", "confirm", "answer"]
    first = report["audit_trail"][0]
    assert first == {"id": 1, "at": "2018-12-01T10:00:00+07:00", "who": "duyet", "action": "round-open",
                     "action_text": "Mở đợt xác nhận", "object": "run 1", "detail": "round #1 until 2018-12-10"}
    (rnd,) = report["confirmation_rounds"]
    assert (rnd["id"], rnd["run_id"], rnd["closes_on"], rnd["closed_at"]) == (1, 1, LAST_DAY, None)
    disputed = rnd["responses"][0]
    assert (disputed["kind"], disputed["note"], disputed["counts"]) == ("dispute", HOSTILE, True)
    assert disputed["answer"]["decision"] == "accept" and disputed["answer"]["status"] == "pass"
    assert disputed["answer"]["override_id"] == load_overrides(open_db(province))[-1].id
    book = load_workbook(out / "report.xlsx")
    assert book.sheetnames[-3:] == ["Xác nhận của đơn vị", "Nhật ký", "Thông tin lần chạy"]
    rows = [[c.value for c in row] for row in book["Xác nhận của đơn vị"].iter_rows(min_row=5)]
    assert [(r[1], r[4], r[5], r[10], r[11]) for r in rows] == [
        ("so-tu-phap", "Không đồng ý", HOSTILE, "Chấp nhận", "Đạt"), ("so-tu-phap", "Xác nhận", None, None, None)]
    trail = [[c.value for c in row] for row in book["Nhật ký"].iter_rows(min_row=5)]
    assert [r[3] for r in trail] == ["Mở đợt xác nhận", "Đơn vị không đồng ý", "Đơn vị xác nhận",
                                     "Trả lời ý kiến của đơn vị"]
    assert trail[0][1] == dt.datetime(2018, 12, 1, 10, 0)                                # +07:00
    page = files["html/audit.html"].decode("utf-8")
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="audit.html"' in (out / "html" / "index.html").read_text(encoding="utf-8")
    api.write_report(province, out, ["json", "xlsx", "html"])                            # the same bytes again
    assert {name: (out / name).read_bytes() for name in files} == files
