"""The console in a real browser (Playwright driving Debian's Chromium, never a downloaded one) against
`portal-evidence serve` on a loopback port: sign in, the ranking, a verdict and its archived page, an override
refused for an empty note, then stored and withdrawn. Screenshots (desktop and phone) are kept in tests/artifacts/."""

from tests.console.conftest import ARTIFACTS, PASSWORD, Served, make_console_db
from verifier.store import load_overrides, open_db


def test_a_reviewer_signs_in_reads_the_evidence_and_overrides(browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    db = make_console_db(tmp_path)
    with Served(db) as served:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        dialogs, outside = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: None if r.url.startswith((served.url, "about:", "data:")) else outside.append(r.url))
        page.goto(served.url + "/agency/so-tu-phap")
        assert page.url == served.url + "/login"
        page.fill("input[name=name]", "duyet")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.card button")
        page.wait_for_url(served.url + "/")
        assert page.locator("h1").inner_text().startswith("Xếp hạng")
        page.screenshot(path=str(ARTIFACTS / "console-ranking.png"), full_page=True)
        page.click("text=Sở Tư pháp")
        page.click("a[href='/agency/so-tu-phap/chi-dao-dieu-hanh']")
        assert "Các trang đã truy cập" in page.content()
        page.screenshot(path=str(ARTIFACTS / "console-verdict.png"), full_page=True)
        page.click("text=Xem bản lưu >> nth=0")
        frame = page.frame_locator("iframe#archived")
        assert frame.locator("h1").inner_text() == "Chỉ đạo điều hành"
        page.screenshot(path=str(ARTIFACTS / "console-archived.png"), full_page=True)
        page.go_back()
        page.select_option("select[name=status]", "fail")
        page.click("#override button")
        assert page.locator("#error-note").inner_text().startswith("Cần ghi chú")
        page.fill("textarea[name=note]", "Trang chuyên mục không có bài trong kỳ")
        page.click("#override button")
        page.wait_for_url(served.url + "/agency/so-tu-phap/chi-dao-dieu-hanh")
        assert "Trang chuyên mục không có bài trong kỳ" in page.locator("main").inner_text()
        page.fill("textarea[name=withdraw_note]", "Nhầm tiêu chí")
        page.click("#withdraw button")
        page.wait_for_url(served.url + "/agency/so-tu-phap/chi-dao-dieu-hanh")
        assert "đã rút lại" in page.locator("main").inner_text()
        page.screenshot(path=str(ARTIFACTS / "console-withdrawn.png"), full_page=True)
        page.emulate_media(media="print")                  # printed: the evidence without menus and forms
        assert page.locator("main h1").is_visible()
        assert not page.locator("header.top").is_visible() and not page.locator("form#override").is_visible()
        page.pdf(path=str(ARTIFACTS / "console-verdict-print.pdf"), format="A4")
        page.emulate_media(media="screen")
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.context.add_cookies(page.context.cookies())
        phone.goto(served.url + "/agency/so-tu-phap")
        phone.screenshot(path=str(ARTIFACTS / "console-agency-phone.png"), full_page=True)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 400
        page.close()
        phone.close()
    assert not dialogs and not outside, (dialogs, outside)
    saved = [o for o in load_overrides(open_db(db))]
    assert [(o.by, o.status, o.note, o.withdrawn_by, o.withdraw_note) for o in saved] == [
        ("duyet", "fail", "Trang chuyên mục không có bài trong kỳ", "duyet", "Nhầm tiêu chí")]
