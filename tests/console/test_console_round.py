"""The confirmation round in the console: who may open, answer and close it, an agency kept to its own agency,
the dispute answered from the verdict page and listed in the queue, refusals beside the field, the audit."""

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.console.conftest import IMG, make_console_db, signed_in
from verifier import api
from verifier.console.app import create_app
from verifier.store import audit_trail, load_overrides, open_db

MINE = "/agency/so-tu-phap"
OTHER = "/agency/ubnd-hoa-an"
TODAY = dt.datetime.now(dt.UTC).date()
LATER = (TODAY + dt.timedelta(days=10)).isoformat()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A console database of its own (the round changes it), its app and signed-in clients."""
    db_path = make_console_db(tmp_path_factory.mktemp("round"))
    app = create_app(db_path)
    return db_path, {name: signed_in(app, name) for name in ("duyet", "xem", "tuphap", "hoaan", "quantri")}


def _token(client):
    return client.cookies["csrftoken"]


def _post(client, path, **data):
    return client.post(path, data={**data, "csrftoken": _token(client)})


def _form_value(client, path, form_id, name):
    soup = BeautifulSoup(client.get(path).text, "html.parser")
    return soup.select_one(f"#{form_id} input[name={name}]")["value"]


def _actions(db_path):
    return [e["action"] for e in audit_trail(open_db(db_path))]


def test_the_round_from_opening_to_answering(served):
    db_path, c = served
    # a viewer reads the round's page but gets no form and cannot open one; an agency account cannot reach it
    assert c["xem"].get("/round").status_code == 200 and 'id="open-round"' not in c["xem"].get("/round").text
    assert _post(c["xem"], "/round/open", closes_on=LATER, run="1").status_code == 404
    assert c["tuphap"].get("/round").status_code == 404
    assert _post(c["tuphap"], "/round/open", closes_on=LATER, run="1").status_code == 404
    # a reviewer opens it; a bad day is refused beside the field, what was typed kept
    run = _form_value(c["duyet"], "/round", "open-round", "run")
    bad = _post(c["duyet"], "/round/open", closes_on="2001-01-01", run=run)
    soup = BeautifulSoup(bad.text, "html.parser")
    assert bad.status_code == 400 and "không sớm hơn hôm nay" in soup.select_one("#error-closes").get_text()
    assert soup.select_one("input[name=closes_on]")["value"] == "2001-01-01" and api.current_round(db_path) is None
    assert _post(c["duyet"], "/round/open", closes_on=LATER, run=run).status_code == 303
    assert "Đang mở" in c["xem"].get("/round").text
    # the agency answers on its own page: a dispute needs a note, a corrected link must be a link
    page = BeautifulSoup(c["tuphap"].get(MINE).text, "html.parser")
    form = page.select_one('form[action="/agency/so-tu-phap/thanh-tra/respond"]')
    hidden = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    refused = _post(c["tuphap"], MINE + "/thanh-tra/respond", **{**hidden, "kind": "dispute", "note": " ",
                                                                 "corrected_url": "không phải liên kết"})
    soup = BeautifulSoup(refused.text, "html.parser")
    assert refused.status_code == 400 and soup.select_one("#thanh-tra .error-note")
    assert soup.select_one('#thanh-tra input[name=corrected_url]')["value"] == "không phải liên kết"
    assert not api.responses(db_path)
    refused = _post(c["tuphap"], MINE + "/thanh-tra/respond", **{**hidden, "kind": "dispute", "note": "Sai",
                                                                 "corrected_url": "http://exa mple"})
    assert refused.status_code == 400 and "Liên kết không hợp lệ" in refused.text and not api.responses(db_path)
    for criterion, kind, note, link in (("chi-dao-dieu-hanh", "confirm", "", ""),
                                        ("thanh-tra", "dispute", "Chuyên mục đúng là trang khác",
                                         "https://so-tu-phap.caobang.gov.vn/thanh-tra-moi")):
        answer = _post(c["tuphap"], f"{MINE}/{criterion}/respond",
                       **{**hidden, "kind": kind, "note": note, "corrected_url": link})
        assert answer.status_code == 303, answer.text
    assert "Xác nhận (tuphap" in c["tuphap"].get(MINE).text
    # never for another agency, and not staff either
    assert _post(c["tuphap"], OTHER + "/tin-tuc-su-kien/respond", **hidden, kind="confirm").status_code == 404
    assert _post(c["duyet"], MINE + "/thanh-tra/respond", **hidden, kind="confirm").status_code == 404
    # the queue lists the open dispute, filtered as the review items are, one click to the verdict
    queue = BeautifulSoup(c["duyet"].get("/queue?kind=dispute&agency=so-tu-phap").text, "html.parser")
    assert [a["href"] for a in queue.select("#dispute-queue a")] == [MINE + "/thanh-tra"]
    assert "Không có kết quả nào cần duyệt" in queue.get_text()          # kind=dispute: the disputes only
    assert not BeautifulSoup(c["duyet"].get("/queue?agency=ubnd-hoa-an").text, "html.parser").select(
        "#dispute-queue a")
    # the verdict page shows the dispute, the link to check the corrected link, and the answer form
    verdict = BeautifulSoup(c["duyet"].get(MINE + "/thanh-tra").text, "html.parser")
    check = verdict.find("a", string="Kiểm tra lại liên kết này")["href"]
    assert check == ("/check?url=https%3A//so-tu-phap.caobang.gov.vn/thanh-tra-moi&criterion=thanh-tra"
                     "&agency=so-tu-phap")
    response_id = verdict.select_one("#answer input[name=response_id]")["value"]
    assert not BeautifulSoup(c["xem"].get(MINE + "/thanh-tra").text, "html.parser").select("#answer")
    refused = _post(c["duyet"], MINE + "/thanh-tra/answer", response_id=response_id, decision="reject",
                    answer_status="", answer_note="")
    soup = BeautifulSoup(refused.text, "html.parser")
    assert refused.status_code == 400 and soup.select_one("#error-answer-note")
    refused = _post(c["duyet"], MINE + "/thanh-tra/answer", response_id=response_id, decision="reject",
                    answer_status="pass", answer_note="Giữ nguyên ghi chú")
    soup = BeautifulSoup(refused.text, "html.parser")
    assert refused.status_code == 400 and soup.select_one("#error-answer-status")
    assert soup.select_one("textarea[name=answer_note]").get_text() == "Giữ nguyên ghi chú"
    assert _post(c["xem"], MINE + "/thanh-tra/answer", response_id=response_id, decision="accept",
                 answer_status="", answer_note="x").status_code == 404
    answered = _post(c["duyet"], MINE + "/thanh-tra/answer", response_id=response_id, decision="accept",
                     answer_status="pass", answer_note="Đã kiểm tra trang mới")
    assert answered.status_code == 303
    override = load_overrides(open_db(db_path))[-1]
    assert (override.criterion, override.status, override.by) == ("thanh-tra", "pass", "duyet")
    assert f"ý kiến #{response_id}" in override.note
    # a stale answer form (already answered) is refused with a message, nothing more stored
    again = _post(c["duyet"], MINE + "/thanh-tra/answer", response_id=response_id, decision="reject",
                  answer_status="", answer_note="muộn")
    assert again.status_code == 400 and len(load_overrides(open_db(db_path))) == 1
    # closing: a stale close form is refused, then the round closes and the agency's forms are gone
    assert _post(c["duyet"], "/round/close", round="999").status_code == 400
    assert api.current_round(db_path).closed_at is None
    assert _post(c["duyet"], "/round/close", round=_form_value(c["duyet"], "/round", "close-round",
                                                               "round")).status_code == 303
    page = BeautifulSoup(c["tuphap"].get(MINE).text, "html.parser")
    assert page.select_one("#round-closed") and not page.select("form.respond")
    late = _post(c["tuphap"], MINE + "/chi-dao-dieu-hanh/respond", **hidden, kind="dispute", note="muộn")
    assert late.status_code == 400 and "Đợt xác nhận đã đóng" in late.text
    steps = [a for a in _actions(db_path) if a not in ("sign-in", "sign-in-failed")]
    assert steps == ["round-open", "confirm", "dispute", "answer", "round-close"]


def test_a_form_shown_before_the_round_changed_is_refused(tmp_path):
    db_path = make_console_db(tmp_path)
    app = create_app(db_path)
    agency, reviewer = signed_in(app, "tuphap"), signed_in(app, "duyet")
    first = api.open_round(db_path, LATER, "duyet")
    hidden = {"round": str(first.id), "run": str(first.run_id)}
    api.close_round(db_path, "duyet")
    api.open_round(db_path, LATER, "duyet")
    stale = _post(agency, MINE + "/thanh-tra/respond", **hidden, kind="dispute", note="Cũ")
    assert stale.status_code == 400 and "đã thay đổi" in stale.text and not api.responses(db_path)
    # the open form named a run that is no longer the latest finished one
    api.close_round(db_path, "duyet")
    old = _post(reviewer, "/round/open", closes_on=LATER, run="999")
    assert old.status_code == 400 and "đã thay đổi" in old.text and api.current_round(db_path).closed_at


def test_after_its_last_day_the_round_takes_no_answer(tmp_path):
    db_path = make_console_db(tmp_path)
    past = dt.datetime(2018, 12, 1, 3, 0, tzinfo=dt.UTC)
    opened = api.open_round(db_path, "2018-12-10", "duyet", now=past)
    agency = signed_in(create_app(db_path), "tuphap")
    page = BeautifulSoup(agency.get(MINE).text, "html.parser")
    assert "hết hạn ngày 10/12/2018" in page.select_one("#round-closed").get_text() and not page.select("form.respond")
    late = _post(agency, MINE + "/thanh-tra/respond", round=str(opened.id), run=str(opened.run_id),
                 kind="confirm", note="")
    assert late.status_code == 400 and "Đợt xác nhận đã đóng" in late.text and not api.responses(db_path)


def test_the_new_forms_need_the_csrf_token(served):
    db_path, c = served
    before = len(audit_trail(open_db(db_path)))
    for client, path in ((c["duyet"], "/round/open"), (c["duyet"], "/round/close"),
                         (c["tuphap"], MINE + "/thanh-tra/respond"), (c["duyet"], MINE + "/thanh-tra/answer")):
        answer = client.post(path, data={"closes_on": LATER, "kind": "confirm", "decision": "reject"})
        assert answer.status_code == 403, path
    assert len(audit_trail(open_db(db_path))) == before


@pytest.mark.parametrize("method, path", [("get", "/round"), ("post", "/round/open"), ("post", "/round/close"),
                                          ("post", MINE + "/thanh-tra/respond"), ("post", MINE + "/thanh-tra/answer")])
def test_without_a_session_the_round_goes_to_sign_in(served, method, path):
    db_path, _ = served
    client = TestClient(create_app(db_path), follow_redirects=False)
    client.get("/login")
    answer = getattr(client, method)(path, **({"data": {"csrftoken": _token(client)}} if method == "post" else {}))
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_an_agency_s_typed_text_is_inert_on_every_page(tmp_path):
    db_path = make_console_db(tmp_path)
    api.open_round(db_path, LATER, "duyet")
    hostile = "<script>alert(1)</script>" + IMG
    api.respond(db_path, "so-tu-phap", "thanh-tra", "dispute", hostile, "tuphap",
                corrected_url="https://so-tu-phap.caobang.gov.vn/x?q=\"><script>alert(3)</script>")
    reviewer = signed_in(create_app(db_path), "duyet")
    for path in ("/round", "/queue", MINE, MINE + "/thanh-tra"):
        page = reviewer.get(path).text
        assert "<script>" not in page and "<img" not in page and "&lt;script&gt;alert(1)" in page, path
