"""A reviewer's spot-check in a real browser (Playwright driving Debian's Chromium) against `portal-evidence serve
--allow-private` whose spot-check reaches the demo portals on loopback (the demo server as its HTTP proxy): the
form, the verdict and the archived page in its frame, then "use this as the verdict". Screenshot kept in
tests/artifacts/console-check.png."""

import os
import re

from tests.console.conftest import ARTIFACTS, PASSWORD, Served, make_console_db
from tests.console.test_console_check import KEY, PORTAL, URL
from verifier.store import load_overrides, open_db


def test_a_reviewer_spot_checks_a_link_and_uses_it_as_the_verdict(browser, server, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    db_path = make_console_db(tmp_path)
    db = open_db(db_path)
    db.execute("update agencies set portal = ? where agency_id = ?", [PORTAL, KEY[0]])
    db.conn.commit()
    db.close()
    env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": "",
           "NO_PROXY": ""}
    with Served(db_path, args=["--allow-private"], env=env) as served:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        dialogs, outside = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: None if r.url.startswith((served.url, "about:", "data:")) else outside.append(r.url))
        page.goto(served.url + "/login")
        page.fill("input[name=name]", "duyet")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.card button")
        page.wait_for_url(served.url + "/")
        page.click("a[href='/check']")
        page.fill("input[name=url]", URL)
        page.select_option("select[name=criterion]", KEY[1])
        page.select_option("select[name=agency]", KEY[0])
        page.click("#check button")
        page.wait_for_url(re.compile(re.escape(served.url) + r"/check/\d+$"))
        assert "Không đúng chuyên mục" in page.locator("#result").inner_text()
        frame = page.frame_locator("iframe#archived")
        page.locator("iframe#archived").scroll_into_view_if_needed()   # painted before the full-page shot
        assert frame.locator("body").inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / "console-check.png"), full_page=True)
        page.fill("#use textarea[name=note]", "Đường dẫn là một tin, không phải chuyên mục")
        page.click("#use button")
        page.wait_for_url(served.url + "/agency/so-tu-phap/thanh-tra")
        main = page.locator("main").inner_text()
        assert "Đường dẫn là một tin, không phải chuyên mục" in main and "kiểm tra nhanh #1" in main
        page.close()
    assert not dialogs and not outside, (dialogs, outside)
    [saved] = load_overrides(open_db(db_path))
    assert (saved.status, saved.spot_check_id, saved.by) == ("fail", 1, "duyet")
