"""The confirmation round in a real browser against `portal-evidence serve`: a reviewer opens the round, an
agency account confirms one criterion and disputes another with a corrected link, the reviewer finds the
dispute in the queue and answers it. Screenshots: tests/artifacts/console-round-*.png."""

import datetime as dt

from tests.console.conftest import ARTIFACTS, PASSWORD, Served, make_console_db
from verifier import api
from verifier.store import load_overrides, open_db

CORRECTED = "https://so-tu-phap.caobang.gov.vn/thanh-tra-moi"


def _sign_in(browser, served, name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(served.url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button")
    page.wait_for_load_state()
    return page


def test_a_round_opened_answered_and_its_dispute_answered(browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    db = make_console_db(tmp_path)
    last_day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)
    with Served(db) as served:
        reviewer = _sign_in(browser, served, "duyet")
        reviewer.click("text=Đợt xác nhận")
        reviewer.fill("input[name=closes_on]", last_day.isoformat())
        reviewer.click("#open-round button")
        reviewer.wait_for_url(served.url + "/round")
        assert "Đang mở" in reviewer.locator("#round-state").inner_text()
        reviewer.screenshot(path=str(ARTIFACTS / "console-round-open.png"), full_page=True)

        agency = _sign_in(browser, served, "tuphap")
        assert agency.url == served.url + "/agency/so-tu-phap"
        agency.click("#chi-dao-dieu-hanh button[value=confirm]")
        agency.wait_for_load_state()
        dispute = agency.locator("#thanh-tra")
        dispute.locator("button[value=dispute]").click()                       # no note: refused beside it
        assert agency.locator("#thanh-tra .error-note").inner_text().startswith("Cần ghi rõ lý do")
        agency.locator("#thanh-tra textarea[name=note]").fill("Chuyên mục thanh tra đã chuyển sang địa chỉ mới")
        agency.locator("#thanh-tra input[name=corrected_url]").fill(CORRECTED)
        agency.locator("#thanh-tra button[value=dispute]").click()
        agency.wait_for_url(served.url + "/agency/so-tu-phap#thanh-tra")
        assert "Xác nhận (tuphap" in agency.locator("#chi-dao-dieu-hanh").inner_text()
        assert "Không đồng ý (tuphap" in agency.locator("#thanh-tra").inner_text()
        agency.screenshot(path=str(ARTIFACTS / "console-round-agency.png"), full_page=True)

        reviewer.goto(served.url + "/queue?kind=dispute")
        reviewer.click("#dispute-queue a")
        reviewer.wait_for_url(served.url + "/agency/so-tu-phap/thanh-tra")
        check = reviewer.locator("text=Kiểm tra lại liên kết này").get_attribute("href")
        assert check.startswith("/check?url=https%3A//so-tu-phap.caobang.gov.vn/thanh-tra-moi&criterion=thanh-tra")
        reviewer.check("#answer input[value=accept]")
        reviewer.select_option("select[name=answer_status]", "pass")
        reviewer.fill("textarea[name=answer_note]", "Đã xem trang mới: có kết luận thanh tra trong kỳ")
        reviewer.screenshot(path=str(ARTIFACTS / "console-round-dispute.png"), full_page=True)
        reviewer.click("#answer button")
        reviewer.wait_for_url(served.url + "/agency/so-tu-phap/thanh-tra")
        assert "Trả lời: Chấp nhận (Đạt)" in reviewer.locator("#round-answers").inner_text()
        reviewer.goto(served.url + "/round")
        assert "Không có ý kiến nào đang chờ trả lời" in reviewer.locator("#round-disputes").inner_text()
        reviewer.screenshot(path=str(ARTIFACTS / "console-round-state.png"), full_page=True)
        reviewer.close()
        agency.close()
    (override,) = load_overrides(open_db(db))
    assert (override.criterion, override.status, override.by) == ("thanh-tra", "pass", "duyet")
    assert [r.kind for r in api.responses(db)] == ["confirm", "dispute"]
